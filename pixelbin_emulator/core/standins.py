"""Deterministic stand-ins for the catalogue's AI modules.

The real service runs machine-learning models for ``erase.bg``, ``sr.upscale``, ``ic.crop`` and
the rest. An offline emulator cannot, and tests need repeatable results, so each module is
replaced by a small image operation that keeps the model's *contract* — output size, format,
alpha channel, a JSON result for detectors — with pixels that are plausible and always the same
for the same input. The CDN pipeline calls :func:`apply` for every non-``t`` step; the
Predictions API calls :func:`apply` for image models and :func:`detect` for detection models.

Parameters arrive as the raw strings of the URL or the prediction request, already checked
against the catalogue (``modules.json``); catalogue defaults fill the missing ones here.
``docs/predictions.md`` ("Stand-ins") describes each one.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyvips

from .transformations import load_catalogue

__all__ = [
    "DETECTORS",
    "MAX_OUTPUT_SIDE",
    "StandInError",
    "StandInResult",
    "apply",
    "detect",
    "has_stand_in",
]

#: The CDN's output limit (10,000 x 10,000); an upscale past it is refused, not rendered.
MAX_OUTPUT_SIDE = 10_000
#: Euclidean RGB distance (0-441) under which a pixel counts as the border colour in erase.bg.
BACKGROUND_TOLERANCE = 40.0
#: Models whose prediction output is a JSON document rather than an image.
DETECTORS = frozenset({"awsRek.detectLabels", "awsRek.moderation", "googleVis.detectLabels"})


class StandInError(ValueError):
    """The input cannot go through the stand-in (bad parameter value, output too large): a 400."""


@dataclass(frozen=True)
class StandInResult:
    image: pyvips.Image
    #: The output format the module forces (``"png"`` for background removal), or None to keep
    #: the pipeline's; a later ``t.toFormat`` still overrides it.
    format: str | None = None


@functools.lru_cache(maxsize=1)
def _defaults() -> dict[str, dict[str, str]]:
    """``{"plugin.method": {identifier: default as URL text}}`` from the shipped catalogue."""
    table: dict[str, dict[str, str]] = {}
    for plugin_id, plugin in load_catalogue().plugins.items():
        if plugin_id == "t":
            continue
        for op in plugin.get("operations", []):
            table[f"{plugin_id}.{op['method']}"] = {
                p["identifier"]: _as_text(p.get("default"))
                for p in op.get("params") or []
                if p.get("default") is not None
            }
    return table


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def has_stand_in(plugin: str, operation: str) -> bool:
    """True when ``plugin.operation`` is an AI module of the catalogue this module replaces."""
    return f"{plugin}.{operation}" in _defaults()


def _params(plugin: str, operation: str, params: Mapping[str, str]) -> dict[str, str]:
    key = f"{plugin}.{operation}"
    defaults = _defaults().get(key)
    if defaults is None:
        raise StandInError(f"no stand-in for '{key}'")
    return {**defaults, **params}


def apply(
    plugin: str, operation: str, image: pyvips.Image, params: Mapping[str, str]
) -> StandInResult:
    """Run the stand-in of ``plugin.operation`` on ``image``."""
    values = _params(plugin, operation, params)
    key = f"{plugin}.{operation}"
    if key in ("erase.bg", "remove.bg"):
        return StandInResult(_erase_background(image), "png")
    if key == "sr.upscale":
        return StandInResult(_upscale(image, values["t"]), None)
    if key == "wm.remove":
        boxes = [values[f"box{n}"] for n in range(1, 6) if f"box{n}" in values]
        return StandInResult(_median_boxes(image, boxes), None)
    if key == "af.remove":
        return StandInResult(_median_boxes(image, ["0_0_100_100"]), None)
    if key == "ic.crop":
        return StandInResult(_crop(image, values), None)
    # Detection and moderation modules leave the image as it is; their findings are detect()'s.
    return StandInResult(image, None)


# --------------------------------------------------------------------------- image stand-ins


def _srgb(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    """The image as 8-bit sRGB colour bands plus its alpha band (or None)."""
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    alpha = None
    if image.hasalpha():
        alpha = image.extract_band(image.bands - 1)
        image = image.extract_band(0, n=image.bands - 1)
    if image.bands == 1:
        image = image.bandjoin([image, image])
    return image, alpha


def border_colour(image: pyvips.Image) -> tuple[int, int, int]:
    """Per-channel median of the outermost ring of pixels: the "background" colour."""
    rgb, _ = _srgb(image)
    w, h = rgb.width, rgb.height
    strips = [rgb.crop(0, 0, w, 1), rgb.crop(0, h - 1, w, 1)]
    if h > 2:
        strips += [rgb.crop(0, 1, 1, h - 2), rgb.crop(w - 1, 1, 1, h - 2)]
    data = b"".join(strip.write_to_memory() for strip in strips)
    return tuple(sorted(data[band::3])[len(data[band::3]) // 2] for band in range(3))  # type: ignore[return-value]


def _background_mask(image: pyvips.Image) -> pyvips.Image:
    """uchar mask, 255 where a pixel is border-coloured *and* connected to the border."""
    rgb, _ = _srgb(image)
    colour = border_colour(image)
    distance = ((rgb - list(colour)) ** 2).bandmean() * 3
    near = (distance <= BACKGROUND_TOLERANCE**2).ifthenelse(255, 0).cast("uchar")
    # A one-pixel frame of "near" joins every border-touching region, so one flood fill from
    # the corner marks all of them (and nothing enclosed inside the subject).
    framed = near.embed(1, 1, rgb.width + 2, rgb.height + 2, extend="background", background=[255])
    flooded = framed.copy_memory().draw_flood([128], 0, 0, equal=True)
    return (flooded.crop(1, 1, rgb.width, rgb.height) == 128).ifthenelse(255, 0).cast("uchar")


def _erase_background(image: pyvips.Image) -> pyvips.Image:
    rgb, alpha = _srgb(image)
    keep = _background_mask(image).invert()
    if alpha is not None:
        keep = (keep.cast("float") * alpha.cast("float") / 255).cast("uchar")
    return rgb.bandjoin(keep).copy(interpretation="srgb")


def _upscale(image: pyvips.Image, factor_text: str) -> pyvips.Image:
    factor = {"2x": 2, "4x": 4}.get(factor_text)
    if factor is None:
        raise StandInError(f"upscale factor '{factor_text}' is not one of 2x, 4x")
    width, height = image.width * factor, image.height * factor
    if width > MAX_OUTPUT_SIDE or height > MAX_OUTPUT_SIDE:
        raise StandInError(
            f"upscaled image would be {width}x{height}, past the "
            f"{MAX_OUTPUT_SIDE}x{MAX_OUTPUT_SIDE} output limit"
        )
    return image.resize(factor, kernel="lanczos3")


_BOX = re.compile(r"(\d{1,3})_(\d{1,3})_(\d{1,3})_(\d{1,3})")


def _median_boxes(image: pyvips.Image, boxes: list[str]) -> pyvips.Image:
    """A 3x3 median inside each box ``left_top_width_height`` given in percent of the image."""
    smoothed: pyvips.Image | None = None
    out = image
    for box in boxes:
        match = _BOX.fullmatch(box)
        if match is None or any(int(v) > 100 for v in match.groups()):
            raise StandInError(f"box '{box}' is not left_top_width_height in percent (0-100)")
        left, top, width, height = (int(v) for v in match.groups())
        x0, y0 = image.width * left // 100, image.height * top // 100
        x1 = min(image.width, image.width * (left + width) // 100)
        y1 = min(image.height, image.height * (top + height) // 100)
        if x1 <= x0 or y1 <= y0:
            continue
        if smoothed is None:
            smoothed = median3(image)
        out = out.insert(smoothed.crop(x0, y0, x1 - x0, y1 - y0), x0, y0)
    return out


#: Devillard's median-of-9 sorting network (``opt_med9``): 19 compare-exchanges of the 3x3
#: neighbourhood, which leave the median in position 4.
_MEDIAN9 = (
    (1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
    (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2),
)  # fmt: skip


def median3(image: pyvips.Image) -> pyvips.Image:
    """``image.median(3)``, pixel for pixel (edges extended by copying), ~20x faster.

    libvips' rank filter keeps a histogram per pixel, which is slow for a 3x3 window; a sorting
    network of pairwise minima and maxima over the nine shifted copies streams instead.
    """
    width, height = image.width, image.height
    framed = image.embed(1, 1, width + 2, height + 2, extend="copy")
    cells = [framed.crop(dx, dy, width, height) for dy in range(3) for dx in range(3)]
    for low, high in _MEDIAN9:
        cells[low], cells[high] = cells[low].minpair(cells[high]), cells[low].maxpair(cells[high])
    return cells[4]


_RATIO = re.compile(r"(\d+(?:\.\d+)?)(?:_(\d+(?:\.\d+)?))?")
_DIRECTIONS = {
    "north_west": (0, 0),
    "north": (1, 0),
    "north_east": (2, 0),
    "west": (0, 1),
    "center": (1, 1),
    "east": (2, 1),
    "south_west": (0, 2),
    "south": (1, 2),
    "south_east": (2, 2),
}


def _crop(image: pyvips.Image, values: Mapping[str, str]) -> pyvips.Image:
    """A crop of the asked size (``w``/``h``, or one of them and ``ar``) placed by ``d``.

    Sizes larger than the image are clamped to it; ``p`` (a percentage) widens the crop by
    that share of its size on every side, within the image. Subject detection (``g``, ``obj``)
    is not modelled: the crop is placed by the direction alone.
    """
    try:
        width, height, padding = int(values["w"]), int(values["h"]), int(values["p"])
    except ValueError:
        raise StandInError("ic.crop w, h and p must be integers") from None
    if width < 0 or height < 0 or padding < 0:
        raise StandInError("ic.crop w, h and p must not be negative")
    ratio = _aspect_ratio(values.get("ar", ""))
    if ratio is not None:
        if width and not height:
            height = max(1, round(width / ratio))
        elif height and not width:
            width = max(1, round(height * ratio))
        elif not width and not height:
            if image.width / image.height > ratio:
                height, width = image.height, max(1, round(image.height * ratio))
            else:
                width, height = image.width, max(1, round(image.width / ratio))
    width, height = width or image.width, height or image.height
    width = min(image.width, width + 2 * (width * padding // 100))
    height = min(image.height, height + 2 * (height * padding // 100))
    column, row = _DIRECTIONS.get(values.get("d", "center"), (1, 1))
    left = (image.width - width) * column // 2
    top = (image.height - height) * row // 2
    return image.crop(left, top, width, height)


def _aspect_ratio(text: str) -> float | None:
    if not text:
        return None
    match = _RATIO.fullmatch(text)
    if match is None:
        raise StandInError(f"aspect ratio '{text}' is not W_H or a number")
    numerator = float(match.group(1))
    denominator = float(match.group(2)) if match.group(2) else 1.0
    if numerator <= 0 or denominator <= 0:
        raise StandInError(f"aspect ratio '{text}' must be positive")
    return numerator / denominator


# --------------------------------------------------------------------------- detection


#: Named reference colours for the "dominant colour" label (sRGB).
_PALETTE = {
    "Black": (0, 0, 0),
    "White": (255, 255, 255),
    "Gray": (128, 128, 128),
    "Red": (220, 30, 30),
    "Orange": (240, 140, 20),
    "Yellow": (240, 220, 30),
    "Green": (40, 170, 60),
    "Cyan": (30, 200, 220),
    "Blue": (30, 60, 210),
    "Purple": (130, 50, 180),
    "Pink": (240, 130, 180),
    "Brown": (130, 80, 40),
}


@dataclass(frozen=True)
class _Finding:
    name: str
    confidence: float  # 0-100
    box: tuple[float, float, float, float] | None = None  # left, top, width, height (0-1)
    parents: tuple[str, ...] = ()


def _findings(image: pyvips.Image) -> list[_Finding]:
    """Labels derived from image statistics, highest confidence first (ties by name)."""
    rgb, _ = _srgb(image)
    means = [rgb.extract_band(b).avg() for b in range(3)]
    brightness = sum(means) / 3
    findings: list[_Finding] = []

    def distance(colour: tuple[int, int, int]) -> float:
        return sum((m - c) ** 2 for m, c in zip(means, colour, strict=True)) ** 0.5

    colour = min(_PALETTE, key=lambda name: (distance(_PALETTE[name]), name))
    findings.append(
        _Finding(colour, _round(100 - distance(_PALETTE[colour]) / 4.41), None, ("Color",))
    )
    if brightness >= 128:
        findings.append(_Finding("Bright", _round(50 + (brightness - 128) / 2.55)))
    else:
        findings.append(_Finding("Dark", _round(50 + (128 - brightness) / 2.56)))
    ratio = rgb.width / rgb.height
    shape = "Square" if 0.9 <= ratio <= 1.1 else ("Landscape" if ratio > 1 else "Portrait")
    findings.append(_Finding(shape, 99.0))
    deviation = sum(rgb.extract_band(b).deviate() for b in range(3)) / 3
    findings.append(
        _Finding("Pattern" if deviation >= 48 else "Plain", _round(60 + abs(deviation - 48) / 2))
    )
    # The "subject": whatever differs from the border colour, boxed like a detector would.
    mask = _background_mask(image).invert()
    if mask.max() > 0:
        left, top, width, height = mask.find_trim(threshold=0, background=[0])
        if width and height:
            share = width * height / (rgb.width * rgb.height)
            box = (
                round(left / rgb.width, 4),
                round(top / rgb.height, 4),
                round(width / rgb.width, 4),
                round(height / rgb.height, 4),
            )
            findings.append(_Finding("Object", _round(55 + 40 * (1 - share)), box))
    return sorted(findings, key=lambda f: (-f.confidence, f.name))


def _round(value: float) -> float:
    return round(min(99.9, max(0.0, value)), 3)


def detect(
    plugin: str, operation: str, image: pyvips.Image, params: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON result document of a detection/moderation module for ``image``.

    The shape follows the vendor's own API (AWS Rekognition ``DetectLabels`` /
    ``DetectModerationLabels``, Google Vision ``labelAnnotations``); the content is derived from
    image statistics (dominant colour, brightness, orientation, texture, the region that
    differs from the border colour), so it is the same for the same pixels.
    """
    values = _params(plugin, operation, params)
    key = f"{plugin}.{operation}"
    if key not in DETECTORS:
        raise StandInError(f"'{key}' is not a detection module")
    if key == "awsRek.moderation":
        return {"ModerationLabels": [], "ModerationModelVersion": "7.0"}
    limit = _int_param(values, "l")
    findings = _findings(image)
    if key == "awsRek.detectLabels":
        least = _int_param(values, "c")
        labels = []
        # Rekognition applies MinConfidence first, then MaxLabels.
        for finding in [f for f in findings if f.confidence >= least][:limit]:
            instances = []
            if finding.box is not None:
                left, top, width, height = finding.box
                instances.append(
                    {
                        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
                        "Confidence": finding.confidence,
                    }
                )
            labels.append(
                {
                    "Name": finding.name,
                    "Confidence": finding.confidence,
                    "Instances": instances,
                    "Parents": [{"Name": p} for p in finding.parents],
                }
            )
        return {"Labels": labels, "LabelModelVersion": "3.0"}
    return {
        "labelAnnotations": [
            {
                "mid": "/m/" + hashlib.sha1(f.name.encode()).hexdigest()[:6],
                "description": f.name,
                "score": round(f.confidence / 100, 5),
                "topicality": round(f.confidence / 100, 5),
            }
            for f in findings[:limit]
        ]
    }


def _int_param(values: Mapping[str, str], name: str) -> int:
    try:
        return int(values[name])
    except ValueError:
        raise StandInError(f"parameter '{name}' must be an integer") from None
