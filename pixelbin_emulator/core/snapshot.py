"""The state document: one readable, versioned JSON format for seeds and snapshots.

A seed written by hand may leave out ``_id``\\s and timestamps (they are generated, and missing
ancestor folders are created); a snapshot exported by :func:`dump_state` has them all, plus
``seq`` (creation order, which breaks ties in listings), so loading it gives back identical API
answers. Folders are listed before files, each in creation order, so parents load first.

```json
{"format": "pixelbin-emulator-state", "version": 1,
 "orgs": [{"orgId": 1, "name": "...", "cloudName": "...", "apiSecret": "...", "accessKey": "...",
           "folders": [{"path": "", "name": "docs"}],
           "files": [{"path": "docs", "name": "a", "source": "a.png"},
                     {"path": "", "name": "b", "base64": "iVBORw0..."}],
           "presets": [{"presetName": "thumb", "transformation": "t.resize(w:$w)",
                        "params": {"w": {"type": "integer", "default": 100}}}],
           "credentials": [{"pluginId": "awsRek", "credentials": {"accessKeyId": "..."}}]}]}
```
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import msgspec
from msgspec import UNSET

from . import media
from .assets import UploadSpec, check_access
from .clock import parse_instant
from .credentials import CredentialSet
from .documents import (
    FORMAT,
    VERSION,
    CredentialsDocument,
    FileDocument,
    FolderDocument,
    OrgDocument,
    OrgHead,
    PresetDocument,
    StateDocument,
)
from .errors import ConflictError, ValidationError
from .ids import IdFactory
from .orgs import Org
from .presets import Preset
from .records import File, Folder
from .registry import OrgStaging
from .structs import decode

__all__ = ["FORMAT", "VERSION", "build_orgs", "dump_state", "import_state", "load_into"]


class Orgs(Protocol):
    """What loading and dumping state documents needs of the emulator, which loads its own seed
    with :func:`build_orgs` (so this module cannot know the emulator)."""

    def org(self, org_id: int) -> Org: ...

    def orgs(self) -> list[Org]: ...

    def replace_orgs(
        self, load: Callable[[OrgStaging], list[Org]], *, keep: Callable[[Org], bool]
    ) -> list[Org]: ...


def _timestamp(value: str | None, key: str, default: float) -> float:
    return default if value is None else parse_instant(value, key)


def _content(doc: FileDocument, base_dir: Path | None) -> bytes:
    if doc.base64 is not UNSET:
        return doc.base64
    if doc.source is not UNSET:
        if base_dir is None:
            raise ValidationError("file sources need a seed directory")
        source = (base_dir / doc.source).resolve()
        if not source.is_relative_to(base_dir.resolve()):
            raise ValidationError(f"file source {doc.source!r} is outside the seed directory")
        try:
            return source.read_bytes()
        except OSError as exc:
            raise ValidationError(f"file source {doc.source!r}: {exc.strerror}") from None
    raise ValidationError(f"file {doc.name!r} has neither 'base64' nor 'source'")


def _state(doc: Any) -> StateDocument:
    return doc if isinstance(doc, StateDocument) else decode(doc, StateDocument, "state document")


def build_orgs(staging: OrgStaging, doc: Any, *, base_dir: Path | None = None) -> list[Org]:
    """Create the orgs of a state document in ``staging``; returns them.

    Orgs without an ``orgId`` are numbered after every ``orgId`` the document names, so the
    order of the entries cannot make them clash.
    """
    orgs_doc = _state(doc).orgs
    staging.number_after(org.org_id for org in orgs_doc if org.org_id is not None)
    return [_load_org(staging, org_doc, base_dir) for org_doc in orgs_doc]


def load_state(emulator: Orgs, doc: Any, *, base_dir: Path | None = None) -> list[Org]:
    """Add the orgs of a state document to ``emulator``, all or nothing; returns them.

    Unlike an import in ``merge`` mode, an org whose ``orgId`` (or credentials) is taken is a
    409, not a replacement.
    """
    state = _state(doc)
    return emulator.replace_orgs(
        lambda staging: build_orgs(staging, state, base_dir=base_dir), keep=lambda org: True
    )


def import_state(
    emulator: Orgs, doc: Any, *, mode: str = "replace", base_dir: Path | None = None
) -> list[Org]:
    """Load a state document into a running emulator, all or nothing.

    ``replace``: every org goes, then the document's orgs are loaded. ``merge``: the document's
    orgs are added, each replacing the org with the same ``orgId`` if there is one; other orgs
    stay. The new orgs are built aside, numbered and checked against the orgs that will be live
    with them, and swapped in whole: a bad document (400) or a clash (409) changes nothing, and
    a request during the import sees the old orgs or the new, never a mix.
    """
    if mode not in ("replace", "merge"):
        raise ValidationError("mode must be 'replace' or 'merge'")
    state = _state(doc)
    if mode == "replace":
        replaced: set[int] | None = None
    else:
        # Only orgs the document names by orgId replace anything: one without an orgId is new.
        replaced = {org.org_id for org in state.orgs if org.org_id is not None}
    return emulator.replace_orgs(
        lambda staging: build_orgs(staging, state, base_dir=base_dir),
        keep=lambda org: replaced is not None and org.org_id not in replaced,
    )


def load_into(org: Org, doc: Any, *, base_dir: Path | None = None) -> None:
    """Add one org document's folders, files, presets and credentials to an existing org.

    The org's own credentials stay. All or nothing: the document is first loaded into a scratch
    org holding what the org holds (the same records, shared, not copied), so a document that
    is bad in itself or clashes with the org's contents leaves the org as it was. The scratch
    org has ids of its own, so trying the load draws none from the org's (seeded) sequence.
    """
    contents = decode(doc, OrgDocument, "org")
    with org.lock:
        now = org.clock.time()
        trial = Org(
            org_id=org.org_id,
            name=org.name,
            cloud_name=org.cloud_name,
            api_secret=org.api_secret,
            access_key=org.access_key,
            created_at=org.created_at,
            ids=IdFactory(),
            clock=org.clock,
            limits=org.limits,
            catalogue=org.catalogue,
        )
        for entry in org.assets.entries():
            trial.assets.restore(entry)
        for preset in org.presets.all():
            trial.presets.restore(preset)
        for credentials in org.plugin_credentials.all():
            trial.plugin_credentials.restore(credentials)
        _load_contents(trial, contents, now, base_dir)
        _load_contents(org, contents, now, base_dir)


def _load_org(staging: OrgStaging, doc: OrgDocument, base_dir: Path | None) -> Org:
    now = staging.clock.time()
    org = staging.create_org(
        name=doc.name,
        org_id=doc.org_id,
        cloud_name=doc.cloud_name,
        api_secret=doc.api_secret,
        access_key=doc.access_key,
        created_at=_timestamp(doc.created_at, "createdAt", now),
    )
    _load_contents(org, doc, now, base_dir)
    return org


def _load_contents(org: Org, doc: OrgDocument, now: float, base_dir: Path | None) -> None:
    for folder_doc in doc.folders:
        _load_folder(org, folder_doc, now)
    for file_doc in doc.files:
        _load_file(org, file_doc, now, base_dir)
    for preset_doc in doc.presets:
        _load_preset(org, preset_doc, now)
    for credentials_doc in doc.credentials:
        _load_credentials(org, credentials_doc, now)


def _load_folder(org: Org, doc: FolderDocument, now: float) -> None:
    if doc.id is UNSET:
        # A ConflictError means an earlier entry already created it as an ancestor.
        with contextlib.suppress(ConflictError):
            org.assets.create_folder(doc.name, doc.path)
        return
    org.assets.restore(
        Folder(
            id=doc.id,
            name=doc.name,
            path=doc.path,
            created_at=_timestamp(doc.created_at, "createdAt", now),
            updated_at=_timestamp(doc.updated_at, "updatedAt", now),
            seq=doc.seq,
            is_active=doc.is_active,
        )
    )


def _load_preset(org: Org, doc: PresetDocument, now: float) -> None:
    if doc.id is UNSET:
        preset = org.presets.add(doc.preset_name, doc.transformation, doc.params)
        if doc.archived:
            org.presets.update(preset.name, archived=True)
        return
    org.presets.restore(
        Preset(
            id=doc.id,
            name=doc.preset_name,
            transformation=doc.transformation,
            params=doc.params or {},
            created_at=_timestamp(doc.created_at, "createdAt", now),
            updated_at=_timestamp(doc.updated_at, "updatedAt", now),
            seq=doc.seq,
            archived=doc.archived,
            is_active=doc.is_active,
        )
    )


def _load_credentials(org: Org, doc: CredentialsDocument, now: float) -> None:
    if doc.id is UNSET:
        org.plugin_credentials.add(doc.plugin_id, doc.credentials)
        return
    org.plugin_credentials.restore(
        CredentialSet(
            id=doc.id,
            plugin_id=doc.plugin_id,
            credentials=doc.credentials,
            created_at=_timestamp(doc.created_at, "createdAt", now),
            updated_at=_timestamp(doc.updated_at, "updatedAt", now),
            seq=doc.seq,
            is_active=doc.is_active,
        )
    )


def _load_file(org: Org, doc: FileDocument, now: float, base_dir: Path | None) -> None:
    data = _content(doc, base_dir)
    if doc.id is UNSET:
        org.assets.upload(
            UploadSpec(
                data=data,
                name=doc.name,
                path=doc.path,
                access=doc.access,
                tags=doc.tags,
                metadata=doc.metadata,
                overwrite=True,
                filename=doc.source or None,
                declared_format=doc.format,
            )
        )
        return
    info = media.sniff(data, None, doc.format)
    org.assets.restore(
        File(
            id=doc.id,
            name=doc.name,
            path=doc.path,
            data=data,
            format=info.format,
            asset_type=info.asset_type,
            content_type=info.content_type,
            width=info.width,
            height=info.height,
            etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            created_at=_timestamp(doc.created_at, "createdAt", now),
            updated_at=_timestamp(doc.updated_at, "updatedAt", now),
            seq=doc.seq,
            access=check_access(doc.access),
            is_active=doc.is_active,
            tags=doc.tags,
            metadata=doc.metadata,
            extension=info.format if doc.extension is UNSET else doc.extension,
        )
    )


def dump_state(
    emulator: Orgs, org_id: int | None = None, *, blobs: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """Export every org (or one) with file bytes inline as base64.

    With ``blobs``, file bytes go there instead, keyed by the relative ``source`` path
    (``files/{_id}``) the document names, for the directory/archive form of large snapshots.
    """
    orgs = [emulator.org(org_id)] if org_id is not None else emulator.orgs()
    state = StateDocument(
        format="pixelbin-emulator-state",
        version=1,
        orgs=[_dump_org(org, blobs) for org in orgs],
    )
    return msgspec.to_builtins(state)  # type: ignore[no-any-return]


def _file(file: File, blobs: dict[str, bytes] | None) -> FileDocument:
    if blobs is None:
        return FileDocument.of(file, base64=file.data)
    source = f"files/{file.id}"
    blobs[source] = file.data
    return FileDocument.of(file, source=source)


def _dump_org(org: Org, blobs: dict[str, bytes] | None = None) -> OrgDocument:
    folders, files = [], []
    with org.lock:
        for entry in sorted(org.assets.entries(), key=lambda e: e.seq):
            if isinstance(entry, Folder):
                folders.append(FolderDocument.of(entry))
            else:
                files.append(_file(entry, blobs))
        presets = [PresetDocument.of(preset) for preset in org.presets.all()]
        credentials = [CredentialsDocument.of(entry) for entry in org.plugin_credentials.all()]
    return OrgDocument.of(OrgHead.of(org), folders, files, presets, credentials)
