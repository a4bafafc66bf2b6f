"""``organization.getAppOrgDetails``: the token ("app") the request authenticated with, and its org.

The emulator has one token per org. ``app.token`` is the org's access key: the non-secret half
of the token that ``sign_url`` needs as ``access_key`` (the secret half is the apiSecret the
caller already holds), so ``sign_url(url, expiry, app["token"], apiSecret)`` works.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, jsonify

from ..core.clock import isoformat
from ..core.orgs import Org
from .context import authenticate, current_org

bp = Blueprint("organization", __name__, url_prefix="/service/platform/organization/v1.0")
bp.before_request(authenticate)


def owner_id(org: Org) -> str:
    """A stable 24-hex id (the shape of the real ``ownerId``) derived from the cloud name."""
    return hashlib.sha256(org.cloud_name.encode()).hexdigest()[:24]


def app_org_details(org: Org) -> dict[str, Any]:
    created = isoformat(org.created_at)
    return {
        "app": {
            "_id": org.org_id,
            "orgId": org.org_id,
            "name": f"{org.name} token",
            "token": org.access_key,
            "permissions": ["read", "read_write"],
            "active": True,
            "createdAt": created,
            "updatedAt": created,
        },
        "org": {
            "_id": org.org_id,
            "name": org.name,
            "cloudName": org.cloud_name,
            "ownerId": owner_id(org),
            "active": True,
            "createdAt": created,
            "updatedAt": created,
            "restrictions": [],
            "rateLimit": None,
        },
    }


@bp.get("/apps/info")
def get_app_org_details() -> Response:
    return jsonify(app_org_details(current_org()))
