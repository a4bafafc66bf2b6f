"""Where ``urlUpload`` gets bytes from, without reaching the network unless allowed.

``data:`` URLs, URLs stubbed through the control plane (``/_emulator/url-stubs``) and the
emulator's own CDN URLs always work (a transformation URL gives the transformed bytes). Any
other http(s) URL is fetched only when fetching is enabled (``--allow-fetch``), with a timeout
and a size limit.

A URL written without a scheme, as in the docs' own example (``www.dummy.com/image.png``), is
read as ``https://`` (a stub for its ``http://`` spelling also serves it).
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, unquote_to_bytes, urlsplit

from flask import g

from ..core.errors import EmulatorError, ValidationError
from ..core.url_stubs import UrlStub
from . import cdn
from .context import emulator, request_host, settings

#: ``host[:port]`` opening a URL written without a scheme (a dotted name or ``localhost``).
_BARE_HOST = re.compile(
    r"(?:localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::[0-9]{1,5})?(?=[/?#]|$)"
)


@dataclass(frozen=True)
class Fetched:
    data: bytes
    #: The last path segment of the URL: the default name, and a format hint.
    filename: str | None = None
    #: From a ``data:`` URL's media type, for bytes whose format cannot be sniffed.
    declared_format: str | None = None


def fetch(url: str) -> Fetched:
    """What ``url`` holds, or a 400 saying why it cannot be had."""
    spellings = [url]
    if "://" not in url and _BARE_HOST.match(url):
        spellings = [f"https://{url}", f"http://{url}"]
        url = spellings[0]
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        mime = url[len("data:") :].split(",", 1)[0].split(";", 1)[0].strip().lower()
        extension = mimetypes.guess_extension(mime) if mime else None
        return Fetched(_data_url(url), declared_format=extension)
    if scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"url {url!r} is not an http(s) or data: URL")
    filename = unquote(parts.path.rsplit("/", 1)[-1]) or None
    custom_domain = emulator().org_by_host(parts.netloc) is not None
    cdn_path = parts.path
    if not cdn_path.startswith(("/v2/", "/v1/")) and cdn_path.count("/") >= 3:
        first = unquote(cdn_path.split("/", 2)[1])
        if emulator().org_by_cloud_name(first) is not None:
            cdn_path = "/v1" + cdn_path  # the version-less form, read as v1
    if (custom_domain or _is_own(parts.netloc)) and cdn_path.startswith(("/v2/", "/v1/")):
        try:
            target = cdn.resolve(unquote(cdn_path), parts.netloc if custom_domain else "")
            the_plan = cdn.plan_for(target, dict(parse_qsl(parts.query)), {})
            cdn.check_access(target, parts.path, parts.query)
            if the_plan is None:
                return Fetched(target.file.data, filename)
            # The CDN's answer for this URL: the transformed bytes, as a fetch would get them.
            return Fetched(cdn.render_variant(target, the_plan).data, filename)
        except EmulatorError as error:
            raise ValidationError(f"url {url!r} could not be fetched: {error.message}") from None
    stub = next(filter(None, map(_stub, spellings)), None)
    if stub is not None:
        if not 200 <= stub.status < 300:
            raise ValidationError(f"url {url!r} could not be fetched: HTTP {stub.status}")
        return Fetched(stub.data, filename)
    if not settings().allow_fetch:
        raise ValidationError(
            f"url {url!r} is not on this emulator and fetching is disabled; "
            f"{settings().fetch_hint} or use a data: URL"
        )
    return Fetched(_download(url), filename)


def _is_own(netloc: str) -> bool:
    external = settings().external_url
    own = {request_host().lower()}
    if external:
        own.add(urlsplit(external).netloc.lower())
    return netloc.lower() in own


def _data_url(url: str) -> bytes:
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise ValidationError("data: URL has no ',' before its payload")
    if header.lower().endswith(";base64"):
        try:
            return base64.b64decode(unquote(payload), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("data: URL has invalid base64") from None
    return unquote_to_bytes(payload)


def _stub(url: str) -> UrlStub | None:
    """The stub registered for ``url`` (for the requesting org, or for every org)."""
    org = g.get("org")
    return emulator().url_stubs.find(url, org.org_id if org else None)


def _download(url: str) -> bytes:
    limit = settings().fetch_max_bytes
    try:
        with urllib.request.urlopen(url, timeout=settings().fetch_timeout) as response:
            data = response.read(limit + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ValidationError(f"url {url!r} could not be fetched: {error}") from None
    if len(data) > limit:
        raise ValidationError(f"url {url!r} is larger than {limit} bytes")
    return data
