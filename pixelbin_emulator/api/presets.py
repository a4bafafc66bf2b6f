"""Routes for presets: add, list, get, archive/unarchive, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..core.clock import isoformat
from ..core.errors import ValidationError
from ..core.orgs import Org
from ..core.presets import Preset, PresetQuery
from . import parsing
from .context import authenticate, current_org

bp = Blueprint("presets", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


def preset_object(org: Org, preset: Preset) -> dict[str, Any]:
    """The AddPresetResponse shape (addPreset, getPreset, updatePreset, deletePreset, lists)."""
    return {
        "orgId": org.org_id,
        "presetName": preset.name,
        "transformation": preset.transformation,
        "params": preset.params,
        "_id": preset.id,
        "createdAt": isoformat(preset.created_at),
        "updatedAt": isoformat(preset.updated_at),
        "isActive": preset.is_active,
        "archived": preset.archived,
    }


@bp.post("/presets")
def add_preset() -> Response:
    body = parsing.json_body()
    org = current_org()
    preset = org.presets.add(
        parsing.req_str(body, "presetName"),
        parsing.req_str(body, "transformation"),
        parsing.opt_dict(body, "params"),
    )
    return jsonify(preset_object(org, preset))


@bp.get("/presets")
def get_presets() -> Response:
    args = request.args
    archived = args.get("archived")
    query = PresetQuery(
        name=parsing.query_str(args, "name"),
        transformation=parsing.query_str(args, "transformation"),
        archived=None if not archived else parsing.parse_bool(archived, "archived"),
        page_no=parsing.query_int(args, "pageNo"),
        page_size=parsing.query_int(args, "pageSize"),
        sort=tuple(parsing.query_list(args, "sort")),
    )
    org = current_org()
    page = org.presets.list(query)
    return jsonify(items=[preset_object(org, p) for p in page.items], page=page.as_dict())


@bp.get("/presets/<preset_name>")
def get_preset(preset_name: str) -> Response:
    org = current_org()
    return jsonify(preset_object(org, org.presets.get(preset_name)))


@bp.patch("/presets/<preset_name>")
def update_preset(preset_name: str) -> Response:
    archived = parsing.opt_bool(parsing.json_body(), "archived")
    if archived is None:
        raise ValidationError("archived is required")
    org = current_org()
    return jsonify(preset_object(org, org.presets.update(preset_name, archived=archived)))


@bp.delete("/presets/<preset_name>")
def delete_preset(preset_name: str) -> Response:
    org = current_org()
    return jsonify(preset_object(org, org.presets.delete(preset_name)))
