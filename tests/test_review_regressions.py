"""Regression tests for problems found in review: each was a 5xx or lost state."""

from __future__ import annotations

import base64
import io
import struct
import sys
import threading
import zlib

import pytest

from pixelbin_emulator.api.wire.assets import File
from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.assets import UploadSpec
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.core.snapshot import import_state
from pixelbin_emulator.settings import Settings

API = "/service/platform/assets/v1.0"


@pytest.fixture
def client():
    emulator = Emulator()
    emulator.create_org(api_secret="review-secret")
    app = create_app(emulator, Settings(max_content_length=1024))
    token = base64.b64encode(b"review-secret").decode()
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return test_client


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_a_json_body_over_the_size_limit_is_a_413(client):
    response = client.post(API + "/folders", json={"name": "x" * 4000})
    assert response.status_code == 413
    assert response.get_json()["status"] == 413


@pytest.mark.parametrize("path", ["/folders", "/upload/url"])
def test_deeply_nested_json_is_a_400(path):
    emulator = Emulator()
    emulator.create_org(api_secret="review-secret")
    client = create_app(emulator).test_client()
    token = base64.b64encode(b"review-secret").decode()
    response = client.post(
        API + path,
        data="[" * 100_000,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_deeply_nested_metadata_is_a_400():
    emulator = Emulator()
    emulator.create_org(api_secret="review-secret")
    client = create_app(emulator).test_client()
    token = base64.b64encode(b"review-secret").decode()
    response = client.post(
        API + "/upload/direct",
        data={"file": (io.BytesIO(b"x"), "a.txt"), "metadata": "[" * 100_000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("width", "height", "limit"), [(20_000, 20_000, "px"), (9_000, 9_000, "megapixels")]
)
def test_images_beyond_pillows_bomb_size_still_meet_the_limits(width, height, limit):
    tree = Emulator().create_org().assets
    with pytest.raises(ValidationError, match=limit):
        tree.upload(UploadSpec(data=png_header(width, height), name="huge"))
    assert not tree.files_by_id


def test_images_over_25_mb_are_refused():
    tree = Emulator().create_org().assets
    with pytest.raises(ValidationError, match="25 MB"):
        tree.upload(UploadSpec(data=png_header(10, 10) + b"\0" * (25 * 1024 * 1024), name="big"))


def test_merging_an_org_without_org_id_keeps_the_others():
    emulator = Emulator()
    kept = emulator.create_org(name="kept")
    doc = {"format": "pixelbin-emulator-state", "version": 1, "orgs": [{"name": "new"}]}
    import_state(emulator, doc, mode="merge")
    assert sorted(org.name for org in emulator.orgs()) == ["kept", "new"]
    assert emulator.org(kept.org_id) is kept


@pytest.mark.parametrize(
    "folder",
    [
        {"_id": "f1", "name": "", "path": ""},
        {"_id": "f2", "name": "a/b", "path": ""},
        {"_id": "f3", "name": "..", "path": ""},
        {"_id": "f4", "name": "x", "path": "a//b"},
    ],
)
def test_restored_entries_must_have_valid_names(folder):
    emulator = Emulator()
    doc = {
        "format": "pixelbin-emulator-state",
        "version": 1,
        "orgs": [{"orgId": 5, "folders": [folder]}],
    }
    with pytest.raises(ValidationError):
        import_state(emulator, doc, mode="replace")
    assert emulator.orgs() == []


@pytest.mark.parametrize(
    "org_doc",
    [
        {"apiSecret": 12345},
        {"cloudName": 5},
        {"name": ["x"]},
        {"files": [{"name": "a", "base64": "", "format": 7}]},
    ],
)
def test_wrongly_typed_seed_fields_are_validation_errors(org_doc):
    with pytest.raises(ValidationError):
        Emulator({"format": "pixelbin-emulator-state", "version": 1, "orgs": [org_doc]})


def test_non_ascii_admin_token_is_a_401_not_a_500():
    emulator = Emulator()
    client = create_app(emulator, Settings(admin_token="s3cret")).test_client()
    response = client.get("/_emulator/orgs", headers={"Authorization": "Bearer café"})
    assert response.status_code == 401


def test_overwrite_never_shows_readers_a_half_updated_file():
    org = Emulator().create_org()
    tree = org.assets
    tree.upload(UploadSpec(data=png_header(2, 2), name="f"))
    stop = threading.Event()
    torn: list[File] = []

    def writer() -> None:
        while not stop.is_set():
            tree.upload(UploadSpec(data=b"plain text bytes", name="f", overwrite=True))
            tree.upload(UploadSpec(data=png_header(2, 2), name="f", overwrite=True))

    thread = threading.Thread(target=writer)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to meet a torn write
    thread.start()
    try:
        for _ in range(20_000):
            shown = File.of(org, tree.get_file("f"), "http://x")
            if (shown.format, shown.size) not in (("png", 45), ("bin", 16)):
                torn.append(shown)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert not torn


def test_handle_load_is_all_or_nothing_and_takes_presets(pixelbin_emulator):
    from .helpers import state

    before = state(pixelbin_emulator)
    bad = {
        "folders": [{"name": "a"}],
        "files": [{"name": "ok", "base64": ""}, {"name": "broken", "base64": "!!"}],
    }
    with pytest.raises(ValidationError):
        pixelbin_emulator.load({"format": "pixelbin-emulator-state", "version": 1, "orgs": [bad]})
    assert state(pixelbin_emulator) == before
    good = {"presets": [{"presetName": "flip", "transformation": "t.flip()"}]}
    pixelbin_emulator.load({"format": "pixelbin-emulator-state", "version": 1, "orgs": [good]})
    assert pixelbin_emulator.org.presets.get("flip").transformation == "t.flip()"
