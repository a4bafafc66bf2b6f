"""Hostile input the server must bound or refuse (issue 11): journal lines, fault rules, a
``domain`` with a trailing slash, and ``urlUpload`` as the docs' own examples call it."""

from __future__ import annotations

import base64

import requests

from pixelbin_emulator.core.journal import LINE_CHARS


def bearer(handle) -> dict[str, str]:
    return {"Authorization": "Bearer " + base64.b64encode(handle.api_secret.encode()).decode()}


def test_journal_bounds_long_paths_and_queries(pixelbin_emulator):
    """Item 9: 240 KB URLs used to be kept whole, and ``/_emulator/requests`` answered them."""
    auth = bearer(pixelbin_emulator)
    long_id = "f" * 60_000
    url = f"{pixelbin_emulator.url}/service/platform/assets/v1.0/files/id/{long_id}"
    for _ in range(3):
        answer = requests.get(url, params={"q": "x" * 60_000}, headers=auth, timeout=30)
        assert answer.status_code == 404
    entries = pixelbin_emulator.requests(operation="getFileById")
    assert len(entries) == 3
    for entry in entries:
        assert len(entry["path"]) == LINE_CHARS + 1 and entry["path"].endswith("…")
        assert len(entry["query"]) == LINE_CHARS + 1 and entry["query"].startswith("q=xxx")
    listed = requests.get(
        f"{pixelbin_emulator.url}/_emulator/requests",
        params={"orgId": pixelbin_emulator.org_id},
        timeout=30,
    )
    assert listed.status_code == 200 and len(listed.content) < 20_000
