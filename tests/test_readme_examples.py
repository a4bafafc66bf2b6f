"""The examples in README.md, run as written there."""

from __future__ import annotations

from pixelbin import PixelbinClient, PixelbinConfig

from .helpers import jpeg


def test_upload(pixelbin_emulator, event_loop):
    pixelbin = PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))
    result = pixelbin.assets.fileUpload(file=b"hello", name="greeting")
    assert result["fileId"] == "greeting"


def test_upload_survives_flaky_parts(pixelbin_emulator, event_loop):
    pixelbin = PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))
    pixelbin_emulator.fault(operation="uploadPart", status=503, times=2)  # next 2 parts fail
    pixelbin.uploader.upload(
        file=b"x" * 30_000, name="big", format="bin", uploadOptions={"chunkSize": 10_000}
    )
    pixelbin_emulator.assert_called("uploadPart", times=5)  # 3 parts + 2 retries


def test_transformation_url(pixelbin_emulator, event_loop):
    import io

    import requests
    from PIL import Image
    from pixelbin.utils.url import obj_to_url

    pixelbin = PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))
    cat = io.BytesIO()
    Image.new("RGB", (600, 400), "orange").save(cat, "JPEG")
    pixelbin.assets.fileUpload(file=cat.getvalue(), path="animals", name="cat")
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


def test_erase_bg(pixelbin_emulator, event_loop, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.jpeg").write_bytes(jpeg(40, 30))
    pixelbin = PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))
    pixelbin_emulator.prediction_settings(latency=0)  # done by wait's first poll
    with open("cat.jpeg", "rb") as image:
        result = pixelbin.predictions.create_and_wait(
            name="erase_bg", input={"image": image.read()}
        )
    assert result["status"] == "SUCCESS"  # result["output"][0]: a PNG with alpha, served locally
