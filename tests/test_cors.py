"""CORS answers over plain HTTP: preflights of every browser route, origins, errors and faults."""

from __future__ import annotations

import base64

import pytest
import requests

from pixelbin_emulator.api.cors import parse_origins
from pixelbin_emulator.app import create_app
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.settings import Settings

from .helpers import png

ORIGIN = "http://localhost:3000"
PLATFORM = "/service/platform/assets/v1.0/listFiles"


def preflight(url: str, method: str, headers: str = "", origin: str = ORIGIN) -> requests.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=asked, timeout=5)


@pytest.fixture
def signed_v2(sdk):
    return sdk.assets.createSignedUrlV2(name="part", format="png")["presignedUrl"]


def test_preflight_of_a_part_put_and_of_the_json_completion(signed_v2, pixelbin_emulator):
    url = signed_v2["url"] + "&partNumber=1"
    for method, headers in (("PUT", ""), ("POST", "content-type")):
        answer = preflight(url, method, headers)
        assert answer.status_code == 204 and answer.content == b""
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Access-Control-Allow-Methods"] == "POST, PUT"
        assert answer.headers.get("Access-Control-Allow-Headers", "") == headers
        assert answer.headers["Access-Control-Max-Age"] == "7200"
        assert "Access-Control-Allow-Credentials" not in answer.headers  # never with *
    # Journaled under the upload's org, as preflights, and never as the part upload itself.
    assert len(pixelbin_emulator.requests(operation="corsPreflight", method="OPTIONS")) == 2
    assert pixelbin_emulator.requests(operation="uploadPart") == []


def test_preflight_of_the_v1_presigned_post(sdk):
    url = sdk.assets.createSignedUrl(name="v1")["s3PresignedUrl"]["url"]
    answer = preflight(url, "POST")
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Methods"] == "POST"


def test_preflight_and_answers_of_the_cdn(assets):
    url = assets.fileUpload(file=png(), name="pic")["url"]
    answer = preflight(url, "GET", "range,if-none-match")
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert answer.headers["Access-Control-Allow-Headers"] == "range,if-none-match"
    whole = requests.get(url, headers={"Origin": ORIGIN}, timeout=5)
    part = requests.get(url, headers={"Origin": ORIGIN, "Range": "bytes=0-9"}, timeout=5)
    etag = whole.headers["ETag"]
    same = requests.get(url, headers={"Origin": ORIGIN, "If-None-Match": etag}, timeout=5)
    head = requests.head(url, headers={"Origin": ORIGIN}, timeout=5)
    for response, status in ((whole, 200), (part, 206), (same, 304), (head, 200)):
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
        assert {"ETag", "Content-Length", "Content-Range"} <= set(exposed)


def test_failures_on_browser_routes_carry_cors_headers_and_a_json_message(
    signed_v2, pixelbin_emulator
):
    missing = requests.get(
        f"{pixelbin_emulator.url}/v2/{pixelbin_emulator.cloud_name}/original/nope.png",
        headers={"Origin": ORIGIN},
        timeout=5,
    )
    assert missing.status_code == 404 and missing.json()["message"]
    assert missing.headers["Access-Control-Allow-Origin"] == "*"
    bad_part = requests.put(signed_v2["url"], headers={"Origin": ORIGIN}, timeout=5)
    assert bad_part.status_code == 400 and bad_part.json()["message"] == "partNumber is required"
    assert bad_part.headers["Access-Control-Allow-Origin"] == "*"


def test_fault_rules_skip_preflights_and_their_answers_carry_cors_headers(
    signed_v2, pixelbin_emulator
):
    rule = pixelbin_emulator.fault(path="*/signed-multipart", status=503, times=1)
    url = signed_v2["url"] + "&partNumber=1"
    assert preflight(url, "PUT").status_code == 204
    assert rule.fired == 0
    fields = signed_v2["fields"]
    faulted = requests.put(
        url, headers={"Origin": ORIGIN}, data=fields, files={"file": b"abc"}, timeout=5
    )
    assert faulted.status_code == 503 and rule.fired == 1
    assert "fault injected" in faulted.json()["message"]
    assert faulted.headers["Access-Control-Allow-Origin"] == "*"
    again = requests.put(
        url, headers={"Origin": ORIGIN}, data=fields, files={"file": b"abc"}, timeout=5
    )
    assert again.status_code == 204 and again.headers["Access-Control-Allow-Origin"] == "*"


def test_the_platform_api_is_closed_to_browsers_by_default(pixelbin_emulator):
    answer = preflight(pixelbin_emulator.url + PLATFORM, "GET", "authorization")
    assert answer.status_code == 403
    assert answer.json()["exception"] == "CorsError"
    assert "--cors-platform" in answer.json()["message"]
    assert "Access-Control-Allow-Origin" not in answer.headers
    token = base64.b64encode(pixelbin_emulator.api_secret.encode()).decode()
    listed = requests.get(
        pixelbin_emulator.url + PLATFORM,
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert listed.status_code == 200 and "Access-Control-Allow-Origin" not in listed.headers


def test_the_control_plane_has_no_cors(pixelbin_emulator):
    answer = requests.get(
        pixelbin_emulator.url + "/_emulator/health", headers={"Origin": ORIGIN}, timeout=5
    )
    assert "Access-Control-Allow-Origin" not in answer.headers


# -- configured origins, in process ----------------------------------------------------------


def _client(**settings):
    app = create_app(default_emulator(), Settings(**settings))
    org = app.extensions["pixelbin_emulator"]["emulator"].orgs()[0]
    return app.test_client(), org


def _cdn_path(org) -> str:
    return f"/v2/{org.cloud_name}/original/__playground/playground-default.jpeg"


def _preflight(client, path, origin, method="GET"):
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    return client.options(path, headers=headers)


def test_a_list_of_origins_is_echoed_with_credentials():
    client, org = _client(cors_origins=("http://app.test:3000", "http://localhost:*"))
    for origin in ("http://app.test:3000", "http://localhost:5173", "HTTP://LOCALHOST:1"):
        answer = _preflight(client, _cdn_path(org), origin)
        assert answer.status_code == 204, origin
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert answer.headers["Access-Control-Allow-Credentials"] == "true"
        assert "Origin" in answer.headers["Vary"]
        served = client.get(_cdn_path(org), headers={"Origin": origin})
        assert served.headers["Access-Control-Allow-Origin"] == origin
        assert "Origin" in served.headers["Vary"]


def test_an_origin_outside_the_list_is_refused():
    client, org = _client(cors_origins=("http://app.test:3000",))
    for origin in ("http://evil.test", "http://app.test:3001", "https://app.test:3000"):
        answer = _preflight(client, _cdn_path(org), origin)
        assert answer.status_code == 403
        assert answer.json["exception"] == "CorsError" and origin in answer.json["message"]
        assert "Access-Control-Allow-Origin" not in answer.headers
        served = client.get(_cdn_path(org), headers={"Origin": origin})
        assert served.status_code == 200  # an <img> without crossorigin still shows it
        assert "Access-Control-Allow-Origin" not in served.headers
        assert "Origin" in served.headers["Vary"]  # a cache must not reuse it for another origin


def test_no_origin_at_all():
    client, org = _client(cors_origins=())
    assert _preflight(client, _cdn_path(org), ORIGIN).status_code == 403
    assert "Access-Control-Allow-Origin" not in client.get(_cdn_path(org)).headers


def test_the_platform_api_opens_to_browsers_with_the_flag():
    client, org = _client(cors_platform=True)
    answer = _preflight(client, PLATFORM, ORIGIN)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    token = base64.b64encode(org.api_secret.encode()).decode()
    listed = client.get(PLATFORM, headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.headers["Access-Control-Allow-Origin"] == "*"


def test_preflights_of_unknown_routes_and_private_networks():
    client, org = _client()
    missing = _preflight(client, "/service/public/assets/v1.0/nowhere", ORIGIN)
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == "*"
    headers = {
        "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true",
    }
    answer = client.options(_cdn_path(org), headers=headers)
    assert answer.headers["Access-Control-Allow-Private-Network"] == "true"


@pytest.mark.parametrize(
    ("text", "origins"),
    [
        (None, ("*",)),
        ("*", ("*",)),
        ("", ()),
        (
            "http://a.test:1/, http://b.test  http://localhost:*",
            ("http://a.test:1", "http://b.test", "http://localhost:*"),
        ),
    ],
)
def test_parse_origins(text, origins):
    assert parse_origins(text) == origins
