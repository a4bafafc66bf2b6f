"""Malformed requests get a 4xx in the API's error format and change nothing."""

from __future__ import annotations

import base64

import pytest
import requests

from .helpers import assert_error, png, state


@pytest.fixture
def seeded(api, pixelbin_emulator):
    """An org with a folder and a file, and its state before the bad request."""
    response = api.post(
        api.base + "/upload/direct",
        files={"file": ("a.png", png())},
        data={"path": "dir", "name": "a"},
    )
    assert response.status_code == 200, response.text
    return response.json()


AUTH_CASES = [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer not-base64!!"},
    {"Authorization": "Basic " + base64.b64encode(b"x").decode()},
    {"Authorization": "Bearer " + base64.b64encode(b"unknown-secret").decode()},
    {"Authorization": "Bearer " + base64.b64encode(b"\xff\xfe").decode()},
]


@pytest.mark.parametrize("headers", AUTH_CASES)
def test_bad_credentials_are_401(pixelbin_emulator, headers):
    response = requests.get(
        pixelbin_emulator.url + "/service/platform/assets/v1.0/listFiles",
        headers=headers,
        timeout=5,
    )
    body = assert_error(response, 401)
    assert body["message"] == "Invalid authorization token"


def test_legacy_signature_headers_are_ignored(api):
    headers = {"x-ebg-param": "MjAyNjExMjdUMDg0NTEyWg==", "x-ebg-signature": "v1:deadbeef"}
    assert api.get(api.base + "/listFiles", headers=headers).status_code == 200


def test_an_org_cannot_see_another_orgs_files(api, pixelbin_emulator, seeded):
    other = pixelbin_emulator.emulator.create_org()
    try:
        token = base64.b64encode(other.api_secret.encode()).decode()
        response = requests.get(
            api.base + "/files/id/" + seeded["_id"],
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert_error(response, 404)
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)


JSON_CASES = [
    # (method, path, json body or raw data, expected status)
    ("patch", "/files/dir/a", {"access": "public"}, 400),
    ("patch", "/files/dir/a", {"access": 1}, 400),
    ("patch", "/files/dir/a", {"tags": "not-a-list"}, 400),
    ("patch", "/files/dir/a", {"tags": [1, 2]}, 400),
    ("patch", "/files/dir/a", {"metadata": []}, 400),
    ("patch", "/files/dir/a", {"isActive": "yes"}, 400),
    ("patch", "/files/dir/a", {"name": ""}, 400),
    ("patch", "/files/dir/a", {"name": "日本"}, 400),
    ("patch", "/files/dir/a", {"name": ".."}, 400),
    ("patch", "/files/dir/a", {"path": "x/../y"}, 400),
    ("patch", "/files/dir/a", {"path": "x//y"}, 400),
    ("patch", "/files/dir/a", {"name": "n" * 300}, 400),
    ("patch", "/files/dir/missing", {"access": "private"}, 404),
    ("delete", "/files/dir/missing", None, 404),
    ("post", "/files/delete", {}, 400),
    ("post", "/files/delete", {"ids": "x"}, 400),
    ("post", "/files/delete", {"ids": [1]}, 400),
    ("post", "/folders", {}, 400),
    ("post", "/folders", {"name": 5}, 400),
    ("post", "/folders", {"name": "ok", "path": "../up"}, 400),
    ("post", "/folders", {"name": "ok", "path": "a//b"}, 400),
    ("post", "/folders", {"name": "dir"}, 409),
    ("patch", "/folders/dir", {"isActive": "false"}, 400),
    ("patch", "/folders/missing", {"isActive": False}, 404),
    ("delete", "/folders/not-an-id", None, 404),
    ("post", "/upload/url", {}, 400),
    ("post", "/upload/url", {"url": 7}, 400),
    ("post", "/upload/url", {"url": "ftp://example.com/a.png"}, 400),
    ("post", "/upload/url", {"url": "data:image/png;base64,!!!"}, 400),
    ("post", "/upload/url", {"url": "data:nocomma"}, 400),
    ("post", "/upload/url", {"url": "data:,x", "access": "everyone"}, 400),
    ("post", "/upload/url", {"url": "data:,x", "name": "a", "path": "dir"}, 400),
    ("post", "/upload/url", {"url": "data:,x", "overwrite": "true"}, 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), JSON_CASES)
def test_bad_json_requests(api, pixelbin_emulator, seeded, method, path, body, status):
    before = state(pixelbin_emulator)
    response = api.request(method, api.base + path, json=body)
    assert_error(response, status)
    assert state(pixelbin_emulator) == before


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"null"], ids=repr
)
def test_body_that_claims_json_but_is_not_an_object(api, pixelbin_emulator, seeded, raw):
    before = state(pixelbin_emulator)
    response = api.post(
        api.base + "/folders", data=raw, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400)
    assert state(pixelbin_emulator) == before


def test_empty_form_encoded_body_means_empty_object(api, seeded):
    # What pixelbin 4.3.0 sends for updateFolder(folderId=...) without isActive.
    response = api.patch(
        api.base + "/folders/dir",
        data=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and response.json()["isActive"] is True


QUERY_CASES = [
    "pageNo=0",
    "pageNo=-1",
    "pageNo=abc",
    "pageSize=0",
    "pageSize=101",
    "pageSize=1.5",
    "onlyFiles=maybe",
    "onlyFolders=2",
    "sort=bogus",
    "path=a//b",
    "path=../x",
]


@pytest.mark.parametrize("query", QUERY_CASES)
def test_bad_list_queries(api, query):
    assert_error(api.get(api.base + "/listFiles?" + query), 400)


def test_false_means_false(api, seeded):
    answer = api.get(api.base + "/listFiles?onlyFolders=false&onlyFiles=False").json()
    assert [item["type"] for item in answer["items"]] == ["folder"]


def test_list_parameters_in_every_sdk_encoding(api, seeded):
    api.post(
        api.base + "/upload/direct",
        files={"file": ("b.png", png())},
        data={"path": "dir", "name": "b", "tags": ["t1", "t 2"]},
    )
    for query in ("tags%5B0%5D=t1", "tags=t1", "tags%5B%5D=t1", "tags=%5Bt1%20zz%5D"):
        answer = api.get(api.base + "/listFiles?path=dir&" + query).json()
        assert [item["name"] for item in answer["items"]] == ["b"], query


def test_folder_details_without_a_name_looks_up_the_path(api):
    assert_error(api.get(api.base + "/folders?path=x"), 404)
    assert_error(api.get(api.base + "/folders?path=a/./b"), 400)


UPLOAD_CASES = [
    ({"data": {"name": "x"}}, 400),  # no file part
    ({"files": {"file": ("a.png", b"\x89PNG")}, "data": {"access": "public"}}, 400),
    ({"files": {"file": ("a.png", b"x")}, "data": {"metadata": "map[k:v]"}}, 400),
    ({"files": {"file": ("a.png", b"x")}, "data": {"metadata": "[1]"}}, 400),
    ({"files": {"file": ("a.png", b"x")}, "data": {"overwrite": "perhaps"}}, 400),
    ({"files": {"file": ("a.png", b"x")}, "data": {"path": "a/./b"}}, 400),
    ({"files": {"file": ("a.png", b"x")}, "data": {"name": "a", "path": "dir"}}, 400),
    ({"files": {"file": ("a.png", b"x")}, "data": {"name": "///"}}, 400),
]


@pytest.mark.parametrize(("kwargs", "status"), UPLOAD_CASES)
def test_bad_uploads(api, pixelbin_emulator, seeded, kwargs, status):
    before = state(pixelbin_emulator)
    assert_error(api.post(api.base + "/upload/direct", **kwargs), status)
    assert state(pixelbin_emulator) == before


@pytest.mark.parametrize(
    "body",
    [
        b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nunterminated',
        b"garbage that is not multipart at all",
        b"",
    ],
)
def test_broken_multipart(api, pixelbin_emulator, seeded, body):
    before = state(pixelbin_emulator)
    response = api.post(
        api.base + "/upload/direct",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert_error(response, 400)
    assert state(pixelbin_emulator) == before


def test_upload_with_a_json_body_is_a_400(api):
    assert_error(api.post(api.base + "/upload/direct", json={"file": "x"}), 400)


def test_unknown_route_and_method_are_errors_in_the_api_format(api):
    assert_error(api.get(api.base + "/no-such-thing"), 404)
    assert_error(api.put(api.base + "/folders"), 405)


def test_oversized_image_is_refused(api, pixelbin_emulator):
    from .helpers import png as make_png

    big = make_png(10_001, 1)
    before = state(pixelbin_emulator)
    response = api.post(api.base + "/upload/direct", files={"file": ("big.png", big)})
    assert "10000 px" in assert_error(response, 400)["message"]
    assert state(pixelbin_emulator) == before
