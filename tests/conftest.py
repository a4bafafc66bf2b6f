"""Shared fixtures: the official SDK pointed at the emulator, in sync and async flavours."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pixelbin import PixelbinClient, PixelbinConfig

from pixelbin_emulator.pytest_plugin import EmulatorHandle


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
