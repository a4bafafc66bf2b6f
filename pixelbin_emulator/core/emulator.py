"""The emulator's whole state: a registry of orgs, one clock and one id source.

:meth:`Emulator.reset` re-initialises the registry and reloads the seed, rather than clearing
fields one by one, so a field added later can never survive a reset by mistake. Custom domains
(a host serving one org's CDN URLs without the cloud name) are configuration, like the CLI flag
that sets them: they map to an ``orgId`` and survive a reset; dropping the org removes them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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
from .registry import OrgStaging, Registry
from .signed_uploads import InvalidSignatureError, S3Error, multipart_org_id, post_access_key
from .snapshot import build_orgs
from .url_stubs import UrlStubs

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def normalize_host(host: str) -> str:
    """``CDN.Example.test:8080`` -> ``cdn.example.test``: domains match without the port."""
    name = host.strip().lower().rstrip(".")
    if name.startswith("["):  # an IPv6 literal, with or without a port
        return name.partition("]")[0] + "]"
    return name.partition(":")[0]


class Emulator:
    """Thread-safe registry of orgs.

    ``seed`` is a state document (see :mod:`pixelbin_emulator.core.snapshot`); relative file
    sources in it are read from ``seed_dir``.

    The live registry is replaced whole by a reset or an import, never emptied and refilled:
    a request sees the orgs from before or after, never a registry half loaded.
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
        #: True while :meth:`reset` runs: its checkpoint records the clock it resets.
        self._resetting = False
        self.clock.report = self._clock_changed
        self._registry = Registry()
        self._domains: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Return to the seed: drop every org and every change, restart the clock, and forget
        the request journal, fault rules, URL stubs and prediction jobs."""
        with self._lock:
            self.ready = False
            self._resetting = True  # the checkpoint of the swap records the clock's reset
            swapped = False
            try:
                self.clock.reset()
                ids = IdFactory(self._random_seed)
                registry = Registry()
                if self._seed is not None:
                    build_orgs(self._staging(registry, ids), self._seed, base_dir=self._seed_dir)
                self.ids = ids
                self.journal = Journal(self.journal_limit)
                self.faults = Faults()
                self.url_stubs = UrlStubs()
                previous = getattr(self, "predictions", None)
                if previous is not None:
                    previous.close()  # its worker thread ends; the new store starts empty
                self.predictions = Predictions(self.clock, self.ids, self.faults, self.journal)
                self._swap(registry)
                swapped = True
            finally:
                self._resetting = False
                if not swapped:  # the orgs stay, but the clock was reset all the same
                    self._clock_changed(self.clock)
                self.ready = True

    def replace_orgs(
        self, load: Callable[[OrgStaging], list[Org]], *, keep: Callable[[Org], bool]
    ) -> list[Org]:
        """Build a new set of orgs aside, then make it live in one step; returns what ``load``
        loaded.

        The new registry starts with the orgs ``keep`` accepts and continues the live numbering;
        ``load`` adds to it. If ``load`` raises, nothing has changed. Orgs that do not make it
        into the new registry go with their journal, fault rules, URL stubs and prediction jobs.
        """
        with self._lock:
            self.ready = False
            try:
                staged = self._registry.keeping(keep)
                loaded = load(self._staging(staged, self.ids))
                for org_id in self._swap(staged):
                    self._forget(org_id)
                return loaded
            finally:
                self.ready = True

    def _staging(
        self, registry: Registry, ids: IdFactory, on_create: Callable[[Org], None] | None = None
    ) -> OrgStaging:
        return OrgStaging(registry, ids, self.clock, self.limits, on_create)

    def _forget(self, org_id: int) -> None:
        self._domains = {h: o for h, o in self._domains.items() if o != org_id}
        self.journal.clear(org_id)
        self.faults.clear(org_id)
        self.url_stubs.clear(org_id)
        self.predictions.drop_org(org_id)

    # -- durability ------------------------------------------------------------------------

    def attach(self, sink: ChangeSink) -> None:
        """Send every later change of every org (and of the clock) to ``sink``."""
        with self._lock:
            self.changes = sink
            for org in self._registry.orgs.values():
                with org.lock:
                    org.changes = sink

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Keep the registry still (no org created, dropped or swapped in) meanwhile: what a
        checkpoint holds to read the orgs, the next ``orgId`` and the clock of one moment."""
        with self._lock:
            yield

    def _swap(self, registry: Registry) -> list[int]:
        """Make a registry built aside live (under the lock); the ``orgId``s of the orgs that
        left. The sink records the result as one checkpoint, so a crash keeps all or nothing.

        Staged orgs published nothing while loading; they get the sink now, while no request
        can reach them. The checkpoint is published before the swap: the committer's dump
        takes the lock, so it sees the new registry, and every change to a new org comes after
        the checkpoint. Orgs that leave stop publishing first (under their own lock), so no
        change of theirs follows the checkpoint.
        """
        old = self._registry.orgs
        gone = [org_id for org_id, org in old.items() if registry.orgs.get(org_id) is not org]
        for org_id in gone:
            with old[org_id].lock:
                old[org_id].changes = NO_CHANGES
        for org_id, org in registry.orgs.items():
            if old.get(org_id) is not org:
                org.changes = self.changes
        self.changes.checkpoint()
        self._registry = registry
        return gone

    def _publish(self, change: Change) -> None:
        if not self._resetting:
            self.changes.publish([change])

    def _clock_changed(self, clock: Clock) -> None:
        self._publish(Change(CLOCK, None, clock))

    def _created(self, org: Org) -> None:
        """A new live org (under its lock, before a request can reach it): publish it."""
        org.changes = self.changes
        self._publish(Change(ORG, org.org_id, org))

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
            return self._staging(self._registry, self.ids, self._created).create_org(
                name=name,
                org_id=org_id,
                cloud_name=cloud_name,
                api_secret=api_secret,
                access_key=access_key,
                created_at=created_at,
            )

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
            self._forget(org_id)
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

    def org_of_signed_url(self, params: Mapping[str, str]) -> Org:
        """The org whose signed multipart URL this query is (its ``pbo``): an unknown org fails
        as the signature check would."""
        org_id = multipart_org_id(params)
        org = None if org_id is None else self._registry.orgs.get(org_id)
        if org is None:
            raise InvalidSignatureError("Invalid signature: the upload URL was altered")
        return org

    def org_of_presigned_post(self, fields: Mapping[str, str]) -> Org:
        """The org whose access key a presigned POST's ``X-Amz-Credential`` names."""
        access_key = post_access_key(fields)
        org = self._registry.by_access_key.get(access_key) if access_key else None
        if org is None:
            raise S3Error(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        return org

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
