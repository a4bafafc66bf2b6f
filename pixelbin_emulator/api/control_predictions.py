"""The control plane's part for prediction jobs (docs/predictions.md): list and complete jobs,
per-org settings (latency, per-model latency, credit limit, webhook retry delay) and the webhook
delivery attempts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..core.errors import ValidationError
from ..core.predictions import Predictions
from . import parsing
from .context import emulator
from .control import _check_admin_token
from .wire import to_builtins
from .wire.predictions import ControlPredictionJob, PredictionSettings, WebhookDelivery

bp = Blueprint("control_predictions", __name__, url_prefix="/_emulator")
bp.before_request(_check_admin_token)


def _store() -> Predictions:
    return emulator().predictions


def _org_id(value: int | None) -> int | None:
    if value is not None:
        emulator().org(value)  # 404 for an unknown org
    return value


def _required_org_id(value: int | None) -> int:
    if value is None:
        raise ValidationError("orgId is required")
    emulator().org(value)
    return value


@bp.get("/predictions")
def list_prediction_jobs() -> Response:
    org_id = _org_id(parsing.query_int(request.args, "orgId"))
    return jsonify(
        items=[to_builtins(ControlPredictionJob.of(job)) for job in _store().jobs(org_id)]
    )


@bp.post("/predictions/complete")
def complete_prediction_jobs() -> Response:
    body = parsing.json_body()
    org_id = _org_id(parsing.opt_int(body, "orgId"))
    job_id = parsing.opt_str(body, "jobId")
    done = _store().complete(org_id, job_id)
    return jsonify(items=[to_builtins(ControlPredictionJob.of(job)) for job in done])


def _settings(org_id: int) -> dict[str, Any]:
    store = _store()
    return to_builtins(
        PredictionSettings.of(org_id, store.config(org_id), store.credits_used(org_id))
    )


@bp.get("/predictions/settings")
def get_prediction_settings() -> Response:
    org_id = _required_org_id(parsing.query_int(request.args, "orgId"))
    return jsonify(_settings(org_id))


@bp.put("/predictions/settings")
def set_prediction_settings() -> Response:
    body = parsing.json_body()
    org_id = _required_org_id(parsing.opt_int(body, "orgId"))
    _store().configure(org_id, {key: value for key, value in body.items() if key != "orgId"})
    return jsonify(_settings(org_id))


@bp.get("/webhooks")
def list_webhook_deliveries() -> Response:
    org_id = _org_id(parsing.query_int(request.args, "orgId"))
    job_id = parsing.query_str(request.args, "jobId")
    deliveries = _store().deliveries(org_id, job_id)
    return jsonify(items=[to_builtins(WebhookDelivery.of(d)) for d in deliveries])
