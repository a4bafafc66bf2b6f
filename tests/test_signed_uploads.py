"""Signed uploads: ``uploader.upload`` (v2 signed multipart) through the real SDK, every rejection
of the multipart URL over raw HTTP, and the v1 presigned POST posted the way a browser does."""

from __future__ import annotations

import base64
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from PIL import Image
from pixelbin.common.exceptions import PixelbinServerResponseError

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.assets import Limits
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import NotFoundError
from pixelbin_emulator.core.signed_uploads import DEFAULT_EXPIRY, MAX_EXPIRY, POST_MAX_BYTES
from pixelbin_emulator.core.signing import hmac_hex
from pixelbin_emulator.settings import Settings

ASSET = "x-pixb-meta-assetdata"
SMALL_CHUNKS = {"chunkSize": 1024, "concurrency": 3, "maxRetries": 0, "exponentialFactor": 2}


def payload(size: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def png_bytes(size: tuple[int, int] = (3, 2)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def create_v2(api: Any, **body: Any) -> dict[str, Any]:
    response = api.post(api.base.replace("/v1.0", "/v2.0") + "/upload/signed-url", json=body)
    assert response.status_code == 200, response.text
    return response.json()["presignedUrl"]


def put_part(url: str, number: int, data: bytes, asset_data: str | None) -> requests.Response:
    fields = {} if asset_data is None else {ASSET: asset_data}
    return requests.put(f"{url}&partNumber={number}", files={"file": ("file", data)}, data=fields)


def complete(url: str, parts: Any, asset_data: str | None) -> requests.Response:
    body: dict[str, Any] = {"parts": parts}
    if asset_data is not None:
        body[ASSET] = asset_data
    return requests.post(url, json=body)


def with_param(url: str, key: str, value: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def assert_error(response: requests.Response, status: int, exception: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert body["code"] == f"CG-{status:04d}"
    assert body["exception"] == exception
    assert body["message"]


def file_ids(api: Any) -> list[str]:
    items = api.get(api.base + "/listFiles", params={"onlyFiles": "true"}).json()["items"]
    return [item["fileId"] for item in items]


# -- uploader.upload through the SDK ----------------------------------------------------------


@pytest.mark.parametrize("size", [0, 700, 5 * 1024 + 17], ids=["zero", "one-chunk", "many"])
@pytest.mark.parametrize("source", ["bytes", "fileobj"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_uploader_round_trip(sdk, event_loop, size, source, flavour):
    data = payload(size)
    file = data if source == "bytes" else io.BytesIO(data)
    kwargs = {"name": "clip", "path": "up/loads", "uploadOptions": dict(SMALL_CHUNKS)}
    if flavour == "sync":
        result = sdk.uploader.upload(file, **kwargs)
    else:
        result = event_loop.run_until_complete(sdk.uploader.uploadAsync(file, **kwargs))
    assert result["name"] == "clip.jpeg"
    assert result["fileId"] == "up/loads/clip.jpeg"
    assert result["size"] == size
    assert result["url"].endswith("/original/up/loads/clip.jpeg")
    assert requests.get(result["url"]).content == data
    assert sdk.assets.getFileByFileId(fileId="up/loads/clip.jpeg")["_id"] == result["_id"]


def test_uploader_applies_direct_upload_rules(sdk, pixelbin_emulator):
    image = png_bytes()
    result = sdk.uploader.upload(
        image,
        name="my photo",
        path="deep/er",
        format="jpeg",
        access="public-read",
        tags=["a", "b"],
        metadata={"k": 1},
        uploadOptions=dict(SMALL_CHUNKS),
    )
    # Name slugified and given the requested extension; format sniffed from the bytes.
    assert (result["name"], result["format"], result["width"], result["height"]) == (
        "my-photo.jpeg",
        "png",
        3,
        2,
    )
    assert result["context"]["meta"]["extension"] == "jpeg"
    assert result["tags"] == ["a", "b"]
    assert result["metadata"]["k"] == 1
    assert result["metadata"]["source"] == "direct"
    assert re.fullmatch(r"[0-9a-f-]{36}", result["metadata"]["publicUploadId"])
    ancestors = sdk.assets.getFolderDetails(path="deep", name="er")
    assert ancestors["name"] == "er"

    with pytest.raises(PixelbinServerResponseError) as conflict:
        sdk.uploader.upload(b"other", name="my photo", path="deep/er")
    assert conflict.value.status_code == 400
    assert "FileAlreadyExistsError" in str(conflict.value)

    renamed = sdk.uploader.upload(b"other", name="my photo", path="deep/er", filenameOverride=True)
    assert re.fullmatch(r"my-photo-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}\.jpeg", renamed["name"])

    replaced = sdk.uploader.upload(b"third", name="my photo", path="deep/er", overwrite=True)
    assert replaced["_id"] == result["_id"]
    assert requests.get(replaced["url"]).content == b"third"


def test_default_names_and_formats(sdk):
    unnamed = sdk.uploader.upload(b"x")
    assert re.fullmatch(r"asset-[A-Za-z0-9]{9}\.jpeg", unnamed["name"])
    assert sdk.uploader.upload(b"x", name="pic", format="png")["name"] == "pic.png"
    assert sdk.uploader.upload(b"x", name="other.png", format="png")["name"] == "other.png"


def test_create_signed_url_v2_shape(api, pixelbin_emulator):
    clock = pixelbin_emulator.emulator.clock
    clock.freeze()
    try:
        now = clock.time()
        presigned = create_v2(api, name="n", path="p", format="png", tags=["t"])
    finally:
        clock.reset()
    url = urlsplit(presigned["url"])
    assert f"{url.scheme}://{url.netloc}" == pixelbin_emulator.url
    assert url.path == "/service/public/assets/v1.0/signed-multipart"
    query = dict(parse_qsl(url.query))
    assert list(query) == ["pbs", "pbe", "pbt", "pbo", "pbu"]
    assert re.fullmatch(r"[0-9a-f]{64}", query["pbs"])
    assert int(query["pbe"]) == int((now + DEFAULT_EXPIRY) * 1000)
    assert query["pbt"] == pixelbin_emulator.access_key
    assert query["pbo"] == str(pixelbin_emulator.org_id)
    assert list(presigned["fields"]) == [ASSET]
    asset = json.loads(presigned["fields"][ASSET])
    assert asset["orgId"] == pixelbin_emulator.org_id
    assert (asset["name"], asset["path"], asset["fileId"], asset["format"]) == (
        "n.png",
        "p",
        "p/n.png",
        "png",
    )
    assert asset["metadata"] == {"source": "signedUrl", "publicUploadId": query["pbu"]}
    assert (asset["type"], asset["access"], asset["tags"]) == ("file", "public-read", ["t"])
    assert (asset["overwrite"], asset["filenameOverride"]) == (False, False)


def test_create_signed_url_v2_with_empty_body(api):
    # PY sends an empty form-encoded body when no argument is given (wire section 3.2).
    response = api.post(
        api.base.replace("/v1.0", "/v2.0") + "/upload/signed-url",
        data=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert json.loads(response.json()["presignedUrl"]["fields"][ASSET])["format"] == "jpeg"


def test_expiry_is_honoured_up_to_the_maximum(api, pixelbin_emulator):
    clock = pixelbin_emulator.emulator.clock
    clock.freeze()
    try:
        now = clock.time()
        pbe = dict(parse_qsl(urlsplit(create_v2(api, expiry=MAX_EXPIRY)["url"]).query))["pbe"]
    finally:
        clock.reset()
    assert int(pbe) == int((now + MAX_EXPIRY) * 1000)


@pytest.mark.parametrize(
    "body",
    [
        {"expiry": MAX_EXPIRY + 1},
        {"expiry": 0},
        {"expiry": "60"},
        {"access": "public"},
        {"format": "jp eg"},
        {"name": "???"},
        {"path": "a//b"},
        {"tags": "t"},
        {"metadata": []},
    ],
)
def test_create_signed_url_v2_rejects_bad_input(api, body):
    response = api.post(api.base.replace("/v1.0", "/v2.0") + "/upload/signed-url", json=body)
    assert_error(response, 400, "ValidationError")


def test_create_signed_url_requires_authorization(pixelbin_emulator):
    for version in ("v1.0", "v2.0"):
        url = f"{pixelbin_emulator.url}/service/platform/assets/{version}/upload/signed-url"
        assert_error(requests.post(url, json={}), 401, "UnauthorizedError")


# -- the multipart URL over raw HTTP ----------------------------------------------------------


def test_parts_out_of_order_and_repeated(api):
    presigned = create_v2(api, name="raw")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    for number, data in ((3, b"ccc"), (1, b"aaa"), (2, b"old"), (2, b"bbb")):
        response = put_part(url, number, data, asset)
        assert response.status_code == 204
        assert response.content == b""
    assert file_ids(api) == []  # nothing is visible before completion
    response = complete(url, [1, 2, 3], asset)
    assert response.status_code == 200, response.text
    assert requests.get(response.json()["url"]).content == b"aaabbbccc"


def test_parts_are_joined_in_the_listed_order(api):
    presigned = create_v2(api, name="order")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    put_part(url, 1, b"one-", asset)
    put_part(url, 2, b"two-", asset)
    put_part(url, 5, b"unused", asset)
    response = complete(url, [2, 1], asset)
    assert requests.get(response.json()["url"]).content == b"two-one-"


def test_concurrent_parts(api):
    presigned = create_v2(api, name="many")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    chunks = [payload(300 + n) for n in range(24)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda n: put_part(url, n + 1, chunks[n], asset).status_code, range(24))
        )
    assert statuses == [204] * 24
    response = complete(url, list(range(1, 25)), asset)
    assert requests.get(response.json()["url"]).content == b"".join(chunks)


@pytest.mark.parametrize("param", ["pbs", "pbe", "pbt", "pbo", "pbu"])
def test_tampered_url_is_rejected(api, pixelbin_emulator, param):
    presigned = create_v2(api, name="t")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    pbe = dict(parse_qsl(urlsplit(url).query))["pbe"]
    replacement = {
        "pbs": "0" * 64,
        "pbe": str(int(pbe) + 1000),
        "pbt": "another-key",
        "pbo": str(pixelbin_emulator.org_id + 1000),
        "pbu": "00000000-0000-4000-8000-000000000000",
    }[param]
    bad = with_param(url, param, replacement)
    assert_error(put_part(bad, 1, b"data", asset), 403, "InvalidSignatureError")
    assert put_part(url, 1, b"data", asset).status_code == 204
    assert_error(complete(bad, [1], asset), 403, "InvalidSignatureError")
    assert file_ids(api) == []
    assert complete(url, [1], asset).status_code == 200


def test_missing_signature_parameter_is_rejected(api):
    presigned = create_v2(api, name="t")
    parts = urlsplit(presigned["url"])
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "pbt"]
    bad = urlunsplit(parts._replace(query=urlencode(query)))
    assert_error(put_part(bad, 1, b"x", presigned["fields"][ASSET]), 403, "InvalidSignatureError")


def test_expired_url_is_rejected(api, pixelbin_emulator):
    presigned = create_v2(api, name="late", expiry=60)
    url, asset = presigned["url"], presigned["fields"][ASSET]
    assert put_part(url, 1, b"early", asset).status_code == 204
    clock = pixelbin_emulator.emulator.clock
    clock.advance(61)
    try:
        assert_error(put_part(url, 2, b"late", asset), 403, "SignedUrlExpiredError")
        assert_error(complete(url, [1], asset), 403, "SignedUrlExpiredError")
    finally:
        clock.reset()
    assert file_ids(api) == []


def test_asset_data_must_match_the_signed_upload(api):
    first = create_v2(api, name="first")
    second = create_v2(api, name="second")
    url, asset = first["url"], first["fields"][ASSET]
    missing = put_part(url, 1, b"x", None)
    assert_error(missing, 400, "MissingMultipartMetaError")
    assert missing.json()["message"] == "Missing x-pixb-meta-assetdata field"
    other = second["fields"][ASSET]
    assert_error(put_part(url, 1, b"x", other), 400, "InvalidMultipartMetaError")
    edited = json.dumps(json.loads(asset) | {"name": "evil.jpeg"})
    assert_error(put_part(url, 1, b"x", edited), 400, "InvalidMultipartMetaError")
    assert_error(put_part(url, 1, b"x", "{not json"), 400, "InvalidMultipartMetaError")
    assert put_part(url, 1, b"x", asset).status_code == 204
    assert_error(complete(url, [1], None), 400, "MissingMultipartMetaError")
    assert_error(complete(url, [1], other), 400, "InvalidMultipartMetaError")
    assert file_ids(api) == []
    # The same JSON with other spacing is the same asset data.
    assert complete(url, [1], json.dumps(json.loads(asset), indent=1)).status_code == 200


def test_missing_part_is_rejected_and_can_still_be_sent(api):
    presigned = create_v2(api, name="gap")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    put_part(url, 1, b"a", asset)
    put_part(url, 3, b"c", asset)
    assert_error(complete(url, [1, 2, 3], asset), 400, "ValidationError")
    assert file_ids(api) == []
    put_part(url, 2, b"b", asset)
    response = complete(url, [1, 2, 3], asset)
    assert requests.get(response.json()["url"]).content == b"abc"


def test_completed_upload_cannot_be_used_again(api, pixelbin_emulator):
    presigned = create_v2(api, name="once")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    put_part(url, 1, b"a", asset)
    assert complete(url, [1], asset).status_code == 200
    assert_error(complete(url, [1], asset), 400, "UploadAlreadyCompletedError")
    assert_error(put_part(url, 2, b"b", asset), 400, "UploadAlreadyCompletedError")
    # The parts were freed once the file was stored.
    upload_id = dict(parse_qsl(urlsplit(url).query))["pbu"]
    assert pixelbin_emulator.org.signed_uploads.session(upload_id).parts == {}


def test_failed_completion_keeps_the_parts(api, sdk):
    sdk.uploader.upload(b"first", name="taken")
    presigned = create_v2(api, name="taken")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    put_part(url, 1, b"sec", asset)
    put_part(url, 2, b"ond", asset)
    assert_error(complete(url, [1, 2], asset), 400, "FileAlreadyExistsError")
    assert requests.get(sdk.assets.getFileByFileId(fileId="taken.jpeg")["url"]).content == b"first"
    # The parts survive the failure: once the name is free, the same completion succeeds.
    sdk.assets.deleteFile(fileId="taken.jpeg")
    put_part(url, 2, b"OND", asset)
    response = complete(url, [1, 2], asset)
    assert requests.get(response.json()["url"]).content == b"secOND"


@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("", "file"),
        ("&partNumber=0", "file"),
        ("&partNumber=10001", "file"),
        ("&partNumber=two", "file"),
        ("&partNumber=1", "no-file"),
        ("&partNumber=1", "raw"),
    ],
)
def test_bad_part_requests(api, suffix, body):
    presigned = create_v2(api, name="bad")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    if body == "file":
        response = requests.put(url + suffix, files={"file": ("file", b"x")}, data={ASSET: asset})
    elif body == "no-file":
        response = requests.put(url + suffix, files={ASSET: (None, asset)})
    else:
        response = requests.put(url + suffix, data=b"x")
    assert_error(response, 400, "ValidationError")


@pytest.mark.parametrize("parts", [None, "1", [1, 1], [0], [True], ["1"]])
def test_bad_part_lists(api, parts):
    presigned = create_v2(api, name="bad")
    url, asset = presigned["url"], presigned["fields"][ASSET]
    put_part(url, 1, b"x", asset)
    assert_error(complete(url, parts, asset), 400, "ValidationError")


def test_unknown_upload_session(pixelbin_emulator):
    org = pixelbin_emulator.org
    params = {
        "pbe": str(int((org.clock.time() + 60) * 1000)),
        "pbt": org.access_key,
        "pbo": str(org.org_id),
        "pbu": "unknown",
    }
    message = "signed-multipart\n" + "\n".join(params[k] for k in ("pbo", "pbu", "pbe", "pbt"))
    signed = {"pbs": hmac_hex(org.api_secret, message)} | params
    url = f"{pixelbin_emulator.url}/service/public/assets/v1.0/signed-multipart?{urlencode(signed)}"
    assert_error(put_part(url, 1, b"x", "{}"), 404, "NotFoundError")


def test_parts_beyond_the_file_size_limit_are_refused():
    emulator = Emulator(limits=Limits(max_file_bytes=10))
    org = emulator.create_org()
    client = create_app(emulator, Settings()).test_client()
    token = base64.b64encode(org.api_secret.encode()).decode()
    presigned = client.post(
        "/service/platform/assets/v2.0/upload/signed-url",
        json={"name": "big"},
        headers={"Authorization": f"Bearer {token}"},
    ).json["presignedUrl"]
    url = presigned["url"].split("://", 1)[1].split("/", 1)[1]
    asset = presigned["fields"][ASSET]

    def put(number: int, data: bytes) -> int:
        form = {"file": (io.BytesIO(data), "file"), ASSET: asset}
        return client.put(f"/{url}&partNumber={number}", data=form).status_code

    assert put(1, b"123456") == 204
    assert put(2, b"123456") == 400
    assert put(1, b"1234") == 204  # replacing a part frees its share of the limit
    assert put(2, b"123456") == 204


# -- v1: S3-style presigned POST ---------------------------------------------------------------


def create_v1(api: Any, **body: Any) -> dict[str, Any]:
    response = api.post(api.base + "/upload/signed-url", json=body)
    assert response.status_code == 200, response.text
    return response.json()["s3PresignedUrl"]


def browser_post(
    url: str, fields: dict[str, str], data: bytes | None, filename: str = "photo.png"
) -> requests.Response:
    """Fields first, then the file, as a browser submits the form."""
    form: list[tuple[str, Any]] = [(key, (None, value)) for key, value in fields.items()]
    if data is not None:
        form.append(("file", (filename, data, "image/png")))
    return requests.post(url, files=form)


def assert_s3_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/xml")
    assert f"<Error><Code>{code}</Code><Message>" in response.text


def test_create_signed_url_v1_shape(api, sdk, pixelbin_emulator):
    presigned = sdk.assets.createSignedUrl(path="dir", format="png")["s3PresignedUrl"]
    url = urlsplit(presigned["url"])
    assert f"{url.scheme}://{url.netloc}" == pixelbin_emulator.url
    assert url.path.startswith("/service/public/assets/v1.0/s3/")
    fields = presigned["fields"]
    assert list(fields) == [
        "key",
        "x-amz-meta-assetData",
        "x-amz-meta-token",
        "bucket",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "Policy",
        "X-Amz-Signature",
    ]
    asset = json.loads(fields["x-amz-meta-assetData"])
    assert re.fullmatch(r"asset-[A-Za-z0-9]{9}", asset["name"])  # v1 names have no extension
    assert asset["fileId"] == f"dir/{asset['name']}"
    assert asset["format"] == "png"
    assert asset["metadata"] == {"source": "signedUrl"}
    assert fields["X-Amz-Credential"].startswith(pixelbin_emulator.access_key + "/")
    policy = json.loads(base64.b64decode(fields["Policy"]))
    assert ["content-length-range", 0, POST_MAX_BYTES] in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]
    written = datetime.strptime(fields["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires = datetime.fromisoformat(policy["expiration"])
    assert 300 <= (expires - written).total_seconds() < 301
    assert create_v1(api)["fields"]["x-amz-meta-token"] != fields["x-amz-meta-token"]


def test_browser_post_stores_the_file(api, sdk):
    presigned = create_v1(api, name="from browser", path="web", tags=["w"])
    image = png_bytes((4, 5))
    response = browser_post(presigned["url"], presigned["fields"], image)
    assert response.status_code == 204
    assert response.content == b""
    stored = sdk.assets.getFileByFileId(fileId="web/from-browser")
    assert (stored["format"], stored["width"], stored["height"]) == ("png", 4, 5)
    assert stored["tags"] == ["w"]
    assert stored["metadata"] == {"source": "signedUrl"}
    assert requests.get(stored["url"]).content == image


@pytest.mark.parametrize("status", ["200", "201"])
def test_success_action_status(api, sdk, status):
    presigned = create_v1(api, name="s")
    fields = presigned["fields"] | {"success_action_status": status}
    response = browser_post(presigned["url"], fields, b"bytes")
    assert response.status_code == int(status)
    if status == "201":
        assert "<PostResponse>" in response.text
        assert f"<Key>{fields['key']}</Key>" in response.text
    assert sdk.assets.getFileByFileId(fileId="s")["size"] == 5


def test_tampered_policy_is_rejected(api):
    presigned = create_v1(api, name="p")
    fields = dict(presigned["fields"])
    policy = json.loads(base64.b64decode(fields["Policy"]))
    policy["conditions"][0] = ["content-length-range", 0, 10**12]
    fields["Policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    assert_s3_error(browser_post(presigned["url"], fields, b"x"), 403, "SignatureDoesNotMatch")
    bad_signature = presigned["fields"] | {"X-Amz-Signature": "0" * 64}
    assert_s3_error(
        browser_post(presigned["url"], bad_signature, b"x"), 403, "SignatureDoesNotMatch"
    )
    assert file_ids(api) == []


def test_changed_field_fails_the_policy(api):
    presigned = create_v1(api, name="p")
    fields = presigned["fields"] | {"key": "uploads/elsewhere.jpeg"}
    assert_s3_error(browser_post(presigned["url"], fields, b"x"), 403, "AccessDenied")
    asset = json.loads(presigned["fields"]["x-amz-meta-assetData"]) | {"name": "other"}
    fields = presigned["fields"] | {"x-amz-meta-assetData": json.dumps(asset)}
    assert_s3_error(browser_post(presigned["url"], fields, b"x"), 403, "AccessDenied")
    assert file_ids(api) == []


def test_expired_policy_is_rejected(api, pixelbin_emulator):
    presigned = create_v1(api, name="late")
    clock = pixelbin_emulator.emulator.clock
    clock.advance(301)
    try:
        response = browser_post(presigned["url"], presigned["fields"], b"x")
    finally:
        clock.reset()
    assert_s3_error(response, 403, "AccessDenied")
    assert "Policy expired" in response.text
    assert file_ids(api) == []


def test_size_outside_the_policy_range_is_rejected(api, pixelbin_emulator):
    presigned = create_v1(api, name="big")
    fields = dict(presigned["fields"])
    policy = json.loads(base64.b64decode(fields["Policy"]))
    policy["conditions"][0] = ["content-length-range", 2, 10]
    fields["Policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    # Signed as the emulator signs, so only the range decides.
    fields["X-Amz-Signature"] = hmac_hex(pixelbin_emulator.api_secret, fields["Policy"])
    assert_s3_error(browser_post(presigned["url"], fields, b"x" * 11), 400, "EntityTooLarge")
    assert_s3_error(browser_post(presigned["url"], fields, b"x"), 400, "EntityTooSmall")
    assert file_ids(api) == []
    assert browser_post(presigned["url"], fields, b"x" * 10).status_code == 204


def test_other_v1_rejections(api, pixelbin_emulator):
    presigned = create_v1(api, name="once")
    url, fields = presigned["url"], presigned["fields"]
    assert_s3_error(browser_post(url, fields, None), 400, "InvalidArgument")
    assert_s3_error(requests.post(url, data=fields), 400, "InvalidArgument")
    unknown = fields | {"X-Amz-Credential": "nobody/20260101/emulator/s3/aws4_request"}
    assert_s3_error(browser_post(url, unknown, b"x"), 403, "InvalidAccessKeyId")
    assert_s3_error(browser_post(url + "-other", fields, b"x"), 404, "NoSuchBucket")
    assert browser_post(url, fields, b"x").status_code == 204
    assert_s3_error(browser_post(url, fields, b"x"), 403, "AccessDenied")  # used already


def test_v1_upload_rules_apply(api, sdk):
    sdk.uploader.upload(b"first", name="dup", format="png")
    presigned = create_v1(api, name="dup.png")
    response = browser_post(presigned["url"], presigned["fields"], b"second")
    assert_s3_error(response, 400, "FileAlreadyExistsError")
    presigned = create_v1(api, name="dup.png", overwrite=True)
    assert browser_post(presigned["url"], presigned["fields"], b"second").status_code == 204
    assert requests.get(sdk.assets.getFileByFileId(fileId="dup.png")["url"]).content == b"second"


def test_expired_sessions_are_dropped(api, pixelbin_emulator):
    uploads = pixelbin_emulator.org.signed_uploads
    old = dict(parse_qsl(urlsplit(create_v2(api, expiry=1)["url"]).query))["pbu"]
    assert uploads.session(old).parts == {}
    clock = pixelbin_emulator.emulator.clock
    clock.advance(2)
    try:
        create_v2(api)
    finally:
        clock.reset()
    with pytest.raises(NotFoundError):
        uploads.session(old)


def test_abandoned_sessions_are_dropped_on_the_next_part_of_another_upload(api, pixelbin_emulator):
    uploads = pixelbin_emulator.org.signed_uploads
    abandoned = dict(parse_qsl(urlsplit(create_v2(api, expiry=1)["url"]).query))
    uploads.session(abandoned["pbu"]).parts[1] = b"x" * 1000
    live = dict(parse_qsl(urlsplit(create_v2(api, expiry=600)["url"]).query))
    clock = pixelbin_emulator.emulator.clock
    clock.advance(2)
    try:
        uploads.session(live["pbu"])  # what every part PUT of the live upload does first
        with pytest.raises(NotFoundError):
            uploads.session(abandoned["pbu"])
    finally:
        clock.reset()
