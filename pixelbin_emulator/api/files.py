"""Routes for files: get, update, delete, bulk delete, and listFiles."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..core.assets import ListQuery
from ..core.errors import ValidationError
from . import parsing
from .context import authenticate, current_org, external_base
from .serializers import file_object, list_items

bp = Blueprint("files", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


@bp.get("/files/id/<_id>")
def get_file_by_id(_id: str) -> Response:
    org = current_org()
    return jsonify(file_object(org, org.assets.get_file_by_id(_id), external_base()))


@bp.get("/files/<path:file_id>")
def get_file_by_file_id(file_id: str) -> Response:
    org = current_org()
    return jsonify(file_object(org, org.assets.get_file(file_id), external_base()))


@bp.patch("/files/<path:file_id>")
def update_file(file_id: str) -> Response:
    body = parsing.json_body()
    org = current_org()
    file = org.assets.update_file(
        file_id,
        name=parsing.opt_str(body, "name"),
        path=parsing.opt_str(body, "path"),
        access=parsing.opt_str(body, "access"),
        is_active=parsing.opt_bool(body, "isActive"),
        tags=parsing.opt_str_list(body, "tags"),
        metadata=parsing.opt_dict(body, "metadata"),
    )
    return jsonify(file_object(org, file, external_base()))


@bp.delete("/files/<path:file_id>")
def delete_file(file_id: str) -> Response:
    org = current_org()
    return jsonify(file_object(org, org.assets.delete_file(file_id), external_base()))


@bp.post("/files/delete")
def delete_files() -> Response:
    ids = parsing.opt_str_list(parsing.json_body(), "ids")
    if ids is None:
        raise ValidationError("ids is required")
    org = current_org()
    base = external_base()
    return jsonify([file_object(org, f, base) for f in org.assets.delete_files(ids)])


@bp.get("/listFiles")
def list_files() -> Response:
    args = request.args
    query = ListQuery(
        name=parsing.query_str(args, "name"),
        path=parsing.query_str(args, "path"),
        format=parsing.query_str(args, "format"),
        tags=tuple(parsing.query_list(args, "tags")),
        only_files=parsing.query_bool(args, "onlyFiles"),
        only_folders=parsing.query_bool(args, "onlyFolders"),
        page_no=parsing.query_int(args, "pageNo"),
        page_size=parsing.query_int(args, "pageSize"),
        sort=parsing.query_str(args, "sort"),
    )
    org = current_org()
    page = org.assets.listing(query)
    base = external_base()
    return jsonify(items=list_items(org, page.items, base), page=page.as_dict())
