"""Routes of the Predictions API (``pixelbin.predictions`` in both SDKs) and of the files its
jobs produce.

- ``POST /service/platform/transformation/v1.0/predictions/{plugin}/{operation}``: create a job.
  Python sends JSON ``{"input.key": value, "webhook"?}`` unless an input is binary, then
  multipart; JS always sends multipart, lists as repeated fields.
- ``GET /service/platform/transformation/v1.0/predictions/{requestId}``: the job.
- ``GET /service/public/transformation/v1.0/predictions`` and ``…/schema/{name}``: the models.
- ``GET /predictions/inputs/…`` and ``/predictions/outputs/{retention}/…``: uploaded inputs and
  results, served (without authentication, like the CDN) for the retention period.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request
from werkzeug.datastructures import FileStorage

from ..core import predictions as core
from ..core.errors import EmulatorError, NotFoundError, ValidationError
from ..core.predictions import ImageSource, Job, UsageBlockedError, Webhook
from . import parsing, url_sources
from .context import authenticate, current_org, emulator, external_base, settings
from .wire import decode, to_builtins
from .wire.predictions import PredictionCreate, PredictionJob, PredictionModel, PredictionSchema
from .wire.predictions import UsageBlockedError as UsageBlockedAnswer

bp = Blueprint("predictions", __name__, url_prefix=core.PLATFORM_PATH)
bp.before_request(authenticate)
public_bp = Blueprint("predictions_public", __name__)

INPUT_PREFIX = "input."
_OWN_FILE = re.compile(
    r"^/predictions/(?:outputs/(?P<retention>[^/]+)|inputs)/(?P<plugin>[^/]+)/(?P<operation>[^/]+)/"
    r"(?P<uuid>[0-9a-f-]{36})/(?:(?P<key>[^/]+)/)?(?P<name>[^/]+)$"
)
_SERVED_CACHE = "public, max-age=2592000"


@bp.errorhandler(UsageBlockedError)
def _usage_blocked(error: UsageBlockedError) -> Response:
    """The README's error shape: ``message, status, errorCode, exception, info``."""
    response = jsonify(to_builtins(UsageBlockedAnswer.of(error)))
    response.status_code = error.status
    return response


@bp.post("/<plugin>/<operation>")
def create_prediction(plugin: str, operation: str) -> Response:
    model = core.model(f"{plugin}_{operation}")
    fields, files, webhook = _request_fields()
    for name in files:
        if name != "image":
            raise ValidationError(f"input '{name}' of {model.name} is not a file")
    if "image" not in fields and "image" not in files:
        raise ValidationError(f"input 'image' is required for {model.name}")
    values = core.check_input(model, fields)
    image = _image_source(files.get("image"), fields.get("image"))
    org = current_org()
    job = emulator().predictions.create(
        org.org_id,
        model,
        values,
        image,
        base_url=external_base(),
        default_latency=settings().prediction_latency,
        webhook=None if webhook is None else Webhook(webhook, _webhook_payload),
        remote_webhook_ok=settings().allow_fetch,
    )
    return jsonify(to_builtins(PredictionJob.of(job)))


@bp.get("/<request_id>")
def get_prediction(request_id: str) -> Response:
    job = emulator().predictions.get(current_org().org_id, request_id)
    return jsonify(to_builtins(PredictionJob.of(job)))


def _webhook_payload(job: Job) -> bytes:
    """The body a webhook is posted: the job as getPrediction answers it, compact JSON."""
    return json.dumps(to_builtins(PredictionJob.of(job)), separators=(",", ":")).encode()


def _request_fields() -> tuple[dict[str, Any], dict[str, FileStorage], str | None]:
    """``(inputs by name, uploaded files by name, webhook)`` from a JSON or multipart body.

    The thin first pass before :class:`PredictionCreate`: a multipart form flattened (a field
    sent once is a string), and the ``input.<name>`` fields both SDKs send taken out.
    """
    if request.mimetype.startswith("multipart/"):
        raw: dict[str, Any] = {}
        for key in request.form:
            values = request.form.getlist(key)
            raw[key] = values[0] if len(values) == 1 else values
        files: dict[str, FileStorage] = {}
        for key in request.files:
            uploads = request.files.getlist(key)
            if not key.startswith(INPUT_PREFIX):
                raise ValidationError(f"unexpected file field '{key}'")
            if len(uploads) != 1 or key in raw:
                raise ValidationError(f"input '{key[len(INPUT_PREFIX) :]}' takes one value")
            files[key[len(INPUT_PREFIX) :]] = uploads[0]
    elif request.mimetype in ("application/json", "") or request.is_json:
        raw = parsing.json_body()
        files = {}
    else:
        raise ValidationError("a prediction takes a JSON or multipart/form-data body")
    body = decode(
        {key: raw.pop(key) for key in ("webhook", "input") if key in raw}, PredictionCreate
    )
    fields: dict[str, Any] = dict(body.input or {})
    for key, value in raw.items():
        if not key.startswith(INPUT_PREFIX) or key == INPUT_PREFIX:
            raise ValidationError(f"unexpected field '{key}' (inputs are sent as 'input.<name>')")
        fields[key[len(INPUT_PREFIX) :]] = value
    return fields, files, body.webhook


def _image_source(upload: FileStorage | None, value: Any) -> ImageSource:
    """The job's image: an upload, a ``data:`` URL (both checked now: a 400 when refused), or
    a URL fetched now (a failure to fetch fails the job, as a remote fetch would)."""
    if upload is not None:
        data = upload.read()
        core.check_upload(data, upload.filename)
        return ImageSource(data, uploaded=True)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value.lower().startswith(("http://", "https://", "data:")):
        raise ValidationError("input 'image' must be an http(s) or data: URL, or a file")
    if value.lower().startswith("data:"):
        data = url_sources.fetch(value).data
        core.check_upload(data, None)
        return ImageSource(data, uploaded=True)
    own = _own_file(value)
    if own is not None:
        return own
    try:
        return ImageSource(url_sources.fetch(value).data, url=value)
    except EmulatorError as error:
        return ImageSource(None, url=value, error=error.message)


def _own_file(url: str) -> ImageSource | None:
    """An input or output of an earlier job, by its emulator URL (fed back as input)."""
    parts = urlsplit(url)
    own_hosts = {request.host.lower()}
    external = settings().external_url
    if external:
        own_hosts.add(urlsplit(external).netloc.lower())
    match = _OWN_FILE.match(parts.path)
    if parts.netloc.lower() not in own_hosts or match is None:
        return None
    try:
        stored = _stored(match)
    except EmulatorError:
        return ImageSource(None, url=url, error="image not found")
    return ImageSource(stored.data, url=url)


def _stored(match: re.Match[str]) -> core.StoredFile:
    store = emulator().predictions
    if match["retention"] is not None:
        if match["retention"] != core.RETENTION or match["key"] is not None:
            raise NotFoundError("prediction output not found")
        return store.output(match["uuid"], match["plugin"], match["operation"], match["name"])
    if match["key"] is None or not re.fullmatch(r"0\.[a-z]+", match["name"]):
        raise NotFoundError("prediction input not found")
    return store.input_file(match["uuid"], match["plugin"], match["operation"], match["key"])


# -- public: models and served files -----------------------------------------------------------


@public_bp.get("/service/public/transformation/v1.0/predictions")
def list_predictions() -> Response:
    return jsonify([to_builtins(PredictionModel.of(m)) for m in core.default_models().values()])


@public_bp.get("/service/public/transformation/v1.0/predictions/schema/<name>")
def get_prediction_schema(name: str) -> Response:
    return jsonify(to_builtins(PredictionSchema.of(core.model(name))))


@public_bp.get("/predictions/<path:file_path>")
def prediction_file(file_path: str) -> Response:
    match = _OWN_FILE.match("/predictions/" + file_path)
    if match is None:
        raise NotFoundError("not a prediction file URL")
    stored = _stored(match)
    response = Response(stored.data, mimetype=stored.content_type)
    response.headers["Cache-Control"] = _SERVED_CACHE
    response.set_etag(hashlib.sha256(stored.data).hexdigest()[:32])
    response.make_conditional(request)  # in place: 304 when If-None-Match matches
    return response
