"""Routes for transformation-module credentials: add, update, delete.

add and update never echo the secret values (the real answers leave them out); delete returns
the removed document with them, as the real service does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from ..core.clock import isoformat
from ..core.credentials import CredentialSet
from ..core.orgs import Org
from . import parsing
from .context import authenticate, current_org

bp = Blueprint("credentials", __name__, url_prefix="/service/platform/assets/v1.0")
bp.before_request(authenticate)


def credentials_object(org: Org, entry: CredentialSet) -> dict[str, Any]:
    """updateCredentials; addCredentials is the same minus ``isActive``."""
    return {
        "_id": entry.id,
        "createdAt": isoformat(entry.created_at),
        "updatedAt": isoformat(entry.updated_at),
        "isActive": entry.is_active,
        "orgId": org.org_id,
        "pluginId": entry.plugin_id,
    }


@bp.post("/credentials")
def add_credentials() -> Response:
    body = parsing.json_body()
    org = current_org()
    entry = org.plugin_credentials.add(
        parsing.req_str(body, "pluginId"), parsing.opt_dict(body, "credentials")
    )
    shape = credentials_object(org, entry)
    del shape["isActive"]
    return jsonify(shape)


@bp.patch("/credentials/<plugin_id>")
def update_credentials(plugin_id: str) -> Response:
    credentials = parsing.opt_dict(parsing.json_body(), "credentials")
    org = current_org()
    return jsonify(credentials_object(org, org.plugin_credentials.update(plugin_id, credentials)))


@bp.delete("/credentials/<plugin_id>")
def delete_credentials(plugin_id: str) -> Response:
    org = current_org()
    entry = org.plugin_credentials.delete(plugin_id)
    return jsonify(credentials_object(org, entry) | {"credentials": entry.credentials})
