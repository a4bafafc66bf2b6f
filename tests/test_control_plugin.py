"""The pytest plugin's handle: journal, faults, clock, URL stubs and snapshots for a test's org."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import pytest
import requests
from pixelbin.common.exceptions import PixelbinServerResponseError

from pixelbin_emulator.control import ControlClient
from pixelbin_emulator.pytest_plugin import EmulatorHandle

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_journal_counts_sdk_calls(pixelbin_emulator: EmulatorHandle, assets: Any) -> None:
    assets.createFolder(name="docs")
    assets.fileUpload(file=io.BytesIO(PNG), name="pic", path="docs")
    assets.listFiles(path="docs")
    assets.listFiles(path="docs")
    pixelbin_emulator.assert_called("createFolder", times=1)
    listed = pixelbin_emulator.assert_called("listFiles", times=2)
    assert all(entry["status"] == 200 for entry in listed)
    assert [e["operation"] for e in pixelbin_emulator.requests(method="POST")] == [
        "createFolder",
        "fileUpload",
    ]
    with pytest.raises(AssertionError, match=r"expected deleteFile at least once, .* 0 time"):
        pixelbin_emulator.assert_called("deleteFile")
    with pytest.raises(AssertionError, match="listFiles 3 time"):
        pixelbin_emulator.assert_called("listFiles", times=3)
    pixelbin_emulator.clear_requests()
    assert pixelbin_emulator.requests() == []


def test_journal_sees_only_this_tests_org(
    pixelbin_emulator: EmulatorHandle, pixelbin_control: ControlClient, api: Any
) -> None:
    api.get(api.base + "/listFiles")
    other = pixelbin_control.create_org()
    try:
        token = base64.b64encode(other["apiSecret"].encode()).decode()
        requests.get(
            api.base + "/listFiles", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert len(pixelbin_emulator.requests()) == 1
        assert len(pixelbin_control.requests(org_id=other["orgId"])) == 1
    finally:
        pixelbin_control.drop_org(other["orgId"])


def test_fault_fails_sdk_calls_then_clears(pixelbin_emulator: EmulatorHandle, assets: Any) -> None:
    rule = pixelbin_emulator.fault(operation="getFileById", status=503, times=2)
    uploaded = assets.fileUpload(file=io.BytesIO(PNG), name="pic")
    for _ in range(2):
        with pytest.raises(PixelbinServerResponseError) as failed:
            assets.getFileById(_id=uploaded["_id"])
        assert failed.value.status_code == 503
    assert assets.getFileById(_id=uploaded["_id"])["name"] == "pic"
    assert (rule.matched, rule.fired, rule.exhausted) == (2, 2, True)
    assert pixelbin_emulator.faults() == [rule]
    pixelbin_emulator.clear_faults()
    assert pixelbin_emulator.faults() == []


def test_fault_with_after_and_drop(pixelbin_emulator: EmulatorHandle, api: Any) -> None:
    pixelbin_emulator.fault(operation="listFiles", drop=True, after=1, times=1)
    assert api.get(api.base + "/listFiles").status_code == 200
    with pytest.raises(requests.ConnectionError):
        api.get(api.base + "/listFiles")
    assert api.get(api.base + "/listFiles").status_code == 200
    assert [e["status"] for e in pixelbin_emulator.requests()] == [200, 0, 200]


def test_freeze_and_advance_time(pixelbin_emulator: EmulatorHandle, assets: Any) -> None:
    frozen = pixelbin_emulator.freeze_time(1_900_000_000)
    assert frozen == 1_900_000_000
    folder = assets.createFolder(name="then")
    assert pixelbin_emulator.advance_time(60) == 1_900_000_060
    assets.createFolder(name="later")
    details = [assets.getFolderDetails(path="", name=n)["createdAt"] for n in ("then", "later")]
    assert details == ["2030-03-17T17:46:40.000Z", "2030-03-17T17:47:40.000Z"]
    assert folder["name"] == "then"


def test_clock_is_reset_after_a_test_that_froze_it(pixelbin_emulator: EmulatorHandle) -> None:
    # Runs after test_freeze_and_advance_time (both flavours) in the same session server.
    clock = pixelbin_emulator.emulator.clock
    assert not clock.frozen
    assert abs(clock.time() - time.time()) < 3600  # no offset left over (1_900_000_060 was)


def test_stub_url_for_url_upload(pixelbin_emulator: EmulatorHandle, assets: Any) -> None:
    url = "https://cdn.example.org/pets/dog.png"
    pixelbin_emulator.stub_url(url, PNG)
    uploaded = assets.urlUpload(url=url)
    assert uploaded["name"] == "dog"
    assert requests.get(uploaded["url"], timeout=10).content == PNG
    pixelbin_emulator.stub_url("https://cdn.example.org/gone.png", "", status=410)
    with pytest.raises(PixelbinServerResponseError) as failed:
        assets.urlUpload(url="https://cdn.example.org/gone.png")
    assert failed.value.status_code == 400


def test_snapshot_and_load(pixelbin_emulator: EmulatorHandle, assets: Any) -> None:
    assets.createFolder(name="docs")
    assets.fileUpload(file=io.BytesIO(PNG), name="pic", path="docs", tags=["t"])
    snapshot = pixelbin_emulator.snapshot()
    (org,) = snapshot["orgs"]
    assert org["orgId"] == pixelbin_emulator.org_id
    assert [f["name"] for f in org["files"]] == ["pic"]
    seed = {
        "format": "pixelbin-emulator-state",
        "version": 1,
        "orgs": [{"folders": [{"path": "", "name": "seeded"}], "files": [
            {"path": "seeded", "name": "one", "base64": base64.b64encode(PNG).decode()}
        ]}],
    }  # fmt: skip
    pixelbin_emulator.load(seed)
    assert assets.getFileByFileId(fileId="seeded/one")["format"] == "png"
    with pytest.raises(ValueError, match="no org at index 1"):
        pixelbin_emulator.load(seed, index=1)


def test_everything_a_test_set_goes_with_its_org(pixelbin_emulator_server: Any) -> None:
    emulator = pixelbin_emulator_server.emulator
    assert emulator.faults.rules() == []
    assert emulator.url_stubs.stubs() == []
    seeded = {org.org_id for org in emulator.orgs()}
    assert {entry.org_id for entry in emulator.journal.query()} <= seeded | {None}
