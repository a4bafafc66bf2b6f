"""Routes for folders: create, details, update (isActive only), delete, ancestors."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..core.names import normalize_path, split_file_id
from . import parsing
from .context import authenticate, current_org
from .serializers import ancestor_item, folder_details, folder_object

bp = Blueprint("folders", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


@bp.post("/folders")
def create_folder() -> Response:
    body = parsing.json_body()
    name = parsing.req_str(body, "name")
    path = parsing.opt_str(body, "path") or ""
    return jsonify(folder_object(current_org().assets.create_folder(name, path)))


@bp.get("/folders")
def get_folder_details() -> Response:
    path, name = request.args.get("path", ""), request.args.get("name", "")
    if not name:
        # Both are optional (docs, JS validator): without a name, the path names the folder.
        path, name = split_file_id(normalize_path(path))
    org = current_org()
    folder = org.assets.get_folder(path, name)
    return jsonify(folder_details(org, folder))


@bp.patch("/folders/<path:folder_id>")
def update_folder(folder_id: str) -> Response:
    is_active = parsing.opt_bool(parsing.json_body(), "isActive")
    return jsonify(
        folder_object(current_org().assets.update_folder(folder_id, is_active=is_active))
    )


@bp.delete("/folders/<_id>")
def delete_folder(_id: str) -> Response:
    return jsonify(folder_object(current_org().assets.delete_folder(_id)))


@bp.get("/folders/<_id>/ancestors")
def get_folder_ancestors(_id: str) -> Response:
    folder, chain = current_org().assets.ancestors(_id)
    return jsonify(folder=ancestor_item(folder), ancestors=[ancestor_item(f) for f in chain])
