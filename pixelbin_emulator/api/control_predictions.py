"""The control plane's part for prediction jobs (docs/predictions.md): list and complete jobs,
per-org settings (latency, per-model latency, credit limit, webhook retry delay) and the webhook
delivery attempts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..core.predictions import Predictions
from . import parsing
from .context import emulator
from .control import _check_admin_token
from .wire import decode, decode_query, to_builtins
from .wire.predictions import (
    ControlPredictionJob,
    PredictionJobsQuery,
    PredictionsComplete,
    PredictionSettings,
    PredictionSettingsQuery,
    PredictionSettingsUpdate,
    WebhookDeliveriesQuery,
    WebhookDelivery,
    settings_change,
)

bp = Blueprint("control_predictions", __name__, url_prefix="/_emulator")
bp.before_request(_check_admin_token)


def _store() -> Predictions:
    return emulator().predictions


def _org_id(value: int | None) -> int | None:
    if value is not None:
        emulator().org(value)  # 404 for an unknown org
    return value


def _required_org_id(value: int | None) -> int:
    """An ``orgId`` its struct declares ``REQUIRED`` (so ``decode`` refused it missing)."""
    assert value is not None
    emulator().org(value)
    return value


@bp.get("/predictions")
def list_prediction_jobs() -> Response:
    org_id = _org_id(decode_query(request.args, PredictionJobsQuery).org_id)
    return jsonify(
        items=[to_builtins(ControlPredictionJob.of(job)) for job in _store().jobs(org_id)]
    )


@bp.post("/predictions/complete")
def complete_prediction_jobs() -> Response:
    body = decode(parsing.json_body(), PredictionsComplete)
    done = _store().complete(_org_id(body.org_id), body.job_id)
    return jsonify(items=[to_builtins(ControlPredictionJob.of(job)) for job in done])


def _settings(org_id: int) -> dict[str, Any]:
    store = _store()
    return to_builtins(
        PredictionSettings.of(org_id, store.config(org_id), store.credits_used(org_id))
    )


@bp.get("/predictions/settings")
def get_prediction_settings() -> Response:
    org_id = _required_org_id(decode_query(request.args, PredictionSettingsQuery).org_id)
    return jsonify(_settings(org_id))


@bp.put("/predictions/settings")
def set_prediction_settings() -> Response:
    body = settings_change(parsing.json_body(), PredictionSettingsUpdate)
    org_id = _required_org_id(body.org_id)
    _store().configure(org_id, body.apply)
    return jsonify(_settings(org_id))


@bp.get("/webhooks")
def list_webhook_deliveries() -> Response:
    query = decode_query(request.args, WebhookDeliveriesQuery)
    deliveries = _store().deliveries(_org_id(query.org_id), query.job_id)
    return jsonify(items=[to_builtins(WebhookDelivery.of(d)) for d in deliveries])
