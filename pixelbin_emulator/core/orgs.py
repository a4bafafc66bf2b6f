"""Organizations: the unit of isolation.

Each org has its own credentials, its own lock and its own resources; nothing is shared between
orgs, so giving every test its own org is as good as a reset and costs O(1).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .assets import AssetTree, Limits
from .clock import Clock
from .ids import IdFactory
from .signed_uploads import SignedUploads


@dataclass(frozen=True, slots=True)
class Credentials:
    """How clients identify an org: the API secret (Bearer token) and the CDN signing key."""

    org_id: int
    cloud_name: str
    api_secret: str
    access_key: str


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

    def __post_init__(self) -> None:
        self.assets = AssetTree(self.lock, self.ids, self.clock.time, self.limits)
        self.signed_uploads = SignedUploads(self)

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.org_id, self.cloud_name, self.api_secret, self.access_key)
