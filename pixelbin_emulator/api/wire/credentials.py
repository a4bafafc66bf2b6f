"""The credentials API's wire shapes: addCredentials and updateCredentials bodies, and the three
answers (add leaves out ``isActive``; add and update leave out the secret values, which only
deleteCredentials returns, as the real service does).

``api/credentials.py`` decodes and answers with them, ``openapi.py`` publishes their generated
schemas.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ...core.clock import isoformat
from ...core.credentials import CredentialSet
from .control import NonEmpty, Timestamp, Wire

#: Its values are checked by the core (``json_values.check``, with its own messages).
Secrets = Annotated[dict[str, Any], Meta(min_length=1, description="a non-empty object")]


class CredentialsCreate(Wire):
    """addCredentials (``POST /credentials``); unknown fields are ignored. Whether the plugin is
    in the catalogue is the core's check."""

    plugin_id: NonEmpty
    credentials: Secrets


class CredentialsUpdate(Wire):
    """updateCredentials (``PATCH /credentials/{pluginId}``); unknown fields are ignored."""

    credentials: Secrets


class CredentialsAdded(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """addCredentials' answer: no ``isActive``, no values."""

    id: str = msgspec.field(name="_id")
    created_at: Timestamp
    updated_at: Timestamp
    org_id: int
    plugin_id: str

    @classmethod
    def of(cls, org_id: int, entry: CredentialSet) -> CredentialsAdded:
        return cls(**_common(org_id, entry))


class Credentials(CredentialsAdded):
    """updateCredentials' answer: no values."""

    is_active: bool

    @classmethod
    def of(cls, org_id: int, entry: CredentialSet) -> Credentials:
        return cls(**_common(org_id, entry), is_active=entry.is_active)


class CredentialsDeleted(Credentials):
    """deleteCredentials' answer: the removed set, values included."""

    credentials: dict[str, Any]

    @classmethod
    def of(cls, org_id: int, entry: CredentialSet) -> CredentialsDeleted:
        return cls(
            **_common(org_id, entry), is_active=entry.is_active, credentials=entry.credentials
        )


def _common(org_id: int, entry: CredentialSet) -> dict[str, Any]:
    return {
        "id": entry.id,
        "created_at": isoformat(entry.created_at),
        "updated_at": isoformat(entry.updated_at),
        "org_id": org_id,
        "plugin_id": entry.plugin_id,
    }


REQUESTS = (CredentialsCreate, CredentialsUpdate)
RESPONSES = (CredentialsAdded, Credentials, CredentialsDeleted)
