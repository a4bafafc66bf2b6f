"""The registry of orgs, and the staging of orgs into one that is not live yet.

:class:`~.emulator.Emulator` holds the live :class:`Registry` and replaces it whole; the state
documents of :mod:`.snapshot` load their orgs through an :class:`OrgStaging`, which is why both
live here, below either of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .assets import Limits
from .clock import Clock
from .errors import ConflictError, ValidationError
from .ids import IdFactory
from .orgs import Org

#: The largest integer JavaScript clients (the JS SDK, browsers) read exactly: 2**53 - 1.
MAX_ORG_ID = 9_007_199_254_740_991
#: Cloud names are one URL path segment of ``/v2/{cloudName}/...``: the generated ones
#: (``emulated-cloud-1f2e3d``) and the service's own (``red-scene-95b6ea``) fit this.
_CLOUD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
#: Names, secrets and keys are identifiers, not documents.
MAX_TEXT_LENGTH = 256


@dataclass
class Registry:
    """Orgs by ``orgId`` and by each credential, and the next ``orgId`` to give out."""

    orgs: dict[int, Org] = field(default_factory=dict)
    by_secret: dict[str, Org] = field(default_factory=dict)
    by_access_key: dict[str, Org] = field(default_factory=dict)
    by_cloud_name: dict[str, Org] = field(default_factory=dict)
    next_org_id: int = 1

    def keeping(self, keep: Callable[[Org], bool]) -> Registry:
        """A new registry with the orgs ``keep`` accepts, numbering on from this one."""
        kept = Registry(next_org_id=self.next_org_id)
        for org in self.orgs.values():
            if keep(org):
                kept.add(org)
        return kept

    def add(self, org: Org) -> None:
        for taken, value, what in (
            (self.orgs, org.org_id, "orgId"),
            (self.by_secret, org.api_secret, "apiSecret"),
            (self.by_access_key, org.access_key, "accessKey"),
            (self.by_cloud_name, org.cloud_name, "cloudName"),
        ):
            if value in taken:
                raise ConflictError(f"an org with this {what} exists already")
        self.orgs[org.org_id] = org
        self.by_secret[org.api_secret] = org
        self.by_access_key[org.access_key] = org
        self.by_cloud_name[org.cloud_name] = org
        self.next_org_id = max(self.next_org_id, org.org_id + 1)


def _check_text(value: Any, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string")
    if len(value) > MAX_TEXT_LENGTH or not value.isprintable():
        raise ValidationError(
            f"{what} must be at most {MAX_TEXT_LENGTH} printable characters on one line"
        )


class OrgStaging:
    """Orgs being built aside (a reset, an import) in a registry that is not live yet.

    Numbering and clashes are checked against that registry, which already holds the orgs that
    will stay, so what loads here is exactly what the swap makes live.
    """

    def __init__(
        self,
        registry: Registry,
        ids: IdFactory,
        clock: Clock,
        limits: Limits,
        on_create: Callable[[Org], None] | None = None,
    ) -> None:
        self._registry = registry
        self.ids = ids
        self.clock = clock
        self._limits = limits
        #: Called with each new org, under its lock, as it joins the registry.
        self._on_create = on_create

    def number_after(self, org_ids: Iterable[int]) -> None:
        """Number the orgs created without an ``orgId`` after these (valid) ones."""
        valid = [org_id for org_id in org_ids if 1 <= org_id <= MAX_ORG_ID]
        reg = self._registry
        reg.next_org_id = max([reg.next_org_id, *(org_id + 1 for org_id in valid)])

    def create_org(
        self,
        *,
        name: str | None = None,
        org_id: int | None = None,
        cloud_name: str | None = None,
        api_secret: str | None = None,
        access_key: str | None = None,
        created_at: float | None = None,
    ) -> Org:
        """Create an empty org; whatever is not given is generated and unique."""
        reg = self._registry
        if org_id is None:
            org_id = reg.next_org_id
        if not isinstance(org_id, int) or isinstance(org_id, bool) or not 1 <= org_id <= MAX_ORG_ID:
            raise ValidationError(f"orgId must be an integer from 1 to {MAX_ORG_ID}")
        for value, what in (
            (name, "name"),
            (cloud_name, "cloudName"),
            (api_secret, "apiSecret"),
            (access_key, "accessKey"),
        ):
            _check_text(value, what)
        if cloud_name and not _CLOUD_NAME.fullmatch(cloud_name):
            raise ValidationError(
                "cloudName must be 1 to 63 letters, digits, '-' or '_' (one URL path segment)"
            )
        if access_key and "/" in access_key:
            # The v1 presigned POST's X-Amz-Credential is "{accessKey}/{date}/...".
            raise ValidationError("accessKey must not contain '/'")
        cloud_name = cloud_name or f"emulated-cloud-{self.ids.hex(6)}"
        api_secret = api_secret or self.ids.uuid()
        access_key = access_key or self.ids.uuid()
        if len(api_secret) < 5:
            raise ValidationError("apiSecret must be at least 5 characters (the SDKs' minimum)")
        org = Org(
            org_id=org_id,
            name=name or f"Org {org_id}",
            cloud_name=cloud_name,
            api_secret=api_secret,
            access_key=access_key,
            created_at=self.clock.time() if created_at is None else created_at,
            ids=self.ids,
            clock=self.clock,
            limits=self._limits,
        )
        with org.lock:  # a request that finds it in a live registry waits for on_create
            reg.add(org)
            if self._on_create is not None:
                self._on_create(org)
        return org
