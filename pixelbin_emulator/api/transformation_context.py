"""``transformation.getTransformationContext``: ``GET /service/platform/transformation/context``.

The URL's transformation is planned and rendered exactly as the CDN would (same plan, same
renderer), keeping the image after each step: each step's entry carries sharp-style metadata of
that intermediate result, encoded in the output format in force at that step. The shape follows
the SDKs' documented example: ``{context: {steps, metadata, headers, params}}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pyvips
from flask import Blueprint, Response, jsonify, request

from ..core import rendering
from ..core.errors import NotFoundError, ValidationError
from .cdn import plan_for, resolve
from .context import authenticate, current_org
from .middleware import operation

bp = Blueprint("transformation_context", __name__, url_prefix="/service/platform/transformation")
bp.before_request(authenticate)


def _step_object(info: rendering.StepInfo, catalogue: Any) -> dict[str, Any]:
    plugin = catalogue.plugins.get(info.step.plugin) or {}
    return {
        "name": info.step.name,
        "operation": plugin.get("name", info.step.plugin),
        "identifier": info.step.plugin,
        "data": dict(info.step.values),
        "metadata": None,
        **_with_defaults(info.metadata()),
    }


def _with_defaults(meta: dict[str, Any]) -> dict[str, Any]:
    meta.setdefault("chromaSubsampling", "")
    return meta


@bp.get("/context")
@operation("getTransformationContext")
def get_context() -> Response:
    raw = request.args.get("url")
    if not raw:
        raise ValidationError("url is required: a CDN URL such as /v2/{cloudName}/t.flip()/a.jpeg")
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise ValidationError(f"url {raw!r} is not a URL") from None
    path = unquote(parts.path)
    org = current_org()
    target = resolve(path)
    if target.org is not org:
        raise NotFoundError(f"no file of this org at {raw!r}")
    file = target.file
    metadata = {
        "width": file.width,
        "height": file.height,
        "extension": file.extension or file.format,
        "format": file.format,
        "contentType": file.content_type,
        "size": file.size,
        "assetType": file.asset_type,
        "isImageAsset": file.asset_type == "image",
        "isAudioAsset": file.asset_type == "audio",
        "isVideoAsset": file.asset_type == "video",
        "isRawAsset": file.asset_type == "raw",
    }
    headers = {key.lower(): value for key, value in request.headers.items()}
    the_plan = plan_for(target, dict(parse_qsl(parts.query)), request.headers)
    steps: list[dict[str, Any]] = []
    if the_plan is not None and the_plan.steps:
        trace: list[rendering.StepInfo] = []
        rendering.render(
            file.data, file.format, file.asset_type, the_plan, org.catalogue, trace=trace
        )
        steps = [_step_object(info, org.catalogue) for info in trace]
    if file.asset_type == "image" and file.width:
        metadata["channels"] = _channels(file.data)
    return jsonify(context={"steps": steps, "metadata": metadata, "headers": headers, "params": {}})


def _channels(data: bytes) -> int | None:
    try:
        return rendering.describe(data)["channels"]
    except pyvips.Error:  # an undecodable original has no channel count
        return None
