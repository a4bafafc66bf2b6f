"""Routes for direct (multipart) and URL uploads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..core.assets import UploadSpec
from ..core.errors import ValidationError
from ..core.names import slugify, strip_extension
from ..core.orgs import Org
from . import parsing, url_sources
from .context import authenticate, current_org, external_base
from .wire import decode, to_builtins
from .wire.forms import decode_form
from .wire.uploads import FileUploadForm, Upload, UrlUpload

bp = Blueprint("uploads", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


def with_source(metadata: dict[str, Any]) -> dict[str, Any]:
    """The service records how a file arrived: ``{"source": "direct"}`` in the captured answers
    of both fileUpload and urlUpload."""
    return {"source": "direct"} | metadata


def default_name(org: Org, filename: str | None) -> str:
    """The uploaded file's name minus its extension, or ``asset-XXXXXXXXX`` when that is empty."""
    stem = strip_extension(filename) if filename else ""
    return stem if slugify(stem) else f"asset-{org.ids.token(9)}"


@bp.post("/upload/direct")
def file_upload() -> Response:
    if not request.mimetype.startswith("multipart/"):
        raise ValidationError("fileUpload takes a multipart/form-data body")
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("file is required")
    form = decode_form(request.form, FileUploadForm)
    org = current_org()
    filename = upload.filename or "file"
    spec = UploadSpec(
        data=upload.read(),
        name=form.name or default_name(org, filename),
        path=form.path or "",
        access=form.access,
        tags=form.tags or [],
        metadata=with_source(form.metadata or {}),
        overwrite=bool(form.overwrite),
        filename_override=bool(form.filename_override),
        filename=filename,
    )
    return jsonify(to_builtins(Upload.of(org, org.assets.upload(spec), external_base())))


@bp.post("/upload/url")
def url_upload() -> Response:
    body = decode(parsing.json_body(), UrlUpload)
    org = current_org()
    fetched = url_sources.fetch(body.url)
    spec = UploadSpec(
        data=fetched.data,
        name=body.name or default_name(org, fetched.filename),
        path=body.path or "",
        access=body.access,
        tags=body.tags or [],
        metadata=with_source(body.metadata or {}),
        overwrite=bool(body.overwrite),
        filename_override=bool(body.filename_override),
        filename=fetched.filename,
        declared_format=fetched.declared_format,
    )
    return jsonify(to_builtins(Upload.of(org, org.assets.upload(spec), external_base())))
