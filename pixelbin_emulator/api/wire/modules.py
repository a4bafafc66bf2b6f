"""The playground's answers: getModules (the catalogue, with the org's presets), getModule (one
plugin) and getDefaultAssetForPlayground (the org's playground file).

The catalogue is the service's data (``pixelbin_emulator/data/modules.json``), shared by every
org; each plugin's ``credentials`` also says whether this org has configured credentials for it
(``configured``), the only place in the shape where that fits. A plugin's operations and their
parameters are the catalogue's own documents, passed through as they are.
``api/modules.py`` answers with these structs, ``openapi.py`` publishes their generated schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ...core.orgs import Org
from ...core.records import File as FileRecord
from ...core.transformations import Catalogue
from .assets import File
from .control import Wire
from .presets import Preset


class PluginCredentials(Wire, omit_defaults=False, forbid_unknown_fields=True, kw_only=True):
    """Whether the plugin needs credentials, and whether this org has added them."""

    required: bool | UnsetType = UNSET
    configured: bool


class Plugin(Wire, omit_defaults=False, forbid_unknown_fields=True, kw_only=True):
    """A transformation module as the catalogue describes it (getModule)."""

    identifier: str
    name: str
    description: str | UnsetType = UNSET
    credentials: PluginCredentials
    is_heavy: bool | UnsetType = UNSET
    operations: list[dict[str, Any]]
    enabled: bool | UnsetType = UNSET

    @classmethod
    def of(cls, org: Org, plugin: Mapping[str, Any]) -> Plugin:
        """The catalogue entry (shared, not copied into) with this org's credential state."""
        credentials = plugin.get("credentials") or {}
        return cls(
            identifier=plugin["identifier"],
            name=plugin["name"],
            description=plugin.get("description", UNSET),
            credentials=PluginCredentials(
                required=credentials.get("required", UNSET),
                configured=org.plugin_credentials.configured(plugin["identifier"]),
            ),
            is_heavy=plugin.get("isHeavy", UNSET),
            operations=plugin.get("operations", []),
            enabled=plugin.get("enabled", UNSET),
        )


class Delimiters(Wire, omit_defaults=False, forbid_unknown_fields=True):
    operation_separator: str
    parameter_separator: str


class Modules(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """getModules: the catalogue, and the org's presets."""

    delimiters: Delimiters
    plugins: dict[str, Plugin]
    presets: list[Preset]

    @classmethod
    def of(cls, org: Org, catalogue: Catalogue) -> Modules:
        return cls(
            delimiters=Delimiters(
                catalogue.delimiters["operationSeparator"],
                catalogue.delimiters["parameterSeparator"],
            ),
            plugins={key: Plugin.of(org, plugin) for key, plugin in catalogue.plugins.items()},
            presets=[Preset.of(org.org_id, preset) for preset in org.presets.all()],
        )


class PlaygroundAsset(File, kw_only=True):
    """getDefaultAssetForPlayground: the file answer plus the explore item's ``orgId`` and
    ``type``."""

    org_id: int
    type: Literal["file"]

    @classmethod
    def of(cls, org: Org, file: FileRecord, base: str) -> PlaygroundAsset:
        answer = msgspec.structs.asdict(File.of(org, file, base))
        return cls(**answer, org_id=org.org_id, type="file")


RESPONSES = (Plugin, Modules, PlaygroundAsset)
