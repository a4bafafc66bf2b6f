"""ControlClient's polling helper gives up at its timeout."""

from __future__ import annotations

import pytest

from pixelbin_emulator.control import ControlClient
from pixelbin_emulator.pytest_plugin import EmulatorHandle


def test_waiting_for_a_webhook_that_never_comes_times_out(
    pixelbin_control: ControlClient, pixelbin_emulator: EmulatorHandle
) -> None:
    with pytest.raises(TimeoutError, match=r"no webhook delivery within 0\.2s"):
        pixelbin_control.wait_for_webhook(
            org_id=pixelbin_emulator.org_id, job_id="erase--bg--none", timeout=0.2
        )
