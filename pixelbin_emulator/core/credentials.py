"""Credentials of transformation modules (``addCredentials`` and friends), per org.

One set per plugin: the plugin's identifier is the key, as in the URLs
``/credentials/{pluginId}``. The values are opaque to the emulator (no module runs here), so
any non-empty object is accepted and stored as given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import json_values
from .changes import CREDENTIALS
from .errors import ConflictError, NotFoundError, ValidationError
from .ids import IdFactory
from .transformations import Catalogue


@dataclass(frozen=True, slots=True, eq=False)
class CredentialSet:
    """Frozen: an update stores a new record in place of the old (see :mod:`.records`)."""

    id: str
    plugin_id: str
    credentials: dict[str, Any]
    created_at: float
    updated_at: float
    seq: int
    is_active: bool = True


def check_credentials(credentials: Any) -> dict[str, Any]:
    if credentials is None:
        raise ValidationError("credentials is required")
    if not isinstance(credentials, Mapping):
        raise ValidationError("credentials must be an object")
    if not credentials:
        raise ValidationError("credentials must not be empty")
    json_values.check(credentials, "credentials")
    return dict(credentials)


@dataclass(eq=False)
class CredentialStore:
    """Credential sets of one org, by plugin id. Every public method holds the org lock."""

    lock: threading.RLock
    ids: IdFactory
    now: Callable[[], float]
    catalogue: Catalogue
    #: Told ``[(kind, set, removed)]`` after each change (see :mod:`.changes`).
    report: Callable[[list[tuple[str, Any, bool]]], None] = lambda changes: None
    _by_plugin: dict[str, CredentialSet] = field(default_factory=dict, init=False)
    _seq: int = field(default=0, init=False)

    def check_plugin(self, plugin_id: Any) -> str:
        """The plugin must be in the catalogue. Its ``credentials.required`` says whether it
        needs credentials to run, not whether it may have them: any plugin takes a set."""
        if not isinstance(plugin_id, str) or not plugin_id:
            raise ValidationError("pluginId is required")
        plugin = self.catalogue.plugins.get(plugin_id)
        if not isinstance(plugin, Mapping):
            raise ValidationError(f"unknown plugin {plugin_id!r}")
        return plugin_id

    def add(self, plugin_id: Any, credentials: Any) -> CredentialSet:
        plugin_id = self.check_plugin(plugin_id)
        values = check_credentials(credentials)
        with self.lock:
            if plugin_id in self._by_plugin:
                raise ConflictError(
                    f"credentials for {plugin_id!r} exist already; use updateCredentials"
                )
            self._seq += 1
            now = self.now()
            entry = CredentialSet(self.ids.uuid(), plugin_id, values, now, now, self._seq)
            self._by_plugin[plugin_id] = entry
            self.report([(CREDENTIALS, entry, False)])
            return entry

    def get(self, plugin_id: str) -> CredentialSet:
        with self.lock:
            try:
                return self._by_plugin[plugin_id]
            except KeyError:
                raise NotFoundError(f"no credentials for plugin {plugin_id!r}") from None

    def configured(self, plugin_id: str) -> bool:
        with self.lock:
            return plugin_id in self._by_plugin

    def update(self, plugin_id: str, credentials: Any) -> CredentialSet:
        values = check_credentials(credentials)
        with self.lock:
            entry = replace(self.get(plugin_id), credentials=values, updated_at=self.now())
            self._by_plugin[plugin_id] = entry
            self.report([(CREDENTIALS, entry, False)])
            return entry

    def delete(self, plugin_id: str) -> CredentialSet:
        with self.lock:
            entry = self.get(plugin_id)
            del self._by_plugin[plugin_id]
            self.report([(CREDENTIALS, entry, True)])
            return entry

    def all(self) -> list[CredentialSet]:
        """Every set in creation order."""
        with self.lock:
            return sorted(self._by_plugin.values(), key=lambda c: c.seq)

    def restore(self, entry: CredentialSet) -> CredentialSet:
        """Put back a set from a snapshot as it was; the record stored, numbered next if
        ``entry`` has no ``seq``."""
        self.check_plugin(entry.plugin_id)
        check_credentials(entry.credentials)
        with self.lock:
            if entry.plugin_id in self._by_plugin:
                raise ConflictError(f"credentials for {entry.plugin_id!r} appear twice")
            if entry.seq > 0:
                self._seq = max(self._seq, entry.seq)
            else:
                self._seq += 1
                entry = replace(entry, seq=self._seq)
            self._by_plugin[entry.plugin_id] = entry
            self.report([(CREDENTIALS, entry, False)])
            return entry
