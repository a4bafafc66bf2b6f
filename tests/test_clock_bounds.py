"""Regression (found by fuzzing): the clock cannot be moved where timestamps cannot be written.

``POST /_emulator/clock/advance {"seconds": 1e16}`` used to answer 500 and leave the clock
there, so every later request that wrote a timestamp answered 500 too.
"""

from __future__ import annotations

import pytest

from pixelbin_emulator.core.clock import MAX_EPOCH, Clock
from pixelbin_emulator.core.errors import ValidationError


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_emulator/clock/advance", b'{"seconds": 1e16}'),
        ("/_emulator/clock/advance", b'{"seconds": -1e16}'),
        ("/_emulator/clock/advance", b'{"seconds": NaN}'),
        ("/_emulator/clock/advance", b'{"seconds": -1.7976931348623157e308}'),
        ("/_emulator/clock/freeze", b'{"at": 1e300}'),
        ("/_emulator/clock/freeze", b'{"at": -5}'),
        ("/_emulator/clock/freeze", b'{"at": NaN}'),
    ],
)
def test_out_of_range_clock_moves_are_400_and_change_nothing(pixelbin_app, path, body):
    client = pixelbin_app.test_client()
    before = client.get("/_emulator/clock").get_json()
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    after = client.get("/_emulator/clock").get_json()
    assert after["frozen"] == before["frozen"]
    assert abs(after["epoch"] - before["epoch"]) < 3600  # not moved (real time runs on)


def test_the_edges_of_the_range_are_allowed():
    clock = Clock()
    clock.freeze(0)
    assert clock.time() == 0
    clock.advance(MAX_EPOCH)
    assert clock.time() == MAX_EPOCH
    with pytest.raises(ValidationError):
        clock.advance(1)
    assert clock.time() == MAX_EPOCH
