"""Routes for the playground: the module catalogue (``getModules``/``getModule``) and the
default asset (``getDefaultAssetForPlayground``).

The catalogue is the service's, shared by every org; each plugin's ``credentials`` object also
says whether this org has configured credentials for it (``configured``), the only place in
the shape where that fits.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify

from ..core import playground
from ..core.errors import NotFoundError
from ..core.orgs import Org
from ..seeds import fixtures_dir
from .context import authenticate, current_org, external_base
from .presets import preset_object
from .wire import to_builtins
from .wire.assets import File

bp = Blueprint("modules", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)

PLAYGROUND_SOURCE = "playground-default.jpeg"


@functools.cache
def playground_bytes() -> bytes:
    """The default asset's content, read once per process."""
    return (fixtures_dir() / PLAYGROUND_SOURCE).read_bytes()


def plugin_object(org: Org, plugin: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the catalogue entry (which is shared) with this org's credential state."""
    credentials = dict(plugin.get("credentials") or {})
    credentials["configured"] = org.plugin_credentials.configured(plugin["identifier"])
    return dict(plugin) | {"credentials": credentials}


@bp.get("/playground/plugins")
def get_modules() -> Response:
    org = current_org()
    catalogue = org.catalogue
    return jsonify(
        delimiters=catalogue.delimiters,
        plugins={key: plugin_object(org, plugin) for key, plugin in catalogue.plugins.items()},
        presets=[preset_object(org, preset) for preset in org.presets.all()],
    )


@bp.get("/playground/plugins/<identifier>")
def get_module(identifier: str) -> Response:
    org = current_org()
    plugin = org.catalogue.plugins.get(identifier)
    if plugin is None:
        raise NotFoundError(f"transformation module {identifier!r} not found")
    return jsonify(plugin_object(org, plugin))


@bp.get("/playground/default")
def get_default_asset() -> Response:
    org = current_org()
    file = playground.default_asset(org, playground_bytes())
    answer = to_builtins(File.of(org, file, external_base()))
    return jsonify(answer | {"orgId": org.org_id, "type": "file"})
