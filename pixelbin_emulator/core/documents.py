"""The state document's shapes, declared once as msgspec Structs: seeds, snapshots, the data
directory's ``state.json`` and log records all read and write these.

They live in the core, not in ``api/wire``: the state document is the core's persistence format
(``core/snapshot.py`` loads and dumps it, ``durable.py`` and the CLI's ``--seed`` read it), and
the core imports nothing of ``api/``. The HTTP layer publishes their generated schemas and
answers the control plane's org with :class:`OrgHead`.

Reading is lenient where a seed written by hand may leave things out (``_id``, ``seq``,
timestamps: generated) and ignores unknown fields, as it always did. Values the core checks
anyway (an org's text fields, an ``access``, a preset's name and transformation, timestamps via
``parse_instant``) are declared loosely here. Writing gives every field in a fixed order, so
exports stay byte for byte what they were.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from .clock import isoformat
from .credentials import CredentialSet
from .orgs import Org
from .presets import Preset
from .records import File, Folder

FORMAT = "pixelbin-emulator-state"
VERSION = 1
#: The largest integer JavaScript reads exactly (2**53 - 1), as for orgIds.
MAX_SEQ = 9_007_199_254_740_991

#: An ``_id`` is one URL path segment (``/files/id/{_id}``, ``/folders/{_id}``). The leading
#: ``(?!.*\n)`` keeps a final newline out, which ``$`` alone would let through.
RecordId = Annotated[
    str,
    Meta(
        pattern=r"^(?!.*\n)(?!\.+$)[A-Za-z0-9._~-]{1,128}$",
        description="1 to 128 letters, digits or '-', '_', '.', '~' (not only dots)",
    ),
]
Seq = Annotated[int, Meta(ge=0, le=MAX_SEQ, description=f"an integer from 0 to {MAX_SEQ}")]
Text = Annotated[str, Meta(description="a string")]
Flag = Annotated[bool, Meta(description="true or false")]
#: Read with ``parse_instant`` (which names the field in its own messages); written as
#: ``isoformat`` gives it.
Instant = Annotated[str, Meta(description="an ISO-8601 timestamp")]
Timestamp = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
Objects = Meta(description="a list of objects")


class Document(msgspec.Struct, rename="camel", kw_only=True):
    """Fields are snake_case in Python, camelCase in the document."""


class OrgHead(Document, kw_only=True, forbid_unknown_fields=True):
    """An org's identity and credentials: the head of its document, the control plane's org
    answer and the data directory's org record."""

    org_id: int
    name: str
    cloud_name: str
    api_secret: str
    access_key: str
    created_at: Timestamp

    @classmethod
    def of(cls, org: Org) -> OrgHead:
        return cls(
            org_id=org.org_id,
            name=org.name,
            cloud_name=org.cloud_name,
            api_secret=org.api_secret,
            access_key=org.access_key,
            created_at=isoformat(org.created_at),
        )


class RecordDocument(Document, kw_only=True):
    """What every stored record has; without an ``_id`` a record is created as if by the API."""

    id: RecordId | UnsetType = msgspec.field(name="_id", default=UNSET)
    seq: Seq = 0


class EntryDocument(RecordDocument, kw_only=True):
    """What folders and files have in common, in the order a document gives them."""

    path: Text = ""
    name: Text
    is_active: Flag = True
    created_at: Instant | None = None
    updated_at: Instant | None = None


class FolderDocument(EntryDocument, kw_only=True):
    @classmethod
    def of(cls, folder: Folder) -> FolderDocument:
        return cls(
            id=folder.id,
            seq=folder.seq,
            path=folder.path,
            name=folder.name,
            is_active=folder.is_active,
            created_at=isoformat(folder.created_at),
            updated_at=isoformat(folder.updated_at),
        )


class FileDocument(EntryDocument, kw_only=True):
    """A file; its bytes inline (``base64``) or in a file of the seed directory (``source``)."""

    format: Text | None = None
    extension: Text | UnsetType = UNSET
    access: str | None = None
    tags: Annotated[list[str], Meta(description="a list of strings")] = []
    metadata: Annotated[dict[str, Any], Meta(description="an object")] = {}
    base64: Annotated[bytes, Meta(description="base64 text (padded)")] | UnsetType = UNSET
    source: Text | UnsetType = UNSET

    @classmethod
    def of(
        cls,
        file: File,
        *,
        base64: bytes | UnsetType = UNSET,
        source: str | UnsetType = UNSET,
    ) -> FileDocument:
        """The file without its content unless one is given."""
        return cls(
            id=file.id,
            seq=file.seq,
            path=file.path,
            name=file.name,
            is_active=file.is_active,
            created_at=isoformat(file.created_at),
            updated_at=isoformat(file.updated_at),
            format=file.format,
            extension=file.extension,
            access=file.access,
            tags=list(file.tags),
            metadata=file.metadata,
            base64=base64,
            source=source,
        )


class PresetDocument(RecordDocument, kw_only=True):
    preset_name: Text
    transformation: Text
    params: Annotated[dict[str, Any], Meta(description="an object")] | None = None
    archived: Flag = False
    is_active: Flag = True
    created_at: Instant | None = None
    updated_at: Instant | None = None

    @classmethod
    def of(cls, preset: Preset) -> PresetDocument:
        return cls(
            id=preset.id,
            seq=preset.seq,
            preset_name=preset.name,
            transformation=preset.transformation,
            params=dict(preset.params),
            archived=preset.archived,
            is_active=preset.is_active,
            created_at=isoformat(preset.created_at),
            updated_at=isoformat(preset.updated_at),
        )


class CredentialsDocument(RecordDocument, kw_only=True):
    plugin_id: Text
    credentials: Annotated[dict[str, Any], Meta(description="an object")]
    is_active: Flag = True
    created_at: Instant | None = None
    updated_at: Instant | None = None

    @classmethod
    def of(cls, entry: CredentialSet) -> CredentialsDocument:
        return cls(
            id=entry.id,
            seq=entry.seq,
            plugin_id=entry.plugin_id,
            credentials=dict(entry.credentials),
            is_active=entry.is_active,
            created_at=isoformat(entry.created_at),
            updated_at=isoformat(entry.updated_at),
        )


class OrgDocument(Document, kw_only=True):
    """An org: :class:`OrgHead`'s fields (each optional here: generated when left out), then
    its contents, folders before files, each in creation order."""

    org_id: Annotated[int, Meta(description="an integer")] | None = None
    name: Text | None = None
    cloud_name: Text | None = None
    api_secret: Text | None = None
    access_key: Text | None = None
    created_at: Instant | None = None
    folders: Annotated[list[FolderDocument], Objects] = []
    files: Annotated[list[FileDocument], Objects] = []
    presets: Annotated[list[PresetDocument], Objects] = []
    credentials: Annotated[list[CredentialsDocument], Objects] = []

    @classmethod
    def of(
        cls,
        head: OrgHead,
        folders: list[FolderDocument],
        files: list[FileDocument],
        presets: list[PresetDocument],
        credentials: list[CredentialsDocument],
    ) -> OrgDocument:
        return cls(
            **msgspec.structs.asdict(head),
            folders=folders,
            files=files,
            presets=presets,
            credentials=credentials,
        )


class StateDocument(Document, kw_only=True):
    """A seed or snapshot: ``{"format": "pixelbin-emulator-state", "version": 1, "orgs": []}``."""

    format: Annotated[Literal["pixelbin-emulator-state"], Meta(description=repr(FORMAT))]
    version: Annotated[Literal[1], Meta(description=f"{VERSION} (the only version there is)")]
    orgs: Annotated[list[OrgDocument], Meta(description="a list of org objects")] = []
