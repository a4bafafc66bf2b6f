"""Routes for files: get, update, delete, bulk delete, and listFiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..core.assets import ListQuery
from ..core.errors import ValidationError
from ..core.orgs import Org
from . import parsing
from .context import authenticate, current_org, external_base
from .encoding import encode, json_response
from .rendered import RenderedAnswers
from .serializers import file_object, list_items

bp = Blueprint("files", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)

#: Encoded answers of the reads below, of every org, until its tree changes.
ANSWERS = RenderedAnswers()


@bp.get("/files/id/<_id>")
def get_file_by_id(_id: str) -> Response:
    return _answer(
        "_id", _id, lambda org, base: file_object(org, org.assets.get_file_by_id(_id), base)
    )


@bp.get("/files/<path:file_id>")
def get_file_by_file_id(file_id: str) -> Response:
    return _answer(
        "fileId", file_id, lambda org, base: file_object(org, org.assets.get_file(file_id), base)
    )


def _answer(kind: str, asked: str, render: Callable[[Org, str], Any]) -> Response:
    """The answer to a read of the org's tree: reused while the tree stands, else rendered
    (and kept). ``asked`` is what the request asks for: an id, or a query string as sent."""
    org = current_org()
    tree = org.assets
    generation = tree.generation  # read first: what is rendered below is at least this new
    base = external_base()
    key = (kind, asked, base)
    body = ANSWERS.get(tree, generation, key)
    if body is None:
        body = encode(render(org, base))
        ANSWERS.put(tree, generation, key, body)
    return json_response(body)


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
    return _answer("listFiles", request.environ.get("QUERY_STRING", ""), _page)


def _page(org: Org, base: str) -> dict[str, Any]:
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
    page = org.assets.listing(query)
    return {"items": list_items(org, page.items, base), "page": page.as_dict()}
