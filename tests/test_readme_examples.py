"""The examples in README.md and docs/control-plane.md, run as written there."""

from __future__ import annotations

import asyncio
import io

import pytest
from pixelbin.common.exceptions import PixelbinServerResponseError

from .helpers import jpeg


def test_upload(pixelbin_client):
    result = pixelbin_client.assets.fileUpload(file=io.BytesIO(b"hello"), name="greeting")
    assert result["fileId"] == "greeting"


def test_async_then_sync(pixelbin_client, pixelbin_async_client):
    asyncio.run(pixelbin_async_client.assets.createFolderAsync(name="a"))
    assert pixelbin_client.assets.getFolderDetails(name="a")["name"] == "a"


def test_upload_survives_flaky_parts(pixelbin_emulator, pixelbin_client):
    pixelbin_emulator.fault(operation="uploadPart", status=503, times=2)  # next 2 parts fail
    pixelbin_client.uploader.upload(
        file=io.BytesIO(b"x" * 30_000),
        name="big",
        format="bin",
        uploadOptions={"chunkSize": 10_000},
    )
    pixelbin_emulator.assert_called("uploadPart", times=5)  # 3 parts + 2 retries


def test_private_files_and_signed_urls(pixelbin_emulator, pixelbin_client):
    import requests
    from pixelbin.utils.security import sign_url

    report = pixelbin_client.assets.fileUpload(
        file=io.BytesIO(b"quarterly numbers"), name="report", access="private"
    )
    assert requests.get(report["url"], timeout=10).status_code == 401
    signed = sign_url(
        report["url"], 600, pixelbin_emulator.access_key, pixelbin_emulator.api_secret
    )
    assert requests.get(signed, timeout=10).content == b"quarterly numbers"


def test_a_failed_upload_is_reported(pixelbin_emulator, pixelbin_client):
    rule = pixelbin_emulator.fault(operation="fileUpload", status=503, times=1)
    with pytest.raises(PixelbinServerResponseError):
        pixelbin_client.assets.fileUpload(file=io.BytesIO(b"hi"), name="a")
    pixelbin_client.assets.fileUpload(file=io.BytesIO(b"hi"), name="a")  # the rule is spent
    pixelbin_emulator.assert_called("fileUpload", times=2)
    assert rule.fired == 1


def test_transformation_url(pixelbin_emulator, pixelbin_client):
    import requests
    from PIL import Image
    from pixelbin.utils.url import obj_to_url

    cat = io.BytesIO()
    Image.new("RGB", (600, 400), "orange").save(cat, "JPEG")
    cat.seek(0)
    pixelbin_client.assets.fileUpload(file=cat, path="animals", name="cat")
    url = obj_to_url(
        {
            "baseUrl": pixelbin_emulator.url,
            "cloudName": pixelbin_emulator.cloud_name,
            "filePath": "animals/cat.jpeg",
            "options": {"dpr": 2.0},
            "transformations": [
                {"plugin": "t", "name": "resize", "values": [{"key": "w", "value": "150"}]}
            ],
        }
    )
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).width == 300


def test_erase_bg(pixelbin_emulator, pixelbin_client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.jpeg").write_bytes(jpeg(40, 30))
    pixelbin_emulator.prediction_settings(latency=0)  # done by wait's first poll
    with open("cat.jpeg", "rb") as image:
        result = pixelbin_client.predictions.create_and_wait(
            name="erase_bg", input={"image": image.read()}
        )
    assert result["status"] == "SUCCESS"  # result["output"][0]: a PNG with alpha, served locally
