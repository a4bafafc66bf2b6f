"""The API's error format, and the handlers that put every failure into it.

Body: ``{"message", "status", "code", "exception"}``, as the real service answered
``{"message":"Missing x-pixb-meta-assetdata field","status":400,"code":"CG-0400",
"exception":"MissingMultipartMetaError"}``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..core.errors import EmulatorError

log = logging.getLogger(__name__)


def error_response(status: int, message: str, exception: str) -> Response:
    response = jsonify(message=message, status=status, code=f"CG-{status:04d}", exception=exception)
    response.status_code = status
    return response


def _emulator_error(error: EmulatorError) -> Response:
    return error_response(error.status, error.message, error.exception)


def _http_error(error: HTTPException) -> Response:
    name = "".join(part.capitalize() for part in (error.name or "Error").split()) + "Error"
    response = error_response(error.code or 500, error.description or str(error), name)
    if error.code == 405 and error.response is None:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def _unexpected(error: Exception) -> Response:
    # A bug in the emulator, never the client's fault: log it and say so plainly.
    log.exception("unhandled error", exc_info=error)
    return error_response(500, f"emulator bug: {type(error).__name__}: {error}", "InternalError")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(EmulatorError, _emulator_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
