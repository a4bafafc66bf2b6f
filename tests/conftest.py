"""Shared fixtures: the official SDK pointed at the emulator, in sync and async flavours."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Verbosity, settings
from pixelbin import PixelbinClient, PixelbinConfig

from pixelbin_emulator.pytest_plugin import EmulatorHandle
from pixelbin_emulator.server import LiveServer

from .browser import chromium  # noqa: F401  (the session's headless Chromium)
from .contract import Contract, Recorder

# Hypothesis profiles: "ci" (the default) keeps the whole suite within minutes on 2 cores and is
# derandomized so CI is repeatable; "long" explores far more (HYPOTHESIS_PROFILE=long).
settings.register_profile(
    "ci",
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=1000,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    verbosity=Verbosity.normal,
    print_blob=True,  # failures print a @reproduce_failure(...) to replay them exactly
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


CONTRACT = Recorder(Contract())


@pytest.fixture(scope="session")
def pixelbin_emulator_server(pixelbin_emulator_server: LiveServer) -> LiveServer:
    """The plugin's session server, with every response checked against /openapi.json."""
    pixelbin_emulator_server.app.after_request(CONTRACT.after_request)
    return pixelbin_emulator_server


@pytest.fixture(autouse=True)
def _responses_follow_the_openapi_description(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails (at teardown) a test during which the session server answered off-contract."""
    CONTRACT.drain()
    yield
    if "pixelbin_emulator" in request.fixturenames:
        violations = CONTRACT.drain()
        if violations:
            pytest.fail("responses that violate /openapi.json:\n" + "\n".join(violations[:20]))


@pytest.fixture
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh loop per test: the SDK's sync methods run on ``asyncio.get_event_loop()``."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def sdk(pixelbin_emulator: EmulatorHandle, event_loop: asyncio.AbstractEventLoop) -> PixelbinClient:
    return PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))


class Flavoured:
    """Calls ``name(...)`` (sync) or runs ``nameAsync(...)`` to completion (async)."""

    def __init__(self, target: Any, flavour: str, loop: asyncio.AbstractEventLoop) -> None:
        self._target, self.flavour, self._loop = target, flavour, loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if self.flavour == "sync":
            return getattr(self._target, name)
        method = getattr(self._target, name + "Async")
        return lambda *args, **kwargs: self._loop.run_until_complete(method(*args, **kwargs))


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def assets(sdk: PixelbinClient, flavour: str, event_loop: asyncio.AbstractEventLoop) -> Flavoured:
    """``sdk.assets``, once per flavour: every test using it runs sync and async."""
    return Flavoured(sdk.assets, flavour, event_loop)


@pytest.fixture
def api(pixelbin_emulator: EmulatorHandle) -> Any:
    """A ``requests`` session with the org's Authorization header, for raw HTTP checks."""
    import base64

    import requests

    session = requests.Session()
    token = base64.b64encode(pixelbin_emulator.api_secret.encode()).decode()
    session.headers["Authorization"] = f"Bearer {token}"
    session.base = pixelbin_emulator.url + "/service/platform/assets/v1.0"  # type: ignore[attr-defined]
    yield session
    session.close()
