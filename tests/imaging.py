"""Deterministic test originals, an org to render them in, and pixel comparison for CDN tests.

The originals are drawn with libvips arithmetic (no randomness, no files in the repo): a
photo-like JPEG (smooth gradients plus fine detail, so kernels and sharpening differ measurably),
an RGBA PNG with a soft alpha ramp, a WebP, a small RGBA logo to merge, a PNG with a flat frame
to trim, a 16-bit greyscale PNG, a two-frame GIF and an SVG. The benchmarks' large JPEGs add
seeded noise, so they weigh what camera files do.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import PIL.Image
import pyvips
import requests

from pixelbin_emulator.server import LiveServer


def _photo(width: int, height: int) -> pyvips.Image:
    """Gradients with ripples, a bright disc and a hard edge: detail at several scales."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    red = x * (255.0 / width)
    green = y * (255.0 / height)
    blue = ((x / 5.0).sin() * (y / 7.0).cos()) * 90 + 128
    cx, cy, r = width * 0.6, height * 0.4, min(width, height) * 0.22
    disc = (((x - cx) ** 2 + (y - cy) ** 2) < r * r).ifthenelse(255, 0)
    edge = (x > width * 0.25).ifthenelse(0, 60)
    image = red.bandjoin([green, blue]) + disc * 0.5 - edge
    return image.cast("uchar").copy(interpretation="srgb")


def _alpha(width: int, height: int) -> pyvips.Image:
    """Colourful pixels under an alpha that goes from clear (top left) to opaque, with a hole."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    alpha = ((x + y) * (255.0 / (width + height))) + 40
    hole = (((x - width / 2) ** 2 + (y - height / 2) ** 2) < (height / 5) ** 2).ifthenelse(0, 1)
    rgb = (x * 3 % 256).bandjoin([(y * 5) % 256, ((x * y) / 40) % 256])
    return rgb.bandjoin(alpha * hole).cast("uchar").copy(interpretation="srgb")


@dataclass(frozen=True)
class Original:
    """A generated original: its fileId stem, extension and encoded bytes."""

    name: str
    ext: str
    data: bytes

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.ext}"


def originals() -> dict[str, Original]:
    """The differential suite's originals, keyed by name."""
    photo = _photo(320, 240)
    return {
        "photo": Original("photo", "jpeg", photo.jpegsave_buffer(Q=90)),
        "alpha": Original("alpha", "png", _alpha(200, 150).pngsave_buffer()),
        "pic": Original("pic", "webp", _photo(160, 120).webpsave_buffer(Q=90)),
        "logo": Original("logo", "png", _alpha(64, 48).flip("horizontal").pngsave_buffer()),
        "framed": Original("framed", "png", _framed().pngsave_buffer()),
        "deep": Original("deep", "png", _deep(120, 90).pngsave_buffer()),
        "anim": Original("anim", "gif", _animation(100, 80).gifsave_buffer()),
        "shape": Original("shape", "svg", SVG),
    }


#: A vector original: sharp rasterises it at 72 DPI (and at a larger scale for a first resize).
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="90">'
    b'<rect width="120" height="90" fill="#3080c0"/>'
    b'<circle cx="60" cy="45" r="30" fill="#ffcc00" fill-opacity="0.7"/>'
    b'<path d="M5 85 L60 5 L115 85" stroke="#202020" stroke-width="3" fill="none"/></svg>'
)


def _deep(width: int, height: int) -> pyvips.Image:
    """A 16-bit greyscale PNG (sharp's output of it is 8-bit sRGB, whatever the steps)."""
    grey = _photo(width, height).colourspace("b-w")[0].cast("ushort") * 257
    return grey.copy(interpretation="grey16")


def _animation(width: int, height: int) -> pyvips.Image:
    """Two frames (sharp reads only the first unless asked for more)."""
    first = _photo(width, height)
    frames = first.join(first.flip("horizontal").invert(), "vertical")
    frames = frames.copy()
    frames.set_type(pyvips.GValue.gint_type, "page-height", height)
    return frames


def _framed() -> pyvips.Image:
    """A detailed 90x60 centre inside a flat frame (what trim removes), 130x100 in all."""
    return _photo(90, 60).embed(25, 15, 130, 100, extend="background", background=[200, 30, 30])


def photo_jpeg(width: int, height: int, quality: int = 85) -> bytes:
    """A photo-like JPEG of any size, with sensor-like noise so it weighs what a camera's does
    (benchmarks use 2 and 24 megapixels)."""
    noise = pyvips.Image.gaussnoise(width, height, sigma=12, mean=0, seed=7)
    image = (_photo(width, height) + noise).cast("uchar").copy(interpretation="srgb")
    return image.jpegsave_buffer(Q=quality)


class Org:
    """A fresh org on a live server, spoken to over plain HTTP like any client."""

    def __init__(self, server: LiveServer, name: str) -> None:
        self.server = server
        self.org = server.emulator.create_org(name=name)
        token = base64.b64encode(self.org.api_secret.encode()).decode()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    @property
    def cdn(self) -> str:
        return f"{self.server.url}/v2/{self.org.cloud_name}"

    def upload(self, original: Original, path: str = "") -> dict[str, Any]:
        """fileUpload (multipart), as the SDKs send it."""
        response = self.session.post(
            f"{self.server.url}/service/platform/assets/v1.0/upload/direct",
            files={"file": (original.file_name, original.data, "application/octet-stream")},
            data={"name": original.name, "path": path},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def add_preset(self, name: str, transformation: str, params: dict | None = None) -> None:
        response = self.session.post(
            f"{self.server.url}/service/platform/assets/v1.0/presets",
            json={"presetName": name, "transformation": transformation, "params": params or {}},
            timeout=30,
        )
        response.raise_for_status()

    def get(self, pattern: str, file_path: str, **kwargs: Any) -> requests.Response:
        """A CDN GET of ``/v2/{cloud}/{pattern}/{file_path}``."""
        return requests.get(f"{self.cdn}/{pattern}/{file_path}", timeout=60, **kwargs)

    def close(self) -> None:
        self.session.close()
        self.server.emulator.drop_org(self.org.org_id)


@contextmanager
def org_on(server: LiveServer, name: str) -> Iterator[Org]:
    org = Org(server, name)
    try:
        yield org
    finally:
        org.close()


def decode(data: bytes) -> pyvips.Image:
    """Decodes with libvips; BMP (which libvips cannot read) through Pillow, loader set to "bmp"."""
    if data[:2] != b"BM":
        return pyvips.Image.new_from_buffer(data, "", access="sequential")
    with PIL.Image.open(io.BytesIO(data)) as bmp:
        rgb = bmp.convert("RGBA" if "A" in bmp.mode else "RGB")
    image = pyvips.Image.new_from_memory(
        rgb.tobytes(), rgb.width, rgb.height, len(rgb.mode), "uchar"
    )
    image = image.copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gstr_type, "vips-loader", "bmpload_buffer")
    return image


def comparable(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB plus alpha, premultiplied: a clear pixel's colour is invisible, not compared."""
    if image.interpretation in ("grey16", "rgb16") or image.bands in (1, 2):
        image = image.colourspace("srgb")
    if image.bands == 3:
        image = image.bandjoin_const([255])
    return image.premultiply().cast("float")


def mad(a: pyvips.Image, b: pyvips.Image) -> float:
    """Mean absolute difference per channel on the 0-255 scale (same size required)."""
    return float((comparable(a) - comparable(b)).abs().avg())


def has_alpha(image: pyvips.Image) -> bool:
    return image.bands in (2, 4)


def step_text(op: str, params: dict[str, Any]) -> str:
    """A `t.*` step as it is written in a URL pattern."""
    values = ",".join(f"{key}:{value}" for key, value in params.items())
    return f"t.{op}({values})"
