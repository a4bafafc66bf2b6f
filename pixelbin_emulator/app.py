"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from .api import (
    cdn,
    credentials,
    files,
    folders,
    modules,
    organization,
    predictions,
    presets,
    signed_uploads,
    transformation_context,
    uploads,
)
from .api.application import EmulatorFlask
from .api.context import EXTENSION_KEY, external_base
from .api.control import bp as control_bp
from .api.control_predictions import bp as control_predictions_bp
from .api.cors import install as install_cors
from .api.dashboard import bp as dashboard_bp
from .api.dashboard import root
from .api.errors import register_error_handlers
from .api.middleware import install as install_request_hooks
from .api.request_log import RequestLog
from .api.routing import AnyPath, CloudName
from .core.emulator import Emulator
from .core.render_cache import MB, VariantCache
from .openapi import openapi_document
from .seeds import default_emulator
from .settings import Settings

BLUEPRINTS = (
    files.bp,
    folders.bp,
    uploads.bp,
    signed_uploads.bp,
    cdn.bp,
    presets.bp,
    credentials.bp,
    modules.bp,
    organization.bp,
    transformation_context.bp,
    predictions.bp,
    predictions.public_bp,
)


def openapi() -> Response:
    """``GET /openapi.json``: the OpenAPI 3.1 description, no authentication."""
    return jsonify(openapi_document(external_base()))


def create_app(emulator: Emulator | None = None, settings: Settings | None = None) -> Flask:
    """Build the WSGI app serving ``emulator`` (by default: one loaded with the default seed)."""
    settings = settings or Settings()
    app = EmulatorFlask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.url_map.converters["path"] = AnyPath
    app.url_map.converters["cloud"] = CloudName
    app.extensions[EXTENSION_KEY] = {
        "emulator": emulator if emulator is not None else default_emulator(),
        "settings": settings,
        "render_cache": VariantCache(settings.transform_cache_mb * MB),
    }
    register_error_handlers(app)
    log = RequestLog(settings.request_log) if settings.request_log else None
    install_request_hooks(app, app.extensions[EXTENSION_KEY]["emulator"], log)
    install_cors(app, settings)  # after the request hooks: a preflight is journaled, not faulted
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(control_bp)  # /_emulator/: not part of the emulated API
    app.register_blueprint(control_predictions_bp)
    app.add_url_rule("/openapi.json", "openapi", openapi)
    app.register_blueprint(dashboard_bp)  # /_emulator/ui/: the web dashboard
    app.add_url_rule("/", "root", root)
    return app
