"""Routes for folders: create, details, update (isActive only), delete, ancestors."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..core.names import normalize_path, split_file_id
from . import parsing
from .context import authenticate, current_org
from .encoding import encode_answer, json_response
from .wire import decode, decode_query
from .wire.assets import (
    Folder,
    FolderAncestors,
    FolderCreate,
    FolderDetails,
    FolderDetailsQuery,
    FolderUpdate,
)

bp = Blueprint("folders", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


@bp.post("/folders")
def create_folder() -> Response:
    body = decode(parsing.json_body(), FolderCreate)
    assert body.name  # FolderCreate.check
    folder = current_org().assets.create_folder(body.name, body.path or "")
    return json_response(encode_answer(Folder.of(folder)))


@bp.get("/folders")
def get_folder_details() -> Response:
    args = decode_query(request.args, FolderDetailsQuery)
    path, name = args.path, args.name
    if not name:
        # Both are optional (docs, JS validator): without a name, the path names the folder.
        path, name = split_file_id(normalize_path(path))
    org = current_org()
    folder = org.assets.get_folder(path, name)
    return json_response(encode_answer(FolderDetails.of(org, folder)))


@bp.patch("/folders/<path:folder_id>")
def update_folder(folder_id: str) -> Response:
    is_active = decode(parsing.json_body(), FolderUpdate).is_active
    folder = current_org().assets.update_folder(folder_id, is_active=is_active)
    return json_response(encode_answer(Folder.of(folder)))


@bp.delete("/folders/<_id>")
def delete_folder(_id: str) -> Response:
    return json_response(encode_answer(Folder.of(current_org().assets.delete_folder(_id))))


@bp.get("/folders/<_id>/ancestors")
def get_folder_ancestors(_id: str) -> Response:
    folder, chain = current_org().assets.ancestors(_id)
    return json_response(encode_answer(FolderAncestors.of(folder, chain)))
