"""Transformation URLs built by the official SDKs render on the emulator's CDN.

Python: `pixelbin.utils.url.obj_to_url` (and `url_to_obj` of an uploaded file's URL, edited and
turned back into a URL). JavaScript: `url.objToUrl` of @pixelbin/admin and the transformation
builders of @pixelbin/core (`tests/js/transform_urls.js`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from pixelbin.utils.url import obj_to_url, url_to_obj

from .imaging import decode, originals

JS_DIR = Path(__file__).parent / "js"


def check(url: str, size: tuple[int, int], fmt: str, headers: dict | None = None) -> None:
    response = requests.get(url, headers=headers or {}, timeout=30)
    assert response.status_code == 200, (url, response.text[:300])
    assert response.headers["Content-Type"] == f"image/{fmt}", url
    image = decode(response.content)
    assert (image.width, image.height) == size, url


@pytest.fixture
def photo_url(sdk) -> str:
    """The CDN URL the upload answered for a 320x240 JPEG at sdk/photo.jpeg."""
    photo = originals()["photo"]
    return sdk.assets.fileUpload(file=photo.data, path="sdk", name="photo")["url"]


def test_obj_to_url_renders(pixelbin_emulator, photo_url):
    obj = {
        "baseUrl": pixelbin_emulator.url,
        "cloudName": pixelbin_emulator.cloud_name,
        "version": "v2",
        "filePath": "sdk/photo.jpeg",
        "transformations": [
            {"plugin": "t", "name": "resize", "values": [{"key": "w", "value": "160"}]},
            {"plugin": "t", "name": "flip"},
            {"plugin": "t", "name": "toFormat", "values": [{"key": "f", "value": "png"}]},
        ],
    }
    check(obj_to_url(obj), (160, 120), "png")
    obj["options"] = {"dpr": 1.5, "f_auto": True}
    obj["transformations"] = obj["transformations"][:1]
    # dpr scales the resize (160 -> 240 wide); f_auto picks WebP from the Accept header.
    check(obj_to_url(obj), (240, 180), "webp", {"Accept": "image/webp,*/*"})


def test_url_to_obj_round_trip_of_an_uploaded_file(pixelbin_emulator, photo_url):
    obj = url_to_obj(photo_url)
    # The SDK keeps only the host name ("http://127.0.0.1"): the port comes back by hand.
    assert obj["baseUrl"] == pixelbin_emulator.url.rsplit(":", 1)[0]
    obj["baseUrl"] = pixelbin_emulator.url
    obj["transformations"] = [
        {
            "plugin": "t",
            "name": "extract",
            "values": [{"key": k, "value": v} for k, v in (("w", "64"), ("h", "48"))],
        },
        {"plugin": "t", "name": "rotate", "values": [{"key": "a", "value": "90"}]},
    ]
    obj["pattern"] = None
    check(obj_to_url(obj), (48, 64), "jpeg")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_js_sdk_urls_render(pixelbin_emulator, photo_url):
    assert (JS_DIR / "node_modules" / "@pixelbin" / "core").is_dir(), "run tests/setup.sh first"
    done = subprocess.run(
        ["node", str(JS_DIR / "transform_urls.js")],
        env={
            **os.environ,
            "PIXELBIN_URL": pixelbin_emulator.url,
            "PIXELBIN_CLOUD": pixelbin_emulator.cloud_name,
            "PIXELBIN_FILE": "sdk/photo.jpeg",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    urls = json.loads(done.stdout)
    check(urls["objToUrl"], (120, 90), "png")
    check(urls["objToUrlWithOptions"], (100, 75), "avif", {"Accept": "image/avif,image/webp"})
    # contain into 80x60, then a quarter turn: 60x80, written as WebP.
    check(urls["coreBuilders"], (60, 80), "webp")
