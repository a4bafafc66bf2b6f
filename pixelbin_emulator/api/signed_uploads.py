"""Routes for signed uploads: creating signed URLs (authenticated) and using them (not).

v2: ``POST /service/platform/assets/v2.0/upload/signed-url`` answers a URL on
``/service/public/assets/v1.0/signed-multipart`` (the path the frontend helper dispatches on),
already carrying a query so the SDKs can append ``&partNumber=N``. Parts answer exactly 204,
the completion 200 with the upload object.

v1: ``POST /service/platform/assets/v1.0/upload/signed-url`` answers an S3-style presigned POST
aimed at ``/service/public/assets/v1.0/s3/{bucket}``, which answers as S3 does: 204 by default,
and ``<Error><Code>..</Code></Error>`` XML on rejection.
"""

from __future__ import annotations

from urllib.parse import urlencode
from xml.sax.saxutils import escape

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..core.errors import EmulatorError, ValidationError
from ..core.records import File
from ..core.signed_uploads import ASSET_DATA_FIELD, BUCKET, S3Error, SignedUploadRequest
from . import parsing
from .context import authenticate, current_org, emulator, external_base
from .wire import decode, decode_query, to_builtins
from .wire.forms import decode_form
from .wire.uploads import (
    MultipartComplete,
    PartForm,
    PartQuery,
    PresignedUrlV1,
    PresignedUrlV2,
    SignedUpload,
    SignedUploadV2,
    Upload,
)

bp = Blueprint("signed_uploads", __name__)

PLATFORM = "/service/platform/assets"
PUBLIC = "/service/public/assets/v1.0"
MULTIPART_PATH = f"{PUBLIC}/signed-multipart"
_TOO_LARGE = "Your proposed upload exceeds the maximum allowed size"
_SUCCESS_STATUSES = {"200": 200, "201": 201, "204": 204}


def _signed_upload_request(body: SignedUpload, expiry: int | None = None) -> SignedUploadRequest:
    return SignedUploadRequest(
        name=body.name or None,
        path=body.path,
        format=body.format or None,
        access=body.access,
        tags=body.tags or [],
        metadata=body.metadata or {},
        overwrite=bool(body.overwrite),
        filename_override=bool(body.filename_override),
        expiry=expiry,
    )


# -- v2: signed multipart ------------------------------------------------------------------


@bp.post(f"{PLATFORM}/v2.0/upload/signed-url")
def create_signed_url_v2() -> Response:
    authenticate()
    body = decode(parsing.json_body(), SignedUploadV2)
    ticket = current_org().signed_uploads.create_multipart(
        _signed_upload_request(body, body.expiry)
    )
    url = f"{external_base()}{MULTIPART_PATH}?{urlencode(ticket.query)}"
    return jsonify(to_builtins(PresignedUrlV2.of(url, ticket.asset_data)))


@bp.put(MULTIPART_PATH)
def upload_part() -> Response:
    uploads = emulator().org_of_signed_url(request.args).signed_uploads
    part_number = decode_query(request.args, PartQuery).part_number
    assert part_number is not None  # REQUIRED
    if not request.mimetype.startswith("multipart/"):
        raise ValidationError("a part is sent as a multipart/form-data body")
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("file is required")
    form = decode_form(request.form, PartForm)
    # Read once: werkzeug spooled a large part to a temporary file, this is its only copy.
    uploads.add_part(request.args, part_number, form.asset_data, upload.read())
    return Response(status=204)


@bp.post(MULTIPART_PATH)
def complete_upload() -> Response:
    org = emulator().org_of_signed_url(request.args)
    doc = parsing.json_body()
    # The URL and the asset data are judged before the parts: an altered URL is a 403 whatever
    # the body says.
    session = org.signed_uploads.multipart_session(request.args, doc.get(ASSET_DATA_FIELD))
    file = org.signed_uploads.complete(session, decode(doc, MultipartComplete).parts)
    return jsonify(to_builtins(Upload.of(org, file, external_base())))


# -- v1: S3-style presigned POST -------------------------------------------------------------


@bp.post(f"{PLATFORM}/v1.0/upload/signed-url")
def create_signed_url() -> Response:
    authenticate()
    body = decode(parsing.json_body(), SignedUpload)
    ticket = current_org().signed_uploads.create_post(_signed_upload_request(body))
    url = f"{external_base()}{PUBLIC}/s3/{ticket.bucket}"
    return jsonify(to_builtins(PresignedUrlV1.of(url, ticket.fields)))


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return Response(body, status=status, mimetype="application/xml")


def _s3_success(file: File, key: str) -> Response:
    status = _SUCCESS_STATUSES.get(request.form.get("success_action_status", ""), 204)
    if status != 201:
        return Response(status=status)
    location = f"{external_base()}{PUBLIC}/s3/{BUCKET}/{key}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<PostResponse><Location>{escape(location)}</Location><Bucket>{BUCKET}</Bucket>"
        f'<Key>{escape(key)}</Key><ETag>"{file.etag}"</ETag></PostResponse>'
    )
    return Response(body, status=201, mimetype="application/xml")


@bp.post(f"{PUBLIC}/s3/<bucket>")
def post_object(bucket: str) -> Response:
    """A browser-style form POST: every field first, then ``file``."""
    try:
        if bucket != BUCKET:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", 404)
        if not request.mimetype.startswith("multipart/"):
            message = "Bucket POST must be of the enclosure-type multipart/form-data"
            raise S3Error("InvalidArgument", message, 400)
        fields = request.form.to_dict()
        upload = request.files.get("file")
        uploads = emulator().org_of_presigned_post(fields).signed_uploads
        file = uploads.post(fields, upload.read() if upload is not None else None)
        return _s3_success(file, fields.get("key", ""))
    except RequestEntityTooLarge:
        return _s3_error(400, "EntityTooLarge", _TOO_LARGE)
    except S3Error as error:
        return _s3_error(error.status, error.code, error.message)
    except EmulatorError as error:
        return _s3_error(error.status, error.exception, error.message)
