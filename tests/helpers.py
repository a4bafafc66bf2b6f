"""Small helpers shared by the tests."""

from __future__ import annotations

import ast
import io
import json
from typing import Any

import pytest
from PIL import Image
from pixelbin.common.exceptions import PixelbinServerResponseError

from pixelbin_emulator.api.wire import decode
from pixelbin_emulator.api.wire.control import FaultRuleSpec
from pixelbin_emulator.core.faults import FaultRule
from pixelbin_emulator.core.snapshot import dump_state


def png(width: int = 8, height: int = 6, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(width: int = 8, height: int = 6) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(buffer, "JPEG")
    return buffer.getvalue()


def webp(width: int = 8, height: int = 6) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(buffer, "WEBP")
    return buffer.getvalue()


def sdk_error(error: PixelbinServerResponseError) -> dict[str, Any]:
    """The JSON error body inside the SDK's exception (its message is ``str(bytes)``)."""
    text = str(error.args[0] if error.args else error)
    raw = ast.literal_eval(text) if text.startswith(("b'", 'b"')) else text.encode()
    return json.loads(raw)


def expect_error(status: int, call: Any, **kwargs: Any) -> dict[str, Any]:
    """An SDK call fails with this status and an error body in the API's format."""
    with pytest.raises(PixelbinServerResponseError) as caught:
        call(**kwargs)
    assert caught.value.status_code == status
    body = sdk_error(caught.value)
    assert (body["status"], body["code"]) == (status, f"CG-{status:04d}")
    assert body["message"] and body["exception"]
    return body


def state(handle: Any) -> dict[str, Any]:
    """Everything the test's org holds, for 'nothing changed' assertions."""
    return dump_state(handle.emulator, handle.org_id)


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """A raw HTTP response is an error in the API's format with this status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "status", "code", "exception"}, body
    assert body["status"] == status
    assert body["code"] == f"CG-{status:04d}"
    assert body["message"]
    return body


def fault_rule(doc: dict[str, Any]) -> FaultRule:
    """A core fault rule from its wire document, validated as ``POST /_emulator/faults`` does."""
    return decode(doc, FaultRuleSpec).rule()
