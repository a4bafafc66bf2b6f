"""The CDN's renderer: a stored original plus a URL pattern in, output bytes and format out.

:func:`plan` turns a pattern into steps before any pixel is decoded: presets expanded with their
``$variables``, every value checked against the catalogue and against what sharp accepts, merge
layers found, ``dpr`` and ``f_auto`` resolved. :func:`render` then applies the steps in URL
order, each as the sharp 0.35 call of the same name (:mod:`.sharp_ops`), each on the previous
step's 8-bit output, and encodes with sharp's default options per format. AI-module steps go to
:mod:`.standins`. Nothing here touches stored state, so a failed render changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyvips
from PIL import Image as PILImage

from . import sharp_ops, standins, transformations
from .assets import Limits
from .errors import ForbiddenError, ValidationError
from .media import content_type_for
from .transformations import Catalogue, Operation, TransformationError

BASIC = "t"
#: pixelbin.io/docs/limits: at most 15 transformations, in a preset and in a URL.
MAX_OPERATIONS = transformations.DEFAULT_MAX_OPERATIONS
#: The largest output side: a step whose result would be wider or taller is refused.
MAX_OUTPUT_SIDE = 10_000
#: How deep merge layers may nest (a layer's ``tr`` that merges another layer, ...).
MAX_LAYER_DEPTH = 3
DPR_RANGE = (0.1, 5.0)
#: libvips keeps resolution in pixels per mm, at most 10,000,000 of them.
MAX_DENSITY = 254_000_000
#: sharp's range for composite offsets.
MAX_MERGE_OFFSET = 100_000_000
#: The format sharp writes when asked to keep the input's: SVG renders to PNG and HEIF/HEIC to
#: sharp's HEIF writer, whose default compression is AV1 (AVIF).
_KEEP_AS = {"svg": "png", "heic": "avif"}
#: Steps that only choose how the result is encoded.
OUTPUT_STEPS = frozenset({"toFormat", "compress", "density"})
#: Steps that read their input top to bottom once: as a first step, the original can then be
#: decoded as a stream; later, they need no materialised input.
_STREAMING_FIRST = frozenset(
    {"resize", "extract", "blur", "sharpen", "median", "linear", "modulate", "grey", "tint"}
    | {"negate", "flatten", "toFormat", "compress", "density"}
)
_DEFAULT_QUALITY = {"jpeg": 80, "webp": 80, "avif": 50, "tiff": 80}

# libvips' operation cache would keep every decoded original alive; the variant cache is ours.
pyvips.cache_set_max(0)
pyvips.cache_set_max_mem(0)
pyvips.cache_set_max_files(0)


class RenderError(ValidationError):
    """The transformation cannot be rendered for this file (a 400, with the reason)."""

    exception = "TransformationError"


class CredentialsRequiredError(ForbiddenError):
    """A module that needs the org's credentials for its provider, and the org has none."""


@dataclass(frozen=True)
class Step:
    """One operation after preset expansion: raw URL values, checked against the catalogue."""

    plugin: str
    name: str
    values: tuple[tuple[str, str], ...] = ()
    #: The preset this step came from, if any.
    preset: str | None = None

    @property
    def is_basic(self) -> bool:
        return self.plugin == BASIC

    def __str__(self) -> str:
        return str(Operation(self.plugin, self.name, self.values))


@dataclass(frozen=True)
class Layer:
    """A merge's other image: a stored file of the org, with the steps of its ``tr``."""

    file_id: str
    version: str
    data: bytes
    format: str
    asset_type: str
    steps: tuple[Step, ...] = ()
    layers: Mapping[str, Layer] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Everything a render needs besides the original: made by :func:`plan`, immutable."""

    steps: tuple[Step, ...]
    dpr: float = 1.0
    #: The format ``?f_auto=true`` chose from the Accept header, or None.
    auto_format: str | None = None
    #: Merge layers by their ``i`` and ``tr`` values (:func:`layer_name`).
    layers: Mapping[str, Layer] = field(default_factory=dict)
    max_input_pixels: int = Limits().max_image_pixels

    @property
    def stand_in(self) -> bool:
        return any(not step.is_basic for step in self.steps) or any(
            not s.is_basic for layer in self.layers.values() for s in layer.steps
        )

    @functools.cached_property
    def key(self) -> tuple:
        """What, besides the original's version, decides the output: for the variant cache."""
        return (
            tuple(str(step) for step in self.steps),
            self.dpr,
            self.auto_format,
            tuple(sorted((name, _layer_key(layer)) for name, layer in self.layers.items())),
        )


def layer_name(values: Mapping[str, Any]) -> str:
    """How a merge step names its layer in :attr:`Plan.layers`."""
    return f"{values['i']}~{values.get('tr') or ''}"


def _layer_key(layer: Layer) -> tuple:
    return (
        layer.file_id,
        layer.version,
        tuple(str(s) for s in layer.steps),
        tuple(sorted((n, _layer_key(sub)) for n, sub in layer.layers.items())),
    )


@dataclass(frozen=True)
class Rendered:
    data: bytes
    format: str
    width: int
    height: int
    stand_in: bool

    @property
    def content_type(self) -> str:
        return content_type_for(self.format)


@dataclass(frozen=True)
class StepInfo:
    """The image after one step, with the output settings in force then (for the context)."""

    step: Step
    image: pyvips.Image
    format: str
    quality: int | None
    density: int | None

    def metadata(self) -> dict[str, Any]:
        """What sharp's ``metadata()`` says of this step's output, encoded as it would be."""
        data = encode(self.image, self.format, self.quality, self.density)
        try:
            decoded = pyvips.Image.new_from_buffer(data, "")
        except pyvips.Error:  # BMP: libvips reads the pixels it wrote instead
            decoded = sharp_ops.finish(self.image).copy(
                xres=(self.density or 72) / 25.4, yres=(self.density or 72) / 25.4
            )
        return {"format": self.format, "size": len(data), **_header(decoded)}


def describe(data: bytes) -> dict[str, Any]:
    """sharp-style metadata of encoded image bytes (header only)."""
    return _header(pyvips.Image.new_from_buffer(data, ""))


def _header(image: pyvips.Image) -> dict[str, Any]:
    fields = image.get_fields()
    density = round(image.xres * 25.4) if image.xres > 1.0 else 72
    info: dict[str, Any] = {
        "width": image.width,
        "height": image.height,
        "space": image.interpretation,
        "channels": image.bands,
        "depth": image.format,
        "density": density,
        "isProgressive": any(
            bool(image.get(name)) for name in ("jpeg-multiscan", "interlaced") if name in fields
        ),
        "resolutionUnit": "inch",
        "hasProfile": "icc-profile-data" in fields,
        "hasAlpha": bool(image.hasalpha()),
        "orientation": int(image.get("orientation")) if "orientation" in fields else 1,
    }
    if "jpeg-chroma-subsample" in fields:
        info["chromaSubsampling"] = str(image.get("jpeg-chroma-subsample"))
    return info


# --------------------------------------------------------------------------- query options


def parse_dpr(raw: str | None, client_hint: str | None = None) -> float:
    """``?dpr=`` as the SDK writes it: 0.1-5.0, or ``auto`` (the ``DPR`` client hint, else 1)."""
    if raw is None:
        return 1.0
    if raw == "auto":
        try:
            hinted = float(client_hint) if client_hint else 1.0
        except ValueError:
            hinted = 1.0
        if not math.isfinite(hinted):
            hinted = 1.0
        return min(max(hinted, DPR_RANGE[0]), DPR_RANGE[1])
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(f"dpr {raw!r} is not a number between 0.1 and 5.0") from None
    if not DPR_RANGE[0] <= value <= DPR_RANGE[1]:
        raise ValidationError(f"dpr {raw!r} is not between 0.1 and 5.0")
    return value


def parse_f_auto(raw: str | None) -> bool:
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise ValidationError(f"f_auto {raw!r} is not true or false")


def auto_format(accept: str) -> str | None:
    """The best format the Accept header allows: AVIF, then WebP, else None (keep the format)."""
    types = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    for fmt in ("avif", "webp"):
        if f"image/{fmt}" in types:
            return fmt
    return None


# --------------------------------------------------------------------------- planning


_PLAN_CACHE_SIZE = 1024
_plans: OrderedDict[tuple, tuple[Catalogue, Plan]] = OrderedDict()
_plans_lock = threading.Lock()


def plan(
    pattern: str,
    org: Any,
    *,
    dpr: float = 1.0,
    auto: str | None = None,
) -> Plan:
    """Parse, expand and check a URL pattern for ``org``; raises before any decoding.

    Plans of patterns made of ``t.*`` steps alone depend on nothing the org can change, so
    they are remembered (a cache hit on the CDN then costs a dictionary lookup, not a parse).
    """
    key = (pattern, id(org.catalogue), dpr, auto, org.limits.max_image_pixels)
    with _plans_lock:
        known = _plans.get(key)
        # The catalogue is held and compared too, so a recycled id() can never match.
        if known is not None and known[0] is org.catalogue:
            _plans.move_to_end(key)
            return known[1]
    made = _plan(pattern, org, dpr=dpr, auto=auto)
    if all(step.is_basic and step.preset is None for step in made.steps) and not made.layers:
        with _plans_lock:
            _plans[key] = (org.catalogue, made)
            if len(_plans) > _PLAN_CACHE_SIZE:
                _plans.popitem(last=False)
    return made


def _plan(pattern: str, org: Any, *, dpr: float, auto: str | None) -> Plan:
    try:
        ops = transformations.parse(pattern)
        if len(ops) > MAX_OPERATIONS:
            raise TransformationError(
                f"too many operations: {len(ops)} (at most {MAX_OPERATIONS}) in '{pattern}'"
            )
        steps = _expand(ops, org, pattern)
    except TransformationError as exc:
        raise RenderError(f"invalid transformation in the URL: {exc}") from None
    layers = _check_steps(steps, org, dpr, depth=0)
    return Plan(
        tuple(steps),
        dpr=dpr,
        auto_format=auto,
        layers=layers,
        max_input_pixels=org.limits.max_image_pixels,
    )


def _expand(ops: list[Operation], org: Any, pattern: str) -> list[Step]:
    catalogue: Catalogue = org.catalogue
    inline = [op for op in ops if not op.is_preset]
    transformations.validate(inline, catalogue, max_operations=len(inline) + 1)
    steps: list[Step] = []
    for op in ops:
        if not op.is_preset:
            steps.append(Step(op.plugin, op.name, op.values))
            continue
        preset = org.presets.find(op.name)
        if preset is None:
            raise TransformationError(f"unknown preset '{op.name}' in '{pattern}'")
        if preset.archived:
            raise TransformationError(f"preset '{op.name}' is archived in '{pattern}'")
        args = dict(op.values)
        for key in args:
            if key not in preset.params:
                raise TransformationError(f"preset '{op.name}' has no variable '{key}' in '{op}'")
        expanded = []
        for inner in transformations.parse(preset.transformation):
            values = []
            for key, value in inner.values:
                if value.startswith("$"):
                    name = value[1:]
                    if name in args:
                        value = args[name]
                    else:
                        default = (preset.params.get(name) or {}).get("default")
                        if default is None:
                            raise TransformationError(
                                f"preset '{op.name}' needs a value for ${name} in '{op}'"
                            )
                        value = _wire(default)
                values.append((key, value))
            expanded.append(replace(inner, values=tuple(values)))
        transformations.validate(expanded, catalogue, max_operations=len(expanded) + 1)
        steps.extend(Step(s.plugin, s.name, s.values, preset=op.name) for s in expanded)
    return steps


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def typed_values(catalogue: Catalogue, step: Step) -> dict[str, Any]:
    """The step's parameters with the catalogue's defaults, as Python values."""
    spec = catalogue.operation(step.plugin, step.name) or {}
    raw = spec.get("params") or []
    params = [raw] if isinstance(raw, Mapping) else list(raw)
    given = dict(step.values)
    out: dict[str, Any] = {}
    for param in params:
        key = str(param.get("identifier"))
        kind = param.get("type")
        value: Any = given.get(key, param.get("default"))
        if value is None:
            out[key] = None
            continue
        if kind == "integer":
            value = int(value)
        elif kind == "float":
            value = float(value)
        elif kind == "boolean":
            value = value is True or value == "true"
        else:
            value = str(value)
        out[key] = value
    return out


def _check_steps(steps: list[Step], org: Any, dpr: float, depth: int) -> dict[str, Layer]:
    """What sharp itself would refuse, credentials, and merge layers: all before decoding."""
    layers: dict[str, Layer] = {}
    for step in steps:
        if not step.is_basic:
            plugin = org.catalogue.plugins.get(step.plugin) or {}
            needs = (plugin.get("credentials") or {}).get("required")
            if needs and not org.plugin_credentials.configured(step.plugin):
                raise CredentialsRequiredError(
                    f"'{step}' needs credentials for plugin '{step.plugin}', and this org has "
                    f"none: add them with addCredentials (pluginId '{step.plugin}')"
                )
            continue
        values = typed_values(org.catalogue, step)
        _check_basic(step, values, dpr)
        if step.name == "merge" and values.get("i"):
            layers[layer_name(values)] = _layer(values, org, dpr, depth, step)
    return layers


def _scaled(value: int, step_dpr: float) -> int:
    return sharp_ops.js_round(value * step_dpr)


def _check_basic(step: Step, v: Mapping[str, Any], dpr: float) -> None:
    where = f"in '{step}'"
    step_dpr = v["dpr"] if "dpr" in dict(step.values) else dpr
    if step.name == "resize":
        for key in ("w", "h"):
            if _scaled(v[key], step_dpr) > MAX_OUTPUT_SIDE:
                raise RenderError(
                    f"{key} {v[key]} at dpr {step_dpr:g} is past the {MAX_OUTPUT_SIDE} px output "
                    f"limit {where}"
                )
    elif step.name == "median" and not 1 <= v["s"] <= 1000:
        raise RenderError(f"median size {v['s']} is not between 1 and 1000 {where}")
    elif step.name == "blur" and not 0.3 <= v["s"] * step_dpr <= 1000:
        raise RenderError(f"blur sigma {v['s'] * step_dpr:g} is not between 0.3 and 1000 {where}")
    elif step.name == "density" and not 0 < v["d"] <= MAX_DENSITY:
        raise RenderError(f"density {v['d']} is not between 1 and {MAX_DENSITY} {where}")
    elif step.name == "extract" and (v["w"] <= 0 or v["h"] <= 0):
        raise RenderError(f"extract needs a positive width and height {where}")
    elif step.name == "merge" and any(
        abs(v[key]) > MAX_MERGE_OFFSET for key in ("t", "l", "w", "h")
    ):
        raise RenderError(f"merge offsets and sizes are limited to ±{MAX_MERGE_OFFSET} {where}")
    elif step.name == "merge" and (v["w"] < 0 or v["h"] < 0):
        raise RenderError(f"merge width and height cannot be negative {where}")
    elif step.name == "extract" and v.get("bbox"):
        raise RenderError(f"extract's bbox is not supported by the emulator {where}")


def _decode_reference(value: str) -> list[str]:
    """A merge ``i``/``tr`` value as written, and its base64 decodings (the SDKs' examples
    carry base64 there, since the URL grammar keeps ``/`` and ``()`` out of values)."""
    candidates = [value]
    for decoder in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            text = decoder(value + "=" * (-len(value) % 4)).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue
        if text and text.isprintable() and text not in candidates:
            candidates.append(text)
    return candidates


def _layer(values: Mapping[str, Any], org: Any, dpr: float, depth: int, step: Step) -> Layer:
    if depth >= MAX_LAYER_DEPTH:
        raise RenderError(f"merge layers nest deeper than {MAX_LAYER_DEPTH} in '{step}'")
    file = None
    for candidate in _decode_reference(values["i"]):
        file = org.assets.find_file(candidate.lstrip("/"))
        if file is not None and file.is_active:
            break
        file = None
    if file is None:
        raise RenderError(f"merge: no file '{values['i']}' in this org for '{step}'")
    steps: list[Step] = []
    if values.get("tr"):
        tr = values["tr"]
        last: Exception | None = None
        for candidate in _decode_reference(tr)[::-1]:
            try:
                ops = transformations.parse(candidate)
                steps = _expand(ops, org, candidate)
                last = None
                break
            except TransformationError as exc:
                last = exc
        if last is not None:
            raise RenderError(f"merge: invalid transformation '{tr}' in '{step}': {last}")
    layers = _check_steps(steps, org, dpr, depth + 1)
    return Layer(
        file.file_id, file.etag, file.data, file.format, file.asset_type, tuple(steps), layers
    )


# --------------------------------------------------------------------------- rendering


@dataclass
class _Output:
    format: str
    quality: int | None = None
    density: int | None = None


def output_format_of(source_format: str) -> str:
    """The format a render keeps when nothing asks for another."""
    return _KEEP_AS.get(source_format, source_format)


def render(
    data: bytes,
    source_format: str,
    asset_type: str,
    the_plan: Plan,
    catalogue: Catalogue,
    trace: list[StepInfo] | None = None,
) -> Rendered:
    """Apply the plan to the original's bytes; raises :class:`RenderError` for what cannot be."""
    try:
        image, out = _run(
            data, source_format, asset_type, the_plan.steps, the_plan, catalogue, 0, trace
        )
        if the_plan.auto_format is not None:
            out.format = the_plan.auto_format
        encoded = encode(image, out.format, out.quality, out.density)
    except (pyvips.Error, sharp_ops.OperationError, standins.StandInError) as exc:
        raise RenderError(f"cannot render this transformation: {_message(exc)}") from None
    return Rendered(encoded, out.format, image.width, image.height, the_plan.stand_in)


def _message(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if isinstance(exc, pyvips.Error) and text else text


def _open(data: bytes, source_format: str, access: str, max_pixels: int, **options: Any):  # type: ignore[no-untyped-def]
    try:
        image = pyvips.Image.new_from_buffer(data, "", access=access, fail_on="warning", **options)
    except pyvips.Error:
        raise RenderError(
            f"cannot decode this {source_format} file as an image for transformation"
        ) from None
    if image.width * image.height > max_pixels:
        raise RenderError(
            f"the original is {image.width}x{image.height} pixels, past the "
            f"{max_pixels}-pixel decoding limit (decompression bomb guard)"
        )
    return image


def _streams(step: Step) -> bool:
    """Whether the step reads its input once, top to bottom (extend only with a colour)."""
    if not step.is_basic:
        return False
    if step.name == "extend":
        return dict(step.values).get("bt", "constant") == "constant"
    return step.name in _STREAMING_FIRST


def _first_access(steps: tuple[Step, ...]) -> str:
    pixel = [s for s in steps if s.name not in OUTPUT_STEPS or not s.is_basic]
    if not pixel:
        return "sequential"
    return "sequential" if _streams(pixel[0]) else "random"


def _to_srgb(image: pyvips.Image) -> pyvips.Image:
    """sharp's input colour handling: embedded ICC profile (or CMYK) to sRGB."""
    if image.get_typeof("icc-profile-data") != 0 and image.interpretation not in (
        "labs",
        "grey16",
    ):
        try:
            return image.icc_transform(
                "srgb",
                embedded=True,
                depth=16 if sharp_ops.is_16bit(image) else 8,
                intent="perceptual",
            )
        except pyvips.Error:
            return image
    if image.interpretation == "cmyk":
        return image.icc_transform("srgb", input_profile="cmyk", intent="perceptual")
    return image


def _run(
    data: bytes,
    source_format: str,
    asset_type: str,
    steps: tuple[Step, ...],
    the_plan: Plan,
    catalogue: Catalogue,
    depth: int,
    trace: list[StepInfo] | None,
) -> tuple[pyvips.Image, _Output]:
    if asset_type != "image":
        raise RenderError(
            f"transformations apply to images only; this file is {asset_type} ({source_format})"
        )
    out = _Output(output_format_of(source_format))
    access = _first_access(steps) if trace is None else "random"
    image = _open(data, source_format, access, the_plan.max_input_pixels)
    loader = str(image.get("vips-loader")) if image.get_typeof("vips-loader") else ""
    pixel_steps = [s for s in steps if not (s.is_basic and s.name in OUTPUT_STEPS)]
    first = pixel_steps[0] if pixel_steps else None
    first_geometric = first is not None and first.is_basic and first.name in ("trim", "extract")
    if first is not None and first.is_basic and first.name == "resize":
        image = _shrink_on_load(image, data, loader, first, the_plan, catalogue, access)
    if not first_geometric:
        image = _to_srgb(image)
    pixel_index = 0
    for step in steps:
        if step.is_basic and step.name in OUTPUT_STEPS:
            _output_step(out, step, catalogue)
            if trace is not None:
                trace.append(StepInfo(step, image, out.format, out.quality, out.density))
            continue
        if pixel_index > 0:
            image = sharp_ops.as_intermediate(image, access == "sequential" and not _streams(step))
        image, forced = _apply(image, step, the_plan, catalogue, depth)
        if forced is not None:
            out.format = forced
        if pixel_index == 0 and first_geometric:
            image = _to_srgb(image)
        pixel_index += 1
        image = sharp_ops.finish(image)
        if image.width > MAX_OUTPUT_SIDE or image.height > MAX_OUTPUT_SIDE:
            raise RenderError(
                f"'{step}' would make a {image.width}x{image.height} image, past the "
                f"{MAX_OUTPUT_SIDE}x{MAX_OUTPUT_SIDE} output limit"
            )
        if trace is not None:
            image = image.copy_memory()
            trace.append(StepInfo(step, image, out.format, out.quality, out.density))
    if pixel_index == 0:
        image = sharp_ops.finish(image)  # sharp's output stage runs without operations too
    return image, out


def _shrink_on_load(
    image: pyvips.Image,
    data: bytes,
    loader: str,
    step: Step,
    the_plan: Plan,
    catalogue: Catalogue,
    access: str,
) -> pyvips.Image:
    """sharp's shrink-on-load for a first resize: libjpeg's 1/2, 1/4, 1/8, WebP/SVG scale."""
    v = typed_values(catalogue, step)
    step_dpr = v["dpr"] if "dpr" in dict(step.values) else the_plan.dpr
    width, height = _scaled(v["w"], step_dpr), _scaled(v["h"], step_dpr)
    if width <= 0 and height <= 0:
        return image
    hshrink, vshrink = sharp_ops.resolve_shrink(
        image.width, image.height, width, height, sharp_ops.CANVAS[v["f"]]
    )
    shrink = min(hshrink, vshrink)
    options: dict[str, Any] = {}
    if loader.startswith("jpegload"):
        factor = sharp_ops.jpeg_shrink_on_load(shrink)
        if factor > 1:
            options["shrink"] = factor
    elif (loader.startswith("webpload") and shrink > 1.0) or loader.startswith("svgload"):
        options["scale"] = 1.0 / shrink
    if not options:
        return image
    return pyvips.Image.new_from_buffer(data, "", access=access, fail_on="warning", **options)


def _output_step(out: _Output, step: Step, catalogue: Catalogue) -> None:
    v = typed_values(catalogue, step)
    if step.name == "toFormat":
        out.format = v["f"]
        out.quality = v["q"]
    elif step.name == "compress":
        out.quality = v["q"]
    elif step.name == "density":
        out.density = v["d"]


def _apply(
    image: pyvips.Image, step: Step, the_plan: Plan, catalogue: Catalogue, depth: int
) -> tuple[pyvips.Image, str | None]:
    if not step.is_basic:
        result = standins.apply(step.plugin, step.name, image, dict(step.values))
        return result.image, result.format
    v = typed_values(catalogue, step)
    step_dpr = v["dpr"] if "dpr" in dict(step.values) else the_plan.dpr
    name = step.name
    if name == "resize":
        image = sharp_ops.resize(
            image,
            _scaled(v["w"], step_dpr),
            _scaled(v["h"], step_dpr),
            v["f"],
            v["p"],
            v["k"],
            sharp_ops.colour(v["b"]),
        )
    elif name == "extend":
        image = sharp_ops.extend(
            image,
            _scaled(v["t"], step_dpr),
            _scaled(v["l"], step_dpr),
            _scaled(v["b"], step_dpr),
            _scaled(v["r"], step_dpr),
            sharp_ops.colour(v["bc"]),
            sharp_ops.EXTEND_WITH[v["bt"]],
        )
    elif name == "extract":
        image = sharp_ops.extract(image, v["t"], v["l"], v["h"], v["w"])
    elif name == "trim":
        image = sharp_ops.trim(image, float(v["t"]))
    elif name == "rotate":
        image = sharp_ops.rotate(image, v["a"], sharp_ops.colour(v["b"]))
    elif name == "sharpen":
        image = sharp_ops.sharpen(image, v["s"])
    elif name == "median":
        image = sharp_ops.median(image, v["s"])
    elif name == "blur":
        image = sharp_ops.blur(image, v["s"] * step_dpr)
    elif name == "flatten":
        image = sharp_ops.flatten(image, sharp_ops.colour(v["b"]))
    elif name == "linear":
        image = sharp_ops.linear(image, float(v["a"]), float(v["b"]))
    elif name == "modulate":
        image = sharp_ops.modulate(image, v["b"], v["s"], v["h"])
    elif name == "tint":
        image = sharp_ops.tint(image, sharp_ops.colour(v["c"]))
    elif name == "merge":
        image = _merge(image, v, the_plan, catalogue, depth)
    else:
        image = _SIMPLE[name](image)
    return image, None


_SIMPLE: dict[str, Callable[[pyvips.Image], pyvips.Image]] = {
    "flip": sharp_ops.flip,
    "flop": sharp_ops.flop,
    "negate": sharp_ops.negate,
    "normalise": sharp_ops.normalise,
    "grey": sharp_ops.greyscale,
}


def _merge(
    image: pyvips.Image, v: Mapping[str, Any], the_plan: Plan, catalogue: Catalogue, depth: int
) -> pyvips.Image:
    """``composite``: the layer is the file ``i`` after its ``tr`` steps, or a ``bg`` box."""
    if v.get("i"):
        layer_spec = the_plan.layers[layer_name(v)]
        sub_plan = Plan(
            layer_spec.steps,
            dpr=the_plan.dpr,
            layers=layer_spec.layers,
            max_input_pixels=the_plan.max_input_pixels,
        )
        layer, _ = _run(
            layer_spec.data,
            layer_spec.format,
            layer_spec.asset_type,
            layer_spec.steps,
            sub_plan,
            catalogue,
            depth + 1,
            None,
        )
        layer = sharp_ops.as_intermediate(layer, True)
    else:
        width = v["w"] or image.width
        height = v["h"] or image.height
        if width > MAX_OUTPUT_SIDE or height > MAX_OUTPUT_SIDE:
            raise RenderError(f"merge: a {width}x{height} background is past the output limit")
        layer = sharp_ops.solid(width, height, sharp_ops.colour(v["bg"]))
    custom = v["g"] == "custom"
    return sharp_ops.composite(
        image,
        layer,
        "dest-over" if v["m"] == "underlay" else v["b"],
        None if custom else sharp_ops.GRAVITY[v["g"]],
        (v["l"], v["t"]) if custom else None,
        bool(v["r"]),
    )


# --------------------------------------------------------------------------- encoding


def encode(
    image: pyvips.Image, fmt: str, quality: int | None = None, density: int | None = None
) -> bytes:
    """Write with sharp's default options for the format (quality from compress/toFormat)."""
    keep = "none"
    if density is not None:
        image = image.copy(xres=density / 25.4, yres=density / 25.4)
        keep = "exif"  # sharp's withDensity() keeps EXIF
    q = None if quality is None else min(max(quality, 1), 100)
    if fmt == "jpeg":
        return image.jpegsave_buffer(
            Q=q or _DEFAULT_QUALITY["jpeg"],
            interlace=False,
            subsample_mode="on",
            trellis_quant=False,
            quant_table=0,
            overshoot_deringing=False,
            optimize_scans=False,
            optimize_coding=True,
            keep=keep,
        )
    if fmt == "png":
        return image.pngsave_buffer(
            interlace=False,
            compression=6,
            filter="none",
            palette=False,
            Q=100,
            effort=7,
            bitdepth=16 if sharp_ops.is_16bit(image) else 8,
            dither=1.0,
            keep=keep,
        )
    if fmt == "webp":
        return image.webpsave_buffer(
            Q=q or _DEFAULT_QUALITY["webp"],
            lossless=False,
            near_lossless=False,
            smart_subsample=False,
            smart_deblock=False,
            preset="default",
            effort=4,
            min_size=False,
            mixed=False,
            exact=False,
            alpha_q=100,
            keep=keep,
        )
    if fmt == "avif":
        return image.heifsave_buffer(
            Q=q or _DEFAULT_QUALITY["avif"],
            compression="av1",
            effort=4,
            bitdepth=8,
            subsample_mode="off",
            lossless=False,
            keep=keep,
        )
    if fmt == "tiff":
        return image.tiffsave_buffer(
            Q=q or _DEFAULT_QUALITY["tiff"],
            compression="jpeg",
            predictor="horizontal",
            bigtiff=False,
            miniswhite=False,
            pyramid=False,
            tile=False,
            tile_width=256,
            tile_height=256,
            xres=1.0,
            yres=1.0,
            resunit="inch",
            keep=keep,
        )
    if fmt == "gif":
        return image.gifsave_buffer(
            bitdepth=8,
            effort=7,
            reuse=True,
            interlace=False,
            interframe_maxerror=0,
            interpalette_maxerror=3,
            keep_duplicate_frames=False,
            dither=1.0,
            keep=keep,
        )
    if fmt == "bmp":
        return _bmp(image, density)
    raise RenderError(f"cannot write {fmt} output")


def _bmp(image: pyvips.Image, density: int | None) -> bytes:
    """BMP through Pillow: libvips (and so sharp) has no BMP writer."""
    image = sharp_ops.finish(image)
    if image.format != "uchar":
        image = image.cast("uchar")
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.bands]
    picture = PILImage.frombytes(mode, (image.width, image.height), image.write_to_memory())
    if mode == "LA":
        picture = picture.convert("RGBA")
    buffer = io.BytesIO()
    options: dict[str, Any] = {"dpi": (density, density)} if density else {}
    picture.save(buffer, "BMP", **options)
    return buffer.getvalue()
