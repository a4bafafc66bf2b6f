"""A real headless Chromium for the browser tests: Debian's ``chromium``, driven by Playwright.

Playwright is used only as a driver; its own browser downloads are never used, so the tests run
offline. ``.ci/run`` installs the ``chromium`` package when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

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


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One headless Chromium per test module (a ``playwright.sync_api.Browser``).

    Not per session: while Playwright's sync API runs, its event loop counts as running in
    this thread, so the SDK's sync methods (``run_until_complete``) fail in every later test
    with "This event loop is already running"; the loop stops with the module's last test.
    """
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
