"""pytest plugin, registered through the ``pytest11`` entry point.

``pixelbin_emulator``: one live server for the whole session, and a fresh, empty org for every
test, so tests share no state (and stay isolated under ``pytest -n``) without any reset.
``pixelbin_app``: a Flask app with its own emulator, for in-process use with the test client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from .app import create_app
from .core.emulator import Emulator
from .core.orgs import Org
from .seeds import default_emulator
from .server import LiveServer
from .settings import Settings


@dataclass
class EmulatorHandle:
    """What a test needs to talk to its org on the session's emulator."""

    server: LiveServer
    org: Org

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


@pytest.fixture(scope="session")
def pixelbin_emulator_server() -> Iterator[LiveServer]:
    """The session-wide server (fetching of remote URLs disabled: tests stay offline)."""
    server = LiveServer(create_app(default_emulator(), Settings(allow_fetch=False)))
    with server:
        yield server


@pytest.fixture
def pixelbin_emulator(pixelbin_emulator_server: LiveServer) -> Iterator[EmulatorHandle]:
    """A fresh org of its own on the session's emulator."""
    emulator = pixelbin_emulator_server.emulator
    org = emulator.create_org(name="pytest")
    yield EmulatorHandle(pixelbin_emulator_server, org)
    emulator.drop_org(org.org_id)


@pytest.fixture
def pixelbin_app() -> Flask:
    """A Flask app with its own emulator loaded with the default seed (the development org)."""
    return create_app(default_emulator(), Settings(allow_fetch=False))
