"""The CDN: private files only on a valid signed URL (Python ``sign_url`` and the JS variant),
and the caching headers browsers and downloaders rely on."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests
from pixelbin.utils.security import sign_url

PRIVATE_BYTES = b"private bytes " * 10


@pytest.fixture
def private_url(sdk: Any) -> str:
    return sdk.uploader.upload(PRIVATE_BYTES, name="secret", access="private")["url"]


@pytest.fixture
def public_url(sdk: Any) -> str:
    return sdk.uploader.upload(b"public bytes", name="open")["url"]


def js_sign(url: str, expiry: int, access_key: str, secret: str) -> str:
    """``generateSignedURL`` of @pixelbin/admin: signs ``encodeURI(path + "?" + query)``."""
    parts = urlsplit(url)
    message = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    encoded = quote(message, safe=";,/?:@&=+$!*'()#")
    signature = hmac.new(secret.encode(), f"{encoded}{expiry}".encode(), hashlib.sha256)
    extra = urlencode({"pbs": signature.hexdigest(), "pbe": expiry, "pbt": access_key})
    return f"{url}{'&' if parts.query else '?'}{extra}"


def epoch(pixelbin_emulator: Any) -> int:
    return int(pixelbin_emulator.emulator.clock.time())


def assert_unauthorized(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert (body["status"], body["code"], body["exception"]) == (
        401,
        "CG-0401",
        "UnauthorizedError",
    )


def test_private_file_needs_a_signed_url(private_url, pixelbin_emulator):
    assert_unauthorized(requests.get(private_url))
    signed = sign_url(private_url, 60, pixelbin_emulator.access_key, pixelbin_emulator.api_secret)
    response = requests.get(signed)
    assert response.status_code == 200
    assert response.content == PRIVATE_BYTES
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_tampered_signed_urls_are_refused(sdk, private_url, pixelbin_emulator):
    key, secret = pixelbin_emulator.access_key, pixelbin_emulator.api_secret
    signed = sign_url(private_url, 60, key, secret)
    pbs = signed.split("pbs=")[1].split("&")[0]
    flipped = pbs[:-1] + ("0" if pbs[-1] != "0" else "1")
    assert_unauthorized(requests.get(signed.replace(pbs, flipped)))
    pbe = signed.split("pbe=")[1].split("&")[0]
    assert_unauthorized(requests.get(signed.replace(f"pbe={pbe}", f"pbe={int(pbe) + 1}")))
    # Another private file of the org, with the first file's signature.
    other = sdk.uploader.upload(b"other", name="secret2", access="private")["url"]
    assert_unauthorized(requests.get(other + "?" + signed.split("?", 1)[1]))
    # A transformation added to a signed URL.
    assert_unauthorized(requests.get(signed.replace("/original/", "/t.flip()/")))
    # A query the JS way signed, then changed.
    js = js_sign(private_url + "?dpr=2", epoch(pixelbin_emulator) + 60, key, secret)
    assert requests.get(js).status_code == 200
    assert_unauthorized(requests.get(js.replace("dpr=2", "dpr=3")))


def test_wrong_key_or_secret_is_refused(private_url, pixelbin_emulator):
    key, secret = pixelbin_emulator.access_key, pixelbin_emulator.api_secret
    assert_unauthorized(requests.get(sign_url(private_url, 60, "not-the-key", secret)))
    assert_unauthorized(requests.get(sign_url(private_url, 60, key, "not-the-secret")))
    assert_unauthorized(requests.get(private_url + "?pbs=abc&pbe=notanumber&pbt=" + key))
    assert_unauthorized(requests.get(private_url + "?pbs=é&pbe=99999999999&pbt=" + key))


def test_another_orgs_signature_is_refused(private_url, pixelbin_emulator):
    other = pixelbin_emulator.emulator.create_org(name="other")
    try:
        signed = sign_url(private_url, 60, other.access_key, other.api_secret)
        assert_unauthorized(requests.get(signed))
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)


def test_expired_signed_url_is_refused(private_url, pixelbin_emulator):
    key, secret = pixelbin_emulator.access_key, pixelbin_emulator.api_secret
    assert_unauthorized(requests.get(sign_url(private_url, -1, key, secret)))
    signed = sign_url(private_url, 30, key, secret)
    assert requests.get(signed).status_code == 200
    clock = pixelbin_emulator.emulator.clock
    clock.advance(31)
    try:
        assert_unauthorized(requests.get(signed))
    finally:
        clock.reset()


def test_js_style_signatures_verify(private_url, pixelbin_emulator):
    key, secret = pixelbin_emulator.access_key, pixelbin_emulator.api_secret
    expiry = epoch(pixelbin_emulator) + 60
    assert requests.get(js_sign(private_url, expiry, key, secret)).content == PRIVATE_BYTES
    # With a query the SDKs disagree: JS signs path + "?" + query, Python the path alone.
    with_query = private_url + "?dpr=2"
    assert requests.get(js_sign(with_query, expiry, key, secret)).status_code == 200
    assert requests.get(sign_url(with_query, 60, key, secret)).status_code == 200


def test_public_files_are_served_signed_or_not(public_url, pixelbin_emulator):
    key, secret = pixelbin_emulator.access_key, pixelbin_emulator.api_secret
    assert requests.get(public_url).content == b"public bytes"
    assert requests.get(sign_url(public_url, 60, key, secret)).content == b"public bytes"
    # A signed URL that was altered or has expired is refused even for a public file.
    assert_unauthorized(requests.get(sign_url(public_url, 60, key, "not-the-secret")))
    assert_unauthorized(requests.get(sign_url(public_url, -1, key, secret)))


def test_access_change_takes_effect_at_once(sdk, public_url, pixelbin_emulator):
    file_id = "open.jpeg"
    sdk.assets.updateFile(fileId=file_id, access="private")
    assert_unauthorized(requests.get(public_url))
    signed = sign_url(public_url, 60, pixelbin_emulator.access_key, pixelbin_emulator.api_secret)
    assert requests.get(signed).status_code == 200
    sdk.assets.updateFile(fileId=file_id, access="public-read")
    assert requests.get(public_url).status_code == 200


def test_url_upload_from_a_private_cdn_url(sdk, private_url, pixelbin_emulator):
    with pytest.raises(Exception, match="private"):
        sdk.assets.urlUpload(url=private_url, name="copy")
    signed = sign_url(private_url, 60, pixelbin_emulator.access_key, pixelbin_emulator.api_secret)
    copy = sdk.assets.urlUpload(url=signed, name="copy")
    assert copy["size"] == len(PRIVATE_BYTES)


def test_cdn_headers_conditional_and_range(public_url):
    response = requests.get(public_url)
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Length"] == str(len(b"public bytes"))
    assert response.headers["Accept-Ranges"] == "bytes"
    etag = response.headers["ETag"]
    assert etag == f'"{hashlib.md5(b"public bytes").hexdigest()}"'
    assert response.headers["Last-Modified"].endswith(" GMT")

    not_modified = requests.get(public_url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert requests.get(public_url, headers={"If-None-Match": '"other"'}).status_code == 200

    partial = requests.get(public_url, headers={"Range": "bytes=0-5"})
    assert partial.status_code == 206
    assert partial.content == b"public"
    assert partial.headers["Content-Range"] == "bytes 0-5/12"
    suffix = requests.get(public_url, headers={"Range": "bytes=-5"})
    assert (suffix.status_code, suffix.content) == (206, b"bytes")
    unsatisfiable = requests.get(public_url, headers={"Range": "bytes=50-60"})
    assert unsatisfiable.status_code == 416


def test_private_conditional_requests_need_the_signature(private_url, pixelbin_emulator):
    signed = sign_url(private_url, 60, pixelbin_emulator.access_key, pixelbin_emulator.api_secret)
    etag = requests.get(signed).headers["ETag"]
    assert_unauthorized(requests.get(private_url, headers={"If-None-Match": etag}))
    assert requests.get(signed, headers={"If-None-Match": etag}).status_code == 304
    assert requests.get(signed, headers={"Range": "bytes=0-6"}).content == b"private"
