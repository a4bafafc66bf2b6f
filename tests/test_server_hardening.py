"""Hostile input the server must bound or refuse (issue 11): journal lines, fault rules, a
``domain`` with a trailing slash, and ``urlUpload`` as the docs' own examples call it."""

from __future__ import annotations

import base64
import http.client
import json

import pytest
import requests
from pixelbin import PixelbinClient, PixelbinConfig

from pixelbin_emulator.core.journal import LINE_CHARS

from .helpers import expect_error, png


def bearer(handle) -> dict[str, str]:
    return {"Authorization": "Bearer " + base64.b64encode(handle.api_secret.encode()).decode()}


def test_journal_bounds_long_paths_and_queries(pixelbin_emulator):
    """Item 9: 240 KB URLs used to be kept whole, and ``/_emulator/requests`` answered them."""
    auth = bearer(pixelbin_emulator)
    long_id = "f" * 60_000
    url = f"{pixelbin_emulator.url}/service/platform/assets/v1.0/files/id/{long_id}"
    for _ in range(3):
        answer = requests.get(url, params={"q": "x" * 60_000}, headers=auth, timeout=30)
        assert answer.status_code == 404
    entries = pixelbin_emulator.requests(operation="getFileById")
    assert len(entries) == 3
    for entry in entries:
        assert len(entry["path"]) == LINE_CHARS + 1 and entry["path"].endswith("…")
        assert len(entry["query"]) == LINE_CHARS + 1 and entry["query"].startswith("q=xxx")
    listed = requests.get(
        f"{pixelbin_emulator.url}/_emulator/requests",
        params={"orgId": pixelbin_emulator.org_id},
        timeout=30,
    )
    assert listed.status_code == 200 and len(listed.content) < 20_000


# -- item 6: fault rules refuse what they cannot serve ----------------------------------------

UNSERVABLE_RULES = [
    {"status": 500, "headers": {"X-Evil": "a\r\nSet-Cookie: x=1"}},
    {"status": 500, "headers": {"X-Evil": "line\nbreak"}},
    {"status": 500, "headers": {"X-Nul": "a\x00b"}},
    {"status": 500, "headers": {"Bad\nName": "x"}},
    {"status": 500, "headers": {"Bad Name": "x"}},
    {"status": 500, "headers": {"": "x"}},
    {"status": 500, "headers": {"X-Wide": "snowman ☃"}},
    {"status": 500, "headers": {"Transfer-Encoding": "chunked"}},
    {"status": 500, "headers": {"Content-Length": "999"}},
    {"status": 500, "headers": {"connection": "close"}},
    {"status": 500, "headers": {"Upgrade": "websocket"}},
    {"status": 500, "headers": {"Keep-Alive": "timeout=5"}},
    {"status": 101},
    {"status": 100},
    {"status": 199},
    {"status": 600},
    {"status": 204, "body": "not empty"},
    {"status": 304, "body": {"a": 1}},
    {"latency": 1, "headers": {"Retry-After": "1"}},
]


@pytest.mark.parametrize("rule", UNSERVABLE_RULES)
def test_fault_rules_refuse_what_cannot_be_served(pixelbin_emulator, rule):
    answer = requests.post(
        f"{pixelbin_emulator.url}/_emulator/faults",
        json={"orgId": pixelbin_emulator.org_id, "operation": "listFiles", **rule},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["exception"] == "ValidationError"
    assert pixelbin_emulator.faults() == []


@pytest.mark.parametrize(
    ("rule", "status", "body"),
    [
        ({"status": 204}, 204, b""),
        ({"status": 304}, 304, b""),
        ({"status": 200, "body": "plain"}, 200, b"plain"),
        ({"status": 599}, 599, None),
    ],
)
def test_fault_rules_at_the_edges_are_served(pixelbin_emulator, rule, status, body):
    headers = {"Retry-After": "1", "X-Latin": "caf\u00e9\tok"}
    pixelbin_emulator.fault(operation="listFiles", headers=headers, **rule)
    answer = requests.get(
        f"{pixelbin_emulator.url}/service/platform/assets/v1.0/listFiles",
        headers=bearer(pixelbin_emulator),
        timeout=10,
    )
    assert answer.status_code == status
    assert answer.headers["Retry-After"] == "1"
    assert answer.raw.headers["X-Latin"] == "caf\u00e9\tok"
    if body is not None:
        assert answer.content == body
    else:
        assert answer.json()["exception"] == "EmulatedFaultError"


# -- item 14: a domain with a trailing slash --------------------------------------------------


def test_sdk_domain_with_trailing_slash(pixelbin_emulator, event_loop):
    """The Python SDK then sends ``Host: 127.0.0.1:PORT/``; URLs used to come out ``http:/v2/...``
    and ``uploader.upload`` failed on ``http:///service/...``."""
    config = pixelbin_emulator.sdk_config()
    config["domain"] += "/"
    pixelbin = PixelbinClient(PixelbinConfig(config))
    base = f"{pixelbin_emulator.url}/v2/{pixelbin_emulator.cloud_name}/original"
    uploaded = pixelbin.assets.fileUpload(file=b"hello", name="greeting")
    assert uploaded["url"] == f"{base}/greeting.bin"
    big = pixelbin.uploader.upload(file=b"x" * 30_000, name="big", format="bin")
    assert big["url"] == f"{base}/big.bin"
    assert requests.get(big["url"], timeout=10).content == b"x" * 30_000


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("127.0.0.1:{port}/", "http://127.0.0.1:{port}"),
        ("127.0.0.1:{port}/?x#y", "http://127.0.0.1:{port}"),
        ("??", "http://127.0.0.1:{port}"),  # nothing usable: the server's own address
        ("a b", "http://a"),
    ],
)
def test_invalid_host_headers_still_give_absolute_urls(pixelbin_emulator, host, base):
    port = pixelbin_emulator.server.port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", "/service/platform/assets/v1.0/listFiles", skip_host=True)
        connection.putheader("Host", host.format(port=port))
        connection.putheader(*next(iter(bearer(pixelbin_emulator).items())))
        connection.endheaders()
        answer = connection.getresponse()
        assert answer.status == 200
        answer.read()
        connection.request("GET", "/openapi.json", headers={"Host": host.format(port=port)})
        servers = json.loads(connection.getresponse().read())["servers"]
    finally:
        connection.close()
    assert servers[0]["url"] == base.format(port=port)


# -- fidelity gaps: urlUpload as the docs' example calls it -------------------------------------


def test_url_upload_of_the_docs_scheme_less_example(pixelbin_emulator, sdk, event_loop):
    """The docs call ``urlUpload(url="www.dummy.com/image.png", ...)``: read as https://."""
    pixelbin_emulator.stub_url("https://www.dummy.com/image.png", png(4, 3))
    result = sdk.assets.urlUpload(url="www.dummy.com/image.png", path="docs")
    assert (result["name"], result["format"], result["width"]) == ("image", "png", 4)
    assert result["metadata"] == {"source": "direct"}  # the captured urlUpload answer


def test_scheme_less_url_matches_an_http_stub_and_own_cdn(pixelbin_emulator, sdk, event_loop):
    pixelbin_emulator.stub_url("http://plain.example/cat.jpeg", png(2, 2))
    assert sdk.assets.urlUpload(url="plain.example/cat.jpeg")["name"] == "cat"
    source = sdk.assets.fileUpload(file=png(5, 5), name="source")
    scheme_less = source["url"].split("://", 1)[1]
    assert sdk.assets.urlUpload(url=scheme_less, name="copy")["size"] == source["size"]


@pytest.mark.parametrize("url", ["www.dummy.com/image.png", "image.png", "/v2/x", "ftp://a.b/c"])
def test_scheme_less_url_without_a_stub_is_a_clear_400(sdk, event_loop, url):
    error = expect_error(400, sdk.assets.urlUpload, url=url)
    assert "url" in error["message"]
