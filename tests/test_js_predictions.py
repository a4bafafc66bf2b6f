"""``pixelbin.predictions`` of the official JavaScript admin SDK (@pixelbin/admin) end to end:
``tests/js/predictions_smoke.js`` asserts each call; this test runs it against a fresh org and
checks the webhook it asked for reached a receiver of the test's own."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from pixelbin import PixelbinClient

from pixelbin_emulator.pytest_plugin import EmulatorHandle

from .test_js_sdk import JS_DIR
from .test_predictions import Receiver, subject_png


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_js_admin_sdk_predictions(pixelbin_emulator: EmulatorHandle, sdk: PixelbinClient) -> None:
    assert (JS_DIR / "node_modules" / "@pixelbin" / "admin").is_dir(), (
        "run `npm install --prefix tests/js` first (the README's test command does)"
    )
    # Latency 0: the SDK's wait (retryInterval >= 1 s) finds every job done on its first poll.
    pixelbin_emulator.prediction_settings(latency=0, creditLimit=2)
    image_url = sdk.assets.fileUpload(file=subject_png(), name="photo")["url"]
    receiver = Receiver()
    try:
        result = subprocess.run(
            ["node", str(JS_DIR / "predictions_smoke.js")],
            env={
                **os.environ,
                "PIXELBIN_URL": pixelbin_emulator.url,
                "PIXELBIN_SECRET": pixelbin_emulator.api_secret,
                "PIXELBIN_WEBHOOK": receiver.url,
                "PIXELBIN_IMAGE_URL": image_url,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "FAIL" not in result.stdout
        assert result.stdout.splitlines()[-1] == "done", result.stdout
        delivery = pixelbin_emulator.wait_for_webhook()
        assert delivery["status"] == 200
        (payload,) = receiver.received
        assert payload["status"] == "SUCCESS" and payload["_id"] == delivery["jobId"]
    finally:
        receiver.close()
    statuses = [
        entry["status"] for entry in pixelbin_emulator.requests(operation="createPrediction")
    ]
    assert statuses == [200, 200, 200, 400, 400, 403]
