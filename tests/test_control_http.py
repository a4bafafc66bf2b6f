"""The control plane over HTTP, through :class:`pixelbin_emulator.control.ControlClient`.

These tests change the whole emulator (reset, replace, clock), which the session server shared
by other tests must not see: the module has its own server, reset before every test.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pixelbin_emulator.app import create_app
from pixelbin_emulator.cli import parse_args
from pixelbin_emulator.control import ControlClient, ControlError
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.snapshot import dump_state
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.server import LiveServer
from pixelbin_emulator.settings import Settings

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
API = "/service/platform/assets/v1.0"


@pytest.fixture(scope="module")
def module_server() -> Iterator[LiveServer]:
    with LiveServer(create_app(default_emulator(), Settings(allow_fetch=False))) as live:
        yield live


@pytest.fixture
def server(module_server: LiveServer) -> LiveServer:
    module_server.emulator.reset()
    return module_server


@pytest.fixture
def control(server: LiveServer) -> ControlClient:
    return ControlClient(server.url)


class Api:
    """The platform API as one org, over ``requests``."""

    def __init__(self, url: str, org: dict[str, Any]) -> None:
        self.url = url
        self.org = org
        self.session = requests.Session()
        token = base64.b64encode(org["apiSecret"].encode()).decode()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url + API + path, timeout=10, **kwargs)

    def upload(self, name: str, data: bytes = PNG, **fields: str) -> requests.Response:
        return self("POST", "/upload/direct", files={"file": (f"{name}.png", data)}, data=fields)


@pytest.fixture
def api(server: LiveServer, control: ControlClient) -> Api:
    return Api(server.url, control.create_org(name="http"))


# -- health, orgs, reset ---------------------------------------------------------------------


def test_health_and_ready(server: LiveServer, control: ControlClient) -> None:
    assert control.health() == {"status": "ok"}
    assert control.ready() is True
    server.emulator.ready = False  # what reset and snapshot import do while they run
    answer = requests.get(server.url + "/_emulator/ready", timeout=10)
    assert answer.status_code == 503
    assert answer.json() == {"ready": False}
    assert control.ready() is False


def test_created_org_works_and_dropped_org_is_gone(server: LiveServer, control: ControlClient):
    org = control.create_org(name="fresh")
    assert set(org) == {"orgId", "name", "cloudName", "apiSecret", "accessKey", "createdAt"}
    api = Api(server.url, org)
    assert api("GET", "/listFiles").json()["items"] == []
    assert control.org(org["orgId"]) == org
    assert org in control.orgs()
    assert control.drop_org(org["orgId"]) == org
    assert api("GET", "/listFiles").status_code == 401
    with pytest.raises(ControlError) as missing:
        control.drop_org(org["orgId"])
    assert missing.value.status == 404
    assert missing.value.body["code"] == "CG-0404"


def test_create_org_validates(control: ControlClient) -> None:
    org = control.create_org(api_secret="my-secret-1", cloud_name="my-cloud")
    assert (org["apiSecret"], org["cloudName"]) == ("my-secret-1", "my-cloud")
    with pytest.raises(ControlError) as taken:
        control.create_org(api_secret="my-secret-1")
    assert taken.value.status == 409
    with pytest.raises(ControlError) as bad:
        control.call("POST", "/orgs", {"orgId": "seven"})
    assert bad.value.status == 400
    assert len(control.orgs()) == 2


def test_reset_returns_to_the_seed(server: LiveServer, control: ControlClient, api: Api) -> None:
    assert api("POST", "/folders", json={"name": "a"}).status_code == 200
    control.add_fault(operation="listFiles", status=500)
    control.add_url_stub("https://example.com/a.png", PNG)
    seed_orgs = control.reset()
    assert [org["orgId"] for org in seed_orgs] == [1]
    assert control.orgs() == seed_orgs
    assert control.faults() == []
    assert control.url_stubs() == []
    assert control.requests() == []
    assert api("GET", "/listFiles").status_code == 401


# -- snapshots -------------------------------------------------------------------------------


def _answers(api: Any) -> list[Any]:
    listing = api("GET", "/listFiles", params={"path": "docs"}).json()
    files = [item for item in listing["items"] if item["type"] == "file"]
    return [
        listing,
        api("GET", "/listFiles").json(),
        api("GET", "/folders", params={"name": "docs"}).json(),
        *(api("GET", f"/files/id/{item['_id']}").json() for item in files),
    ]


def test_snapshot_round_trip_into_another_emulator(control: ControlClient, api: Api) -> None:
    api("POST", "/folders", json={"name": "docs"})
    assert api.upload("a", path="docs", tags="x").status_code == 200
    assert api.upload("b", path="docs").status_code == 200
    snapshot = control.export_snapshot(api.org["orgId"])
    assert snapshot["format"] == "pixelbin-emulator-state"
    assert [org["orgId"] for org in snapshot["orgs"]] == [api.org["orgId"]]
    other = create_app(Emulator(), Settings()).test_client()
    loaded = other.put("/_emulator/snapshot", json=snapshot).get_json()["orgs"]
    assert loaded == [api.org]
    token = base64.b64encode(api.org["apiSecret"].encode()).decode()

    def other_api(method: str, path: str, params: Any = None) -> Any:
        answer = other.open(
            API + path,
            method=method,
            query_string=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        return _Answer(answer.get_json())

    before = json.dumps(_answers(api)).replace(api.url, "HOST")
    after = json.dumps(_answers(other_api)).replace("http://localhost", "HOST")
    assert before == after


class _Answer:
    def __init__(self, body: Any) -> None:
        self.body = body

    def json(self) -> Any:
        return self.body


def test_snapshot_archive_round_trip(server: LiveServer, control: ControlClient, api: Api):
    api.upload("big", data=PNG * 1)
    archive = control.export_archive(api.org["orgId"])
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = tar.getnames()
    assert "default.json" in names
    assert any(name.startswith("files/") for name in names)
    control.drop_org(api.org["orgId"])
    control.import_snapshot(archive, mode="merge")
    assert api("GET", "/files/big").json()["name"] == "big"
    assert requests.get(api("GET", "/files/big").json()["url"], timeout=10).content == PNG


def test_extracted_archive_is_a_seed_directory(
    tmp_path: Any, control: ControlClient, api: Api
) -> None:
    api("POST", "/folders", json={"name": "docs"})
    api.upload("pic", path="docs")
    with tarfile.open(fileobj=io.BytesIO(control.export_archive(api.org["orgId"]))) as tar:
        tar.extractall(tmp_path, filter="data")
    seeded = default_emulator(tmp_path)  # what `pixelbin-emulator --seed DIR` loads
    assert [org.org_id for org in seeded.orgs()] == [api.org["orgId"]]
    assert dump_state(seeded) == control.export_snapshot(api.org["orgId"])


def test_snapshot_file_is_a_seed(tmp_path: Any, control: ControlClient, api: Api) -> None:
    api.upload("pic")
    snapshot = control.export_snapshot()
    (tmp_path / "state.json").write_text(json.dumps(snapshot))
    assert dump_state(default_emulator(tmp_path / "state.json")) == snapshot  # `--seed FILE`


def test_snapshot_merge_replaces_same_org_and_keeps_others(control: ControlClient, api: Api):
    other = control.create_org(name="other")
    api("POST", "/folders", json={"name": "kept"})
    snapshot = control.export_snapshot(api.org["orgId"])
    api("POST", "/folders", json={"name": "after-snapshot"})
    control.import_snapshot(snapshot, mode="merge")
    names = [item["name"] for item in api("GET", "/listFiles").json()["items"]]
    assert names == ["kept"]
    assert other in control.orgs()


def test_snapshot_replace_drops_other_orgs(control: ControlClient, api: Api) -> None:
    snapshot = control.export_snapshot(api.org["orgId"])
    control.create_org(name="goes")
    control.import_snapshot(snapshot, mode="replace")
    assert control.orgs() == [api.org]


def test_bad_snapshot_changes_nothing(control: ControlClient, api: Api) -> None:
    api("POST", "/folders", json={"name": "stays"})
    before = control.export_snapshot()
    bad = control.export_snapshot(api.org["orgId"])
    bad["orgs"][0]["files"] = [{"name": "x", "base64": "not base64!"}]
    for document, mode, status in (
        (bad, "replace", 400),
        ({"format": "nope"}, "replace", 400),
        (before, "sideways", 400),
    ):
        with pytest.raises(ControlError) as error:
            control.import_snapshot(document, mode=mode)
        assert error.value.status == status
    with pytest.raises(ControlError) as not_json:
        control.call("PUT", "/snapshot", raw=b"{", content_type="application/json")
    assert not_json.value.status == 400
    with pytest.raises(ControlError) as not_tar:
        control.import_snapshot(b"not an archive")
    assert not_tar.value.status == 400
    assert control.export_snapshot() == before


def test_merge_that_clashes_with_a_staying_org_is_a_conflict(control: ControlClient, api: Api):
    snapshot = control.export_snapshot(api.org["orgId"])
    snapshot["orgs"][0]["orgId"] = 99  # same secret and cloud name as the org that stays
    before = control.export_snapshot()
    with pytest.raises(ControlError) as clash:
        control.import_snapshot(snapshot, mode="merge")
    assert clash.value.status == 409
    assert control.export_snapshot() == before


# -- request journal -------------------------------------------------------------------------


def test_journal_records_and_filters(control: ControlClient, api: Api) -> None:
    org_id = api.org["orgId"]
    api("POST", "/folders", json={"name": "a"})
    api("POST", "/folders", json={"name": "a"})  # 409
    api.upload("pic")
    api("GET", "/listFiles", params={"pageSize": 5})
    control.orgs()  # the control plane is not journaled
    entries = control.requests(org_id=org_id)
    assert [(e["method"], e["operation"], e["status"]) for e in entries] == [
        ("POST", "createFolder", 200),
        ("POST", "createFolder", 409),
        ("POST", "fileUpload", 200),
        ("GET", "listFiles", 200),
    ]
    first = entries[0]
    assert first["path"] == API + "/folders"
    assert first["orgId"] == org_id
    assert '"name": "a"' in first["requestBody"]
    assert first["responseBody"].startswith('{"_id"')
    assert entries[3]["query"] == "pageSize=5"
    assert entries[2]["requestBody"] == '{"file": "<file pic.png>"}'  # not the file's bytes
    assert [e["status"] for e in control.requests(org_id=org_id, status=409)] == [409]
    assert len(control.requests(org_id=org_id, operation="createFolder")) == 2
    assert len(control.requests(org_id=org_id, method="get")) == 1
    assert len(control.requests(org_id=org_id, path="*/upload/*")) == 1
    assert control.requests(org_id=org_id, limit=1) == entries[-1:]
    assert control.requests(org_id=org_id, since=entries[1]["seq"]) == entries[2:]
    assert control.clear_requests(org_id) == 4
    assert control.requests(org_id=org_id) == []


def test_journal_is_per_org_and_keeps_unauthenticated_requests(
    server: LiveServer, control: ControlClient, api: Api
) -> None:
    other = Api(server.url, control.create_org())
    api("GET", "/listFiles")
    other("GET", "/listFiles")
    requests.get(server.url + API + "/listFiles", timeout=10)
    assert len(control.requests(org_id=api.org["orgId"])) == 1
    assert len(control.requests(org_id=other.org["orgId"])) == 1
    everything = control.requests()
    assert [e["orgId"] for e in everything] == [api.org["orgId"], other.org["orgId"], None]
    assert everything[2]["status"] == 401


def test_journal_is_bounded() -> None:
    app = create_app(Emulator({"format": "pixelbin-emulator-state", "version": 1}, journal_limit=3))
    control = app.test_client()
    org = control.post("/_emulator/orgs", json={}).get_json()
    client = app.test_client()
    token = base64.b64encode(org["apiSecret"].encode()).decode()
    for page in range(1, 6):
        client.get(f"{API}/listFiles?pageNo={page}", headers={"Authorization": f"Bearer {token}"})
    entries = control.get("/_emulator/requests").get_json()["items"]
    assert [e["query"] for e in entries] == ["pageNo=3", "pageNo=4", "pageNo=5"]


def test_journal_of_dropped_org_goes_with_it(control: ControlClient, api: Api) -> None:
    api("GET", "/listFiles")
    control.drop_org(api.org["orgId"])
    assert control.requests() == []
    with pytest.raises(ControlError) as unknown:
        control.requests(org_id=api.org["orgId"])
    assert unknown.value.status == 404


# -- faults ----------------------------------------------------------------------------------


def test_fault_fails_the_next_n_matching_requests(control: ControlClient, api: Api) -> None:
    rule = control.add_fault(operation="fileUpload", status=503, times=2)
    assert (rule["matched"], rule["fired"], rule["exhausted"]) == (0, 0, False)
    statuses = [api.upload(f"f{i}").status_code for i in range(3)]
    assert statuses == [503, 503, 200]
    assert api("GET", "/listFiles").status_code == 200
    after = control.fault(rule["id"])
    assert (after["matched"], after["fired"], after["exhausted"]) == (2, 2, True)
    entries = control.requests(org_id=api.org["orgId"], operation="fileUpload")
    assert [e["faultId"] for e in entries] == [rule["id"], rule["id"], None]
    assert [item["name"] for item in api("GET", "/listFiles").json()["items"]] == ["f2"]


def test_fault_after_count_body_headers_and_method(control: ControlClient, api: Api) -> None:
    control.add_fault(
        path="*/folders",
        method="post",
        status=429,
        body={"message": "slow down"},
        headers={"Retry-After": "1"},
        after=1,
        times=1,
    )
    first = api("POST", "/folders", json={"name": "one"})
    second = api("POST", "/folders", json={"name": "two"})
    third = api("POST", "/folders", json={"name": "three"})
    assert [first.status_code, second.status_code, third.status_code] == [200, 429, 200]
    assert second.json() == {"message": "slow down"}
    assert second.headers["Retry-After"] == "1"
    assert api("GET", "/folders", params={"name": "one"}).status_code == 200  # GET: no match


def test_default_fault_body_is_the_api_error_format(control: ControlClient, api: Api) -> None:
    rule = control.add_fault(operation="listFiles", status=500, times=1)
    answer = api("GET", "/listFiles")
    assert answer.json() == {
        "message": f"fault injected by the emulator (rule {rule['id']})",
        "status": 500,
        "code": "CG-0500",
        "exception": "EmulatedFaultError",
    }


def test_fault_scoped_to_an_org_spares_others(
    server: LiveServer, control: ControlClient, api: Api
) -> None:
    other = Api(server.url, control.create_org())
    control.add_fault(operation="listFiles", status=500, org_id=api.org["orgId"])
    assert api("GET", "/listFiles").status_code == 500
    assert other("GET", "/listFiles").status_code == 200
    assert len(control.faults(org_id=api.org["orgId"])) == 1
    assert control.faults(org_id=other.org["orgId"]) == []


def test_dropped_connection(control: ControlClient, api: Api) -> None:
    control.add_fault(operation="getFolderDetails", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        api("GET", "/folders", params={"name": "x"})
    assert api("GET", "/folders", params={"name": "x"}).status_code == 404
    dropped, answered = control.requests(org_id=api.org["orgId"])
    assert (dropped["status"], answered["status"]) == (0, 404)


def test_latency_delays_then_lets_through(control: ControlClient, api: Api) -> None:
    control.add_fault(operation="listFiles", latency=0.05, times=1)
    assert api("GET", "/listFiles").status_code == 200
    (entry,) = control.requests(org_id=api.org["orgId"])
    assert entry["durationMs"] >= 50  # a lower bound: the sleep happened
    assert entry["status"] == 200


def test_fault_rules_are_listed_and_cleared(control: ControlClient, api: Api) -> None:
    one = control.add_fault(operation="listFiles", status=500)
    two = control.add_fault(operation="fileUpload", status=500, org_id=api.org["orgId"])
    assert [rule["id"] for rule in control.faults()] == [one["id"], two["id"]]
    assert control.delete_fault(one["id"])["id"] == one["id"]
    with pytest.raises(ControlError) as gone:
        control.fault(one["id"])
    assert gone.value.status == 404
    assert control.clear_faults(api.org["orgId"]) == 1
    control.add_fault(operation="listFiles", status=500)
    assert control.clear_faults() == 1
    assert api("GET", "/listFiles").status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"operation": "listFiles"},
        {"operation": "listFiles", "status": 503, "drop": True},
        {"operation": "listFiles", "status": 99},
        {"operation": "listFiles", "status": 503, "times": 0},
        {"operation": "listFiles", "status": 503, "after": -1},
        {"operation": "listFiles", "latency": -1},
        {"operation": "listFiles", "latency": "1"},
        {"operation": "listFiles", "status": 503, "colour": "red"},
        {"operation": "", "status": 503},
        {"status": 503, "headers": {"a": 1}},
        {"status": 503, "orgId": 12345},
    ],
)
def test_bad_fault_rules_are_rejected(control: ControlClient, rule: dict[str, Any]) -> None:
    with pytest.raises(ControlError) as error:
        control.call("POST", "/faults", rule)
    assert error.value.status in (400, 404)
    assert control.faults() == []


# -- clock -----------------------------------------------------------------------------------


def test_clock_freeze_advance_and_timestamps(control: ControlClient, api: Api) -> None:
    frozen = control.freeze_clock("2030-01-02T03:04:05.678Z")
    assert frozen == {"now": "2030-01-02T03:04:05.678Z", "epoch": 1893553445.678, "frozen": True}
    created = api("POST", "/folders", json={"name": "then"}).json()
    details = api("GET", "/folders", params={"name": "then"}).json()
    assert details["createdAt"] == "2030-01-02T03:04:05.678Z"
    assert created["name"] == "then"
    assert control.advance_clock(3600)["now"] == "2030-01-02T04:04:05.678Z"
    api.upload("later")
    assert api("GET", "/files/later").json()["createdAt"] == "2030-01-02T04:04:05.678Z"
    assert control.freeze_clock(0)["now"] == "1970-01-01T00:00:00.000Z"
    assert control.unfreeze_clock()["frozen"] is False
    reset = control.reset_clock()
    assert reset["frozen"] is False
    assert reset["now"] >= "2024"


@pytest.mark.parametrize(
    ("path", "body"),
    [("/clock/freeze", {"at": "yesterday"}), ("/clock/freeze", {"at": True}),
     ("/clock/advance", {}), ("/clock/advance", {"seconds": "5"})],
)  # fmt: skip
def test_bad_clock_input(control: ControlClient, path: str, body: dict[str, Any]) -> None:
    with pytest.raises(ControlError) as error:
        control.call("POST", path, body)
    assert error.value.status == 400
    assert control.clock()["frozen"] is False


# -- URL stubs -------------------------------------------------------------------------------


def test_url_stub_feeds_url_upload(control: ControlClient, api: Api) -> None:
    url = "https://images.example.com/photos/cat.png"
    refused = api("POST", "/upload/url", json={"url": url})
    assert refused.status_code == 400  # fetching is disabled and nothing is stubbed
    stub = control.add_url_stub(url, PNG, org_id=api.org["orgId"])
    assert stub == {"url": url, "orgId": api.org["orgId"], "status": 200, "size": len(PNG)}
    uploaded = api("POST", "/upload/url", json={"url": url})
    assert uploaded.status_code == 200
    assert uploaded.json()["name"] == "cat"
    assert requests.get(uploaded.json()["url"], timeout=10).content == PNG


def test_url_stubs_per_org_global_and_failing(
    server: LiveServer, control: ControlClient, api: Api
) -> None:
    other = Api(server.url, control.create_org())
    url = "http://example.com/a.png"
    control.add_url_stub(url, PNG, org_id=other.org["orgId"])
    assert api("POST", "/upload/url", json={"url": url}).status_code == 400
    control.add_url_stub(url, b"", status=404)  # every org's: a missing remote file
    failed = api("POST", "/upload/url", json={"url": url})
    assert failed.status_code == 400
    assert "HTTP 404" in failed.json()["message"]
    assert other("POST", "/upload/url", json={"url": url}).status_code == 200  # its own wins
    assert len(control.url_stubs()) == 2
    assert control.remove_url_stubs(url=url) == 1
    assert control.remove_url_stubs(org_id=other.org["orgId"]) == 1
    assert control.url_stubs() == []


@pytest.mark.parametrize(
    "body",
    [{"url": "ftp://x/a", "text": "a"}, {"url": "http://x/a"}, {"url": "http://x/a", "base64": "!"},
     {"url": "http://x/a", "text": "a", "status": 42}, {"text": "a"}],
)  # fmt: skip
def test_bad_url_stubs(control: ControlClient, body: dict[str, Any]) -> None:
    with pytest.raises(ControlError) as error:
        control.call("POST", "/url-stubs", body)
    assert error.value.status == 400


def test_removing_an_unknown_stub_is_404(control: ControlClient) -> None:
    with pytest.raises(ControlError) as error:
        control.remove_url_stubs(url="http://nowhere/a")
    assert error.value.status == 404


# -- admin token -----------------------------------------------------------------------------


def test_admin_token_protects_the_control_plane() -> None:
    client = create_app(default_emulator(), Settings(admin_token="s3cret")).test_client()
    assert client.get("/_emulator/health").status_code == 200
    assert client.get("/_emulator/ready").status_code == 200
    for method, path in (("GET", "/orgs"), ("POST", "/reset"), ("GET", "/clock")):
        denied = client.open("/_emulator" + path, method=method)
        assert denied.status_code == 401
        assert denied.get_json()["code"] == "CG-0401"
    wrong = client.get("/_emulator/orgs", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    allowed = client.get("/_emulator/orgs", headers={"Authorization": "Bearer s3cret"})
    assert len(allowed.get_json()["items"]) == 1


def test_admin_token_flag_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_args([]).admin_token is None
    assert parse_args(["--admin-token", "t1"]).admin_token == "t1"
    monkeypatch.setenv("PIXELBIN_EMULATOR_ADMIN_TOKEN", "t2")
    assert parse_args([]).admin_token == "t2"
    assert parse_args(["--admin-token", "t3"]).admin_token == "t3"


def test_unknown_control_route_is_404_in_the_error_format(control: ControlClient) -> None:
    with pytest.raises(ControlError) as error:
        control.call("GET", "/nothing-here")
    assert error.value.status == 404
    assert error.value.body["code"] == "CG-0404"


def test_control_plane_is_never_faulted_nor_journaled(control: ControlClient, api: Api) -> None:
    control.add_fault(path="*", status=500)
    assert api("GET", "/listFiles").status_code == 500
    assert len(control.faults()) == 1  # the control plane still answers
    assert [e["path"] for e in control.requests()] == [API + "/listFiles"]


def test_cli_admin_token_end_to_end() -> None:
    import os
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "pixelbin_emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PIXELBIN_EMULATOR_ADMIN_TOKEN": "tok-1"},
    )
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        assert "ready on" in first, first
        url = first.split("ready on ", 1)[1].strip()
        assert ControlClient(url).ready() is True
        with pytest.raises(ControlError) as denied:
            ControlClient(url).orgs()
        assert denied.value.status == 401
        assert len(ControlClient(url, admin_token="tok-1").orgs()) == 1
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        finally:
            process.kill()
