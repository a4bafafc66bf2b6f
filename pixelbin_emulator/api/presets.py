"""Routes for presets: add, list, get, archive/unarchive, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..core.orgs import Org
from ..core.presets import Preset, PresetQuery
from . import parsing
from .context import authenticate, current_org
from .wire import decode, decode_query, to_builtins
from .wire.presets import Preset as PresetAnswer
from .wire.presets import PresetCreate, PresetsPage, PresetsQuery, PresetUpdate

bp = Blueprint("presets", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


def preset_object(org: Org, preset: Preset) -> dict[str, Any]:
    """The preset answer (addPreset, getPreset, updatePreset, deletePreset, lists)."""
    return to_builtins(PresetAnswer.of(org.org_id, preset))


@bp.post("/presets")
def add_preset() -> Response:
    body = decode(parsing.json_body(), PresetCreate)
    org = current_org()
    preset = org.presets.add(body.preset_name, body.transformation, body.params)
    return jsonify(preset_object(org, preset))


@bp.get("/presets")
def get_presets() -> Response:
    args = decode_query(request.args, PresetsQuery)
    query = PresetQuery(
        name=args.name,
        transformation=args.transformation,
        archived=args.archived,
        page_no=args.page_no,
        page_size=args.page_size,
        sort=tuple(args.sort),
    )
    org = current_org()
    return jsonify(to_builtins(PresetsPage.of(org.org_id, org.presets.list(query))))


@bp.get("/presets/<preset_name>")
def get_preset(preset_name: str) -> Response:
    org = current_org()
    return jsonify(preset_object(org, org.presets.get(preset_name)))


@bp.patch("/presets/<preset_name>")
def update_preset(preset_name: str) -> Response:
    archived = decode(parsing.json_body(), PresetUpdate).archived
    org = current_org()
    return jsonify(preset_object(org, org.presets.update(preset_name, archived=archived)))


@bp.delete("/presets/<preset_name>")
def delete_preset(preset_name: str) -> Response:
    org = current_org()
    return jsonify(preset_object(org, org.presets.delete(preset_name)))
