"""The CDN: ``GET /v2/{cloudName}[/{zone}]/{pattern}/{filePath}`` serves stored bytes, and so
does ``/v2[/{zone}]/{pattern}/{filePath}`` on an org's custom domain (``Emulator.map_domain``).

Only ``original`` is rendered faithfully. A transformation pattern is accepted, and the original
is served with ``X-Pixelbin-Emulator-Transformation: not-applied``, so pages that use
transformed URLs still show their images during local development.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, request

from ..core.errors import NotFoundError
from ..core.media import normalize_format
from ..core.orgs import Org
from ..core.records import File
from ..core.signing import CdnSignature, encode_uri, verify_cdn_url
from .context import emulator

bp = Blueprint("cdn", __name__)

_ZONE = re.compile(r"^[A-Za-z0-9_-]{6}$")
_VERSION = re.compile(r"^v[12]$")
_PUBLIC_CACHE = "public, max-age=31536000"
_WORKER = "wrkr"


@dataclass(frozen=True)
class CdnTarget:
    org: Org
    file: File
    pattern: str


def resolve(path: str, host: str = "") -> CdnTarget:
    """Find the org and file a CDN path names (the path after the host, with ``/v2/``).

    On a custom domain of an org (``host``), the path has no cloud name:
    ``/v2[/{zone}]/{pattern}/{filePath}``; that org's own cloud-name form works there too.
    """
    segments = path.lstrip("/").split("/")
    if not _VERSION.match(segments[0]):
        raise NotFoundError("not a CDN path: /v2/{cloudName}/{pattern}/{filePath}")
    org = emulator().org_by_host(host) if host else None
    if org is not None and segments[1:2] != [org.cloud_name]:
        rest = segments[1:]
    else:
        cloud_name = segments[1] if len(segments) > 1 else ""
        org = emulator().org_by_cloud_name(cloud_name)
        if org is None:
            raise NotFoundError(f"unknown cloud name {cloud_name!r}")
        rest = segments[2:]
    if len(rest) >= 3 and _ZONE.match(rest[0]):
        rest = rest[1:]
    if rest[:1] == [_WORKER]:
        raise NotFoundError(
            "URL Translation Worker URLs (/wrkr/) are not emulated: the worker is JavaScript "
            "configured in the Pixelbin console; use /v2/{cloudName}/{pattern}/{filePath}"
        )
    if len(rest) < 2:
        raise NotFoundError("not a CDN path: /v2/{cloudName}/{pattern}/{filePath}")
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
    if file is None or not org.assets.delivered(file):
        raise NotFoundError(f"no file at {file_path!r}")
    return file


def check_access(target: CdnTarget, path: str, query: str) -> None:
    """Private files are served only on a valid signed URL; a signature sent is always checked.

    ``path`` is the request path as sent (percent-encoded) and ``query`` the raw query string.
    A signed URL for a public file that was altered or has expired is refused too, as the docs
    say of signed URLs in general; the same URL without ``pbs``/``pbe``/``pbt`` is served.
    """
    org = target.org
    if target.file.access != "public-read" or CdnSignature.from_query(query).present:
        verify_cdn_url(
            (path, unquote(path)),
            query,
            api_secret=org.api_secret,
            access_key=org.access_key,
            now=org.clock.time(),
        )


def _raw_path() -> str:
    """The path as the client sent it (signatures are over that spelling), if the server says."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if not raw:
        return encode_uri(request.path)
    return urlsplit(raw).path if "://" in raw.split("?", 1)[0] else raw.split("?", 1)[0]


@bp.get("/v2/<path:cdn_path>")
def serve(cdn_path: str) -> Response:
    target = resolve("v2/" + cdn_path, request.host)
    if target.pattern != "original":
        target.org.presets.check_url_pattern(target.pattern)
    check_access(target, _raw_path(), request.query_string.decode("utf-8", "replace"))
    file = target.file
    response = Response(file.data, mimetype=file.content_type)
    response.set_etag(file.etag)
    response.last_modified = file.updated_at
    # A private file's bytes must not outlive its signed URL in a shared cache.
    private = file.access != "public-read"
    response.headers["Cache-Control"] = "private, no-cache" if private else _PUBLIC_CACHE
    if target.pattern != "original":
        response.headers["X-Pixelbin-Emulator-Transformation"] = "not-applied"
    return response.make_conditional(request, accept_ranges=True, complete_length=file.size)
