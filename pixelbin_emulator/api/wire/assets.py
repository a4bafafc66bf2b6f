"""The files and folders APIs' wire shapes: the updateFile, deleteFiles, createFolder and
updateFolder bodies, the listFiles, getFolderDetails and getPresets queries, and the answers
(the file, the folder, the folder details, ancestors, listing pages).

``api/files.py`` and ``api/folders.py`` decode and answer with them (getPresets pages with
:class:`Page` too), ``openapi.py`` publishes their generated schemas. Answers are encoded
straight from the structs (``api/encoding.py``): a listing page is built as structs, not dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from ...core.clock import isoformat
from ...core.errors import ValidationError
from ...core.listing import MAX_PAGE_SIZE
from ...core.listing import Page as PageRecord
from ...core.orgs import Org
from ...core.records import ACCESS_VALUES, Entry
from ...core.records import File as FileRecord
from ...core.records import Folder as FolderRecord
from ..encoding import encode_value
from ..file_urls import file_url, timestamps, url_file_path
from .control import Timestamp, Wire

# -- request bodies and queries ----------------------------------------------------------------

Text = Annotated[str, Meta(description="a string")]
Strings = Annotated[list[str], Meta(description="a list of strings")]
#: The core checks the value (``access must be one of ...``); the schema publishes the choice.
AccessText = Annotated[
    str, Meta(description="a string", extra_json_schema={"enum": list(ACCESS_VALUES)})
]
Flag = Annotated[bool, Meta(description="a boolean")]
#: A query's boolean: the SDKs send ``true``/``false`` (any case), see ``parsing.text_document``.
QueryFlag = Annotated[bool, Meta(description="true or false")]
#: Paging limits are checked by the core (``check_paging``, with its own messages).
PageNo = Annotated[int, Meta(description="an integer", extra_json_schema={"minimum": 1})]
PageSize = Annotated[
    int, Meta(description="an integer", extra_json_schema={"minimum": 1, "maximum": MAX_PAGE_SIZE})
]


class FileUpdate(Wire):
    """updateFile (``PATCH /files/{fileId}``): what to change; unknown fields are ignored, and
    the name, path, access, tags and metadata are checked by the core. Of several fields of the
    wrong type, the 400 names the first in the body (msgspec's order)."""

    name: Text | None = None
    path: Text | None = None
    access: AccessText | None = None
    is_active: Flag | None = None
    tags: Strings | None = None
    metadata: Annotated[dict[str, Any], Meta(description="an object")] | None = None


class FilesDelete(Wire):
    """deleteFiles (``POST /files/delete``): the ``_id``s to delete; unknown ids are skipped."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("ids",)

    ids: Strings | None = None


class FolderCreate(Wire):
    """createFolder (``POST /folders``); the name's grammar is checked by the core."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("name",)

    name: Text | None = None
    path: Text | None = None

    def check(self) -> None:
        if not self.name:
            raise ValidationError("name is required")


class FolderUpdate(Wire):
    """updateFolder (``PATCH /folders/{folderId}``): only ``isActive`` can change."""

    is_active: Flag | None = None


class ListFilesQuery(Wire):
    """listFiles' query. An empty value counts as absent; ``tags`` comes in any of the SDKs'
    list forms (``parsing.query_list``); the sort key and paging are checked by the core."""

    name: str | None = None
    path: str | None = None
    format: str | None = None
    tags: list[str] = []
    only_files: QueryFlag = False
    only_folders: QueryFlag = False
    page_no: PageNo | None = None
    page_size: PageSize | None = None
    sort: str | None = None


class FolderDetailsQuery(Wire):
    """getFolderDetails' query: both optional; without a name, the path names the folder."""

    name: str = ""
    path: str = ""


# -- answers -------------------------------------------------------------------------------------

#: A file's metadata. msgspec spells some floats differently from ``jsonify`` (``1e16`` for
#: ``1e+16``), so metadata holding other than strings, booleans, integers and nulls at its top
#: level is pre-encoded as ``jsonify`` writes it (:func:`metadata_json`); the rest (most
#: metadata: a few strings) msgspec writes as ``jsonify`` would.
Metadata = Annotated[Any, Meta(extra_json_schema={"type": "object"})]
_PLAIN = frozenset((str, bool, int, type(None)))


def metadata_json(metadata: dict[str, Any]) -> dict[str, Any] | msgspec.Raw:
    for value in metadata.values():
        if type(value) not in _PLAIN:
            return msgspec.Raw(encode_value(metadata))
    return metadata


Access = Annotated[str, Meta(extra_json_schema={"enum": list(ACCESS_VALUES)})]
AssetType = Literal["image", "video", "audio", "raw"]
Url = Annotated[str, Meta(extra_json_schema={"format": "uri"})]
Size = Annotated[int, Meta(ge=0)]


class Answer(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """Answers: closed, every field required (``Wire``'s defaults are for requests)."""


class File(Answer):
    """getFileById, getFileByFileId, updateFile, deleteFile and deleteFiles' items."""

    id: str = msgspec.field(name="_id")
    name: str
    path: str
    file_id: str
    format: str
    asset_type: AssetType
    access: Access
    size: Size
    is_active: bool
    tags: list[str]
    metadata: Metadata
    url: Url
    meta: dict[str, Any]
    kv_store: list[Any]
    height: int | None
    width: int | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, org: Org, file: FileRecord, base: str) -> File:
        created_at, updated_at = timestamps(file)
        return cls(
            id=file.id,
            name=file.name,
            path=file.path,
            file_id=file.file_id,
            format=file.format,
            asset_type=file.asset_type,  # type: ignore[arg-type]  # one of AssetType by upload
            access=file.access,
            size=file.size,
            is_active=file.is_active,
            tags=list(file.tags),
            metadata=metadata_json(file.metadata),
            url=file_url(org, file, base),
            meta={},
            kv_store=[],
            height=file.height,
            width=file.width,
            created_at=created_at,
            updated_at=updated_at,
        )


class Folder(Answer):
    """createFolder, updateFolder, deleteFolder."""

    id: str = msgspec.field(name="_id")
    name: str
    path: str
    is_active: bool

    @classmethod
    def of(cls, folder: FolderRecord) -> Folder:
        return cls(id=folder.id, name=folder.name, path=folder.path, is_active=folder.is_active)


class FolderDetails(Answer):
    """getFolderDetails: the explore-item shape with the file-only fields null."""

    id: str = msgspec.field(name="_id")
    created_at: Timestamp
    updated_at: Timestamp
    is_active: bool
    org_id: int
    type: Literal["folder"]
    name: str
    path: str
    file_id: None
    format: None
    size: None
    tags: None
    metadata: None
    access: None
    width: None
    height: None
    meta: dict[str, Any]
    kv_store: list[Any]
    context: None
    asset_type: None

    @classmethod
    def of(cls, org: Org, folder: FolderRecord) -> FolderDetails:
        return cls(
            id=folder.id,
            created_at=isoformat(folder.created_at),
            updated_at=isoformat(folder.updated_at),
            is_active=folder.is_active,
            org_id=org.org_id,
            type="folder",
            name=folder.name,
            path=folder.path,
            file_id=None,
            format=None,
            size=None,
            tags=None,
            metadata=None,
            access=None,
            width=None,
            height=None,
            meta={},
            kv_store=[],
            context=None,
            asset_type=None,
        )


class Ancestor(Answer):
    """A folder in getFolderAncestors' answer."""

    id: str = msgspec.field(name="_id")
    path: str
    name: str
    type: Literal["folder"]

    @classmethod
    def of(cls, folder: FolderRecord) -> Ancestor:
        return cls(id=folder.id, path=folder.path, name=folder.name, type="folder")


class FolderAncestors(Answer):
    """getFolderAncestors: the folder and its ancestors, root first."""

    folder: Ancestor
    ancestors: list[Ancestor]

    @classmethod
    def of(cls, folder: FolderRecord, chain: Iterable[FolderRecord]) -> FolderAncestors:
        return cls(folder=Ancestor.of(folder), ancestors=[Ancestor.of(f) for f in chain])


class FolderItem(Answer):
    """A folder in a listFiles page."""

    id: str = msgspec.field(name="_id")
    org_id: int
    created_at: Timestamp
    updated_at: Timestamp
    name: str
    path: str
    type: Literal["folder"]
    is_active: bool


class FileItem(Answer):
    """A file in a listFiles page (the explore item: no ``meta``/``kvStore``)."""

    id: str = msgspec.field(name="_id")
    org_id: int
    created_at: Timestamp
    updated_at: Timestamp
    name: str
    path: str
    type: Literal["file"]
    is_active: bool
    file_id: str
    format: str
    asset_type: AssetType
    size: int
    tags: list[str]
    metadata: Metadata
    access: Access
    width: int | None
    height: int | None
    url: Url


class Page(Answer):
    """A listing's paging (listFiles, getPresets)."""

    type: Literal["number"]
    size: Size
    current: Annotated[int, Meta(ge=1)]
    has_next: bool
    item_total: Size

    @classmethod
    def of(cls, page: PageRecord) -> Page:
        return cls(
            type="number",
            size=len(page.items),
            current=page.current,
            has_next=page.has_next,
            item_total=page.item_total,
        )


#: Two untagged struct types cannot share a union in msgspec (a tag would be written first,
#: before ``_id``), so the items are declared by the schema and built by :meth:`ListFiles.of`.
ExploreItems = Annotated[
    list[Any],
    Meta(
        extra_json_schema={
            "items": {
                "oneOf": [
                    {"$ref": "#/components/schemas/FolderItem"},
                    {"$ref": "#/components/schemas/FileItem"},
                ]
            }
        }
    ),
]


class ListFilesResponse(Answer):
    """A listFiles page."""

    items: ExploreItems
    page: Page

    @classmethod
    def of(cls, org: Org, page: PageRecord, base: str) -> ListFilesResponse:
        """Up to 100 items in one pass with the per-page values hoisted (the URL prefix is
        made once per page): building them is most of what an unreused listing costs."""
        org_id = org.org_id
        url_prefix = f"{base}/v2/{org.cloud_name}/original/"
        items: list[FolderItem | FileItem] = []
        entry: Entry
        for entry in page.items:
            created_at = isoformat(entry.created_at)
            if entry.updated_at == entry.created_at:
                updated_at = created_at
            else:
                updated_at = isoformat(entry.updated_at)
            if isinstance(entry, FolderRecord):
                items.append(
                    FolderItem(
                        id=entry.id,
                        org_id=org_id,
                        created_at=created_at,
                        updated_at=updated_at,
                        name=entry.name,
                        path=entry.path,
                        type="folder",
                        is_active=entry.is_active,
                    )
                )
                continue
            file_id = entry.file_id
            items.append(
                FileItem(
                    id=entry.id,
                    org_id=org_id,
                    created_at=created_at,
                    updated_at=updated_at,
                    name=entry.name,
                    path=entry.path,
                    type="file",
                    is_active=entry.is_active,
                    file_id=file_id,
                    format=entry.format,
                    asset_type=entry.asset_type,  # type: ignore[arg-type]
                    size=len(entry.data),
                    tags=list(entry.tags),
                    metadata=metadata_json(entry.metadata),
                    access=entry.access,
                    width=entry.width,
                    height=entry.height,
                    url=url_prefix + url_file_path(file_id, entry.name, entry.format),
                )
            )
        return cls(items=items, page=Page.of(page))


REQUESTS = (FileUpdate, FilesDelete, FolderCreate, FolderUpdate)
QUERIES = (ListFilesQuery, FolderDetailsQuery)
RESPONSES = (File, Folder, FolderDetails, FolderAncestors, FileItem, FolderItem, ListFilesResponse)
