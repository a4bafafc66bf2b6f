"""The upload flows' wire structs (issue 14 item 1): the published request bodies and forms are
the structs' own, a refused field is named with the rule its schema publishes, and the forms the
SDKs send (Python and JS admin SDKs, a browser's presigned POST) are the ones described."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pixelbin import PixelbinClient, PixelbinConfig
from werkzeug.datastructures import MultiDict

from pixelbin_emulator.api import wire
from pixelbin_emulator.api.wire import uploads as wire_uploads
from pixelbin_emulator.api.wire.forms import decode_form, form_document
from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.core.signed_uploads import MAX_EXPIRY, MAX_PART_NUMBER, SignedUploadRequest
from pixelbin_emulator.openapi import openapi_document
from pixelbin_emulator.pytest_plugin import FETCH_HINT, default_emulator
from pixelbin_emulator.server import LiveServer
from pixelbin_emulator.settings import Settings

from .contract import Contract, FormRecorder, form_violations
from .helpers import png

PNG = png()

ASSETS = "/service/platform/assets/v1.0"
PUBLIC = "/service/public/assets/v1.0"
JS_DIR = Path(__file__).parent / "js"


def _schemas() -> dict[str, Any]:
    return openapi_document()["components"]["schemas"]


def test_the_published_schemas_are_the_structs_own():
    generated = wire.schemas(*wire_uploads.REQUESTS, *wire_uploads.FORMS, *wire_uploads.RESPONSES)
    assert {name: _schemas()[name] for name in generated} == generated
    paths = openapi_document()["paths"]
    json_bodies = [
        (f"{ASSETS}/upload/url", "UrlUpload"),
        (f"{ASSETS}/upload/signed-url", "SignedUpload"),
        ("/service/platform/assets/v2.0/upload/signed-url", "SignedUploadV2"),
        (f"{PUBLIC}/signed-multipart", "MultipartComplete"),
    ]
    for path, name in json_bodies:
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{name}"}
    forms = [
        (f"{ASSETS}/upload/direct", "post", "FileUploadForm"),
        (f"{PUBLIC}/signed-multipart", "put", "PartForm"),
        (f"{PUBLIC}/s3/{{bucket}}", "post", "PresignedPostForm"),
    ]
    for path, method, name in forms:
        content = paths[path][method]["requestBody"]["content"]
        schema = content["multipart/form-data"]["schema"]
        assert schema["allOf"] == [{"$ref": f"#/components/schemas/{name}"}]
        assert schema["properties"] == {"file": {"type": "string", "format": "binary"}}
    for name in ("Upload", "PresignedUrlV1", "PresignedUrlV2"):
        assert _schemas()[name]["additionalProperties"] is False


def test_the_core_limits_are_the_published_ones():
    schemas = _schemas()
    expiry = schemas["SignedUploadV2"]["properties"]["expiry"]["anyOf"][0]
    assert (expiry["minimum"], expiry["maximum"]) == (1, MAX_EXPIRY)
    part = schemas["MultipartComplete"]["properties"]["parts"]["items"]
    assert (part["minimum"], part["maximum"]) == (1, MAX_PART_NUMBER)
    assert schemas["MultipartComplete"]["properties"]["parts"]["uniqueItems"] is True
    with pytest.raises(ValidationError, match=f"part numbers run from 1 to {MAX_PART_NUMBER}"):
        wire.decode({"parts": [MAX_PART_NUMBER + 1]}, wire_uploads.MultipartComplete)


def test_the_core_refuses_a_repeated_part_and_keeps_the_parts():
    """Regression: with the distinct-numbers check only in the API, a caller of the core that
    listed a part twice got a KeyError after the first copy was popped, losing that part."""
    emulator = Emulator()
    uploads = emulator.create_org().signed_uploads
    ticket = uploads.create_multipart(SignedUploadRequest(name="a", format="png"))
    uploads.add_part(ticket.query, 1, ticket.asset_data, PNG)
    session = uploads.multipart_session(ticket.query, ticket.asset_data)
    with pytest.raises(ValidationError, match="parts lists a part more than once"):
        uploads.complete(session, [1, 1])
    assert uploads.complete(session, [1]).size == len(PNG)


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        ({}, wire_uploads.UrlUpload, "url"),
        ({"url": 7}, wire_uploads.UrlUpload, "url"),
        ({"url": ""}, wire_uploads.UrlUpload, "url"),
        ({"url": "data:,x", "tags": "a"}, wire_uploads.UrlUpload, "tags"),
        ({"url": "data:,x", "metadata": []}, wire_uploads.UrlUpload, "metadata"),
        ({"url": "data:,x", "overwrite": "true"}, wire_uploads.UrlUpload, "overwrite"),
        ({"url": "data:,x", "access": 1}, wire_uploads.UrlUpload, "access"),
        ({"format": 1}, wire_uploads.SignedUpload, "format"),
        ({"filenameOverride": 0}, wire_uploads.SignedUpload, "filenameOverride"),
        ({"expiry": "60"}, wire_uploads.SignedUploadV2, "expiry"),
        ({"expiry": True}, wire_uploads.SignedUploadV2, "expiry"),
        ({}, wire_uploads.MultipartComplete, "parts"),
        ({"parts": [1, "2"]}, wire_uploads.MultipartComplete, "parts"),
        ({"parts": [True]}, wire_uploads.MultipartComplete, "parts"),
    ],
)
def test_a_refused_field_is_named_with_the_rule_the_schema_publishes(body, kind, field):
    with pytest.raises(ValidationError) as refused:
        wire.decode(body, kind)
    message = str(refused.value)
    assert message.startswith(f"{field} must be ")
    assert message.removeprefix(f"{field} must be ") in str(_schemas()[kind.__name__])


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("overwrite", "yes")], "overwrite must be true or false"),
        ([("filenameOverride", "2")], "filenameOverride must be true or false"),
        ([("metadata", "[1]")], "metadata must be a JSON object"),
        ([("metadata", "{")], "metadata is not valid JSON"),
    ],
)
def test_a_refused_form_field_is_named_with_the_rule_the_schema_publishes(pairs, message):
    with pytest.raises(ValidationError, match=f"^{message}$"):
        decode_form(MultiDict(pairs), wire_uploads.FileUploadForm)
    rule = message.partition(" must be ")[2]
    assert not rule or rule in str(_schemas()["FileUploadForm"])


def test_the_form_spellings_are_a_first_pass():
    form = MultiDict(
        [
            ("tags[1]", "b"),
            ("tags[0]", "a"),
            ("overwrite", " TRUE "),
            ("filenameOverride", "0"),
            ("metadata", '{"k": [1]}'),
            ("name", ""),
            ("undeclared", "x"),
        ]
    )
    assert form_document(form, wire_uploads.FileUploadForm) == {
        "tags": ["a", "b"],
        "overwrite": True,
        "filenameOverride": False,
        "metadata": {"k": [1]},
    }
    assert form_document(MultiDict([("tags", "[a b]")]), wire_uploads.FileUploadForm) == {
        "tags": ["a", "b"]
    }


def test_an_undescribed_or_ill_typed_form_field_is_a_violation():
    contract = Contract()
    endpoint = "uploads.file_upload"
    good = MultiDict([("tags[0]", "a"), ("tags[1]", "b"), ("overwrite", "1"), ("path", "p")])
    assert form_violations(contract, endpoint, good, ["file"]) == []
    extra = MultiDict([("undescribed", "x")])
    assert form_violations(contract, endpoint, extra, ["file"]) == [
        "uploads.file_upload form: field 'undescribed' is not described"
    ]
    bad = MultiDict([("overwrite", "yes"), ("metadata", "[1]"), ("access", "everyone")])
    assert len(form_violations(contract, endpoint, bad, ["file"])) == 3
    assert "required part 'file'" in form_violations(contract, endpoint, good, [])[0]
    assert "file part 'other'" in form_violations(contract, endpoint, good, ["file", "other"])[0]
    json_only = form_violations(contract, "uploads.url_upload", good, [])
    assert json_only == [
        "uploads.url_upload form: the operation describes no multipart/form-data body"
    ]


# -- the forms the SDKs send -------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[LiveServer, FormRecorder]]:
    """A server of its own whose accepted multipart forms are kept (the session server's app
    cannot take a new hook once it has served)."""
    recorder = FormRecorder()
    app = create_app(default_emulator(), Settings(allow_fetch=False, fetch_hint=FETCH_HINT))
    app.after_request(recorder.after_request)
    with LiveServer(app) as server:
        yield server, recorder


def _check(recorder: FormRecorder, endpoints: set[str]) -> None:
    contract = Contract()
    seen = {endpoint for endpoint, _, _ in recorder.forms}
    assert endpoints <= seen
    found = [
        violation
        for endpoint, form, files in recorder.forms
        for violation in form_violations(contract, endpoint, form, files)
    ]
    assert found == []


def test_the_python_sdk_sends_described_forms(recorded, event_loop):
    """``event_loop``: the SDK's sync methods run on the current loop."""
    server, recorder = recorded
    org = server.emulator.create_org(name="python-forms")
    recorder.forms.clear()
    config = {"domain": server.url, "apiSecret": org.api_secret}
    sdk = PixelbinClient(PixelbinConfig(config))
    sdk.assets.fileUpload(
        file=png(),
        name="pic",
        path="py",
        access="private",
        tags=["a", "b"],
        metadata={"m": 1},
        overwrite=False,
        filenameOverride=True,
    )
    sdk.uploader.upload(b"x" * 3000, name="parts", uploadOptions={"chunkSize": 1024})
    presigned = sdk.assets.createSignedUrl(name="v1", format="png")["s3PresignedUrl"]
    fields = presigned["fields"] | {"success_action_status": "201"}
    posted = requests.post(presigned["url"], data=fields, files={"file": ("v1.png", png())})
    assert posted.status_code == 201
    _check(
        recorder,
        {"uploads.file_upload", "signed_uploads.upload_part", "signed_uploads.post_object"},
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_js_admin_sdk_sends_described_forms(recorded):
    server, recorder = recorded
    org = server.emulator.create_org(name="js-forms")
    recorder.forms.clear()
    result = subprocess.run(
        ["node", str(JS_DIR / "sdk_smoke.js")],
        env={**os.environ, "PIXELBIN_URL": server.url, "PIXELBIN_SECRET": org.api_secret},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _check(
        recorder,
        {"uploads.file_upload", "signed_uploads.upload_part", "signed_uploads.post_object"},
    )


@pytest.mark.parametrize("asset_data", [5, ["x"], True])
def test_asset_data_of_another_type_is_the_cores_to_refuse(api, asset_data):
    """The completion's asset data is compared with the signed upload's by the core, whatever
    its type: a number is an InvalidMultipartMetaError, as before the struct."""
    v2 = api.base.replace("/v1.0", "/v2.0") + "/upload/signed-url"
    url = api.post(v2, json={"name": "n"}).json()["presignedUrl"]["url"]
    answer = requests.post(url, json={"parts": [1], "x-pixb-meta-assetdata": asset_data})
    assert answer.status_code == 400
    assert answer.json()["exception"] == "InvalidMultipartMetaError"


@pytest.mark.parametrize("parts", [None, "x", [0], [1, 1]])
def test_the_url_and_asset_data_are_judged_before_the_parts(api, parts):
    """As before the struct: an altered URL is a 403 and missing asset data its own 400,
    whatever the parts say."""
    v2 = api.base.replace("/v1.0", "/v2.0") + "/upload/signed-url"
    presigned = api.post(v2, json={"name": "n"}).json()["presignedUrl"]
    url, asset = presigned["url"], presigned["fields"]["x-pixb-meta-assetdata"]
    body = {"parts": parts, "x-pixb-meta-assetdata": asset}
    altered = requests.post(url.replace("pbs=", "pbs=0"), json=body)
    assert (altered.status_code, altered.json()["exception"]) == (403, "InvalidSignatureError")
    missing = requests.post(url, json={"parts": parts})
    assert missing.json()["exception"] == "MissingMultipartMetaError"
    refused = requests.post(url, json=body)
    assert (refused.status_code, refused.json()["exception"]) == (400, "ValidationError")
