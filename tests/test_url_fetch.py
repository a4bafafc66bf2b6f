"""URL uploads that really fetch (``--allow-fetch``), from a server on loopback only."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from pixelbin_emulator.app import create_app
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.settings import Settings

from .helpers import png

URL_UPLOAD = "/service/platform/assets/v1.0/upload/url"
TOKEN = base64.b64encode(b"dev-api-secret-0000-0000-000000000000").decode()
PICTURE = png(7, 5)


class _Picture(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PICTURE)))
        self.end_headers()
        self.wfile.write(PICTURE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Picture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def client(**settings: int) -> FlaskClient:
    return create_app(default_emulator(), Settings(allow_fetch=True, **settings)).test_client()


def file_total(api: FlaskClient) -> int:
    listing = api.get(
        "/service/platform/assets/v1.0/listFiles", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return int(listing.get_json()["page"]["itemTotal"])


def upload(api: FlaskClient, url: str) -> tuple[int, dict[str, object]]:
    answer = api.post(
        URL_UPLOAD,
        json={"url": url, "name": "fetched"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return answer.status_code, answer.get_json()


def test_a_fetched_url_is_stored_byte_for_byte(origin: str) -> None:
    api = client()
    status, body = upload(api, f"{origin}/picture.png")
    assert status == 200, body
    assert body["size"] == len(PICTURE) and body["format"] == "png"
    assert api.get(urlsplit(str(body["url"])).path).data == PICTURE


def test_a_fetch_larger_than_the_limit_is_a_400_and_stores_nothing(origin: str) -> None:
    api = client(fetch_max_bytes=len(PICTURE) - 1)
    before = file_total(api)
    status, body = upload(api, f"{origin}/picture.png")
    assert status == 400 and f"larger than {len(PICTURE) - 1} bytes" in str(body["message"])
    assert file_total(api) == before


def test_a_fetch_that_cannot_connect_is_a_400() -> None:
    with socket.socket() as unused:  # a loopback port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    status, body = upload(client(), f"http://127.0.0.1:{port}/picture.png")
    assert status == 400 and "could not be fetched" in str(body["message"])
