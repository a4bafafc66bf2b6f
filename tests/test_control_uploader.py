"""Faults on the signed multipart upload, driven by the SDK's own uploader and its retries.

The signed-upload routes come from another area (``api/signed_uploads.py``); without them these
tests are skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from pixelbin_emulator.pytest_plugin import EmulatorHandle

pytest.importorskip("pixelbin_emulator.api.signed_uploads")

OPTIONS = {"chunkSize": 1024, "maxRetries": 3, "concurrency": 1, "exponentialFactor": 1}


def test_failed_part_uploads_are_retried(sdk: Any, pixelbin_emulator: EmulatorHandle) -> None:
    rule = pixelbin_emulator.fault(operation="uploadPart", status=503, times=2)
    data = bytes(range(256)) * 12
    result = sdk.uploader.upload(data, name="clip", uploadOptions=dict(OPTIONS))
    assert result["size"] == len(data)
    assert (rule.fired, rule.exhausted) == (2, True)
    parts = pixelbin_emulator.requests(operation="uploadPart")
    assert [entry["status"] for entry in parts] == [503, 503, 204, 204, 204]
    assert all(entry["orgId"] == pixelbin_emulator.org_id for entry in parts)
    pixelbin_emulator.assert_called("completeUpload", times=1)


def test_dropped_part_upload_is_retried(sdk: Any, pixelbin_emulator: EmulatorHandle) -> None:
    pixelbin_emulator.fault(operation="uploadPart", drop=True, after=1, times=1)
    data = bytes(range(256)) * 8
    result = sdk.uploader.upload(data, name="clip", uploadOptions=dict(OPTIONS))
    assert result["size"] == len(data)
    statuses = [entry["status"] for entry in pixelbin_emulator.requests(operation="uploadPart")]
    assert statuses == [204, 0, 204]


def test_failing_completion_surfaces_after_retries(
    sdk: Any, pixelbin_emulator: EmulatorHandle
) -> None:
    from pixelbin.common.exceptions import PixelbinServerResponseError

    pixelbin_emulator.fault(operation="completeUpload", status=500)
    with pytest.raises(PixelbinServerResponseError):
        sdk.uploader.upload(b"abc", name="clip", uploadOptions=dict(OPTIONS))
    pixelbin_emulator.assert_called("completeUpload", times=1 + OPTIONS["maxRetries"])
