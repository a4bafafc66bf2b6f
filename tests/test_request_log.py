"""The request log: one line per request on stdout, saying why a request failed."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from waitress.channel import ClientDisconnected

from pixelbin_emulator.app import create_app
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.settings import Settings

from .helpers import fault_rule

SECRET = "dev-api-secret-0000-0000-000000000000"
AUTH = {"Authorization": "Bearer " + base64.b64encode(SECRET.encode()).decode()}
API = "/service/platform/assets/v1.0"
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z org=(?P<org>\S+) (?P<method>[A-Z]+) (?P<target>\S+) "
    r"(?P<status>\d+) (?P<operation>\S+) (?P<ms>\d+\.\d)ms(?: reason=(?P<reason>\".*\"))?$"
)


def client(log: str | None = "text"):
    emulator = default_emulator()
    return emulator, create_app(emulator, Settings(request_log=log)).test_client()


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_one_text_line_per_request(capsys):
    _, app = client()
    app.post(API + "/upload/direct", headers=AUTH, data={"file": (io.BytesIO(b"hi"), "a.txt")})
    app.get(API + "/listFiles?pageSize=5", headers=AUTH)
    app.get("/_emulator/health")
    upload, listing, health = (LINE.match(line) for line in lines(capsys))
    assert upload["org"] == "1" and upload["method"] == "POST" and upload["status"] == "200"
    assert upload["operation"] == "fileUpload" and upload["target"] == API + "/upload/direct"
    assert (
        listing["target"] == API + "/listFiles?pageSize=5" and listing["operation"] == "listFiles"
    )
    assert health["org"] == "-" and health["operation"] == "health"
    assert all(match["reason"] is None for match in (upload, listing, health))


def test_errors_say_why(capsys):
    _, app = client()
    app.get(API + "/files/missing", headers=AUTH)
    app.get(API + "/listFiles", headers={"Authorization": "Bearer bm9wZQ=="})
    missing, unauthorized = (LINE.match(line) for line in lines(capsys))
    assert missing["status"] == "404" and "missing" in json.loads(missing["reason"])
    assert unauthorized["status"] == "401" and unauthorized["org"] == "-"
    assert json.loads(unauthorized["reason"]) == "Invalid authorization token"


def test_a_bad_cdn_signature_says_why(capsys):
    emulator, app = client()
    org = emulator.org(1)
    form = {"file": (io.BytesIO(b"private"), "p.txt"), "name": "p", "access": "private"}
    app.post(API + "/upload/direct", headers=AUTH, data=form)
    url = f"/v2/{org.cloud_name}/original/p.txt"
    app.get(url)
    app.get(url + f"?pbs=00&pbe=9999999999&pbt={org.access_key}")
    _, unsigned, forged = (LINE.match(line) for line in lines(capsys))
    assert unsigned["status"] == "401" and "signed URL" in unsigned["reason"]
    assert forged["status"] == "401" and json.loads(forged["reason"]) == "Invalid signature"
    assert forged["operation"] == "getCdnFile" and forged["org"] == "1"


def test_a_fault_that_fired_is_named(capsys):
    emulator, app = client()
    rule = emulator.faults.add(fault_rule({"operation": "listFiles", "status": 503, "times": 1}))
    app.get(API + "/listFiles", headers=AUTH)
    app.get(API + "/listFiles", headers=AUTH)
    faulted, passed = (LINE.match(line) for line in lines(capsys))
    assert faulted["status"] == "503"
    assert json.loads(faulted["reason"]) == f"fault rule {rule.id}: answered 503"
    assert passed["status"] == "200" and passed["reason"] is None


def test_json_lines(capsys):
    emulator, app = client("json")
    emulator.faults.add(fault_rule({"operation": "getFileById", "drop": True}))
    with pytest.raises(ClientDisconnected):  # what waitress turns into a closed connection
        app.get(API + "/files/id/nothing", headers=AUTH)
    (line,) = lines(capsys)
    entry = json.loads(line)
    assert entry["orgId"] == 1 and entry["status"] == 0 and entry["operation"] == "getFileById"
    assert entry["reason"] == "fault rule 1: connection dropped"
    assert set(entry) == {
        "time",
        "orgId",
        "method",
        "path",
        "query",
        "status",
        "operation",
        "durationMs",
        "reason",
    }


def test_quiet_and_in_process_apps_log_nothing(capsys):
    _, app = client(None)
    app.get(API + "/listFiles", headers=AUTH)
    assert lines(capsys) == []


def test_the_pytest_session_server_is_quiet(pixelbin_emulator_server):
    settings = pixelbin_emulator_server.app.extensions["pixelbin_emulator"]["settings"]
    assert settings.request_log is None


def test_signed_upload_failures_say_why(capsys):
    _, app = client()
    signed = API.replace("v1.0", "v2.0") + "/upload/signed-url"
    multipart = app.post(signed, headers=AUTH, json={"name": "up"}).get_json()["presignedUrl"]
    path = "/" + multipart["url"].split("/", 3)[3]
    part = multipart["fields"] | {"file": (io.BytesIO(b"part"), "blob")}
    app.put(path.replace("pbs=", "pbs=0") + "&partNumber=1", data=part)
    post = app.post(API + "/upload/signed-url", headers=AUTH, json={"name": "form"}).get_json()
    fields = post["s3PresignedUrl"]["fields"] | {"X-Amz-Signature": "00"}
    form = fields | {"file": (io.BytesIO(b"x"), "x.jpeg")}
    app.post("/" + post["s3PresignedUrl"]["url"].split("/", 3)[3], data=form)
    _, altered, _, forged = (LINE.match(line) for line in lines(capsys))
    assert altered["status"] == "403" and altered["org"] == "1"
    assert json.loads(altered["reason"]) == "Invalid signature: the upload URL was altered"
    assert forged["status"] == "403"
    assert json.loads(forged["reason"]) == (
        "The request signature we calculated does not match the signature you provided."
    )
