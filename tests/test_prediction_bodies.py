"""Prediction requests whose body is malformed: each is a 400 that names the problem."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from pixelbin_emulator.app import create_app
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.settings import Settings

from .helpers import png

CREATE = "/service/platform/transformation/v1.0/predictions/erase/bg"
AUTH = {
    "Authorization": "Bearer " + base64.b64encode(b"dev-api-secret-0000-0000-000000000000").decode()
}


@pytest.fixture(scope="module")
def api() -> FlaskClient:
    return create_app(default_emulator(), Settings()).test_client()


def refused(api: FlaskClient, **body: Any) -> str:
    answer = api.post(CREATE, headers=AUTH, **body)
    assert answer.status_code == 400, answer.get_json()
    return str(answer.get_json()["message"])


def image() -> tuple[io.BytesIO, str]:
    return io.BytesIO(png()), "cat.png"


def test_a_file_field_outside_input_is_refused(api: FlaskClient) -> None:
    assert "unexpected file field 'picture'" in refused(api, data={"picture": image()})


def test_an_input_given_twice_is_refused(api: FlaskClient) -> None:
    twice = refused(api, data={"input.image": [image(), image()]})
    assert "input 'image' takes one value" in twice
    both = refused(api, data={"input.image": ["https://example.com/a.png", image()]})
    assert "input 'image' takes one value" in both


def test_a_body_neither_json_nor_multipart_is_refused(api: FlaskClient) -> None:
    message = refused(api, data=b"image=1", content_type="text/plain")
    assert "JSON or multipart/form-data" in message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": {"image": "x"}, "webhook": 5}, "webhook must be a URL"),
        ({"input": {"image": "x"}, "webhook": ""}, "webhook must be a URL"),
        ({"input": ["x"]}, "input must be an object"),
    ],
)
def test_bad_json_fields_are_refused(api: FlaskClient, body: dict[str, Any], message: str) -> None:
    assert message in refused(api, json=body)
