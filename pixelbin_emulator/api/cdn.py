"""The CDN: ``GET /v2/{cloudName}[/{zone}]/{pattern}/{filePath}`` serves files, transformed, and
so does ``/v2[/{zone}]/{pattern}/{filePath}`` on an org's custom domain (``Emulator.map_domain``).

``original`` serves the stored bytes. Any other pattern is planned (presets, ``?dpr=``,
``?f_auto=true``) and checked before decoding, then rendered by :mod:`..core.rendering` through
the app's variant cache, with an ETag, conditional GET and Range of its own. AI-module steps
run as stand-ins and are marked ``X-Pixelbin-Emulator-Transformation: stand-in``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import Headers

from ..core import rendering
from ..core.errors import NotFoundError
from ..core.media import normalize_format
from ..core.orgs import Org
from ..core.records import File
from ..core.render_cache import Variant, VariantCache
from ..core.signing import CdnSignature, encode_uri, verify_cdn_url
from .context import EXTENSION_KEY, emulator
from .middleware import operation

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

    @property
    def is_original(self) -> bool:
        return self.pattern == "original"


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


def variant_cache() -> VariantCache:
    return current_app.extensions[EXTENSION_KEY]["render_cache"]


def plan_for(
    target: CdnTarget, args: Mapping[str, str], headers: Headers | Mapping[str, str]
) -> rendering.Plan | None:
    """The render plan of a request, or None when the stored bytes are the answer.

    Raises (400) on a bad pattern or query option before anything is decoded.
    """
    dpr = rendering.parse_dpr(args.get("dpr"), headers.get("Sec-CH-DPR") or headers.get("DPR"))
    wants_auto = rendering.parse_f_auto(args.get("f_auto"))
    file = target.file
    auto = rendering.auto_format(headers.get("Accept", "")) if wants_auto else None
    if target.is_original:
        keeps = rendering.output_format_of(file.format)
        if auto is None or file.asset_type != "image" or auto == keeps:
            return None
        return rendering.plan("original", target.org, dpr=dpr, auto=auto)
    return rendering.plan(target.pattern, target.org, dpr=dpr, auto=auto)


def render_variant(target: CdnTarget, the_plan: rendering.Plan) -> Variant:
    """The rendered variant, from the cache or rendered now (once, however many ask)."""
    file, org = target.file, target.org
    return variant_cache().get(
        (org.org_id, file.id),
        file.etag,
        the_plan.key,
        lambda: rendering.render(file.data, file.format, file.asset_type, the_plan, org.catalogue),
    )


def _serve(cdn_path: str) -> Response:
    target = resolve(cdn_path, request.host)
    the_plan = plan_for(target, request.args, request.headers)
    check_access(target, _raw_path(), request.query_string.decode("utf-8", "replace"))
    file = target.file
    if the_plan is None:
        response = Response(file.data, mimetype=file.content_type)
        response.set_etag(file.etag)
        length = file.size
    else:
        variant = render_variant(target, the_plan)
        response = Response(variant.data, mimetype=variant.content_type)
        response.set_etag(variant.etag)
        length = len(variant.data)
        if variant.stand_in:
            response.headers["X-Pixelbin-Emulator-Transformation"] = "stand-in"
        if the_plan.auto_format is not None or "f_auto" in request.args:
            response.vary.add("Accept")
    response.last_modified = file.updated_at
    # A private file's bytes must not outlive its signed URL in a shared cache.
    private = file.access != "public-read"
    response.headers["Cache-Control"] = "private, no-cache" if private else _PUBLIC_CACHE
    return response.make_conditional(request, accept_ranges=True, complete_length=length)


@bp.get("/v2/<path:cdn_path>")
def serve(cdn_path: str) -> Response:
    return _serve("v2/" + cdn_path)


@bp.get("/v1/<path:cdn_path>")
@operation("getCdnFile")
def serve_v1(cdn_path: str) -> Response:
    """The same CDN under ``/v1/``, the version the SDKs' url utilities also accept."""
    return _serve("v1/" + cdn_path)


@bp.get("/<cloud:cloud_name>/<path:cdn_path>")
@operation("getCdnFile")
def serve_versionless(cloud_name: str, cdn_path: str) -> Response:
    """``/{cloudName}[/{zone}]/{pattern}/{filePath}``: what ``url_to_obj`` parses as v1."""
    return _serve(f"v1/{cloud_name}/{cdn_path}")
