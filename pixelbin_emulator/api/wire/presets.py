"""The presets API's wire shapes: addPreset and updatePreset bodies, and the preset answer.

``api/presets.py`` decodes and answers with them (``api/modules.py`` lists the same answer),
``openapi.py`` publishes their generated schemas.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ...core.clock import isoformat
from ...core.presets import Preset as PresetRecord
from .control import NonEmpty, Timestamp, Wire

#: Each value is checked by the core (``core.presets.check_transformation``, with its own
#: messages): an object whose ``type``, if any, is a string; the schema publishes that shape.
Params = Annotated[
    dict[str, Any],
    Meta(
        description="an object",
        extra_json_schema={
            "additionalProperties": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "default": {}},
            }
        },
    ),
]


class PresetCreate(Wire):
    """addPreset (``POST /presets``); unknown fields are ignored. The name's grammar and the
    transformation are checked by the core (``check_name``, ``check_transformation``)."""

    preset_name: NonEmpty
    transformation: NonEmpty
    params: Params | None = None


class PresetUpdate(Wire):
    """updatePreset (``PATCH /presets/{name}``): archive or unarchive; unknown fields ignored."""

    archived: Annotated[bool, Meta(description="a boolean")]


class Preset(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A preset as addPreset, getPreset, updatePreset, deletePreset and the lists answer it."""

    org_id: int
    preset_name: str
    transformation: str
    params: dict[str, Any]
    id: str = msgspec.field(name="_id")
    created_at: Timestamp
    updated_at: Timestamp
    is_active: bool
    archived: bool

    @classmethod
    def of(cls, org_id: int, preset: PresetRecord) -> Preset:
        return cls(
            org_id=org_id,
            preset_name=preset.name,
            transformation=preset.transformation,
            params=preset.params,
            id=preset.id,
            created_at=isoformat(preset.created_at),
            updated_at=isoformat(preset.updated_at),
            is_active=preset.is_active,
            archived=preset.archived,
        )


REQUESTS = (PresetCreate, PresetUpdate)
RESPONSES = (Preset,)
