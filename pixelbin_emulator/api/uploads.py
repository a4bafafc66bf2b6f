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
from .serializers import upload_object

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
    form = request.form
    org = current_org()
    filename = upload.filename or "file"
    spec = UploadSpec(
        data=upload.read(),
        name=parsing.form_str(form, "name") or default_name(org, filename),
        path=parsing.form_str(form, "path") or "",
        access=parsing.form_str(form, "access"),
        tags=parsing.form_tags(form),
        metadata=with_source(parsing.form_metadata(form)),
        overwrite=parsing.form_bool(form, "overwrite"),
        filename_override=parsing.form_bool(form, "filenameOverride"),
        filename=filename,
    )
    return jsonify(upload_object(org, org.assets.upload(spec), external_base()))


@bp.post("/upload/url")
def url_upload() -> Response:
    body = parsing.json_body()
    url = parsing.req_str(body, "url")
    name = parsing.opt_str(body, "name")
    path = parsing.opt_str(body, "path") or ""
    access = parsing.opt_str(body, "access")
    tags = parsing.opt_str_list(body, "tags") or []
    metadata = with_source(parsing.opt_dict(body, "metadata") or {})
    overwrite = bool(parsing.opt_bool(body, "overwrite"))
    filename_override = bool(parsing.opt_bool(body, "filenameOverride"))
    org = current_org()
    fetched = url_sources.fetch(url)
    spec = UploadSpec(
        data=fetched.data,
        name=name or default_name(org, fetched.filename),
        path=path,
        access=access,
        tags=tags,
        metadata=metadata,
        overwrite=overwrite,
        filename_override=filename_override,
        filename=fetched.filename,
        declared_format=fetched.declared_format,
    )
    return jsonify(upload_object(org, org.assets.upload(spec), external_base()))
