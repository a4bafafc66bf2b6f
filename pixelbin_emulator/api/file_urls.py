"""What answers say of a file besides its record's fields: its CDN path and URL, its timestamps.

The answers are structs in ``api/wire/`` (``wire/assets.py``: files, folders, listings;
``wire/uploads.py``: the upload answer), built with these helpers.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ..core.clock import isoformat
from ..core.names import has_extension
from ..core.orgs import Org
from ..core.records import Entry, File

# RFC 3986 pchar minus "%": what may stand unescaped in a path segment.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
# Anything ``quote(..., safe=_PATH_SAFE)`` would change; slugified names rarely hold any, so
# checking first spares most items of a listing the cost of quote().
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9/!$&'()*+,;=:@\-._~]")


def cdn_path(org: Org, file: File, pattern: str = "original") -> str:
    """``/v2/{cloudName}/{pattern}/{fileId}``, plus ``.{format}`` when the name has none."""
    return f"/v2/{org.cloud_name}/{pattern}/{url_file_path(file.file_id, file.name, file.format)}"


def url_file_path(file_id: str, name: str, fmt: str) -> str:
    """``fileId`` as a URL path, with ``.{format}`` when the name has no extension."""
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
