"""The plugin's SDK fixtures, failure reports, seeds and hints, in a suite of their own.

One subprocess run (the slow part) holds every case: a downstream suite as a user writes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .helpers import png

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
# schemathesis's plugin (installed for tests/test_fuzz.py) is slow to import and unused here.
QUIET = ("-p", "no:cacheprovider", "-p", "no:schemathesis")

EVENT_LOOP = """
import asyncio
import io


def test_async_call_first(pixelbin_async_client):
    asyncio.run(pixelbin_async_client.assets.listFilesAsync())


def test_sync_calls_after_an_async_test(pixelbin_client):
    uploaded = pixelbin_client.assets.fileUpload(file=io.BytesIO(b"hello"), name="greeting")
    assert uploaded["fileId"] == "greeting"


def test_sync_after_asyncio_run_in_the_same_test(pixelbin_client, pixelbin_async_client):
    asyncio.run(pixelbin_async_client.assets.createFolderAsync(name="a"))
    assert [i["name"] for i in pixelbin_client.assets.listFiles()["items"]] == ["a"]
    asyncio.run(pixelbin_client.assets.listFilesAsync())
    pixelbin_client.assets.getFolderDetails(name="a")


def test_the_uploader_example(pixelbin_emulator, pixelbin_client):
    pixelbin_emulator.fault(operation="uploadPart", status=503, times=2)
    pixelbin_client.uploader.upload(
        file=io.BytesIO(b"x" * 30_000), name="big", format="bin",
        uploadOptions={"chunkSize": 10_000},
    )
    pixelbin_emulator.assert_called("uploadPart", times=5)


def test_both_clients_point_at_the_test_org(
    pixelbin_client, pixelbin_async_client, pixelbin_emulator
):
    assert pixelbin_client.config.domain == pixelbin_emulator.url
    assert pixelbin_client.config.apiSecret == pixelbin_emulator.api_secret
    assert pixelbin_async_client.config.apiSecret == pixelbin_emulator.api_secret
"""

REPORTS = """
import pytest


def test_assert_called_fails(pixelbin_emulator, pixelbin_client):
    pixelbin_client.assets.createFolder(name="made")
    pixelbin_emulator.assert_called("listFiles")


def test_bad_fault_rule(pixelbin_emulator):
    pixelbin_emulator.fault(operation="listFiles")


def test_repr(pixelbin_emulator):
    text = repr(pixelbin_emulator)
    assert text == f"<pixelbin_emulator org {pixelbin_emulator.org_id} " \\
        f"({pixelbin_emulator.cloud_name}) at {pixelbin_emulator.url}>"


def test_url_upload_hint(pixelbin_client):
    from pixelbin.common.exceptions import PixelbinServerResponseError

    with pytest.raises(PixelbinServerResponseError) as caught:
        pixelbin_client.assets.urlUpload(url="https://example.com/a.png", name="a")
    message = str(caught.value)
    assert "stub_url" in message and "--allow-fetch" not in message
"""

SEEDED = """
import base64

import pytest
import requests


def test_the_session_server_holds_the_seed(pixelbin_emulator):
    token = base64.b64encode(b"seeded-secret-123").decode()
    answer = requests.get(
        pixelbin_emulator.url + "/service/platform/assets/v1.0/listFiles",
        headers={"Authorization": "Bearer " + token},
    )
    assert [i["name"] for i in answer.json()["items"]] == ["dot"]


@pytest.mark.pixelbin_seed("seed.json")
def test_the_marker_loads_the_seed_into_the_test_org(pixelbin_client, pixelbin_emulator):
    assert pixelbin_client.assets.getFileByFileId(fileId="dot")["width"] == 2
    assert pixelbin_emulator.api_secret != "seeded-secret-123"


def test_without_the_marker_the_test_org_is_empty(pixelbin_client):
    assert pixelbin_client.assets.listFiles()["items"] == []
"""


@pytest.fixture
def suite_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest imports this checkout (its plugin, through the pytest11 entry point)."""
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), path) if p))


def test_sdk_fixtures_reports_seeds_and_hints(pytester: pytest.Pytester, suite_env: None) -> None:
    import base64

    seed = {
        "format": "pixelbin-emulator-state",
        "version": 1,
        "orgs": [
            {
                "name": "seeded",
                "apiSecret": "seeded-secret-123",
                "files": [
                    {"name": "dot", "path": "", "base64": base64.b64encode(png(2, 2)).decode()}
                ],
            }
        ],
    }
    pytester.path.joinpath("seed.json").write_text(json.dumps(seed))
    pytester.makepyfile(test_event_loop=EVENT_LOOP, test_reports=REPORTS, test_seeded=SEEDED)
    result = pytester.runpytest_subprocess(
        *QUIET,
        "--pixelbin-seed",
        "seed.json",
        # no aiohttp "passing bytes" warning with io.BytesIO; no event-loop warning either
        "-W",
        "error::DeprecationWarning",
    )
    result.assert_outcomes(passed=10, failed=2)
    output = result.stdout.str()
    # assert_called: the message says what was expected; the journal is in the section, once
    result.stdout.fnmatch_lines(["E*AssertionError: expected listFiles at least once, it was*"])
    assert output.count("-> 200 [createFolder]") == 1
    result.stdout.fnmatch_lines(["*pixelbin-emulator requests (org *, last 20)*"])
    # the plugin's and the core's frames are hidden: the traceback ends at the test's line
    assert "pytest_plugin.py" not in output
    assert "core/faults.py" not in output
    result.stdout.fnmatch_lines(["E*ValidationError: a fault rule needs an effect*"])
    assert "warning" not in output.splitlines()[-1]


def test_a_missing_seed_is_a_usage_error(pytester: pytest.Pytester, suite_env: None) -> None:
    pytester.makepyfile("def test_x(pixelbin_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess(*QUIET, "--pixelbin-seed", "nope.json")
    result.stderr.fnmatch_lines(["ERROR: --pixelbin-seed: cannot read seed*nope.json*"])
    assert result.ret != 0
