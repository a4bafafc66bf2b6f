"""The CDN's `t.*` rendering against sharp 0.35 itself, operation by operation.

Every case is rendered twice: by the emulator over HTTP (`GET /v2/{cloud}/{pattern}/{file}`) and
by real sharp through `tests/js/sharp_reference.js` (one sharp call per step, in URL order). They
must agree on width, height, format, channels, bit depth, frames and density, and the decoded
pixels must lie within a mean absolute difference (per channel, 0-255, alpha premultiplied) set
per operation in `TOLERANCE`: the tightest the engine achieves, measured. What sharp refuses must
be a 400. All sharp work runs in one node process per module (per xdist worker).

`SHARPDIFF_REPORT=path.json python -m pytest tests/test_transform_vs_sharp.py` writes the
measured figure of every case (the table in docs/transformations.md comes from it).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from pixelbin_emulator.server import LiveServer

from . import sharp_reference
from .imaging import Org, decode, has_alpha, mad, org_on, originals, step_text
from .sharp_reference import Step

pytestmark = pytest.mark.skipif(
    not sharp_reference.available(), reason="needs node and `npm ci --prefix tests/js`"
)

#: How the merge step names the stored overlay in a URL (its fileId).
LOGO_REF = "logo"

#: Largest mean absolute difference allowed per operation (0-255 scale), from measured figures.
TOLERANCE: dict[str, float] = {
    # Same libvips (8.18.7) on both sides, same operations, same encoder options: every basic
    # step, chain, preset and dpr case is pixel-identical to sharp, so any drift fails.
    **dict.fromkeys(
        [
            "resize",
            "compress",
            "extend",
            "extract",
            "trim",
            "rotate",
            "flip",
            "flop",
            "sharpen",
            "median",
            "blur",
            "flatten",
            "negate",
            "normalise",
            "linear",
            "modulate",
            "grey",
            "tint",
            "toFormat",
            "density",
            "merge",
            "chain",
            "preset",
            "dpr",
        ],
        0.0,
    ),
    # AVIF: sharp's prebuilt libheif/aom and pyvips-binary's encode differently at the same
    # settings (measured 0.15-0.69).
    "avif": 0.75,
    "f_auto": 0.75,
}

#: The 2 steps of the preset the suite stores.
PRESET = "t.resize(w:150,h:100,f:contain,b:ffffff)~t.flop()"
PRESET_STEPS = (Step("resize", {"w": 150, "h": 100, "f": "contain", "b": "ffffff"}), Step("flop"))
#: A preset with `$variables` (defaults in its params), called with and without arguments.
VARIABLE_PRESET = "t.resize(w:$w,h:60)~t.rotate(a:$a)"
VARIABLE_PARAMS = {"w": {"type": "integer", "default": 90}, "a": {"type": "integer", "default": 30}}


@dataclass(frozen=True)
class Case:
    """One CDN request and the sharp steps that must give the same image."""

    id: str
    op: str  # the TOLERANCE row
    original: str
    steps: tuple[Step, ...]
    query: str = ""
    accept: str | None = None
    dpr: float | None = None
    sharp_format: str | None = None  # the format sharp writes (f_auto's choice; png for bmp)
    pattern: str | None = None  # the URL pattern when not the steps themselves (presets)
    expect_format: str | None = None  # the emulator's format when sharp cannot write it
    refused: bool = False  # sharp throws: the CDN must answer 400

    def url_pattern(self) -> str:
        if self.pattern is not None:
            return self.pattern
        return "~".join(step_text(s.op, url_params(s)) for s in self.steps)


def url_params(step: Step) -> dict[str, Any]:
    """The step's parameters as the URL writes them (merge names the overlay by its fileId)."""
    params = dict(step.params)
    if step.op == "merge" and "i" in params:
        params["i"] = LOGO_REF
    if step.op == "merge" and "tr" in params:
        # The URL grammar keeps "(", "," and "~" out of values: the SDKs' examples base64 them.
        pattern = "~".join(step_text(s.op, s.params) for s in params["tr"])
        params["tr"] = base64.urlsafe_b64encode(pattern.encode()).decode().rstrip("=")
    return params


def one(op: str, original: str, params: dict[str, Any] | None = None, name: str = "") -> Case:
    step = Step(op, params or {})
    label = name or ",".join(f"{k}:{v}" for k, v in (params or {}).items()) or "defaults"
    return Case(f"{op}[{original}:{label}]", op, original, (step,))


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    # resize: every fit on both originals, every position, every kernel, upscaling, one side.
    for fit in ("cover", "contain", "fill", "inside", "outside"):
        add(one("resize", "photo", {"w": 120, "h": 120, "f": fit, "b": "ff8000"}))
        add(one("resize", "alpha", {"w": 90, "h": 120, "f": fit, "b": "00ff0080"}))
    for position in (
        "top",
        "bottom",
        "left",
        "right",
        "right_top",
        "right_bottom",
        "left_top",
        "left_bottom",
        "center",
    ):
        add(one("resize", "photo", {"w": 100, "h": 160, "p": position}))
        add(one("resize", "photo", {"w": 200, "h": 60, "f": "contain", "p": position}))
    for kernel in ("nearest", "cubic", "mitchell", "lanczos2", "lanczos3"):
        add(one("resize", "photo", {"w": 97, "k": kernel}))
        add(one("resize", "pic", {"w": 403, "k": kernel}))
    add(one("resize", "photo", {"h": 75}))
    add(one("resize", "alpha", {"w": 333}))
    add(one("resize", "pic", {"w": 50, "dpr": 2.5}))
    add(one("resize", "photo", {"w": 30}))
    # a 16-bit greyscale PNG and a two-frame GIF (sharp reads its first frame)
    add(one("resize", "deep", {"w": 60, "h": 60, "f": "contain", "b": "808080"}))
    add(one("rotate", "deep", {"a": 30}))
    add(one("extend", "deep", {"bt": "reflect"}))
    add(one("sharpen", "deep"))
    add(one("flatten", "deep", {"b": "204080"}))
    add(one("normalise", "deep"))
    add(one("tint", "deep", {"c": "2040a0"}))
    # with no pixel step too, sharp writes 8-bit sRGB (3 channels)
    add(one("toFormat", "deep", {"f": "jpeg"}))
    add(one("toFormat", "deep", {"f": "png"}))
    add(one("compress", "deep", {"q": 50}))
    add(one("density", "deep", {"d": 100}))
    add(one("resize", "anim", {"w": 50}))
    add(one("flip", "anim"))
    add(one("rotate", "anim", {"a": 90}))
    add(one("toFormat", "anim", {"f": "png"}))
    # an SVG (written as PNG, as sharp cannot write SVG)
    add(one("flip", "shape"))
    add(one("resize", "shape", {"w": 300}))
    add(one("resize", "shape", {"w": 50, "h": 50, "f": "contain"}))
    add(one("rotate", "shape", {"a": 45}))
    # compress and formats
    for quality in (10, 50, 95):
        add(one("compress", "photo", {"q": quality}))
    add(one("compress", "pic", {"q": 40}))
    for fmt in ("jpeg", "png", "webp", "tiff", "avif"):
        for original in ("photo", "alpha"):
            case = one("toFormat", original, {"f": fmt})
            cases.append(replace(case, op="avif") if fmt == "avif" else case)
    add(one("toFormat", "photo", {"f": "webp", "q": 30}))
    add(
        Case(
            "toFormat[photo:f:bmp]",
            "toFormat",
            "photo",
            (Step("toFormat", {"f": "bmp"}),),
            sharp_format="png",
            expect_format="bmp",
        )
    )
    # geometry
    for border in ("constant", "replicate", "reflect", "wrap"):
        add(
            one("extend", "photo", {"t": 7, "l": 30, "b": 0, "r": 12, "bt": border, "bc": "2050ff"})
        )
        add(one("extend", "alpha", {"t": 20, "l": 5, "b": 9, "r": 0, "bt": border}))
    add(one("extend", "pic", {"dpr": 2}))
    add(one("extract", "photo", {"t": 13, "l": 21, "h": 100, "w": 170}))
    add(one("extract", "alpha"))
    add(one("trim", "photo"))
    add(one("trim", "framed"))
    add(one("trim", "framed", {"t": 60}))
    add(one("trim", "alpha"))
    for angle in (90, 180, 270, 30, -45, 400):
        add(one("rotate", "photo", {"a": angle, "b": "ffffff"}))
    add(one("rotate", "alpha", {"a": 20, "b": "ff000080"}))
    add(one("flip", "photo"))
    add(one("flop", "alpha"))
    # filters and colour
    add(one("sharpen", "photo"))
    add(one("sharpen", "pic", {"s": 4}))
    add(one("median", "photo"))
    add(one("median", "photo", {"s": 5}))
    add(one("blur", "photo"))
    add(one("blur", "photo", {"s": 3.5}))
    add(one("blur", "alpha", {"s": 2, "dpr": 2}))
    add(one("flatten", "alpha", {"b": "00ff00"}))
    add(one("flatten", "photo"))
    add(one("negate", "photo"))
    add(one("negate", "alpha"))
    add(one("normalise", "photo"))
    add(one("normalise", "alpha"))
    add(one("linear", "photo", {"a": 2, "b": -40}))
    add(one("linear", "alpha", {"a": 0, "b": 100}))
    add(one("modulate", "photo"))
    add(one("modulate", "photo", {"b": 1.5, "s": 0.3, "h": -120}))
    add(one("modulate", "alpha", {"b": 2, "s": 3, "h": 0}))
    add(one("modulate", "photo", {"b": 1, "s": 1, "h": 360}, "identity"))
    add(one("grey", "photo"))
    add(one("grey", "alpha"))
    add(one("tint", "photo", {"c": "ff8000"}))
    add(one("tint", "alpha", {"c": "2040a0"}))
    add(one("density", "photo", {"d": 144}))
    # merge: every gravity and blend, tiles, top/left, a transformed overlay, a plain colour
    for gravity in (
        "northwest",
        "north",
        "northeast",
        "east",
        "center",
        "west",
        "southwest",
        "south",
        "southeast",
    ):
        add(one("merge", "photo", {"i": "logo", "g": gravity}, f"g:{gravity}"))
    add(one("merge", "photo", {"i": "logo", "g": "custom", "t": 30, "l": 200}, "custom"))
    for blend in (
        "over",
        "in",
        "out",
        "atop",
        "dest",
        "dest-over",
        "dest-in",
        "dest-out",
        "dest-atop",
        "xor",
        "add",
        "saturate",
        "multiply",
        "screen",
        "overlay",
        "darken",
        "lighten",
        "colour-dodge",
        "color-dodge",
        "colour-burn",
        "color-burn",
        "hard-light",
        "soft-light",
        "difference",
        "exclusion",
    ):
        add(one("merge", "alpha", {"i": "logo", "b": blend, "g": "southeast"}, f"b:{blend}"))
    add(one("merge", "photo", {"i": "logo", "r": "true"}, "tile"))
    add(one("merge", "photo", {"i": "logo", "r": "true", "g": "custom", "t": 7, "l": 5}, "tile@"))
    add(one("merge", "alpha", {"i": "logo", "m": "underlay"}, "underlay"))
    add(
        one(
            "merge",
            "photo",
            {"i": "logo", "tr": [Step("resize", {"w": 32}), Step("flip")], "g": "north"},
            "tr",
        )
    )
    add(one("merge", "alpha", {"bg": "ff000080", "w": 50, "h": 40, "g": "west"}, "bg"))
    # what sharp refuses is a 400
    for original, step in (
        ("logo", Step("merge", {"i": "logo", "tr": [Step("resize", {"w": 65})]})),
        ("photo", Step("extract", {"t": 0, "l": 0, "w": 0, "h": 10})),
        ("photo", Step("extract", {"t": 200, "l": 0, "w": 10, "h": 41})),
        ("alpha", Step("extract", {"t": 0, "l": 191, "w": 10, "h": 10})),
    ):
        label = "refused:" + ",".join(f"{k}:{v}" for k, v in step.params.items() if k != "tr")
        add(replace(one(step.op, original, step.params, label), refused=True))
    # chains: URL order matters (resize then rotate differs from rotate then resize)
    chains = {
        "resize~rotate": (Step("resize", {"w": 100}), Step("rotate", {"a": 30})),
        "rotate~resize": (Step("rotate", {"a": 30}), Step("resize", {"w": 100})),
        "extract~extend~flip": (
            Step("extract", {"t": 10, "l": 10, "h": 120, "w": 160}),
            Step("extend", {"bt": "reflect"}),
            Step("flip"),
        ),
        "grey~tint~toFormat": (
            Step("grey"),
            Step("tint", {"c": "a0c0ff"}),
            Step("toFormat", {"f": "png"}),
        ),
        "blur~sharpen~compress": (
            Step("blur", {"s": 2}),
            Step("sharpen"),
            Step("compress", {"q": 60}),
        ),
        "resize~extend~merge~webp": (
            Step("resize", {"w": 160, "h": 160, "f": "contain", "b": "00000000"}),
            Step("extend", {"bc": "ffffff"}),
            Step("merge", {"i": "logo", "g": "northeast"}),
            Step("toFormat", {"f": "webp"}),
        ),
    }
    for name, steps in chains.items():
        add(Case(f"chain[photo:{name}]", "chain", "photo", steps))
        add(Case(f"chain[alpha:{name}]", "chain", "alpha", steps))
    # preset, dpr, f_auto
    add(Case("preset[photo:p:vs]", "preset", "photo", PRESET_STEPS, pattern="p:vs"))
    add(Case("preset[alpha:p:vs]", "preset", "alpha", PRESET_STEPS, pattern="p:vs"))
    for pattern, w, a in (("p:vsvar", 90, 30), ("p:vsvar(w:140,a:270)", 140, 270)):
        steps = (Step("resize", {"w": w, "h": 60}), Step("rotate", {"a": a}))
        add(Case(f"preset[photo:{pattern}]", "preset", "photo", steps, pattern=pattern))
    chained = (*PRESET_STEPS, Step("grey"))
    add(Case("preset[photo:p:vs~t.grey()]", "preset", "photo", chained, pattern="p:vs~t.grey()"))
    for dpr in (0.5, 2.0, 3.5):
        add(
            Case(
                f"dpr[photo:{dpr}]",
                "dpr",
                "photo",
                (Step("resize", {"w": 60, "h": 40}), Step("extend", {"t": 5, "b": 5})),
                query=f"dpr={dpr}",
                dpr=dpr,
            )
        )
    for accept, fmt in (
        ("image/avif,image/webp,*/*", "avif"),
        ("image/webp,*/*", "webp"),
    ):
        add(
            Case(
                f"f_auto[photo:{fmt}]",
                "f_auto",
                "photo",
                (Step("resize", {"w": 100}),),
                query="f_auto=true",
                accept=accept,
                sharp_format=fmt,
            )
        )
        add(
            Case(
                f"f_auto[alpha:{fmt}]",
                "f_auto",
                "alpha",
                (Step("flip"),),
                query="f_auto=true",
                accept=accept,
                sharp_format=fmt,
            )
        )
    return cases


CASES = _cases()
assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@dataclass
class Outcome:
    """Both renders of a case: the emulator's response and sharp's result."""

    status: int
    content_type: str
    body: bytes
    sharp: sharp_reference.Result


@pytest.fixture(scope="module")
def server_org(pixelbin_emulator_server: LiveServer) -> Iterator[Org]:
    with org_on(pixelbin_emulator_server, "sharpdiff") as org:
        yield org


@pytest.fixture(scope="module")
def outcomes(server_org: Org, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Renders every case on both sides once per module."""
    folder = tmp_path_factory.mktemp("sharp")
    files = originals()
    local: dict[str, Path] = {}
    for name, original in files.items():
        server_org.upload(original)
        local[name] = folder / original.file_name
        local[name].write_bytes(original.data)
    server_org.add_preset("vs", PRESET)
    server_org.add_preset("vsvar", VARIABLE_PRESET, VARIABLE_PARAMS)
    jobs = []
    for index, case in enumerate(CASES):
        steps = [with_local_overlay(step, local) for step in case.steps]
        output = folder / f"{index}.out"
        jobs.append(
            sharp_reference.Case(
                local[case.original], steps, output, dpr=case.dpr, format=case.sharp_format
            )
        )
    results = sharp_reference.render(jobs)
    rendered = {}
    for case, result in zip(CASES, results, strict=True):
        headers = {"Accept": case.accept} if case.accept else {}
        file_path = files[case.original].file_name + (f"?{case.query}" if case.query else "")
        response = server_org.get(case.url_pattern(), file_path, headers=headers)
        rendered[case.id] = Outcome(
            response.status_code,
            response.headers.get("Content-Type", ""),
            response.content,
            result,
        )
    return rendered


def with_local_overlay(step: Step, local: dict[str, Path]) -> Step:
    """A merge step as sharp takes it: the overlay as a local file."""
    if step.op != "merge" or "i" not in step.params:
        return step
    return Step(step.op, {**step.params, "i": str(local[step.params["i"]])})


MEASURED: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """Writes every case's measured figures to $SHARPDIFF_REPORT at the end of the module."""
    yield
    target = os.environ.get("SHARPDIFF_REPORT")
    if target:
        Path(target).write_text(json.dumps(MEASURED, indent=1, sort_keys=True))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matches_sharp(case: Case, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[case.id]
    if case.refused:
        assert got.sharp.error, "sharp rendered it"
        assert got.status == 400, got.body[:300]
        return
    assert got.sharp.error is None, f"sharp refused the case: {got.sharp.error}"
    assert got.status == 200, got.body[:300]
    ours = decode(got.body)
    theirs = got.sharp.image()
    # sharp reports the AVIF it writes as "heif" (AV1 compression); the suite asks for no HEIC.
    fmt = case.expect_format or {"heif": "avif"}.get(got.sharp.format, got.sharp.format)
    figure: dict[str, Any] = {
        "op": case.op,
        "size": [ours.width, ours.height],
        "sharp_size": [theirs.width, theirs.height],
        "format": loader_of(ours),
        "sharp_format": got.sharp.format,
    }
    MEASURED[case.id] = figure
    assert (ours.width, ours.height) == (theirs.width, theirs.height)
    assert got.content_type == f"image/{fmt}"
    assert figure["format"] in LOADERS[fmt]
    assert has_alpha(ours) == has_alpha(theirs), (ours.bands, theirs.bands)
    assert ours.bands == theirs.bands, "channels"
    assert ours.format == theirs.format, "bit depth"
    assert pages(ours) == pages(theirs), "frames"
    if got.sharp.density is not None:
        assert round(ours.xres * 25.4) == got.sharp.density
    figure["mad"] = round(mad(ours, theirs), 3)
    assert figure["mad"] <= TOLERANCE[case.op]


#: The libvips loader names that decode each output format.
LOADERS = {
    "jpeg": {"jpeg"},
    "png": {"png"},
    "webp": {"webp"},
    "tiff": {"tiff"},
    "avif": {"heif"},
    "gif": {"gif"},
    "bmp": {"bmp"},
}


def pages(image: Any) -> int:
    return image.get("n-pages") if "n-pages" in image.get_fields() else 1


def loader_of(image: Any) -> str:
    return image.get("vips-loader").removesuffix("load_buffer").removesuffix("_source")
