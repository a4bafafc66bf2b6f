"""The pytest plugin's fixtures, the CDN, and seeds."""

from __future__ import annotations

import base64
import io
import json

import pytest
import requests
from PIL import Image
from pixelbin import PixelbinClient, PixelbinConfig

from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.core.snapshot import dump_state
from pixelbin_emulator.seeds import default_emulator

from .helpers import jpeg, png


def test_handle_exposes_what_a_test_needs(pixelbin_emulator):
    assert pixelbin_emulator.url.startswith("http://127.0.0.1:")
    assert pixelbin_emulator.sdk_config() == {
        "domain": pixelbin_emulator.url,
        "apiSecret": pixelbin_emulator.api_secret,
    }
    assert pixelbin_emulator.access_key and pixelbin_emulator.cloud_name


def test_every_test_starts_clean_part_one(assets):
    assert assets.listFiles()["page"]["itemTotal"] == 0
    assets.fileUpload(file=png(), name="leftover")
    assert assets.listFiles()["page"]["itemTotal"] == 1  # part two must not see this file


def test_every_test_starts_clean_part_two(assets):
    assert assets.listFiles()["page"]["itemTotal"] == 0


def test_pixelbin_app_runs_in_process(pixelbin_app):
    org = pixelbin_app.extensions["pixelbin_emulator"]["emulator"].orgs()[0]
    token = base64.b64encode(org.api_secret.encode()).decode()
    client = pixelbin_app.test_client()
    response = client.post(
        "/service/platform/assets/v1.0/folders",
        json={"name": "in-process"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and response.json["name"] == "in-process"


def test_cdn_serves_public_files_with_http_caching(assets):
    uploaded = assets.fileUpload(file=jpeg(), path="pics", name="photo")
    response = requests.get(uploaded["url"], timeout=5)
    assert response.status_code == 200
    assert response.content == jpeg()
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    cached = requests.get(
        uploaded["url"], headers={"If-None-Match": response.headers["ETag"]}, timeout=5
    )
    assert cached.status_code == 304
    partial = requests.get(uploaded["url"], headers={"Range": "bytes=0-3"}, timeout=5)
    assert partial.status_code == 206 and partial.content == jpeg()[:4]


def test_cdn_url_variants(assets, pixelbin_emulator):
    uploaded = assets.fileUpload(file=png(), name="pic")
    base = f"{pixelbin_emulator.url}/v2/{pixelbin_emulator.cloud_name}"
    assert requests.get(f"{base}/original/pic", timeout=5).status_code == 200
    assert requests.get(f"{base}/z0ne01/original/pic.png", timeout=5).status_code == 200
    transformed = requests.get(f"{base}/t.resize(w:10)/pic.png", timeout=5)
    assert transformed.status_code == 200
    assert transformed.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(transformed.content)).size == (10, 8)
    assert "X-Pixelbin-Emulator-Transformation" not in transformed.headers
    assert requests.get(f"{base}/original/pic.jpeg", timeout=5).status_code == 404
    for bad in ("t.nope()", "zz.zz(a:b)", "p:no-such-preset", "t.resize(w:huge)"):
        response = requests.get(f"{base}/{bad}/pic.png", timeout=5)
        assert response.status_code == 400, bad
        assert "invalid transformation" in response.json()["message"]
    assets.addPreset(presetName="thumb", transformation="t.resize(w:10)")
    assert requests.get(f"{base}/p:thumb/pic.png", timeout=5).status_code == 200
    assert requests.get(f"{base}/original/missing.png", timeout=5).status_code == 404
    assert (
        requests.get(f"{pixelbin_emulator.url}/v2/nocloud/original/pic", timeout=5).status_code
        == 404
    )
    assets.updateFile(fileId="pic", isActive=False)
    assert requests.get(uploaded["url"], timeout=5).status_code == 404


def test_cdn_refuses_private_files_unsigned(assets):
    uploaded = assets.fileUpload(file=png(), name="secret", access="private")
    response = requests.get(uploaded["url"], timeout=5)
    assert response.status_code == 401 and response.json()["status"] == 401


def test_org_details_of_two_orgs_are_isolated(pixelbin_emulator, event_loop):
    other = pixelbin_emulator.emulator.create_org()
    try:
        mine = PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))
        theirs = PixelbinClient(
            PixelbinConfig({"domain": pixelbin_emulator.url, "apiSecret": other.api_secret})
        )
        mine.assets.createFolder(name="only-mine")
        assert theirs.assets.listFiles()["items"] == []
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)


def test_snapshot_round_trip_gives_identical_state():
    emulator = default_emulator(random_seed=7)
    org = emulator.orgs()[0]
    from pixelbin_emulator.core.assets import UploadSpec

    org.assets.upload(UploadSpec(data=png(), name="a", path="x/y", tags=["t"]))
    org.assets.create_folder("empty", "x")
    org.assets.update_file("x/y/a", path="moved")
    exported = dump_state(emulator)
    copy = Emulator(json.loads(json.dumps(exported)))
    assert dump_state(copy) == exported


def test_seed_errors_are_validation_errors():
    with pytest.raises(ValidationError):
        Emulator({"format": "something-else"})
    with pytest.raises(ValidationError):
        Emulator({"format": "pixelbin-emulator-state", "version": 1, "orgs": [{"files": [{}]}]})


def test_reset_returns_to_the_seed():
    emulator = default_emulator()
    seeded = dump_state(emulator)
    emulator.orgs()[0].assets.create_folder("scratch")
    emulator.create_org()
    emulator.reset()
    assert without_times(dump_state(emulator)) == without_times(seeded)


def without_times(value):
    """The state minus timestamps, which a reset legitimately renews."""
    if isinstance(value, dict):
        return {
            k: without_times(v) for k, v in value.items() if k not in ("createdAt", "updatedAt")
        }
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value
