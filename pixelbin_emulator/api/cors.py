"""CORS: browsers may call the routes a frontend uses, from the origins the settings allow.

Covered: the public signed-upload routes (``/service/public/``) and the CDN (``/v2/``), and the
platform API (``/service/platform/``) only with ``Settings.cors_platform``: it wants the API
secret, which belongs on a backend. The control plane and ``/openapi.json`` are not covered.

Origins: ``*`` (the default, as a public CDN answers) gives ``Access-Control-Allow-Origin: *``
and never allows credentials; a list (exact origins, or globs such as ``http://localhost:*``)
echoes the request's origin with ``Vary: Origin`` and allows credentials.

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here, before the
route runs: 204 with the route's methods and the headers asked for, or a 403 in the API's error
format for an origin or a route browsers may not use. Fault rules never fire on a preflight
(see api/middleware.py), so a rule meant for a part upload is not spent on its preflight. Every
other answer on a covered route, errors and injected faults included, gets the CORS headers in
``after_request``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from flask import Flask, Request, Response, current_app, request

from ..settings import Settings
from .errors import error_response

PUBLIC_PREFIX = "/service/public/"
CDN_PREFIX = "/v2/"
PLATFORM_PREFIX = "/service/platform/"

#: Answer headers a page may read besides the CORS-safelisted ones.
EXPOSED = ", ".join(
    (
        "ETag",
        "Content-Length",
        "Content-Range",
        "Accept-Ranges",
        "Retry-After",
        "X-Pixelbin-Emulator-Transformation",
    )
)
#: How long a browser may reuse a preflight answer (Chromium caps it at 2 hours).
MAX_AGE = "7200"


def is_preflight(req: Request) -> bool:
    return req.method == "OPTIONS" and "Access-Control-Request-Method" in req.headers


def parse_origins(text: str | None) -> tuple[str, ...]:
    """``--cors-origins``: ``*``, a comma- or space-separated list, or empty for none."""
    if text is None:
        return ("*",)
    return tuple(part.strip().rstrip("/") for part in text.replace(",", " ").split() if part)


class Cors:
    """The CORS policy of one app, from its settings."""

    def __init__(self, settings: Settings) -> None:
        origins = tuple(origin.rstrip("/") for origin in settings.cors_origins)
        self.any_origin = "*" in origins
        self.origins = tuple(origin.lower() for origin in origins if origin != "*")
        self.platform = settings.cors_platform

    def covers(self, path: str) -> bool:
        if path.startswith((PUBLIC_PREFIX, CDN_PREFIX)):
            return True
        return self.platform and path.startswith(PLATFORM_PREFIX)

    def allows(self, origin: str) -> bool:
        lowered = origin.lower()
        return self.any_origin or any(fnmatchcase(lowered, pattern) for pattern in self.origins)

    def _origin_headers(self, response: Response, origin: str) -> None:
        if self.any_origin:
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"

    def before(self) -> Response | None:
        """Answer a preflight (the request hooks of api/middleware.py journal it)."""
        if not is_preflight(request):
            return None
        origin = request.headers.get("Origin", "")
        path = request.path
        if not self.covers(path):
            if not path.startswith(PLATFORM_PREFIX):
                return None  # not an emulated route (the control plane): no CORS
            message = (
                "the platform API is not open to browsers: it wants the API secret, which "
                "belongs on a backend (start the emulator with --cors-platform to allow it)"
            )
            return error_response(403, message, "CorsError")
        if not origin or not self.allows(origin):
            message = f"origin {origin or '(none)'!r} is not allowed (--cors-origins)"
            response = error_response(403, message, "CorsError")
            response.vary.add("Origin")
            return response
        if request.url_rule is None:
            return None  # no such route: its 404, with CORS headers (after)
        # Every rule on the path (the part PUT and the completion POST are two rules).
        adapter = current_app.url_map.bind_to_environ(request.environ)
        allowed = sorted(set(adapter.allowed_methods()) - {"OPTIONS"})
        response = Response(status=204)
        del response.headers["Content-Type"]
        self._origin_headers(response, origin)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(allowed)
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            response.headers["Access-Control-Allow-Headers"] = asked
        if request.headers.get("Access-Control-Request-Private-Network") == "true":
            response.headers["Access-Control-Allow-Private-Network"] = "true"
        response.headers["Access-Control-Max-Age"] = MAX_AGE
        response.vary.update(("Origin", "Access-Control-Request-Headers"))
        return response

    def after(self, response: Response) -> Response:
        """CORS headers on every answer of a covered route, failures included."""
        if not self.covers(request.path) or "Access-Control-Allow-Origin" in response.headers:
            return response
        if self.any_origin:
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            response.vary.add("Origin")
            origin = request.headers.get("Origin")
            if not origin or not self.allows(origin):
                return response
            self._origin_headers(response, origin)
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
        return response


def install(app: Flask, settings: Settings) -> Cors:
    """Register the hooks; call after api/middleware.py's, so a preflight is journaled first."""
    cors = Cors(settings)
    app.before_request(cors.before)
    app.after_request(cors.after)
    return cors
