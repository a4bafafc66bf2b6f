"""The emulator's whole state: a registry of orgs, one clock and one id source.

:meth:`Emulator.reset` re-initialises the registry and reloads the seed, rather than clearing
fields one by one, so a field added later can never survive a reset by mistake. Custom domains
(a host serving one org's CDN URLs without the cloud name) are configuration, like the CLI flag
that sets them: they map to an ``orgId`` and survive a reset; dropping the org removes them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assets import Limits
from .changes import CLOCK, NO_CHANGES, ORG, Change, ChangeSink
from .clock import Clock
from .errors import ConflictError, NotFoundError, ValidationError
from .faults import Faults
from .ids import IdFactory
from .journal import DEFAULT_LIMIT, Journal
from .orgs import Org
from .predictions import Predictions
from .url_stubs import UrlStubs

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def normalize_host(host: str) -> str:
    """``CDN.Example.test:8080`` -> ``cdn.example.test``: domains match without the port."""
    name = host.strip().lower().rstrip(".")
    if name.startswith("["):  # an IPv6 literal, with or without a port
        return name.partition("]")[0] + "]"
    return name.partition(":")[0]


@dataclass
class _Registry:
    orgs: dict[int, Org] = field(default_factory=dict)
    by_secret: dict[str, Org] = field(default_factory=dict)
    by_access_key: dict[str, Org] = field(default_factory=dict)
    by_cloud_name: dict[str, Org] = field(default_factory=dict)
    next_org_id: int = 1


class Emulator:
    """Thread-safe registry of orgs.

    ``seed`` is a state document (see :mod:`pixelbin_emulator.core.snapshot`); relative file
    sources in it are read from ``seed_dir``.
    """

    def __init__(
        self,
        seed: dict[str, Any] | None = None,
        *,
        seed_dir: str | Path | None = None,
        random_seed: int | None = None,
        limits: Limits | None = None,
        journal_limit: int = DEFAULT_LIMIT,
    ) -> None:
        self.clock = Clock()
        self.journal_limit = journal_limit
        #: False while the seed is (re)loading: ``GET /_emulator/ready`` answers 503 meanwhile.
        self.ready = False
        self.limits = limits or Limits()
        self._seed = seed
        self._seed_dir = Path(seed_dir) if seed_dir else None
        self._random_seed = random_seed
        self._lock = threading.RLock()
        #: Where changes go (see :mod:`.changes`); :meth:`attach` plugs in durable storage.
        self.changes: ChangeSink = NO_CHANGES
        #: Orgs created during :meth:`bulk`, locked until it ends.
        self._bulk_orgs: list[Org] | None = None
        self.clock.report = self._clock_changed
        self._registry = _Registry()
        self._domains: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Return to the seed: drop every org and every change, restart the clock, and forget
        the request journal, fault rules, URL stubs and prediction jobs."""
        from .snapshot import load_state

        with self.bulk():
            self.ready = False
            for org in self._registry.orgs.values():
                with org.lock:
                    org.changes = NO_CHANGES
            self.clock.reset()
            self.ids = IdFactory(self._random_seed)
            self.journal = Journal(self.journal_limit)
            self.faults = Faults()
            self.url_stubs = UrlStubs()
            previous = getattr(self, "predictions", None)
            if previous is not None:
                previous.close()  # its worker thread ends; the new store starts empty
            self.predictions = Predictions(self.clock, self.ids, self.faults, self.journal)
            self._registry = _Registry()
            try:
                if self._seed is not None:
                    load_state(self, self._seed, base_dir=self._seed_dir)
            finally:
                self.ready = True

    # -- durability ------------------------------------------------------------------------

    def attach(self, sink: ChangeSink) -> None:
        """Send every later change of every org (and of the clock) to ``sink``."""
        with self._lock:
            self.changes = sink
            for org in self._registry.orgs.values():
                with org.lock:
                    org.changes = sink

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Change many orgs as one step (reset, snapshot import): nothing is published on the
        way, then the sink records the whole state at once, so a crash keeps all or nothing.

        Orgs created meanwhile stay locked until the checkpoint is published, so a change
        another request makes to one is ordered after it.
        """
        with self._lock:
            if self._bulk_orgs is not None:  # nested: the outer one publishes
                yield
                return
            self._bulk_orgs = []
            try:
                yield
            finally:
                created, self._bulk_orgs = self._bulk_orgs, None
                for org in created:
                    if self._registry.orgs.get(org.org_id) is org:
                        org.changes = self.changes
                # Before the new orgs unlock: any change to them comes after the checkpoint.
                self.changes.checkpoint()
                for org in created:
                    org.lock.release()

    def _publish(self, change: Change) -> None:
        if self._bulk_orgs is None:
            self.changes.publish([change])

    def _clock_changed(self, clock: Clock) -> None:
        self._publish(Change(CLOCK, None, clock))

    # -- orgs ------------------------------------------------------------------------------

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
        with self._lock:
            reg = self._registry
            if org_id is None:
                org_id = reg.next_org_id
            if not isinstance(org_id, int) or isinstance(org_id, bool) or org_id < 1:
                raise ValidationError("orgId must be a positive integer")
            for value, what in (
                (name, "name"),
                (cloud_name, "cloudName"),
                (api_secret, "apiSecret"),
                (access_key, "accessKey"),
            ):
                if value is not None and not isinstance(value, str):
                    raise ValidationError(f"{what} must be a string")
            cloud_name = cloud_name or f"emulated-cloud-{self.ids.hex(6)}"
            api_secret = api_secret or self.ids.uuid()
            access_key = access_key or self.ids.uuid()
            if len(api_secret) < 5:
                raise ValidationError("apiSecret must be at least 5 characters (the SDKs' minimum)")
            for taken, value, what in (
                (reg.orgs, org_id, "orgId"),
                (reg.by_secret, api_secret, "apiSecret"),
                (reg.by_access_key, access_key, "accessKey"),
                (reg.by_cloud_name, cloud_name, "cloudName"),
            ):
                if value in taken:
                    raise ConflictError(f"an org with this {what} exists already")
            org = Org(
                org_id=org_id,
                name=name or f"Org {org_id}",
                cloud_name=cloud_name,
                api_secret=api_secret,
                access_key=access_key,
                created_at=self.clock.time() if created_at is None else created_at,
                ids=self.ids,
                clock=self.clock,
                limits=self.limits,
            )
            reg.orgs[org_id] = org
            reg.by_secret[api_secret] = org
            reg.by_access_key[access_key] = org
            reg.by_cloud_name[cloud_name] = org
            reg.next_org_id = max(reg.next_org_id, org_id + 1)
            if self._bulk_orgs is not None:
                org.lock.acquire()
                self._bulk_orgs.append(org)
            else:
                org.changes = self.changes
                self._publish(Change(ORG, org_id, org))
            return org

    def drop_org(self, org_id: int) -> Org:
        """Remove an org with its journal, fault rules, URL stubs and prediction jobs."""
        with self._lock:
            reg = self._registry
            org = reg.orgs.pop(org_id, None)
            if org is None:
                raise NotFoundError(f"org {org_id} not found")
            del reg.by_secret[org.api_secret]
            del reg.by_access_key[org.access_key]
            del reg.by_cloud_name[org.cloud_name]
            with org.lock:
                org.changes = NO_CHANGES
                self._publish(Change(ORG, org_id, org, removed=True))
            self._domains = {h: o for h, o in self._domains.items() if o != org_id}
            self.journal.clear(org_id)
            self.faults.clear(org_id)
            self.url_stubs.clear(org_id)
            self.predictions.drop_org(org_id)
            return org

    @property
    def next_org_id(self) -> int:
        """The ``orgId`` an org created without one gets."""
        return self._registry.next_org_id

    @next_org_id.setter
    def next_org_id(self, value: int) -> None:
        with self._lock:
            self._registry.next_org_id = max(self._registry.next_org_id, value)

    def org(self, org_id: int) -> Org:
        try:
            return self._registry.orgs[org_id]
        except KeyError:
            raise NotFoundError(f"org {org_id} not found") from None

    def orgs(self) -> list[Org]:
        with self._lock:
            return list(self._registry.orgs.values())

    def org_by_secret(self, api_secret: str) -> Org | None:
        return self._registry.by_secret.get(api_secret)

    def org_by_access_key(self, access_key: str) -> Org | None:
        return self._registry.by_access_key.get(access_key)

    def org_by_cloud_name(self, cloud_name: str) -> Org | None:
        return self._registry.by_cloud_name.get(cloud_name)

    # -- custom domains --------------------------------------------------------------------

    def map_domain(self, host: str, org_id: int) -> str:
        """Serve org ``org_id``'s CDN URLs on ``host`` in the custom-domain form
        (``/v2[/{zone}]/{pattern}/{filePath}``); the normalized host."""
        if not isinstance(host, str):
            raise ValidationError("host must be a string")
        name = normalize_host(host)
        if len(name) > 253 or not _HOST.match(name):
            raise ValidationError(f"{host!r} is not a host name (e.g. cdn.example.test)")
        with self._lock:
            self.org(org_id)  # 404 for an unknown org
            taken = self._domains.get(name)
            if taken is not None and taken != org_id:
                raise ConflictError(f"{name} is the custom domain of org {taken} already")
            self._domains[name] = org_id
            return name

    def unmap_domain(self, host: str) -> int:
        """Forget a custom domain; the org it served."""
        with self._lock:
            org_id = self._domains.pop(normalize_host(host), None)
        if org_id is None:
            raise NotFoundError(f"{host} is not a custom domain")
        return org_id

    def domains(self, org_id: int | None = None) -> dict[str, int]:
        """Custom domains and their orgs (of one org, if given)."""
        with self._lock:
            return {h: o for h, o in self._domains.items() if org_id is None or o == org_id}

    def org_by_host(self, host: str) -> Org | None:
        """The org whose custom domain ``host`` (a ``Host`` header, port allowed) is."""
        if not self._domains:
            return None
        org_id = self._domains.get(normalize_host(host))
        return None if org_id is None else self._registry.orgs.get(org_id)
