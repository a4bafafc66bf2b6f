"""Output dimensions of random resize/extract/extend/rotate chains against an independent model.

The model is written from sharp's documented semantics (sharp.pixelplumbing.com/api-resize,
api-operation; the shrink arithmetic of sharp's `ResolveShrink`), not from the emulator's code:
first checked against sharp itself on a seeded sample, then the emulator's CDN must agree with
it on chains hypothesis draws.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixelbin_emulator.server import LiveServer

from . import sharp_reference
from .imaging import Org, decode, org_on, originals, step_text
from .sharp_reference import Step

#: The originals the chains start from (name: width, height).
SIZES = {"photo": (320, 240), "alpha": (200, 150)}
FITS = ("cover", "contain", "fill", "inside", "outside")


def _round(value: float) -> int:
    """libvips rounds output sizes half up (VIPS_ROUND_UINT)."""
    return math.floor(value + 0.5)


def resized(width: int, height: int, w: int, h: int, fit: str) -> tuple[int, int]:
    """sharp's resize: one side keeps the aspect ratio (fill leaves the other side alone);
    both sides: cover/contain/fill give exactly w x h, inside/outside scale by the larger/smaller
    ratio; no side is shrunk below 1 px."""
    if not w and not h:
        return width, height
    hshrink = width / w if w else 1.0
    vshrink = height / h if h else 1.0
    if w and h:
        if fit in ("cover", "contain", "fill"):
            return w, h
        pick = max if fit == "inside" else min
        hshrink = vshrink = pick(hshrink, vshrink)
    elif fit != "fill":
        hshrink = vshrink = hshrink if w else vshrink
    hshrink, vshrink = min(hshrink, width), min(vshrink, height)
    return _round(width / hshrink), _round(height / vshrink)


def rotated(width: int, height: int, angle: int) -> tuple[int, int]:
    """rotate: quarter turns swap sides; other angles give the rotated image's bounding box."""
    angle %= 360
    if angle % 90 == 0:
        return (height, width) if angle % 180 else (width, height)
    rad = math.radians(angle)
    cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
    return _round(width * cos + height * sin), _round(width * sin + height * cos)


def predict(size: tuple[int, int], steps: list[Step]) -> tuple[int, int]:
    width, height = size
    for step in steps:
        p = step.params
        if step.op == "resize":
            width, height = resized(width, height, p["w"], p["h"], p["f"])
        elif step.op == "extract":
            width, height = p["w"], p["h"]
        elif step.op == "extend":
            width, height = width + p["l"] + p["r"], height + p["t"] + p["b"]
        elif step.op == "rotate":
            width, height = rotated(width, height, p["a"])
    return width, height


def chain(draw: Callable[[int, int], int], size: tuple[int, int]) -> list[Step]:
    """1-4 steps; each extract lies inside the image as the model predicts it at that point."""
    steps: list[Step] = []
    for _ in range(draw(1, 4)):
        width, height = predict(size, steps)
        kind = draw(0, 3)
        if kind == 0:
            params: dict[str, Any] = {"w": draw(0, 300), "h": draw(0, 300), "f": FITS[draw(0, 4)]}
            steps.append(Step("resize", params))
        elif kind == 1:
            w, h = draw(1, width), draw(1, height)
            steps.append(
                Step("extract", {"t": draw(0, height - h), "l": draw(0, width - w), "w": w, "h": h})
            )
        elif kind == 2:
            sides = {side: draw(0, 40) for side in "tlbr"}
            steps.append(Step("extend", sides))
        else:
            quarter = draw(0, 1)
            angle = draw(-4, 4) * 90 if quarter else draw(-360, 360)
            steps.append(Step("rotate", {"a": angle}))
    return steps


def pattern(steps: list[Step]) -> str:
    return "~".join(step_text(s.op, s.params) for s in steps)


@dataclass
class Bench:
    org: Org
    names: dict[str, str]

    def render_size(self, original: str, steps: list[Step]) -> tuple[int, int]:
        response = self.org.get(pattern(steps), self.names[original])
        assert response.status_code == 200, response.text[:300]
        image = decode(response.content)
        return image.width, image.height


@pytest.fixture(scope="module")
def bench(pixelbin_emulator_server: LiveServer) -> Iterator[Bench]:
    files = originals()
    with org_on(pixelbin_emulator_server, "dimensions") as org:
        for name in SIZES:
            org.upload(files[name])
        yield Bench(org, {name: files[name].file_name for name in SIZES})


@pytest.mark.skipif(not sharp_reference.available(), reason="needs `npm ci --prefix tests/js`")
def test_the_model_agrees_with_sharp(tmp_path):
    """The model is only a reference if sharp itself agrees with it (80 seeded chains)."""
    rng = random.Random(20261130)
    files = originals()
    cases, expected = [], []
    for index in range(80):
        name = ("photo", "alpha")[index % 2]
        source = tmp_path / files[name].file_name
        source.write_bytes(files[name].data)
        steps = chain(rng.randint, SIZES[name])
        cases.append(sharp_reference.Case(source, steps, tmp_path / f"{index}.out"))
        expected.append((name, steps, predict(SIZES[name], steps)))
    results = sharp_reference.render(cases)
    wrong = [
        (name, pattern(steps), size, (r.width, r.height), r.error)
        for (name, steps, size), r in zip(expected, results, strict=True)
        if r.error or (r.width, r.height) != size
    ]
    assert not wrong


@given(data=st.data(), original=st.sampled_from(sorted(SIZES)))
def test_rendered_dimensions_follow_the_model(bench: Bench, data: st.DataObject, original: str):
    def draw(low: int, high: int) -> int:
        return data.draw(st.integers(low, high))

    steps = chain(draw, SIZES[original])
    assert bench.render_size(original, steps) == predict(SIZES[original], steps), pattern(steps)


def test_a_region_past_the_edge_is_refused(bench: Bench):
    """extract past the (predicted) edge: sharp throws "bad extract area", the CDN answers 400."""
    steps = [Step("resize", {"w": 100, "h": 0, "f": "cover"}), Step("extract", {"t": 0, "l": 50})]
    width, height = predict(SIZES["photo"], steps[:1])
    steps[1].params.update(w=width - 50 + 1, h=height)
    response = bench.org.get(pattern(steps), bench.names["photo"])
    assert response.status_code == 400, response.text[:300]
