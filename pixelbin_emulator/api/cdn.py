"""The CDN: ``GET /v2/{cloudName}[/{zone}]/{pattern}/{filePath}`` serves stored bytes.

Only ``original`` is rendered faithfully. A transformation pattern is accepted, and the original
is served with ``X-Pixelbin-Emulator-Transformation: not-applied``, so pages that use
transformed URLs still show their images during local development.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, request

from ..core.errors import NotFoundError, UnauthorizedError
from ..core.media import normalize_format
from ..core.orgs import Org
from ..core.records import File
from .context import emulator

bp = Blueprint("cdn", __name__)

_ZONE = re.compile(r"^[A-Za-z0-9_-]{6}$")
_VERSION = re.compile(r"^v[12]$")


@dataclass(frozen=True)
class CdnTarget:
    org: Org
    file: File
    pattern: str


def resolve(path: str) -> CdnTarget:
    """Find the org and file a CDN path names (the path after the host, with ``/v2/``)."""
    segments = path.lstrip("/").split("/")
    if len(segments) < 4 or not _VERSION.match(segments[0]):
        raise NotFoundError("not a CDN path: /v2/{cloudName}/{pattern}/{filePath}")
    org = emulator().org_by_cloud_name(segments[1])
    if org is None:
        raise NotFoundError(f"unknown cloud name {segments[1]!r}")
    rest = segments[2:]
    if len(rest) >= 3 and _ZONE.match(rest[0]):
        rest = rest[1:]
    pattern, file_path = rest[0], "/".join(rest[1:])
    return CdnTarget(org, _find_file(org, file_path), pattern)


def _find_file(org: Org, file_path: str) -> File:
    """The file whose ``fileId`` is the path, or the path minus a ``.{ext}`` the API added."""
    file = org.assets.find_file(file_path)
    if file is None:
        stem, dot, ext = file_path.rpartition(".")
        candidate = org.assets.find_file(stem) if dot and "/" not in ext else None
        if candidate is not None and normalize_format(ext) == candidate.format:
            file = candidate
    if file is None or not file.is_active:
        raise NotFoundError(f"no file at {file_path!r}")
    return file


def check_access(target: CdnTarget) -> None:
    """Private files are never served unsigned."""
    if target.file.access != "public-read":
        raise UnauthorizedError("this asset is private: request it with a signed URL")


@bp.get("/v2/<path:cdn_path>")
def serve(cdn_path: str) -> Response:
    target = resolve("v2/" + cdn_path)
    check_access(target)
    file = target.file
    response = Response(file.data, mimetype=file.content_type)
    response.set_etag(file.etag)
    response.last_modified = file.updated_at
    response.headers["Cache-Control"] = "public, max-age=31536000"
    if target.pattern != "original":
        response.headers["X-Pixelbin-Emulator-Transformation"] = "not-applied"
    return response.make_conditional(request, accept_ranges=True, complete_length=file.size)
