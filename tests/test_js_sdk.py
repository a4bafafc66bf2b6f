"""The official JavaScript admin SDK (@pixelbin/admin) against the emulator.

`tests/js/sdk_smoke.js` asserts each call; `npm install --prefix tests/js` (part of the README's
test command) installs the SDK. Skipped only where Node.js itself is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_js_admin_sdk_runs_unchanged(pixelbin_emulator):
    assert (JS_DIR / "node_modules" / "@pixelbin" / "admin").is_dir(), (
        "run `npm install --prefix tests/js` first (the README's test command does)"
    )
    result = subprocess.run(
        ["node", str(JS_DIR / "sdk_smoke.js")],
        env={
            **os.environ,
            "PIXELBIN_URL": pixelbin_emulator.url,
            "PIXELBIN_SECRET": pixelbin_emulator.api_secret,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1] == "done", result.stdout
