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

import base64
import binascii
import contextlib
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from . import media
from .assets import UploadSpec, check_access
from .clock import isoformat, parse_instant
from .credentials import CredentialSet
from .errors import ConflictError, ValidationError
from .ids import IdFactory
from .orgs import Org
from .presets import Preset
from .records import File, Folder
from .registry import OrgStaging

FORMAT = "pixelbin-emulator-state"
VERSION = 1
#: The largest integer JavaScript reads exactly (2**53 - 1), as for orgIds.
MAX_SEQ = 9_007_199_254_740_991
_RECORD_ID = re.compile(r"(?!\.+$)[A-Za-z0-9._~-]{1,128}", re.ASCII)


class Orgs(Protocol):
    """What loading and dumping state documents needs of the emulator, which loads its own seed
    with :func:`build_orgs` (so this module cannot know the emulator)."""

    def org(self, org_id: int) -> Org: ...

    def orgs(self) -> list[Org]: ...

    def replace_orgs(
        self, load: Callable[[OrgStaging], list[Org]], *, keep: Callable[[Org], bool]
    ) -> list[Org]: ...


def _timestamp(doc: dict[str, Any], key: str, default: float) -> float:
    value = doc.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError(f"{key} {value!r} is not an ISO-8601 timestamp")
    return parse_instant(value, key)


def _content(doc: dict[str, Any], base_dir: Path | None) -> bytes:
    if "base64" in doc:
        try:
            return base64.b64decode(doc["base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):  # ValueError: non-ASCII text
            raise ValidationError(f"file {doc.get('name')!r}: base64 content is invalid") from None
    if "source" in doc:
        if base_dir is None:
            raise ValidationError("file sources need a seed directory")
        source = (base_dir / str(doc["source"])).resolve()
        if not source.is_relative_to(base_dir.resolve()):
            raise ValidationError(f"file source {doc['source']!r} is outside the seed directory")
        try:
            return source.read_bytes()
        except OSError as exc:
            raise ValidationError(f"file source {doc['source']!r}: {exc.strerror}") from None
    raise ValidationError(f"file {doc.get('name')!r} has neither 'base64' nor 'source'")


def _str(doc: dict[str, Any], key: str, default: str | None = None) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string")
    return value


def _org_docs(doc: Any) -> list[Any]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValidationError(f"not a state document: 'format' must be {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise ValidationError(f"unsupported state version {doc.get('version')!r}")
    orgs_doc = doc.get("orgs", [])
    if not isinstance(orgs_doc, list):
        raise ValidationError("'orgs' must be a list")
    if not all(isinstance(org_doc, dict) for org_doc in orgs_doc):
        raise ValidationError("every org must be an object")
    return orgs_doc


def build_orgs(staging: OrgStaging, doc: Any, *, base_dir: Path | None = None) -> list[Org]:
    """Create the orgs of a state document in ``staging``; returns them.

    Orgs without an ``orgId`` are numbered after every ``orgId`` the document names, so the
    order of the entries cannot make them clash.
    """
    orgs_doc = _org_docs(doc)
    staging.number_after(org_id for org_id in map(_org_id, orgs_doc) if org_id is not None)
    return [_load_org(staging, org_doc, base_dir) for org_doc in orgs_doc]


def load_state(emulator: Orgs, doc: Any, *, base_dir: Path | None = None) -> list[Org]:
    """Add the orgs of a state document to ``emulator``, all or nothing; returns them.

    Unlike an import in ``merge`` mode, an org whose ``orgId`` (or credentials) is taken is a
    409, not a replacement.
    """
    return emulator.replace_orgs(
        lambda staging: build_orgs(staging, doc, base_dir=base_dir), keep=lambda org: True
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
    orgs_doc = _org_docs(doc)
    if mode == "replace":
        replaced: set[int] | None = None
    else:
        # Only orgs the document names by orgId replace anything: one without an orgId is new.
        replaced = {org_id for org_id in map(_org_id, orgs_doc) if org_id is not None}
    return emulator.replace_orgs(
        lambda staging: build_orgs(staging, doc, base_dir=base_dir),
        keep=lambda org: replaced is not None and org.org_id not in replaced,
    )


def load_into(org: Org, doc: Any, *, base_dir: Path | None = None) -> None:
    """Add one org document's folders, files, presets and credentials to an existing org.

    The org's own credentials stay. All or nothing: the document is first loaded into a scratch
    org holding what the org holds (the same records, shared, not copied), so a document that
    is bad in itself or clashes with the org's contents leaves the org as it was. The scratch
    org has ids of its own, so trying the load draws none from the org's (seeded) sequence.
    """
    if not isinstance(doc, dict):
        raise ValidationError("every org must be an object")
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
        _load_contents(trial, doc, now, base_dir)
        _load_contents(org, doc, now, base_dir)


def _org_id(doc: dict[str, Any]) -> int | None:
    org_id = doc.get("orgId")
    if org_id is not None and (not isinstance(org_id, int) or isinstance(org_id, bool)):
        raise ValidationError("orgId must be an integer")
    return org_id


def _load_org(staging: OrgStaging, doc: dict[str, Any], base_dir: Path | None) -> Org:
    now = staging.clock.time()
    org = staging.create_org(
        name=doc.get("name"),
        org_id=_org_id(doc),
        cloud_name=doc.get("cloudName"),
        api_secret=doc.get("apiSecret"),
        access_key=doc.get("accessKey"),
        created_at=_timestamp(doc, "createdAt", now),
    )
    _load_contents(org, doc, now, base_dir)
    return org


def _load_contents(org: Org, doc: dict[str, Any], now: float, base_dir: Path | None) -> None:
    for folder_doc in _objects(doc, "folders"):
        _load_folder(org, folder_doc, now)
    for file_doc in _objects(doc, "files"):
        _load_file(org, file_doc, now, base_dir)
    for preset_doc in _objects(doc, "presets"):
        _load_preset(org, preset_doc, now)
    for credentials_doc in _objects(doc, "credentials"):
        _load_credentials(org, credentials_doc, now)


def _load_folder(org: Org, doc: dict[str, Any], now: float) -> None:
    if "_id" not in doc:
        # A ConflictError means an earlier entry already created it as an ancestor.
        with contextlib.suppress(ConflictError):
            org.assets.create_folder(_str(doc, "name"), _str(doc, "path", ""))
        return
    org.assets.restore(
        Folder(
            id=_record_id(doc),
            name=_str(doc, "name"),
            path=_str(doc, "path", ""),
            created_at=_timestamp(doc, "createdAt", now),
            updated_at=_timestamp(doc, "updatedAt", now),
            seq=_seq(doc),
            is_active=_bool(doc, "isActive", True),
        )
    )


def _objects(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationError(f"'{key}' must be a list of objects")
    return items


def _load_preset(org: Org, doc: dict[str, Any], now: float) -> None:
    archived = _bool(doc, "archived", False)
    if "_id" not in doc:
        preset = org.presets.add(
            doc.get("presetName"), doc.get("transformation"), doc.get("params")
        )
        if archived:
            org.presets.update(preset.name, archived=True)
        return
    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise ValidationError("params must be an object")
    org.presets.restore(
        Preset(
            id=_record_id(doc),
            name=_str(doc, "presetName"),
            transformation=_str(doc, "transformation"),
            params=params,
            created_at=_timestamp(doc, "createdAt", now),
            updated_at=_timestamp(doc, "updatedAt", now),
            seq=_seq(doc),
            archived=archived,
            is_active=_bool(doc, "isActive", True),
        )
    )


def _load_credentials(org: Org, doc: dict[str, Any], now: float) -> None:
    if "_id" not in doc:
        org.plugin_credentials.add(doc.get("pluginId"), doc.get("credentials"))
        return
    credentials = doc.get("credentials")
    if not isinstance(credentials, dict):
        raise ValidationError("credentials must be an object")
    org.plugin_credentials.restore(
        CredentialSet(
            id=_record_id(doc),
            plugin_id=_str(doc, "pluginId"),
            credentials=credentials,
            created_at=_timestamp(doc, "createdAt", now),
            updated_at=_timestamp(doc, "updatedAt", now),
            seq=_seq(doc),
            is_active=_bool(doc, "isActive", True),
        )
    )


def _seq(doc: dict[str, Any]) -> int:
    seq = doc.get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
        raise ValidationError(f"seq must be an integer from 0 to {MAX_SEQ}")
    return seq


def _record_id(doc: dict[str, Any]) -> str:
    """An ``_id`` is one URL path segment (``/files/id/{_id}``, ``/folders/{_id}``)."""
    value = doc.get("_id")
    if not isinstance(value, str) or not _RECORD_ID.fullmatch(value):
        raise ValidationError(
            f"_id {value!r} must be 1 to 128 letters, digits or '-', '_', '.', '~'"
        )
    return value


def _bool(doc: dict[str, Any], key: str, default: bool) -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        raise ValidationError(f"{key} must be true or false")
    return value


def _load_file(org: Org, doc: dict[str, Any], now: float, base_dir: Path | None) -> None:
    data = _content(doc, base_dir)
    tags = doc.get("tags", [])
    metadata = doc.get("metadata", {})
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValidationError("tags must be a list of strings")
    if not isinstance(metadata, dict):
        raise ValidationError("metadata must be an object")
    declared_format = _str(doc, "format") if doc.get("format") is not None else None
    if "_id" not in doc:
        source = doc.get("source")
        org.assets.upload(
            UploadSpec(
                data=data,
                name=_str(doc, "name"),
                path=_str(doc, "path", ""),
                access=doc.get("access"),
                tags=tags,
                metadata=metadata,
                overwrite=True,
                filename=str(source) if source else None,
                declared_format=declared_format,
            )
        )
        return
    info = media.sniff(data, None, declared_format)
    org.assets.restore(
        File(
            id=_record_id(doc),
            name=_str(doc, "name"),
            path=_str(doc, "path", ""),
            data=data,
            format=info.format,
            asset_type=info.asset_type,
            content_type=info.content_type,
            width=info.width,
            height=info.height,
            etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            created_at=_timestamp(doc, "createdAt", now),
            updated_at=_timestamp(doc, "updatedAt", now),
            seq=_seq(doc),
            access=check_access(doc.get("access")),
            is_active=_bool(doc, "isActive", True),
            tags=tags,
            metadata=metadata,
            extension=_str(doc, "extension", info.format),
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
    return {"format": FORMAT, "version": VERSION, "orgs": [_dump_org(org, blobs) for org in orgs]}


def _content_field(file: File, blobs: dict[str, bytes] | None) -> dict[str, str]:
    if blobs is None:
        return {"base64": base64.b64encode(file.data).decode("ascii")}
    source = f"files/{file.id}"
    blobs[source] = file.data
    return {"source": source}


def org_head(org: Org) -> dict[str, Any]:
    """An org's identity and credentials: the head of its document, and the control plane's Org."""
    return {
        "orgId": org.org_id,
        "name": org.name,
        "cloudName": org.cloud_name,
        "apiSecret": org.api_secret,
        "accessKey": org.access_key,
        "createdAt": isoformat(org.created_at),
    }


def folder_doc(folder: Folder) -> dict[str, Any]:
    """A folder as a state document holds it."""
    return {
        "_id": folder.id,
        "seq": folder.seq,
        "path": folder.path,
        "name": folder.name,
        "isActive": folder.is_active,
        "createdAt": isoformat(folder.created_at),
        "updatedAt": isoformat(folder.updated_at),
    }


def file_doc(file: File) -> dict[str, Any]:
    """A file as a state document holds it, without its content (``base64`` or ``source``)."""
    return folder_doc(file) | {  # type: ignore[arg-type]
        "format": file.format,
        "extension": file.extension,
        "access": file.access,
        "tags": list(file.tags),
        "metadata": file.metadata,
    }


def preset_doc(preset: Preset) -> dict[str, Any]:
    return {
        "_id": preset.id,
        "seq": preset.seq,
        "presetName": preset.name,
        "transformation": preset.transformation,
        "params": dict(preset.params),
        "archived": preset.archived,
        "isActive": preset.is_active,
        "createdAt": isoformat(preset.created_at),
        "updatedAt": isoformat(preset.updated_at),
    }


def credentials_doc(entry: CredentialSet) -> dict[str, Any]:
    return {
        "_id": entry.id,
        "seq": entry.seq,
        "pluginId": entry.plugin_id,
        "credentials": dict(entry.credentials),
        "isActive": entry.is_active,
        "createdAt": isoformat(entry.created_at),
        "updatedAt": isoformat(entry.updated_at),
    }


def _dump_org(org: Org, blobs: dict[str, bytes] | None = None) -> dict[str, Any]:
    folders, files = [], []
    with org.lock:
        for entry in sorted(org.assets.entries(), key=lambda e: e.seq):
            if isinstance(entry, Folder):
                folders.append(folder_doc(entry))
            else:
                files.append(file_doc(entry) | _content_field(entry, blobs))
        presets = [preset_doc(preset) for preset in org.presets.all()]
        credentials = [credentials_doc(entry) for entry in org.plugin_credentials.all()]
    return org_head(org) | {
        "folders": folders,
        "files": files,
        "presets": presets,
        "credentials": credentials,
    }
