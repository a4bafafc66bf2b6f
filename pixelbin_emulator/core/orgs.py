"""Organizations: the unit of isolation.

Each org has its own credentials, its own lock and its own resources; nothing is shared between
orgs, so giving every test its own org is as good as a reset and costs O(1).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any

from .assets import AssetTree, Limits
from .changes import NO_CHANGES, Change, ChangeSink
from .clock import Clock
from .credentials import CredentialStore
from .ids import IdFactory
from .presets import PresetStore
from .signed_uploads import SignedUploads, UploadAccount
from .transformations import Catalogue, load_catalogue

# Read once and shared, read-only, by every org: it is the service's catalogue, not the org's.
default_catalogue = functools.cache(load_catalogue)


@dataclass(eq=False)
class Org:
    org_id: int
    name: str
    cloud_name: str
    api_secret: str
    access_key: str
    created_at: float
    ids: IdFactory
    clock: Clock
    limits: Limits = field(default_factory=Limits)
    lock: threading.RLock = field(default_factory=threading.RLock)
    catalogue: Catalogue = field(default_factory=default_catalogue)

    def __post_init__(self) -> None:
        # The stores report to this, not to the org: a bound method of the org would make a
        # reference cycle that keeps a dropped org (and its files) alive until the collector runs.
        self._reporter = _Reporter(self.org_id)
        self.assets = AssetTree(
            self.lock, self.ids, self.clock.time, self.limits, report=self._reporter
        )
        account = UploadAccount(self.org_id, self.cloud_name, self.access_key, self.api_secret)
        self.signed_uploads = SignedUploads(
            account, self.ids, self.clock.time, self.limits, store=self.assets.upload
        )
        self.presets = PresetStore(
            self.lock, self.ids, self.clock.time, self.catalogue, report=self._reporter
        )
        # "plugin": the transformation modules' credentials, not the org's own secret and key.
        self.plugin_credentials = CredentialStore(
            self.lock, self.ids, self.clock.time, self.catalogue, report=self._reporter
        )

    @property
    def changes(self) -> ChangeSink:
        """Where the changes of this org's records go; swapped (under ``lock``) by the emulator."""
        return self._reporter.sink

    @changes.setter
    def changes(self, sink: ChangeSink) -> None:
        self._reporter.sink = sink


class _Reporter:
    """Publishes the groups of changes an org's stores report, tagged with its ``orgId``."""

    __slots__ = ("org_id", "sink")

    def __init__(self, org_id: int) -> None:
        self.org_id = org_id
        self.sink: ChangeSink = NO_CHANGES

    def __call__(self, changes: list[tuple[str, Any, bool]]) -> None:
        sink = self.sink
        if sink is not NO_CHANGES:
            sink.publish([Change(kind, self.org_id, *change) for kind, *change in changes])
