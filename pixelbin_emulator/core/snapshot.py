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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import media
from .assets import UploadSpec, check_access
from .clock import isoformat
from .credentials import CredentialSet
from .errors import ConflictError, ValidationError
from .presets import Preset
from .records import File, Folder

if TYPE_CHECKING:
    from .emulator import Emulator
    from .orgs import Org

FORMAT = "pixelbin-emulator-state"
VERSION = 1


def _timestamp(doc: dict[str, Any], key: str, default: float) -> float:
    value = doc.get(key)
    if value is None:
        return default
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        raise ValidationError(f"{key} {value!r} is not an ISO-8601 timestamp") from None


def _content(doc: dict[str, Any], base_dir: Path | None) -> bytes:
    if "base64" in doc:
        try:
            return base64.b64decode(doc["base64"], validate=True)
        except (binascii.Error, TypeError):
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


def load_state(emulator: Emulator, doc: Any, *, base_dir: Path | None = None) -> list[Org]:
    """Add the orgs of a state document to ``emulator``; returns them."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValidationError(f"not a state document: 'format' must be {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise ValidationError(f"unsupported state version {doc.get('version')!r}")
    orgs_doc = doc.get("orgs", [])
    if not isinstance(orgs_doc, list):
        raise ValidationError("'orgs' must be a list")
    return [_load_org(emulator, org_doc, base_dir) for org_doc in orgs_doc]


def import_state(
    emulator: Emulator, doc: Any, *, mode: str = "replace", base_dir: Path | None = None
) -> list[Org]:
    """Load a state document into a running emulator, all or nothing.

    ``replace``: every org goes, then the document's orgs are loaded. ``merge``: the document's
    orgs are added, each replacing the org with the same ``orgId`` if there is one; other orgs
    stay. The document is first loaded into a scratch emulator, so a bad one changes nothing.
    """
    from .emulator import Emulator

    if mode not in ("replace", "merge"):
        raise ValidationError("mode must be 'replace' or 'merge'")
    scratch = Emulator(limits=emulator.limits)
    load_state(scratch, doc, base_dir=base_dir)
    with emulator.bulk():
        incoming = scratch.orgs()
        # Only orgs the document names by orgId replace anything: one without an orgId is new.
        replaced = {org_doc["orgId"] for org_doc in doc.get("orgs", []) if "orgId" in org_doc}
        staying = [] if mode == "replace" else emulator.orgs()
        for org in staying:
            if org.org_id in replaced:
                continue
            for new in incoming:
                if {org.api_secret, org.access_key, org.cloud_name} & {
                    new.api_secret,
                    new.access_key,
                    new.cloud_name,
                }:
                    raise ConflictError(
                        f"org {new.org_id} of the document has the apiSecret, accessKey or "
                        f"cloudName of org {org.org_id}, which stays"
                    )
        emulator.ready = False
        try:
            for org in emulator.orgs():
                if mode == "replace" or org.org_id in replaced:
                    emulator.drop_org(org.org_id)
            return load_state(emulator, doc, base_dir=base_dir)
        finally:
            emulator.ready = True


def load_into(org: Org, doc: Any, *, base_dir: Path | None = None) -> None:
    """Add one org document's folders, files, presets and credentials to an existing org.

    The org's own credentials stay. The document is first loaded into a scratch org, so one that
    is bad in itself (a broken entry in the middle) leaves the org as it was.
    """
    from .emulator import Emulator

    if not isinstance(doc, dict):
        raise ValidationError("every org must be an object")
    _load_contents(Emulator(limits=org.limits).create_org(), doc, org.clock.time(), base_dir)
    with org.lock:
        _load_contents(org, doc, org.clock.time(), base_dir)


def _load_org(emulator: Emulator, doc: Any, base_dir: Path | None) -> Org:
    if not isinstance(doc, dict):
        raise ValidationError("every org must be an object")
    now = emulator.clock.time()
    org = emulator.create_org(
        name=doc.get("name"),
        org_id=doc.get("orgId"),
        cloud_name=doc.get("cloudName"),
        api_secret=doc.get("apiSecret"),
        access_key=doc.get("accessKey"),
        created_at=_timestamp(doc, "createdAt", now),
    )
    try:
        _load_contents(org, doc, now, base_dir)
    except Exception:
        emulator.drop_org(org.org_id)
        raise
    return org


def _load_contents(org: Org, doc: dict[str, Any], now: float, base_dir: Path | None) -> None:
    for folder_doc in doc.get("folders", []):
        _load_folder(org, folder_doc, now)
    for file_doc in doc.get("files", []):
        _load_file(org, file_doc, now, base_dir)
    for preset_doc in _objects(doc, "presets"):
        _load_preset(org, preset_doc, now)
    for credentials_doc in _objects(doc, "credentials"):
        _load_credentials(org, credentials_doc, now)


def _object(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ValidationError("every folder and file must be an object")
    return doc


def _load_folder(org: Org, doc: dict[str, Any], now: float) -> None:
    doc = _object(doc)
    if "_id" not in doc:
        # A ConflictError means an earlier entry already created it as an ancestor.
        with contextlib.suppress(ConflictError):
            org.assets.create_folder(_str(doc, "name"), _str(doc, "path", ""))
        return
    org.assets.restore(
        Folder(
            id=_str(doc, "_id"),
            name=_str(doc, "name"),
            path=_str(doc, "path", ""),
            created_at=_timestamp(doc, "createdAt", now),
            updated_at=_timestamp(doc, "updatedAt", now),
            seq=_seq(doc),
            is_active=bool(doc.get("isActive", True)),
        )
    )


def _objects(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationError(f"'{key}' must be a list of objects")
    return items


def _load_preset(org: Org, doc: dict[str, Any], now: float) -> None:
    archived = doc.get("archived", False)
    if not isinstance(archived, bool):
        raise ValidationError("archived must be true or false")
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
            id=_str(doc, "_id"),
            name=_str(doc, "presetName"),
            transformation=_str(doc, "transformation"),
            params=params,
            created_at=_timestamp(doc, "createdAt", now),
            updated_at=_timestamp(doc, "updatedAt", now),
            seq=_seq(doc),
            archived=archived,
            is_active=bool(doc.get("isActive", True)),
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
            id=_str(doc, "_id"),
            plugin_id=_str(doc, "pluginId"),
            credentials=credentials,
            created_at=_timestamp(doc, "createdAt", now),
            updated_at=_timestamp(doc, "updatedAt", now),
            seq=_seq(doc),
            is_active=bool(doc.get("isActive", True)),
        )
    )


def _seq(doc: dict[str, Any]) -> int:
    seq = doc.get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValidationError("seq must be a non-negative integer")
    return seq


def _load_file(org: Org, doc: dict[str, Any], now: float, base_dir: Path | None) -> None:
    doc = _object(doc)
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
            id=_str(doc, "_id"),
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
            is_active=bool(doc.get("isActive", True)),
            tags=tags,
            metadata=metadata,
            extension=_str(doc, "extension", info.format),
        )
    )


def dump_state(
    emulator: Emulator, org_id: int | None = None, *, blobs: dict[str, bytes] | None = None
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
