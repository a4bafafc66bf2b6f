"""A real headless Chromium for the browser tests: Debian's ``chromium``, driven by Playwright.

Playwright is used only as a driver; its own browser downloads are never used, so the tests run
offline. ``.ci/run`` installs the ``chromium`` package when it is missing.

Playwright's sync API marks its event loop as running in the thread that started it, for as
long as it lives: on the main thread, every later ``asyncio.get_event_loop().run_until_complete``
(the pixelbin SDK's sync methods) failed with "This event loop is already running", in the
browser tests and in every test after them on the same worker. So Playwright lives on a thread
of its own, and the fixture hands out proxies that run each call there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

CHROMIUM = os.environ.get("PIXELBIN_EMULATOR_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out, which a closed network
# refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _PlaywrightThread:
    """The one thread Playwright's sync API runs on."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="playwright")

    def run(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        args = tuple(_unwrap(arg) for arg in args)
        kwargs = {key: _unwrap(value) for key, value in kwargs.items()}
        return self._wrap(self._pool.submit(call, *args, **kwargs).result())

    def _wrap(self, value: Any) -> Any:
        if type(value).__module__.startswith("playwright."):
            return Remote(self, value)
        if isinstance(value, list | tuple):
            return type(value)(self._wrap(item) for item in value)
        return value

    def shutdown(self) -> None:
        self._pool.shutdown()


class Remote:
    """A Playwright object (Browser, BrowserContext, Page, ...) used from any thread."""

    def __init__(self, thread: _PlaywrightThread, target: Any) -> None:
        object.__setattr__(self, "_thread", thread)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        value = self._thread.run(getattr, self._target, name)
        if callable(value) and not isinstance(value, Remote):
            return lambda *args, **kwargs: self._thread.run(value, *args, **kwargs)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self._thread.run(setattr, self._target, name, value)

    def __repr__(self) -> str:
        return f"Remote({self._target!r})"


def _unwrap(value: Any) -> Any:
    return object.__getattribute__(value, "_target") if isinstance(value, Remote) else value


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session: a ``playwright.sync_api.Browser``, behind a
    proxy that runs every call on Playwright's own thread."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    thread = _PlaywrightThread()

    def launch() -> tuple[Any, Any]:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        return playwright, playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    playwright, browser = thread.run(launch)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        thread.shutdown()
