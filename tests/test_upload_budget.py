"""Abandoned signed uploads cannot hold memory without bound (issue 11, item 7): the parts of
unfinished uploads share one emulator-wide cap (413 past it), and expired uploads are forgotten
on a timer rather than when their org next opens one."""

from __future__ import annotations

import base64
import gc
import io
import logging
import time
from typing import Any

import click
import pytest
import requests
from flask import Flask

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.assets import Limits
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.server import LiveServer
from pixelbin_emulator.settings import Settings

ASSET = "x-pixb-meta-assetdata"
V2 = "/service/platform/assets/v2.0/upload/signed-url"


class Uploads:
    """Signed multipart uploads through Flask's test client."""

    def __init__(self, emulator: Emulator) -> None:
        self.client = create_app(emulator, Settings()).test_client()

    def open(self, org: Any, name: str) -> tuple[str, str]:
        token = base64.b64encode(org.api_secret.encode()).decode()
        answer = self.client.post(
            V2, json={"name": name}, headers={"Authorization": f"Bearer {token}"}
        )
        presigned = answer.json["presignedUrl"]
        return presigned["url"].split("://", 1)[1].split("/", 1)[1], presigned["fields"][ASSET]

    def put(self, upload: tuple[str, str], number: int, data: bytes) -> Any:
        url, asset = upload
        form = {"file": (io.BytesIO(data), "file"), ASSET: asset}
        return self.client.put(f"/{url}&partNumber={number}", data=form)

    def complete(self, upload: tuple[str, str], parts: list[int]) -> Any:
        url, asset = upload
        return self.client.post(f"/{url}", json={"parts": parts, ASSET: asset})


def test_pending_parts_share_one_cap_across_orgs():
    emulator = Emulator(limits=Limits(max_pending_upload_bytes=1000))
    uploads = Uploads(emulator)
    one, two = emulator.create_org(), emulator.create_org()
    first, second = uploads.open(one, "first"), uploads.open(two, "second")
    assert uploads.put(first, 1, b"a" * 600).status_code == 204
    refused = uploads.put(second, 1, b"b" * 600)
    assert refused.status_code == 413
    assert refused.json["exception"] == "PendingUploadsLimitError"
    assert refused.json["status"] == 413
    assert uploads.put(first, 1, b"a" * 300).status_code == 204  # a replaced part frees its bytes
    assert uploads.put(second, 1, b"b" * 600).status_code == 204
    assert emulator.limits.pending_uploads.held == 900
    assert uploads.complete(first, [1]).status_code == 200  # stored: no longer pending
    assert emulator.limits.pending_uploads.held == 600
    assert uploads.put(uploads.open(one, "third"), 1, b"c" * 400).status_code == 204


def test_expired_and_dropped_uploads_give_their_bytes_back():
    emulator = Emulator(limits=Limits(max_pending_upload_bytes=1000))
    uploads = Uploads(emulator)
    org, doomed = emulator.create_org(), emulator.create_org()
    emulator.clock.freeze()
    assert uploads.put(uploads.open(org, "late"), 1, b"x" * 500).status_code == 204
    assert uploads.put(uploads.open(doomed, "gone"), 1, b"y" * 400).status_code == 204
    emulator.clock.advance(4000)  # past the longest expiry
    assert org.signed_uploads.purge_expired() == 1
    assert emulator.limits.pending_uploads.held == 400
    emulator.drop_org(doomed.org_id)
    del doomed
    gc.collect()  # not needed once an org holds no reference cycles; harmless either way
    assert emulator.limits.pending_uploads.held == 0


def test_the_server_purges_expired_uploads_on_a_timer():
    """Parts of abandoned uploads used to stay until their org opened another upload."""
    emulator = Emulator(limits=Limits(max_pending_upload_bytes=10_000))
    settings = Settings(upload_purge_interval=0.2)
    with LiveServer(create_app(emulator, settings)) as live:
        org = emulator.create_org()
        token = base64.b64encode(org.api_secret.encode()).decode()
        presigned = requests.post(
            f"{live.url}{V2}",
            json={"name": "abandoned", "expiry": 60},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["presignedUrl"]
        part = requests.put(
            f"{presigned['url']}&partNumber=1",
            files={"file": ("file", b"z" * 5000)},
            data={ASSET: presigned["fields"][ASSET]},
            timeout=10,
        )
        assert part.status_code == 204
        assert emulator.limits.pending_uploads.held == 5000
        emulator.clock.advance(61)
        deadline = time.monotonic() + 10
        while emulator.limits.pending_uploads.held and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emulator.limits.pending_uploads.held == 0
        assert org.signed_uploads.purge_expired() == 0  # the timer got there first


def test_max_pending_upload_flag(monkeypatch):
    from pixelbin_emulator.cli import parse_args

    assert parse_args([]).max_pending_upload_mb == 1024
    monkeypatch.setenv("PIXELBIN_EMULATOR_MAX_PENDING_UPLOAD_MB", "64")
    assert parse_args([]).max_pending_upload_mb == 64
    with pytest.raises(click.BadParameter, match="not in the range"):
        parse_args(["--max-pending-upload-mb", "-1"])


def test_a_live_server_serves_a_plain_wsgi_app_without_the_purge_timer(caplog):
    """The benchmarks' floor runs on the same server as the emulator: an app that is not the
    emulator's gets no upload-purge timer (it would look for an emulator every interval)."""
    app = Flask("plain")
    app.get("/")(lambda: "plain")
    server = LiveServer(app, settings=Settings(upload_purge_interval=0.05))
    server.start()
    try:
        time.sleep(0.2)  # past a few intervals: no timer ran into a missing emulator
        assert requests.get(server.url + "/", timeout=5).text == "plain"
    finally:
        server.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
