"""Routes for files: get, update, delete, bulk delete, and listFiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from ..core.assets import ListQuery
from ..core.orgs import Org
from . import parsing
from .context import authenticate, current_org, external_base
from .encoding import encode_answer, json_response
from .rendered import RenderedAnswers
from .wire import decode, decode_query
from .wire.assets import File, FilesDelete, FileUpdate, ListFilesQuery, ListFilesResponse

bp = Blueprint("files", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)

#: Encoded answers of the reads below, of every org, until its tree changes.
ANSWERS = RenderedAnswers()


@bp.get("/files/id/<_id>")
def get_file_by_id(_id: str) -> Response:
    return _answer("_id", _id, lambda org, base: File.of(org, org.assets.get_file_by_id(_id), base))


@bp.get("/files/<path:file_id>")
def get_file_by_file_id(file_id: str) -> Response:
    return _answer(
        "fileId", file_id, lambda org, base: File.of(org, org.assets.get_file(file_id), base)
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
        body = encode_answer(render(org, base))
        ANSWERS.put(tree, generation, key, body)
    return json_response(body)


@bp.patch("/files/<path:file_id>")
def update_file(file_id: str) -> Response:
    body = decode(parsing.json_body(), FileUpdate)
    org = current_org()
    file = org.assets.update_file(
        file_id,
        name=body.name,
        path=body.path,
        access=body.access,
        is_active=body.is_active,
        tags=body.tags,
        metadata=body.metadata,
    )
    return json_response(encode_answer(File.of(org, file, external_base())))


@bp.delete("/files/<path:file_id>")
def delete_file(file_id: str) -> Response:
    org = current_org()
    return json_response(
        encode_answer(File.of(org, org.assets.delete_file(file_id), external_base()))
    )


@bp.post("/files/delete")
def delete_files() -> Response:
    ids = decode(parsing.json_body(), FilesDelete).ids
    assert ids is not None  # FilesDelete.REQUIRED
    org = current_org()
    base = external_base()
    return json_response(
        encode_answer([File.of(org, f, base) for f in org.assets.delete_files(ids)])
    )


@bp.get("/listFiles")
def list_files() -> Response:
    return _answer("listFiles", request.environ.get("QUERY_STRING", ""), _page)


def _page(org: Org, base: str) -> ListFilesResponse:
    args = decode_query(request.args, ListFilesQuery)
    query = ListQuery(
        name=args.name,
        path=args.path,
        format=args.format,
        tags=tuple(args.tags),
        only_files=args.only_files,
        only_folders=args.only_folders,
        page_no=args.page_no,
        page_size=args.page_size,
        sort=args.sort,
    )
    return ListFilesResponse.of(org, org.assets.listing(query), base)
