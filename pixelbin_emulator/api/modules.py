"""Routes for the playground: the module catalogue (``getModules``/``getModule``, their shapes
in ``api/wire/modules.py``) and the default asset (``getDefaultAssetForPlayground``)."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, jsonify

from ..core import playground
from ..core.errors import NotFoundError
from ..seeds import fixtures_dir
from .context import authenticate, current_org, external_base
from .wire import to_builtins
from .wire.modules import Modules, PlaygroundAsset, Plugin

bp = Blueprint("modules", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)

PLAYGROUND_SOURCE = "playground-default.jpeg"


@functools.cache
def playground_bytes() -> bytes:
    """The default asset's content, read once per process."""
    return (fixtures_dir() / PLAYGROUND_SOURCE).read_bytes()


@bp.get("/playground/plugins")
def get_modules() -> Response:
    org = current_org()
    return jsonify(to_builtins(Modules.of(org, org.catalogue)))


@bp.get("/playground/plugins/<identifier>")
def get_module(identifier: str) -> Response:
    org = current_org()
    plugin = org.catalogue.plugins.get(identifier)
    if plugin is None:
        raise NotFoundError(f"transformation module {identifier!r} not found")
    return jsonify(to_builtins(Plugin.of(org, plugin)))


@bp.get("/playground/default")
def get_default_asset() -> Response:
    org = current_org()
    file = playground.default_asset(org, playground_bytes())
    return jsonify(to_builtins(PlaygroundAsset.of(org, file, external_base())))
