"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from .api import cdn, control, files, folders, middleware, uploads
from .api.context import EXTENSION_KEY
from .api.errors import register_error_handlers
from .core.emulator import Emulator
from .seeds import default_emulator
from .settings import Settings

BLUEPRINTS = (files.bp, folders.bp, uploads.bp, cdn.bp, control.bp)


def create_app(emulator: Emulator | None = None, settings: Settings | None = None) -> Flask:
    """Build the WSGI app serving ``emulator`` (by default: one loaded with the default seed)."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    emulator = emulator if emulator is not None else default_emulator()
    app.extensions[EXTENSION_KEY] = {"emulator": emulator, "settings": settings}
    register_error_handlers(app)
    middleware.install(app, emulator)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
