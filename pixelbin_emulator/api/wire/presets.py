"""The presets API's wire shapes: addPreset and updatePreset bodies, getPresets' query, and the
preset answer and page.

``api/presets.py`` decodes and answers with them (``api/modules.py`` lists the same answer),
``openapi.py`` publishes their generated schemas.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ...core.clock import isoformat
from ...core.listing import Page as PageRecord
from ...core.presets import Preset as PresetRecord
from .assets import Answer, Page, PageNo, PageSize, QueryFlag
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


class PresetsQuery(Wire):
    """getPresets' query; ``sort`` takes several keys, in any of the SDKs' list forms, and the
    keys and paging are checked by the core."""

    name: str | None = None
    transformation: str | None = None
    archived: QueryFlag | None = None
    page_no: PageNo | None = None
    page_size: PageSize | None = None
    sort: list[str] = []


class Preset(Answer):
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


class PresetsPage(Answer):
    """A getPresets page."""

    items: list[Preset]
    page: Page

    @classmethod
    def of(cls, org_id: int, page: PageRecord) -> PresetsPage:
        return cls(items=[Preset.of(org_id, p) for p in page.items], page=Page.of(page))


REQUESTS = (PresetCreate, PresetUpdate)
QUERIES = (PresetsQuery,)
RESPONSES = (Preset, PresetsPage)
