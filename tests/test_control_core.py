"""The control plane's core pieces without HTTP: fault windows, thread safety, org resolution."""

from __future__ import annotations

import base64
import threading

import pytest

from pixelbin_emulator.api.middleware import operation, operation_of
from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.faults import Faults
from pixelbin_emulator.core.journal import Journal, JournalQuery
from pixelbin_emulator.settings import Settings

from .helpers import fault_rule

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_fault_fires_exactly_times_under_concurrency() -> None:
    faults = Faults()
    rule = faults.add(
        fault_rule({"operation": "fileUpload", "status": 503, "after": 3, "times": 5})
    )
    fired: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            if faults.check("fileUpload", "POST", "/x", 1) is not None:
                with lock:
                    fired.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fired) == 5
    assert (rule.matched, rule.fired, rule.exhausted) == (8, 5, True)


def test_first_open_rule_wins_and_later_rules_do_not_see_the_request() -> None:
    faults = Faults()
    first = faults.add(fault_rule({"operation": "list*", "status": 500, "times": 1}))
    second = faults.add(fault_rule({"path": "/a/*", "method": "get", "status": 502}))
    assert faults.check("listFiles", "GET", "/a/b", None) is first
    assert faults.check("listFiles", "GET", "/a/b", None) is second
    assert faults.check("listFiles", "POST", "/a/b", None) is None
    assert faults.check(None, "GET", "/a/b/c", None) is second  # `*` crosses `/`
    assert faults.check(None, "GET", "/b", None) is None
    assert (first.matched, second.matched) == (1, 2)
    assert faults.active
    faults.clear()
    assert not faults.active


def test_journal_sequence_is_global_and_per_org_logs_are_bounded() -> None:
    journal = Journal(limit=2)
    for index, org_id in enumerate([1, 2, 1, 1, None]):
        journal.record(
            time=0.0, method="GET", path=f"/{index}", query="", status=200,
            operation=None, org_id=org_id, duration=0.0,
        )  # fmt: skip
    assert [e.path for e in journal.query()] == ["/1", "/2", "/3", "/4"]
    assert [e.path for e in journal.query(JournalQuery(org_id=1))] == ["/2", "/3"]
    assert [e.seq for e in journal.query()] == [2, 3, 4, 5]
    assert journal.query(JournalQuery(limit=0)) == []
    assert journal.clear() == 4


def test_long_bodies_are_cut_in_the_journal() -> None:
    journal = Journal()
    journal.record(
        time=0.0, method="POST", path="/", query="", status=200, operation=None,
        org_id=None, duration=0.0, request_body=b"x" * 600, response_body=b"",
    )  # fmt: skip
    (entry,) = journal.query()
    assert entry.request_body == "x" * 512 + "…"
    assert entry.response_body is None


def test_operation_names() -> None:
    assert operation_of("files.get_file_by_id", None) == "getFileById"
    assert operation_of("uploads.file_upload", None) == "fileUpload"
    assert operation_of("cdn.serve", None) == "getCdnFile"

    @operation("uploadPart")
    def put_part() -> None: ...

    assert operation_of("signed.put_part", put_part) == "uploadPart"


def test_cdn_and_signed_upload_requests_are_journaled_under_their_org() -> None:
    emulator = Emulator()
    org = emulator.create_org()
    app = create_app(emulator, Settings())
    client = app.test_client()
    token = base64.b64encode(org.api_secret.encode()).decode()
    uploaded = client.post(
        "/service/platform/assets/v1.0/upload/direct",
        data={"file": (__import__("io").BytesIO(PNG), "p.png"), "access": "public-read"},
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()
    cdn_path = uploaded["url"].split("localhost", 1)[1]
    assert client.get(cdn_path).data == PNG
    # a public signed-upload URL carries its org as `pbo` (no Authorization header)
    client.put(f"/service/public/assets/v1.0/signed-multipart?pbo={org.org_id}&partNumber=1")
    entries = emulator.journal.query(JournalQuery(org_id=org.org_id))
    assert [(e.operation, e.method) for e in entries[:2]] == [
        ("fileUpload", "POST"),
        ("getCdnFile", "GET"),
    ]
    assert (entries[2].method, entries[2].path) == (
        "PUT",
        "/service/public/assets/v1.0/signed-multipart",
    )


def test_cdn_fault_scoped_by_cloud_name() -> None:
    emulator = Emulator()
    org = emulator.create_org()
    other = emulator.create_org()
    client = create_app(emulator, Settings()).test_client()
    emulator.faults.add(fault_rule({"operation": "getCdnFile", "status": 429, "orgId": org.org_id}))
    assert client.get(f"/v2/{org.cloud_name}/original/missing.png").status_code == 429
    assert client.get(f"/v2/{other.cloud_name}/original/missing.png").status_code == 404


@pytest.mark.parametrize("forget", ["reset", "drop_org"])
def test_reset_and_drop_org_forget_scoped_state(forget: str) -> None:
    emulator = Emulator()
    org = emulator.create_org()
    emulator.faults.add(fault_rule({"status": 500, "orgId": org.org_id}))
    emulator.url_stubs.add("http://x/a", b"a", org_id=org.org_id)
    emulator.journal.record(
        time=0, method="GET", path="/", query="", status=200, operation=None,
        org_id=org.org_id, duration=0,
    )  # fmt: skip
    if forget == "reset":
        emulator.reset()
    else:
        emulator.drop_org(org.org_id)
    assert emulator.faults.rules() == []
    assert emulator.url_stubs.stubs() == []
    assert emulator.journal.query() == []
