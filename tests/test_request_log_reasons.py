"""The request log's reason for an error answer, from bodies the routes seldom give."""

from __future__ import annotations

import pytest
from flask import Response

from pixelbin_emulator.api.request_log import MAX_REASON, reason


def answer(body: bytes, mimetype: str, status: int = 400) -> Response:
    return Response(body, status=status, mimetype=mimetype)


def test_an_xml_error_gives_its_message_unescaped() -> None:
    body = (
        b"<Error><Code>AccessDenied</Code><Message>Request &amp; policy expired</Message></Error>"
    )
    assert reason(answer(body, "application/xml", 403), None, False) == "Request & policy expired"


def test_a_long_message_is_cut_to_the_limit() -> None:
    long = "x" * (MAX_REASON + 50)
    cut = reason(answer(f'{{"message": "{long}"}}'.encode(), "application/json"), None, False)
    assert cut == "x" * (MAX_REASON - 1) + "…"


@pytest.mark.parametrize(
    "body", [b"[1, 2]", b"{not json", b'{"message": ""}', b'{"message": 5}', b"{}"]
)
def test_a_json_error_without_a_message_gives_no_reason(body: bytes) -> None:
    assert reason(answer(body, "application/json"), None, False) is None


def test_an_xml_error_without_a_message_gives_no_reason() -> None:
    assert reason(answer(b"<Error/>", "text/xml"), None, False) is None
