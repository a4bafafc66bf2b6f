"""Routes for transformation-module credentials: add, update, delete.

add and update never echo the secret values (the real answers leave them out); delete returns
the removed document with them, as the real service does.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from . import parsing
from .context import authenticate, current_org
from .wire import decode, to_builtins
from .wire.credentials import (
    Credentials,
    CredentialsAdded,
    CredentialsCreate,
    CredentialsDeleted,
    CredentialsUpdate,
)

bp = Blueprint("credentials", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


@bp.post("/credentials")
def add_credentials() -> Response:
    body = decode(parsing.json_body(), CredentialsCreate)
    org = current_org()
    entry = org.plugin_credentials.add(body.plugin_id, body.credentials)
    return jsonify(to_builtins(CredentialsAdded.of(org.org_id, entry)))


@bp.patch("/credentials/<plugin_id>")
def update_credentials(plugin_id: str) -> Response:
    credentials = decode(parsing.json_body(), CredentialsUpdate).credentials
    org = current_org()
    entry = org.plugin_credentials.update(plugin_id, credentials)
    return jsonify(to_builtins(Credentials.of(org.org_id, entry)))


@bp.delete("/credentials/<plugin_id>")
def delete_credentials(plugin_id: str) -> Response:
    org = current_org()
    entry = org.plugin_credentials.delete(plugin_id)
    return jsonify(to_builtins(CredentialsDeleted.of(org.org_id, entry)))
