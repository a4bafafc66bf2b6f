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


def test_private_files_and_signed_urls(pixelbin_emulator, event_loop):
    import io

    import requests
    from pixelbin.utils.security import sign_url

    pixelbin = PixelbinClient(PixelbinConfig(pixelbin_emulator.sdk_config()))
    report = pixelbin.assets.fileUpload(
        file=io.BytesIO(b"quarterly numbers"), name="report", access="private"
    )
    assert requests.get(report["url"], timeout=10).status_code == 401
    signed = sign_url(
        report["url"], 600, pixelbin_emulator.access_key, pixelbin_emulator.api_secret
    )
    assert requests.get(signed, timeout=10).content == b"quarterly numbers"


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
