"""pytest plugin, registered through the ``pytest11`` entry point.

``pixelbin_emulator``: one live server for the whole session, and a fresh, empty org for every
test, so tests share no state (and stay isolated under ``pytest -n``) without any reset. The
handle also drives the control plane for that org: the request journal
(``requests``/``assert_called``), faults (``fault``), the clock (``freeze_time``/``advance_time``),
URL stubs (``stub_url``), snapshots (``snapshot``/``load``) and prediction jobs
(``complete_predictions``, ``prediction_settings``, ``fail_predictions``, ``wait_for_webhook``).
Everything a test sets goes with its org at the end of the test, and the clock is reset if the
test touched it.
When a test fails, its report gets a section with the tail of its org's request journal.
``pixelbin_control``: a :class:`~pixelbin_emulator.control.ControlClient` for the session server.
``pixelbin_app``: a Flask app with its own emulator, for in-process use with the test client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from .app import create_app
from .control import ControlClient
from .core.clock import Clock, parse_instant
from .core.emulator import Emulator
from .core.faults import FaultRule
from .core.journal import JournalQuery
from .core.orgs import Org
from .core.predictions import FAULT_OPERATION
from .core.snapshot import dump_state, load_into
from .core.url_stubs import UrlStub
from .seeds import default_emulator
from .server import LiveServer
from .settings import Settings

#: Journal entries shown under a failed test.
REPORT_TAIL = 20


@dataclass
class EmulatorHandle:
    """What a test needs to talk to its org on the session's emulator, and to steer it."""

    server: LiveServer
    org: Org
    clock_used: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    @property
    def org_id(self) -> int:
        return self.org.org_id

    @property
    def api_secret(self) -> str:
        return self.org.api_secret

    @property
    def access_key(self) -> str:
        return self.org.access_key

    @property
    def cloud_name(self) -> str:
        return self.org.cloud_name

    def sdk_config(self, **options: Any) -> dict[str, Any]:
        """The dict to pass to ``pixelbin.PixelbinConfig``."""
        config: dict[str, Any] = {"domain": self.url, "apiSecret": self.api_secret}
        if options:
            config["options"] = options
        return config

    # -- request journal -------------------------------------------------------------------

    def requests(
        self,
        *,
        operation: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> list[dict[str, Any]]:
        """This org's journal entries (oldest first), as ``GET /_emulator/requests`` has them."""
        query = JournalQuery(
            org_id=self.org_id, operation=operation, method=method, path=path, status=status
        )
        return [entry.as_dict() for entry in self.emulator.journal.query(query)]

    def assert_called(
        self, operation: str, times: int | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Assert ``operation`` was called (exactly ``times`` times, if given); its entries."""
        entries = self.requests(operation=operation, **filters)
        if (times is None and not entries) or (times is not None and len(entries) != times):
            expected = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {operation} {expected}, it was called {len(entries)} time(s); "
                f"journal:\n{self.journal_tail()}"
            )
        return entries

    def clear_requests(self) -> None:
        self.emulator.journal.clear(self.org_id)

    def journal_tail(self, count: int = REPORT_TAIL) -> str:
        entries = self.emulator.journal.query(JournalQuery(org_id=self.org_id, limit=count))
        return "\n".join(entry.line() for entry in entries) or "(no requests)"

    # -- faults ----------------------------------------------------------------------------

    def fault(
        self,
        *,
        operation: str | None = None,
        path: str | None = None,
        method: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        latency: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        after: int = 0,
    ) -> FaultRule:
        """Make this org's matching requests fail, e.g. ``fault(operation="fileUpload",
        status=503, times=2)``; the rule's ``matched``/``fired`` counters stay readable."""
        doc = {
            "operation": operation,
            "path": path,
            "method": method,
            "orgId": self.org_id,
            "status": status,
            "body": body,
            "headers": headers,
            "latency": latency,
            "drop": drop,
            "times": times,
            "after": after,
        }
        return self.emulator.faults.add(doc)

    def faults(self) -> list[FaultRule]:
        return self.emulator.faults.rules(self.org_id)

    def clear_faults(self) -> None:
        self.emulator.faults.clear(self.org_id)

    # -- clock -----------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The server's clock (shared by the session: it is reset after a test that used it)."""
        self.clock_used = True
        return self.emulator.clock

    def freeze_time(self, at: float | str | None = None) -> float:
        """Stop the clock (at ``at``: epoch seconds or ISO-8601, as over HTTP); the frozen
        instant."""
        self.clock.freeze(None if at is None else parse_instant(at))
        return self.emulator.clock.time()

    def advance_time(self, seconds: float) -> float:
        self.clock.advance(seconds)
        return self.emulator.clock.time()

    # -- custom domains --------------------------------------------------------------------

    def map_domain(self, host: str) -> str:
        """Serve this org's CDN URLs on ``host`` without the cloud name
        (``/v2[/{zone}]/{pattern}/{filePath}``); the mapping goes with the org."""
        return self.emulator.map_domain(host, self.org_id)

    # -- URL stubs -------------------------------------------------------------------------

    def stub_url(self, url: str, data: bytes | str, *, status: int = 200) -> UrlStub:
        """Serve ``data`` to this org's ``urlUpload`` of ``url`` (``status`` ≥ 400: fail it)."""
        content = data.encode() if isinstance(data, str) else data
        return self.emulator.url_stubs.add(url, content, status=status, org_id=self.org_id)

    # -- predictions -----------------------------------------------------------------------

    def prediction_settings(self, **settings: Any) -> dict[str, Any]:
        """Change this org's Predictions API settings: ``latency``, ``modelLatency``
        (``{"erase_bg": 2.0}``), ``creditLimit``, ``webhookRetryDelay``; the settings now."""
        store = self.emulator.predictions
        store.configure(self.org_id, settings)
        return store.config(self.org_id).as_dict() | {
            "creditsUsed": store.credits_used(self.org_id)
        }

    def complete_predictions(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Complete this org's pending jobs (or one) now, so ``predictions.wait`` returns on its
        first poll without sleeping; the jobs completed, as the API shows them."""
        return [job.as_dict() for job in self.emulator.predictions.complete(self.org_id, job_id)]

    def prediction_jobs(self) -> list[dict[str, Any]]:
        return [job.as_dict() for job in self.emulator.predictions.jobs(self.org_id)]

    def fail_predictions(
        self, model: str | None = None, *, message: str = "prediction failed", times: int = 1
    ) -> FaultRule:
        """Make the next ``times`` jobs (of ``model``, e.g. ``"erase_bg"``) end in FAILURE with
        ``message`` as their ``error``."""
        return self.fault(
            operation=FAULT_OPERATION,
            path=f"/predictions/{model}/*" if model else None,
            status=500,
            body={"message": message},
            times=times,
        )

    def webhook_deliveries(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Every webhook delivery attempt for this org's jobs, oldest first."""
        return [d.as_dict() for d in self.emulator.predictions.deliveries(self.org_id, job_id)]

    def wait_for_webhook(
        self, job_id: str | None = None, *, delivered: bool | None = True, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Block until a webhook delivery attempt (a successful one by default) is recorded."""
        return self.emulator.predictions.wait_for_delivery(
            self.org_id, job_id=job_id, delivered=delivered, timeout=timeout
        ).as_dict()

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """This org as a state document (file bytes inline)."""
        return dump_state(self.emulator, self.org_id)

    def load(
        self, doc: dict[str, Any], *, index: int = 0, base_dir: str | Path | None = None
    ) -> None:
        """Add the folders, files, presets and credentials of org ``index`` of a state document
        (a seed or a snapshot) to this org; its API secret and access key stay this test's."""
        orgs = doc.get("orgs") if isinstance(doc, dict) else None
        if not isinstance(orgs, list) or len(orgs) <= index:
            raise ValueError(f"the document has no org at index {index}")
        load_into(self.org, orgs[index], base_dir=Path(base_dir) if base_dir else None)


@pytest.fixture(scope="session")
def pixelbin_emulator_server() -> Iterator[LiveServer]:
    """The session-wide server (fetching of remote URLs disabled: tests stay offline)."""
    server = LiveServer(create_app(default_emulator(), Settings(allow_fetch=False)))
    with server:
        yield server


@pytest.fixture
def pixelbin_emulator(pixelbin_emulator_server: LiveServer) -> Iterator[EmulatorHandle]:
    """A fresh org of its own on the session's emulator; dropped (with its journal, faults and
    URL stubs) at the end of the test."""
    emulator = pixelbin_emulator_server.emulator
    org = emulator.create_org(name="pytest")
    handle = EmulatorHandle(pixelbin_emulator_server, org)
    yield handle
    if handle.clock_used:
        emulator.clock.reset()
    emulator.drop_org(org.org_id)


@pytest.fixture(scope="session")
def pixelbin_control(pixelbin_emulator_server: LiveServer) -> ControlClient:
    """A control-plane client for the session's server."""
    return ControlClient(pixelbin_emulator_server.url)


@pytest.fixture
def pixelbin_app() -> Flask:
    """A Flask app with its own emulator loaded with the default seed (the development org)."""
    return create_app(default_emulator(), Settings(allow_fetch=False))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under a failed test that used ``pixelbin_emulator``, show its last requests."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    handle = getattr(item, "funcargs", {}).get("pixelbin_emulator")
    if isinstance(handle, EmulatorHandle):
        title = f"pixelbin-emulator requests (org {handle.org_id}, last {REPORT_TAIL})"
        report.sections.append((title, handle.journal_tail()))
