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
``pixelbin_client`` / ``pixelbin_async_client``: the official SDK's client for the test's org
(sync calls keep working after ``asyncio.run``, see :class:`LoopKeepingPolicy`).
``pixelbin_control``: a :class:`~pixelbin_emulator.control.ControlClient` for the session server.
``pixelbin_app``: a Flask app with its own emulator, for in-process use with the test client.
``--pixelbin-seed PATH`` (ini ``pixelbin_seed``) starts the session server from a seed file;
the ``pixelbin_seed(path, index=0)`` marker loads a seed's org into the test's org.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from .api.wire import to_builtins, validated
from .api.wire.control import FaultRuleSpec, JournalEntry
from .api.wire.predictions import (
    PredictionJob,
    PredictionSettings,
    PredictionSettingsChange,
    WebhookDelivery,
    settings_change,
)
from .app import create_app
from .control import ControlClient
from .core.clock import Clock, parse_instant
from .core.emulator import Emulator
from .core.errors import EmulatorError
from .core.faults import FaultRule
from .core.journal import JournalQuery
from .core.orgs import Org
from .core.predictions import FAULT_OPERATION
from .core.snapshot import dump_state, load_into
from .core.url_stubs import UrlStub
from .seeds import default_emulator, read_seed
from .server import LiveServer
from .settings import Settings

#: Journal entries shown under a failed test.
REPORT_TAIL = 20
#: What a refused ``urlUpload`` suggests under pytest.
FETCH_HINT = "register the URL with pixelbin_emulator.stub_url(url, data)"
#: pixelbin 4.3.0's uploader hands aiohttp each part as bytes, which aiohttp 3.x warns about;
#: nothing the test's author can change, so tests using the SDK fixtures do not see it.
SDK_WARNING = "ignore:In v4, passing bytes will no longer create a file field:DeprecationWarning"
_SDK_FIXTURES = {"pixelbin_client", "pixelbin_async_client"}


@dataclass
class EmulatorHandle:
    """What a test needs to talk to its org on the session's emulator, and to steer it."""

    server: LiveServer
    org: Org
    clock_used: bool = field(default=False, repr=False)

    def __repr__(self) -> str:
        return f"<pixelbin_emulator org {self.org_id} ({self.cloud_name}) at {self.url}>"

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
        entries = self.emulator.journal.query(query)
        return [to_builtins(JournalEntry.of(entry)) for entry in entries]

    def assert_called(
        self, operation: str, times: int | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Assert ``operation`` was called (exactly ``times`` times, if given); its entries."""
        __tracebackhide__ = True
        entries = self.requests(operation=operation, **filters)
        if (times is None and not entries) or (times is not None and len(entries) != times):
            expected = "at least once" if times is None else f"{times} time(s)"
            # The journal itself is in the report's "pixelbin-emulator requests" section.
            raise AssertionError(
                f"expected {operation} {expected}, it was called {len(entries)} time(s)"
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
        spec = FaultRuleSpec(
            operation=operation,
            path=path,
            method=method,
            org_id=self.org_id,
            status=status,
            body=body,
            headers=headers,
            latency=latency,
            drop=drop,
            times=times,
            after=after,
        )
        __tracebackhide__ = True
        return _plainly(lambda: self.emulator.faults.add(validated(spec).rule()))

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
        __tracebackhide__ = True
        content = data.encode() if isinstance(data, str) else data
        return _plainly(
            self.emulator.url_stubs.add, url, content, status=status, org_id=self.org_id
        )

    # -- predictions -----------------------------------------------------------------------

    def prediction_settings(self, **settings: Any) -> dict[str, Any]:
        """Change this org's Predictions API settings: ``latency``, ``modelLatency``
        (``{"erase_bg": 2.0}``), ``creditLimit``, ``webhookRetryDelay``; the settings now."""
        store = self.emulator.predictions
        store.configure(self.org_id, settings_change(settings, PredictionSettingsChange).apply)
        config, used = store.config(self.org_id), store.credits_used(self.org_id)
        answer: dict[str, Any] = to_builtins(PredictionSettings.of(self.org_id, config, used))
        del answer["orgId"]
        return answer

    def complete_predictions(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Complete this org's pending jobs (or one) now, so ``predictions.wait`` returns on its
        first poll without sleeping; the jobs completed, as the API shows them."""
        done = self.emulator.predictions.complete(self.org_id, job_id)
        return [to_builtins(PredictionJob.of(job)) for job in done]

    def prediction_jobs(self) -> list[dict[str, Any]]:
        jobs = self.emulator.predictions.jobs(self.org_id)
        return [to_builtins(PredictionJob.of(job)) for job in jobs]

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
        deliveries = self.emulator.predictions.deliveries(self.org_id, job_id)
        return [to_builtins(WebhookDelivery.of(d)) for d in deliveries]

    def wait_for_webhook(
        self, job_id: str | None = None, *, delivered: bool | None = True, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Block until a webhook delivery attempt (a successful one by default) is recorded."""
        delivery = self.emulator.predictions.wait_for_delivery(
            self.org_id, job_id=job_id, delivered=delivered, timeout=timeout
        )
        return to_builtins(WebhookDelivery.of(delivery))

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """This org as a state document (file bytes inline)."""
        return dump_state(self.emulator, self.org_id)

    def load(
        self, doc: dict[str, Any], *, index: int = 0, base_dir: str | Path | None = None
    ) -> None:
        """Add the folders, files, presets and credentials of org ``index`` of a state document
        (a seed or a snapshot) to this org; its API secret and access key stay this test's."""
        __tracebackhide__ = True
        orgs = doc.get("orgs") if isinstance(doc, dict) else None
        if not isinstance(orgs, list) or len(orgs) <= index:
            raise ValueError(f"the document has no org at index {index}")
        _plainly(load_into, self.org, orgs[index], base_dir=Path(base_dir) if base_dir else None)


def _plainly(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call into the emulator; a domain error is raised again without the emulator's frames
    (a failing test's traceback then ends at the test's own line)."""
    __tracebackhide__ = True
    try:
        return function(*args, **kwargs)
    except EmulatorError as error:
        raise error.with_traceback(None) from None


class LoopKeepingPolicy(asyncio.AbstractEventLoopPolicy):
    """The current policy, except that ``get_event_loop()`` never fails in the main thread.

    The SDK's sync methods run ``asyncio.get_event_loop().run_until_complete(...)``; after an
    ``asyncio.run(...)`` (or an async test) there is no current loop and they raise "There is
    no current event loop". This policy then sets a fresh loop, and closes the loops it made
    when the test ends.
    """

    def __init__(self, inner: asyncio.AbstractEventLoopPolicy) -> None:
        self.inner = inner
        self.made: list[asyncio.AbstractEventLoop] = []

    def get_event_loop(self) -> asyncio.AbstractEventLoop:
        try:
            loop = self.inner.get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or loop.is_closed():
            loop = self.inner.new_event_loop()
            self.inner.set_event_loop(loop)
            self.made.append(loop)
        return loop

    def set_event_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.inner.set_event_loop(loop)

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return self.inner.new_event_loop()

    def get_child_watcher(self) -> Any:  # abstract until Python 3.14
        return self.inner.get_child_watcher()  # type: ignore[attr-defined, unused-ignore]

    def set_child_watcher(self, watcher: Any) -> None:
        self.inner.set_child_watcher(watcher)  # type: ignore[attr-defined, unused-ignore]

    def close(self) -> None:
        """Close the loops this policy made (and unset the current one if it is one of them)."""
        try:
            current = self.inner.get_event_loop()
        except RuntimeError:
            current = None
        for loop in self.made:
            if not loop.is_running():
                loop.close()
        if current is not None and current in self.made:
            self.inner.set_event_loop(None)
        self.made.clear()


@contextlib.contextmanager
def keeping_a_loop() -> Iterator[LoopKeepingPolicy]:
    """Install :class:`LoopKeepingPolicy` for a while (policies are deprecated in 3.14 but
    still the only hook into ``get_event_loop``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        inner = asyncio.get_event_loop_policy()
        policy = LoopKeepingPolicy(inner)
        asyncio.set_event_loop_policy(policy)
    try:
        yield policy
    finally:
        policy.close()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(inner)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pixelbin-emulator")
    group.addoption(
        "--pixelbin-seed",
        metavar="PATH",
        help="start the session's emulator from this seed file (a state document or the "
        "directory of an extracted snapshot archive) instead of the default seed",
    )
    parser.addini("pixelbin_seed", "seed file of the session's emulator (relative to the ini file)")


def pytest_configure(config: pytest.Config) -> None:
    seed = session_seed(config)
    if seed is not None:
        try:
            read_seed(seed)  # a wrong path fails the run at once, not each test's setup
        except EmulatorError as error:
            raise pytest.UsageError(f"--pixelbin-seed: {error.message}") from None
    config.addinivalue_line(
        "markers",
        "pixelbin_seed(path, index=0): load org `index` of the seed file `path` (relative to "
        "the test file) into the test's pixelbin_emulator org",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A mark, not an ini line: marks win over ``-W error``, so a strict suite stays quiet."""
    for item in items:
        if _SDK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.filterwarnings(SDK_WARNING))


def session_seed(config: pytest.Config) -> Path | None:
    """The seed named by ``--pixelbin-seed`` (from the current directory) or the ini file."""
    option = config.getoption("pixelbin_seed", None)
    if option:
        return Path(option).resolve()
    ini = config.getini("pixelbin_seed")
    if ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return (base / str(ini)).resolve()
    return None


@pytest.fixture(scope="session")
def pixelbin_emulator_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The session-wide server (fetching of remote URLs disabled: tests stay offline)."""
    seed = session_seed(request.config)
    try:
        emulator = default_emulator(seed)
    except EmulatorError as error:
        raise pytest.UsageError(f"--pixelbin-seed: {error.message}") from None
    settings = Settings(allow_fetch=False, fetch_hint=FETCH_HINT)
    server = LiveServer(create_app(emulator, settings))
    with server:
        yield server


@pytest.fixture
def pixelbin_emulator(
    pixelbin_emulator_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[EmulatorHandle]:
    """A fresh org of its own on the session's emulator; dropped (with its journal, faults and
    URL stubs) at the end of the test."""
    emulator = pixelbin_emulator_server.emulator
    org = emulator.create_org(name="pytest")
    handle = EmulatorHandle(pixelbin_emulator_server, org)
    try:
        marker = request.node.get_closest_marker("pixelbin_seed")
        if marker is not None:
            _load_marked_seed(handle, marker, request.path.parent)
        yield handle
    finally:
        if handle.clock_used:
            emulator.clock.reset()
        emulator.drop_org(org.org_id)


def _load_marked_seed(handle: EmulatorHandle, marker: pytest.Mark, here: Path) -> None:
    if not marker.args:
        raise pytest.UsageError("pixelbin_seed needs a path: @pytest.mark.pixelbin_seed(path)")
    path = Path(marker.args[0])
    try:
        doc, base_dir = read_seed(path if path.is_absolute() else here / path)
        handle.load(doc, index=marker.kwargs.get("index", 0), base_dir=base_dir)
    except (EmulatorError, ValueError) as error:
        message = error.message if isinstance(error, EmulatorError) else str(error)
        raise pytest.UsageError(f"pixelbin_seed({str(path)!r}): {message}") from None


@pytest.fixture
def pixelbin_client(pixelbin_emulator: EmulatorHandle) -> Iterator[Any]:
    """The official SDK's client for the test's org (``pip install pixelbin``). Its sync
    methods keep working after an ``asyncio.run(...)`` or an async test."""
    from pixelbin import PixelbinClient, PixelbinConfig

    with keeping_a_loop():
        yield PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))


@pytest.fixture
def pixelbin_async_client(pixelbin_emulator: EmulatorHandle) -> Any:
    """The same client, for ``await client.assets.listFilesAsync()`` in an async test or
    ``asyncio.run(...)``: the SDK opens an HTTP session per call, so any loop will do."""
    from pixelbin import PixelbinClient, PixelbinConfig

    return PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))


@pytest.fixture(scope="session")
def pixelbin_control(pixelbin_emulator_server: LiveServer) -> ControlClient:
    """A control-plane client for the session's server."""
    return ControlClient(pixelbin_emulator_server.url)


@pytest.fixture
def pixelbin_app() -> Flask:
    """A Flask app with its own emulator loaded with the default seed (the development org)."""
    return create_app(default_emulator(), Settings(allow_fetch=False, fetch_hint=FETCH_HINT))


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
