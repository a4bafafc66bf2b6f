"""Records to the JSON shapes the real API answers with (the captures in docs/fidelity.md).

Each function mirrors one captured response shape; ``orgId`` is an int, and folder items omit
``access`` because the C# SDK's enum converter throws on ``null``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from ..core.clock import isoformat
from ..core.names import has_extension
from ..core.orgs import Org
from ..core.records import Entry, File, Folder

# RFC 3986 pchar minus "%": what may stand unescaped in a path segment.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
# Anything ``quote(..., safe=_PATH_SAFE)`` would change; slugified names rarely hold any, so
# checking first spares most items of a listing the cost of quote().
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9/!$&'()*+,;=:@\-._~]")


def cdn_path(org: Org, file: File, pattern: str = "original") -> str:
    """``/v2/{cloudName}/{pattern}/{fileId}``, plus ``.{format}`` when the name has none."""
    return f"/v2/{org.cloud_name}/{pattern}/{_url_file_path(file.file_id, file.name, file.format)}"


def _url_file_path(file_id: str, name: str, fmt: str) -> str:
    file_path = file_id if has_extension(name) else f"{file_id}.{fmt}"
    return quote(file_path, safe=_PATH_SAFE) if _NEEDS_QUOTING.search(file_path) else file_path


def file_url(org: Org, file: File, base: str) -> str:
    return base + cdn_path(org, file)


def timestamps(entry: Entry) -> tuple[str, str]:
    """``createdAt`` and ``updatedAt``, formatting once when they are equal (as until an update)."""
    created_at = isoformat(entry.created_at)
    if entry.updated_at == entry.created_at:
        return created_at, created_at
    return created_at, isoformat(entry.updated_at)


def file_object(org: Org, file: File, base: str) -> dict[str, Any]:
    """getFileById / getFileByFileId / updateFile / deleteFile / deleteFiles items."""
    created_at, updated_at = timestamps(file)
    return {
        "_id": file.id,
        "name": file.name,
        "path": file.path,
        "fileId": file.file_id,
        "format": file.format,
        "assetType": file.asset_type,
        "access": file.access,
        "size": file.size,
        "isActive": file.is_active,
        "tags": list(file.tags),
        "metadata": file.metadata,
        "url": file_url(org, file, base),
        "meta": {},
        "kvStore": [],
        "height": file.height,
        "width": file.width,
        "createdAt": created_at,
        "updatedAt": updated_at,
    }


def folder_object(folder: Folder) -> dict[str, Any]:
    """createFolder / updateFolder / deleteFolder."""
    return {
        "_id": folder.id,
        "name": folder.name,
        "path": folder.path,
        "isActive": folder.is_active,
    }


def folder_details(org: Org, folder: Folder) -> dict[str, Any]:
    """getFolderDetails: the explore-item shape with the file-only fields null."""
    return {
        "_id": folder.id,
        "createdAt": isoformat(folder.created_at),
        "updatedAt": isoformat(folder.updated_at),
        "isActive": folder.is_active,
        "orgId": org.org_id,
        "type": "folder",
        "name": folder.name,
        "path": folder.path,
        "fileId": None,
        "format": None,
        "size": None,
        "tags": None,
        "metadata": None,
        "access": None,
        "width": None,
        "height": None,
        "meta": {},
        "kvStore": [],
        "context": None,
        "assetType": None,
    }


def ancestor_item(folder: Folder) -> dict[str, Any]:
    return {"_id": folder.id, "path": folder.path, "name": folder.name, "type": "folder"}


def list_items(org: Org, entries: Iterable[Entry], base: str) -> list[dict[str, Any]]:
    """The items of a ``listFiles`` page, in one pass with the per-page values hoisted.

    A page holds up to 100 items and building them is most of what a cached listing costs, so
    each is one dict literal (not a merge), and the URL prefix is made once per page.
    """
    org_id = org.org_id
    url_prefix = f"{base}/v2/{org.cloud_name}/original/"
    items = []
    for entry in entries:
        created_at = isoformat(entry.created_at)
        if entry.updated_at == entry.created_at:
            updated_at = created_at
        else:
            updated_at = isoformat(entry.updated_at)
        if isinstance(entry, Folder):
            items.append(
                {
                    "_id": entry.id,
                    "orgId": org_id,
                    "createdAt": created_at,
                    "updatedAt": updated_at,
                    "name": entry.name,
                    "path": entry.path,
                    "type": "folder",
                    "isActive": entry.is_active,
                }
            )
            continue
        file_id = entry.file_id
        items.append(
            {
                "_id": entry.id,
                "orgId": org_id,
                "createdAt": created_at,
                "updatedAt": updated_at,
                "name": entry.name,
                "path": entry.path,
                "type": "file",
                "isActive": entry.is_active,
                "fileId": file_id,
                "format": entry.format,
                "assetType": entry.asset_type,
                "size": len(entry.data),
                "tags": list(entry.tags),
                "metadata": entry.metadata,
                "access": entry.access,
                "width": entry.width,
                "height": entry.height,
                "url": url_prefix + _url_file_path(file_id, entry.name, entry.format),
            }
        )
    return items
