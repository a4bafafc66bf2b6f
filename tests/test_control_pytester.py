"""The plugin's fixtures in a suite of their own: parallel isolation and failure reports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

SUITE = """
import base64

import pytest
import requests

API = "/service/platform/assets/v1.0"


def _session(handle):
    session = requests.Session()
    token = base64.b64encode(handle.api_secret.encode()).decode()
    session.headers["Authorization"] = "Bearer " + token
    return session


@pytest.mark.parametrize("n", range(8))
def test_isolated(pixelbin_emulator, n):
    api = _session(pixelbin_emulator)
    base = pixelbin_emulator.url + API
    # every test creates the same folder: it would be a 409 if orgs were shared
    assert api.post(base + "/folders", json={"name": "same"}).status_code == 200
    pixelbin_emulator.fault(operation="getFolderDetails", status=503, times=1)
    assert api.get(base + "/folders", params={"name": "same"}).status_code == 503
    assert api.get(base + "/folders", params={"name": "same"}).status_code == 200
    names = [i["name"] for i in api.get(base + "/listFiles").json()["items"]]
    assert names == ["same"]
    pixelbin_emulator.assert_called("createFolder", times=1)
    pixelbin_emulator.assert_called("getFolderDetails", times=2)
    assert len(pixelbin_emulator.faults()) == 1
"""

FAILING = """
import base64

import requests


def test_fails_after_requests(pixelbin_emulator):
    token = base64.b64encode(pixelbin_emulator.api_secret.encode()).decode()
    headers = {"Authorization": "Bearer " + token}
    base = pixelbin_emulator.url + "/service/platform/assets/v1.0"
    requests.post(base + "/folders", json={"name": "made"}, headers=headers)
    requests.get(base + "/files/id/nope", headers=headers)
    assert False, "on purpose"


def test_passes(pixelbin_emulator):
    assert pixelbin_emulator.requests() == []
"""


@pytest.fixture
def suite_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest imports this checkout (its plugin, through the pytest11 entry point)."""
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), path) if p))


def test_isolation_and_failure_reports_under_xdist(
    pytester: pytest.Pytester, suite_env: None
) -> None:
    """One run (a subprocess with two workers is the slow part): eight tests doing the same
    things in parallel without seeing each other, and a failing test whose report, sent back
    from its worker, ends with its org's request journal."""
    pytester.makepyfile(test_parallel=SUITE, test_failing=FAILING)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=9, failed=1)
    result.stdout.fnmatch_lines(["*2 workers*"])
    result.stdout.fnmatch_lines(
        [
            "*pixelbin-emulator requests (org *, last 20)*",
            "#* POST /service/platform/assets/v1.0/folders -> 200 [[]createFolder[]] *",
            "#* GET */files/id/nope -> 404 [[]getFileById[]] *NotFound*",
        ]
    )
