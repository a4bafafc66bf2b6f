"""The CDN URL forms @pixelbin/core's urlToObj knows: zone or not, custom domain, worker."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from pixelbin_emulator.control import ControlError

from .helpers import png
from .test_cli import start, stop

HOST = "cdn.example.test"


def _get(pixelbin_emulator, path: str, host: str | None = None) -> requests.Response:
    headers = {"Host": host} if host else {}
    return requests.get(pixelbin_emulator.url + path, headers=headers, timeout=5)


@pytest.fixture
def uploaded(assets):
    return assets.fileUpload(file=png(), path="pics", name="logo")


def test_with_and_without_zone(uploaded, pixelbin_emulator):
    cloud = pixelbin_emulator.cloud_name
    for path in (
        f"/v2/{cloud}/original/pics/logo.png",
        f"/v2/{cloud}/Ab_9-z/original/pics/logo.png",
    ):
        answer = _get(pixelbin_emulator, path)
        assert answer.status_code == 200 and answer.content == png()


def test_v1_and_version_less_paths_are_served(uploaded, pixelbin_emulator):
    cloud = pixelbin_emulator.cloud_name
    for path in (f"/v1/{cloud}/original/pics/logo.png", f"/{cloud}/original/pics/logo.png"):
        answer = _get(pixelbin_emulator, path)
        assert answer.status_code == 200 and answer.content == png(), path


def test_custom_domain_serves_paths_without_the_cloud_name(uploaded, pixelbin_emulator):
    assert pixelbin_emulator.map_domain("CDN.Example.TEST.") == HOST
    for path in ("/v2/original/pics/logo.png", "/v2/Ab_9-z/original/pics/logo.png"):
        for host in (HOST, f"{HOST}:8443"):
            answer = _get(pixelbin_emulator, path, host)
            assert answer.status_code == 200 and answer.content == png(), (path, host)
    # The org's own cloud-name form still works there; another org's does not.
    own = f"/v2/{pixelbin_emulator.cloud_name}/original/pics/logo.png"
    assert _get(pixelbin_emulator, own, HOST).status_code == 200
    other = pixelbin_emulator.emulator.create_org()
    try:
        foreign = f"/v2/{other.cloud_name}/original/pics/logo.png"
        assert _get(pixelbin_emulator, foreign, HOST).status_code == 404  # no such file here
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)
    # Journaled (and faultable) under the org the domain belongs to.
    assert pixelbin_emulator.requests(operation="getCdnFile", status=200)
    # Elsewhere the path without the cloud name means nothing.
    assert _get(pixelbin_emulator, "/v2/original/pics/logo.png", "other.test").status_code == 404


def test_worker_urls_answer_a_clear_404(uploaded, pixelbin_emulator):
    pixelbin_emulator.map_domain(HOST)
    cloud = pixelbin_emulator.cloud_name
    for path, host in (
        (f"/v2/{cloud}/wrkr/pics/logo.png", None),
        (f"/v2/{cloud}/Ab_9-z/wrkr/pics/logo.png", None),
        ("/v2/wrkr/pics/logo.png", HOST),
        ("/v2/Ab_9-z/wrkr/pics/logo.png", HOST),
    ):
        answer = _get(pixelbin_emulator, path, host)
        assert answer.status_code == 404, path
        assert "URL Translation Worker" in answer.json()["message"]


def test_custom_domains_through_the_control_plane(pixelbin_control, pixelbin_emulator):
    org_id = pixelbin_emulator.org_id
    assert pixelbin_control.map_domain("img.example.test", org_id) == {
        "host": "img.example.test",
        "orgId": org_id,
    }
    assert pixelbin_control.domains(org_id=org_id) == [
        {"host": "img.example.test", "orgId": org_id}
    ]
    other = pixelbin_control.create_org()
    try:
        with pytest.raises(ControlError) as taken:
            pixelbin_control.map_domain("img.example.test", other["orgId"])
        assert taken.value.status == 409
    finally:
        pixelbin_control.drop_org(other["orgId"])
    for host, status in (("not a host", 400), ("a..b", 400), ("", 400)):
        with pytest.raises(ControlError) as bad:
            pixelbin_control.map_domain(host, org_id)
        assert bad.value.status == status, host
    with pytest.raises(ControlError) as unknown:
        pixelbin_control.map_domain("x.example.test", 999_999)
    assert unknown.value.status == 404
    assert pixelbin_control.unmap_domain("IMG.example.test") == {
        "host": "img.example.test",
        "orgId": org_id,
    }
    with pytest.raises(ControlError) as gone:
        pixelbin_control.unmap_domain("img.example.test")
    assert gone.value.status == 404


def test_dropping_an_org_drops_its_domains_and_a_reset_keeps_them():
    from pixelbin_emulator.seeds import default_emulator

    emulator = default_emulator()
    seeded = emulator.orgs()[0]
    emulator.map_domain("seed.example.test", seeded.org_id)
    extra = emulator.create_org()
    emulator.map_domain("extra.example.test", extra.org_id)
    emulator.drop_org(extra.org_id)
    assert emulator.domains() == {"seed.example.test": seeded.org_id}
    emulator.reset()
    assert emulator.org_by_host("seed.example.test:80").org_id == seeded.org_id


def test_url_upload_of_a_custom_domain_url(uploaded, pixelbin_emulator, assets):
    pixelbin_emulator.map_domain(HOST)
    copied = assets.urlUpload(url=f"http://{HOST}/v2/original/pics/logo.png", name="copy")
    assert copied["size"] == len(png())


def test_cli_maps_a_custom_domain_to_the_served_org():
    env = {"PIXELBIN_EMULATOR_CUSTOM_DOMAIN": HOST}
    process, lines = start("--cors-origins", "http://app.test", env=env)
    try:
        assert f"custom domain {HOST}" in process.stdout.readline()
        url = lines[0].split("ready on ", 1)[1].strip()
        answer = requests.get(
            url + "/v2/original/__playground/playground-default.jpeg",
            headers={"Host": HOST, "Origin": "http://app.test"},
            timeout=5,
        )
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "http://app.test"
    finally:
        stop(process)


def test_cli_refuses_a_bad_custom_domain():
    process = subprocess.run(
        [sys.executable, "-m", "pixelbin_emulator", "--port", "0", "--custom-domain", "a b"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert process.returncode == 2 and "is not a host name" in process.stderr
