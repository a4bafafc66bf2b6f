"""The upload flows' wire shapes: fileUpload's form, urlUpload's body, createSignedUrl(V2)'s
bodies and answers, the signed multipart part and completion, the presigned POST's form, and the
upload answer they all give.

``api/uploads.py`` and ``api/signed_uploads.py`` decode and answer with them, ``openapi.py``
publishes their generated schemas. Unknown fields were ignored by every flow and still are.
Values the core checks anyway, with its own messages, are declared loosely and their rule is only
published: ``access`` (``check_access``), ``format`` and ``expiry`` (``core.signed_uploads``),
tags and metadata (``check_tags_and_metadata``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from ...core.errors import ValidationError
from ...core.orgs import Org
from ...core.records import File
from ...core.signed_uploads import ASSET_DATA_FIELD, MAX_EXPIRY, MAX_PART_NUMBER
from ..file_urls import file_url
from .assets import Access, AccessText, Answer, AssetType, Flag, Size, Strings, Text, Url
from .control import Wire

NonEmptyText = Annotated[str, Meta(min_length=1, description="a non-empty string")]
Metadata = Annotated[dict[str, Any], Meta(description="an object")]
Expiry = Annotated[
    int,
    Meta(
        description="an integer",
        extra_json_schema={"minimum": 1, "maximum": MAX_EXPIRY},
    ),
]


class UploadOptions(Wire):
    """What every upload may say of the file it makes (urlUpload, createSignedUrl(V2))."""

    name: Text | None = None
    path: Text | None = None
    access: AccessText | None = None
    tags: Strings | None = None
    metadata: Metadata | None = None
    overwrite: Flag | None = None
    filename_override: Flag | None = None


class UrlUpload(UploadOptions, kw_only=True):
    """urlUpload (``POST /upload/url``)."""

    url: NonEmptyText


class SignedUpload(UploadOptions):
    """createSignedUrl (``POST v1.0/upload/signed-url``): the presigned POST's file."""

    format: Text | None = None


class SignedUploadV2(SignedUpload):
    """createSignedUrlV2 (``POST v2.0/upload/signed-url``): also how long the URL lives."""

    expiry: Expiry | None = None


FormFlag = Annotated[bool, Meta(description="true or false")]


class FileUploadForm(UploadOptions):
    """fileUpload's form fields (``POST /upload/direct``; the ``file`` part aside): those of
    :class:`UploadOptions`, with the messages fileUpload had for the form's spellings."""

    metadata: Annotated[dict[str, Any], Meta(description="a JSON object")] | None = None
    overwrite: FormFlag | None = None
    filename_override: FormFlag | None = None


class PartQuery(Wire):
    """The part's number, in the signed URL's query (whose other arguments the core checks);
    its range is the core's to refuse, after the URL."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("partNumber",)

    part_number: Annotated[PartNumber, Meta(description="an integer")] | None = None


class PartForm(Wire):
    """A part of a signed multipart upload (``PUT signed-multipart?...&partNumber=N``; the
    ``file`` part aside): the asset data createSignedUrlV2 answered, checked by the core."""

    asset_data: Text | None = msgspec.field(default=None, name=ASSET_DATA_FIELD)


#: Compared with the signed upload's by the core, whatever it is (``InvalidMultipartMetaError``).
AssetData = Annotated[
    Any,
    Meta(extra_json_schema={"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}]}),
]
#: Part numbers' range is checked by :meth:`MultipartComplete.check`, with its own message.
PartNumber = Annotated[int, Meta(extra_json_schema={"minimum": 1, "maximum": MAX_PART_NUMBER})]


class MultipartComplete(Wire):
    """Completing a signed multipart upload (``POST signed-multipart?...``): the parts, in the
    order they make the file, and the asset data (the SDKs send its JSON text; the object is
    taken too). The route hands the asset data to the core before decoding, as the core judges
    the URL and the asset data before the parts."""

    #: Distinct numbers: the core refuses a repeated one (it would take one part twice).
    parts: Annotated[
        list[PartNumber],
        Meta(description="a list of part numbers", extra_json_schema={"uniqueItems": True}),
    ]
    asset_data: AssetData = msgspec.field(default=None, name=ASSET_DATA_FIELD)

    def check(self) -> None:
        if any(not 1 <= number <= MAX_PART_NUMBER for number in self.parts):
            raise ValidationError(f"part numbers run from 1 to {MAX_PART_NUMBER}")


# -- answers ---------------------------------------------------------------------------------


class UploadMeta(Answer):
    """What ingestion found out about the bytes."""

    format: str
    size: int
    width: int | None
    height: int | None
    extension: str
    content_type: str
    asset_type: AssetType
    is_image_asset: bool
    is_audio_asset: bool
    is_video_asset: bool
    is_raw_asset: bool
    is_transformation_supported: bool

    @classmethod
    def of(cls, file: File) -> UploadMeta:
        kind = file.asset_type
        return cls(
            format=file.format,
            size=file.size,
            width=file.width,
            height=file.height,
            extension=file.extension,
            content_type=file.content_type,
            asset_type=kind,  # type: ignore[arg-type]  # one of AssetType by upload
            is_image_asset=kind == "image",
            is_audio_asset=kind == "audio",
            is_video_asset=kind == "video",
            is_raw_asset=kind == "raw",
            is_transformation_supported=kind == "image",
        )


class UploadRequest(Answer):
    """The ingestion request's headers and query (always empty here)."""

    headers: dict[str, Any]
    query: dict[str, Any]


class UploadContext(Answer):
    """The ingestion's steps (none: originals are stored as sent), request and findings."""

    steps: list[Any]
    req: UploadRequest
    meta: UploadMeta


class Upload(Answer):
    """fileUpload, urlUpload and the completion of a signed upload: the ingestion result."""

    org_id: int
    type: Literal["file"]
    name: str
    path: str
    file_id: str
    access: Access
    tags: list[str]
    metadata: dict[str, Any]
    format: str
    asset_type: AssetType
    size: Size
    width: int | None
    height: int | None
    context: UploadContext
    is_original: bool
    id: str = msgspec.field(name="_id")
    url: Url

    @classmethod
    def of(cls, org: Org, file: File, base: str) -> Upload:
        return cls(
            org_id=org.org_id,
            type="file",
            name=file.name,
            path=file.path,
            file_id=file.file_id,
            access=file.access,
            tags=list(file.tags),
            metadata=file.metadata,
            format=file.format,
            asset_type=file.asset_type,  # type: ignore[arg-type]  # one of AssetType by upload
            size=file.size,
            width=file.width,
            height=file.height,
            context=UploadContext(
                steps=[], req=UploadRequest(headers={}, query={}), meta=UploadMeta.of(file)
            ),
            is_original=True,
            id=file.id,
            url=file_url(org, file, base),
        )


class MultipartFields(Answer):
    """The form fields every part and the completion send back."""

    asset_data: str = msgspec.field(name=ASSET_DATA_FIELD)


class SignedMultipartUrl(Answer):
    url: Url
    fields: MultipartFields


class PresignedUrlV2(Answer):
    """createSignedUrlV2's answer: the signed multipart URL and the fields to send with it."""

    presigned_url: SignedMultipartUrl

    @classmethod
    def of(cls, url: str, asset_data: str) -> PresignedUrlV2:
        return cls(SignedMultipartUrl(url, MultipartFields(asset_data)))


class PresignedPostFields(Answer):
    """The fields of a presigned POST, in the order the form sends them (``file`` last)."""

    key: str
    asset_data: str = msgspec.field(name="x-amz-meta-assetData")
    token: str = msgspec.field(name="x-amz-meta-token")
    bucket: str
    algorithm: str = msgspec.field(name="X-Amz-Algorithm")
    credential: str = msgspec.field(name="X-Amz-Credential")
    date: str = msgspec.field(name="X-Amz-Date")
    policy: str = msgspec.field(name="Policy")
    signature: str = msgspec.field(name="X-Amz-Signature")


class PresignedPost(Answer):
    url: Url
    fields: PresignedPostFields


class PresignedUrlV1(Answer):
    """createSignedUrl's answer: where to POST the form, and its fields."""

    s3_presigned_url: PresignedPost = msgspec.field(name="s3PresignedUrl")

    @classmethod
    def of(cls, url: str, fields: Mapping[str, str]) -> PresignedUrlV1:
        """``fields`` as the core signed them (a field it no longer makes fails here)."""
        return cls(PresignedPost(url, msgspec.convert(fields, PresignedPostFields)))


class PresignedPostForm(PresignedPostFields, omit_defaults=True, forbid_unknown_fields=False):
    """The presigned POST's form (``POST s3/{bucket}``; the ``file`` part aside): the fields
    createSignedUrl answered, and S3's ``success_action_status``. It is not decoded: the policy
    the fields are signed with is its validation (``core.signed_uploads``), and its failures
    are answered as S3 answers them (XML), not in the API's error format."""

    success_action_status: str | None = msgspec.field(default=None, name="success_action_status")


REQUESTS = (UrlUpload, SignedUpload, SignedUploadV2, MultipartComplete)
FORMS = (FileUploadForm, PartForm, PresignedPostForm)
RESPONSES = (Upload, PresignedUrlV2, PresignedUrlV1)
