"""Per-request access to the emulator, its settings and the authenticated org."""

from __future__ import annotations

import base64
import binascii
import functools
import re

from flask import current_app, g, request
from werkzeug.sansio.utils import get_current_url, get_host

from ..core.emulator import Emulator
from ..core.errors import UnauthorizedError
from ..core.orgs import Org
from ..settings import Settings

EXTENSION_KEY = "pixelbin_emulator"


def emulator() -> Emulator:
    return current_app.extensions[EXTENSION_KEY]["emulator"]


def settings() -> Settings:
    return current_app.extensions[EXTENSION_KEY]["settings"]


def org_for_authorization(em: Emulator, header: str) -> Org | None:
    """The org whose API secret an ``Authorization: Bearer base64(apiSecret)`` header carries."""
    # A client sends the same header every time: decoded once (short ones only, so the cache
    # stays small whatever clients send).
    secret = _cached_bearer_secret(header) if len(header) <= 512 else _bearer_secret(header)
    return None if secret is None else em.org_by_secret(secret)


def _bearer_secret(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


_cached_bearer_secret = functools.lru_cache(maxsize=256)(_bearer_secret)


def authenticate() -> None:
    """``before_request`` of the platform API: ``Authorization: Bearer base64(apiSecret)``.

    ``x-ebg-param`` / ``x-ebg-signature`` (sent by SDKs before 4.2) are ignored, as the real
    platform API ignores them.
    """
    org = org_for_authorization(emulator(), request.environ.get("HTTP_AUTHORIZATION", ""))
    if org is None:
        raise UnauthorizedError("Invalid authorization token")
    g.org = org


def current_org() -> Org:
    return g.org


def external_base() -> str:
    """Scheme, host and port that file URLs start with."""
    configured = settings().external_url
    return configured.rstrip("/") if configured else _host_base(request.scheme, request_host())


def request_host() -> str:
    """``host[:port]`` the request came to, never empty.

    werkzeug answers ``""`` for a ``Host`` header that is not a valid host, and the Python SDK
    sends ``Host: 127.0.0.1:8080/`` when its ``domain`` ends in a slash; file URLs then came out
    as ``http:/v2/...``. Such a header is read up to its first ``/`` (or ``?``, ``#``, ``\\``,
    space), and when even that is not a host, the server's own address stands in.
    """
    host = request.host
    if host:
        return host
    environ = request.environ
    return _sanitised_host(
        request.scheme,
        environ.get("HTTP_HOST", ""),
        environ.get("SERVER_NAME", "localhost"),
        environ.get("SERVER_PORT", ""),
    )


_HOST_END = re.compile(r"[/?#\\\s]")


@functools.lru_cache(maxsize=64)
def _sanitised_host(scheme: str, header: str, server_name: str, server_port: str) -> str:
    host = get_host(scheme, _HOST_END.split(header.strip(), maxsplit=1)[0] or None, None)
    if host:
        return host
    port = int(server_port) if server_port.isdigit() else None
    return get_host(scheme, None, (server_name, port)) or server_name


@functools.lru_cache(maxsize=64)
def _host_base(scheme: str, host: str) -> str:
    """``request.host_url`` without its slash; cached since werkzeug rebuilds and IRI-decodes
    it on every request, which cost a twentieth of a ``getFileById``."""
    return get_current_url(scheme, host).rstrip("/")
