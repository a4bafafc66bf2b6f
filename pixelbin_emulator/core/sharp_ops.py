"""Pixelbin's basic ``t.*`` operations as sharp 0.35 performs them, one sharp call per step.

Each function is the part of sharp's ``src/pipeline.cc`` (and ``src/operations.cc``,
``src/common.cc``) that runs when a pipeline holds just that one operation, written against the
same libvips (8.18) through pyvips, so the pixels match sharp's. :func:`finish` is sharp's output
stage (back to 8-bit sRGB), which every step ends with: the URL's steps run one after another,
each on the previous one's output, not in sharp's single fixed order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyvips

Colour = tuple[float, float, float, float]

#: sharp's ``fit`` to its internal canvas names.
CANVAS = {
    "cover": "crop",
    "contain": "embed",
    "fill": "ignore_aspect",
    "inside": "max",
    "outside": "min",
}
#: sharp's gravity numbers (lib/resize.mjs), reached from Pixelbin's position and gravity names.
GRAVITY = {
    "center": 0,
    "centre": 0,
    "north": 1,
    "east": 2,
    "south": 3,
    "west": 4,
    "northeast": 5,
    "southeast": 6,
    "southwest": 7,
    "northwest": 8,
    "top": 1,
    "right": 2,
    "bottom": 3,
    "left": 4,
    "right_top": 5,
    "right_bottom": 6,
    "left_bottom": 7,
    "left_top": 8,
}
#: Pixelbin's border types to sharp's ``extendWith`` (libvips ``VipsExtend`` names).
EXTEND_WITH = {"constant": "background", "replicate": "copy", "reflect": "mirror", "wrap": "repeat"}
#: sharp accepts the American spellings and maps them to libvips' names.
BLEND = {"color-dodge": "colour-dodge", "color-burn": "colour-burn"}


class OperationError(ValueError):
    """sharp would refuse this call on this image (e.g. an extract past the edges): a 400."""


def colour(hex_value: str) -> Colour:
    """``RRGGBB`` or ``RRGGBBAA`` to sharp's ``[r, g, b, alpha]`` (0-255 each)."""
    red, green, blue = (int(hex_value[i : i + 2], 16) for i in (0, 2, 4))
    alpha = int(hex_value[6:8], 16) if len(hex_value) == 8 else 255
    return (red, green, blue, alpha)


def js_round(value: float) -> int:
    """JavaScript's ``Math.round`` (halves up), which Pixelbin's sizes times dpr go through."""
    return math.floor(value + 0.5)


# --------------------------------------------------------------------------- sharp's helpers


def is_16bit(image: pyvips.Image) -> bool:
    return image.interpretation in ("rgb16", "grey16")


def remove_alpha(image: pyvips.Image) -> pyvips.Image:
    while image.bands > 1 and image.hasalpha():
        image = image.extract_band(0, n=image.bands - 1)
    return image


def ensure_alpha(image: pyvips.Image) -> pyvips.Image:
    if not image.hasalpha():
        image = image.bandjoin_const([65535 if is_16bit(image) else 255])
    return image


def apply_alpha(
    image: pyvips.Image, rgba: Colour, premultiply: bool
) -> tuple[pyvips.Image, list[float]]:
    """sharp's ``ApplyAlpha``: the background for an embed/rotate in the image's own bands."""
    multiplier = 256.0 if is_16bit(image) else 1.0
    if image.bands > 2:
        background = [multiplier * rgba[0], multiplier * rgba[1], multiplier * rgba[2]]
    else:
        background = [multiplier * (0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2])]
    if rgba[3] < 255.0 or image.hasalpha():
        extra = image.bands - 3 if image.bands > 4 else 1
        background += [rgba[3] * multiplier] * extra
    if premultiply and len(background) >= 3:
        pixel = pyvips.Image.black(1, 1).new_from_image(background).cast("double")
        pixel = pixel.copy(interpretation=image.interpretation)
        background = list(pixel.premultiply()(0, 0))
    if rgba[3] < 255.0 and not image.hasalpha():
        image = image.bandjoin_const([255 * multiplier])
    return image, background


def resolve_shrink(
    width: int, height: int, target_width: int, target_height: int, canvas: str
) -> tuple[float, float]:
    """sharp's ``ResolveShrink`` (without withoutEnlargement/withoutReduction)."""
    hshrink = vshrink = 1.0
    if target_width > 0 and target_height > 0:
        hshrink = width / target_width
        vshrink = height / target_height
        if canvas in ("crop", "min"):
            hshrink = vshrink = min(hshrink, vshrink)
        elif canvas in ("embed", "max"):
            hshrink = vshrink = max(hshrink, vshrink)
    elif target_width > 0:
        hshrink = width / target_width
        if canvas != "ignore_aspect":
            vshrink = hshrink
    elif target_height > 0:
        vshrink = height / target_height
        if canvas != "ignore_aspect":
            hshrink = vshrink
    return min(hshrink, float(width)), min(vshrink, float(height))


def jpeg_shrink_on_load(shrink: float) -> int:
    """The libjpeg shrink sharp reloads a JPEG with (``fastShrinkOnLoad: true``)."""
    factor = 1
    for candidate in (8, 4, 2):
        if shrink >= candidate:
            factor = candidate
            break
    if factor > 1 and int(shrink) == factor:
        factor //= 2
    return factor


def embed_position(in_w: int, in_h: int, out_w: int, out_h: int, gravity: int) -> tuple[int, int]:
    """sharp's ``CalculateEmbedPosition`` (C integer division: both operands are >= 0 here)."""
    dx, dy = out_w - in_w, out_h - in_h
    return {
        1: (dx // 2, 0),
        2: (dx, dy // 2),
        3: (dx // 2, dy),
        4: (0, dy // 2),
        5: (dx, 0),
        6: (dx, dy),
        7: (0, dy),
        8: (0, 0),
    }.get(gravity, (dx // 2, dy // 2))


def _cdiv2(value: int) -> int:
    """C's ``value / 2`` (truncates toward zero), for offsets that may be negative."""
    return int(value / 2)


def crop_position(in_w: int, in_h: int, out_w: int, out_h: int, gravity: int) -> tuple[int, int]:
    """sharp's ``CalculateCrop`` by gravity."""
    dx, dy = in_w - out_w, in_h - out_h
    cx, cy = _cdiv2(dx + 1), _cdiv2(dy + 1)
    return {
        1: (cx, 0),
        2: (dx, cy),
        3: (cx, dy),
        4: (0, cy),
        5: (dx, 0),
        6: (dx, dy),
        7: (0, dy),
        8: (0, 0),
    }.get(gravity, (cx, cy))


def crop_offset(in_w: int, in_h: int, out_w: int, out_h: int, x: int, y: int) -> tuple[int, int]:
    """sharp's ``CalculateCrop`` by offsets: clamped so the region stays inside."""
    left = x if x < in_w - out_w else in_w - out_w
    top = y if y < in_h - out_h else in_h - out_h
    return left, top


# --------------------------------------------------------------------------- the operations


def resize(
    image: pyvips.Image,
    width: int,
    height: int,
    fit: str,
    position: str,
    kernel: str,
    background: Colour,
) -> pyvips.Image:
    """``resize({width, height, fit, position, kernel, background})``; 0 means "auto"."""
    canvas = CANVAS[fit]
    gravity = GRAVITY[position]
    in_w, in_h = image.width, image.height
    hshrink, vshrink = resolve_shrink(in_w, in_h, width, height, canvas)
    should_resize = hshrink != 1.0 or vshrink != 1.0
    premultiply = image.hasalpha() and should_resize
    band_format = image.format
    if premultiply:
        image = image.premultiply().cast(band_format)
    if should_resize:
        image = image.resize(1.0 / hshrink, vscale=1.0 / vshrink, kernel=kernel)
    in_w, in_h = image.width, image.height
    target_w = width if width > 0 else in_w
    target_h = height if height > 0 else in_h
    if (in_w, in_h) != (target_w, target_h):
        if canvas == "embed":
            image, bg = apply_alpha(image, background, premultiply)
            left, top = embed_position(in_w, in_h, target_w, target_h, gravity)
            image = image.embed(
                left,
                top,
                max(in_w, target_w),
                max(in_h, target_h),
                extend="background",
                background=bg,
            )
        elif canvas == "crop":
            target_w, target_h = min(target_w, in_w), min(target_h, in_h)
            left, top = crop_position(in_w, in_h, target_w, target_h, gravity)
            image = image.extract_area(left, top, target_w, target_h)
    if premultiply:
        image = image.unpremultiply().cast(band_format)
    return image


def extend(
    image: pyvips.Image,
    top: int,
    left: int,
    bottom: int,
    right: int,
    background: Colour,
    extend_with: str,
) -> pyvips.Image:
    """``extend({top, left, bottom, right, background, extendWith})``."""
    if top <= 0 and left <= 0 and bottom <= 0 and right <= 0:
        return image
    width = image.width + left + right
    height = image.height + top + bottom
    if extend_with == "background":
        image, bg = apply_alpha(image, background, False)
        return image.embed(left, top, width, height, extend="background", background=bg)
    return image.embed(left, top, width, height, extend=extend_with)


def extract(image: pyvips.Image, top: int, left: int, height: int, width: int) -> pyvips.Image:
    """``extract({top, left, height, width})``: a region past the edges is refused, as libvips
    refuses it."""
    if width <= 0 or height <= 0:
        raise OperationError(f"extract: width and height must be positive, not {width}x{height}")
    if left + width > image.width or top + height > image.height:
        raise OperationError(
            f"extract: the region {width}x{height} at left {left}, top {top} is past the edges "
            f"of the {image.width}x{image.height} image"
        )
    return image.extract_area(left, top, width, height)


def trim(image: pyvips.Image, threshold: float) -> pyvips.Image:
    """``trim({threshold})``: the top-left pixel is the background to trim away."""
    if image.width < 3 and image.height < 3:
        raise OperationError("trim: the image must be at least 3x3 pixels")
    background = list(image.extract_area(0, 0, 1, 1)(0, 0))
    if is_16bit(image):
        threshold *= 256.0
    background_alpha = [background[-1]]
    if image.hasalpha():
        background = background[:-1]
    left, top, width, height = image.find_trim(
        background=background, line_art=False, threshold=threshold
    )
    if image.hasalpha():
        alpha = image[image.bands - 1]
        left_a, top_a, width_a, height_a = alpha.find_trim(
            background=background_alpha, line_art=False, threshold=threshold
        )
        if width_a > 0 and height_a > 0:
            if width > 0 and height > 0:
                left_b, top_b = min(left, left_a), min(top, top_a)
                width_b = max(left + width, left_a + width_a) - left_b
                height_b = max(top + height, top_a + height_a) - top_b
                return image.extract_area(left_b, top_b, width_b, height_b)
            return image.extract_area(left_a, top_a, width_a, height_a)
    if width > 0 and height > 0:
        return image.extract_area(left, top, width, height)
    return image


def rotate(image: pyvips.Image, angle: int, background: Colour) -> pyvips.Image:
    """``rotate(angle, {background})``: multiples of 90 turn exactly, others rotate and fill."""
    if angle % 90 == 0:
        turn = {90: "d90", 180: "d180", 270: "d270"}.get(angle % 360)
        return image.rot(turn) if turn else image
    image, bg = apply_alpha(image, background, False)
    return image.rotate(float(angle), background=bg)


def flip(image: pyvips.Image) -> pyvips.Image:
    return image.flip("vertical")


def flop(image: pyvips.Image) -> pyvips.Image:
    return image.flip("horizontal")


def _premultiplied(image: pyvips.Image, operation) -> pyvips.Image:  # type: ignore[no-untyped-def]
    """Runs ``operation`` on premultiplied alpha, as sharp does for blur and sharpen."""
    if not image.hasalpha():
        return operation(image)
    band_format = image.format
    image = image.premultiply().cast(band_format)
    return operation(image).unpremultiply().cast(band_format)


def sharpen(image: pyvips.Image, sigma: float) -> pyvips.Image:
    """``sharpen({sigma})`` with sharp's defaults m1 1, m2 2, x1 2, y2 10, y3 20."""
    before = image.interpretation
    if before == "rgb":
        before = "srgb"

    def run(img: pyvips.Image) -> pyvips.Image:
        out = img.sharpen(sigma=sigma, m1=1.0, m2=2.0, x1=2.0, y2=10.0, y3=20.0)
        return out.colourspace(before)

    return _premultiplied(image, run)


def median(image: pyvips.Image, size: int) -> pyvips.Image:
    return image.median(size)


def blur(image: pyvips.Image, sigma: float) -> pyvips.Image:
    """``blur(sigma)``: gaussblur at integer precision, min amplitude 0.2."""
    return _premultiplied(
        image, lambda img: img.gaussblur(sigma, precision="integer", min_ampl=0.2)
    )


def flatten(image: pyvips.Image, background: Colour) -> pyvips.Image:
    if not image.hasalpha():
        return image
    multiplier = 256.0 if is_16bit(image) else 1.0
    rgb = [background[0] * multiplier, background[1] * multiplier, background[2] * multiplier]
    if image.bands <= 2:
        rgb = [0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]]
    return image.flatten(background=rgb)


def negate(image: pyvips.Image) -> pyvips.Image:
    """``negate()``: sharp's default ``alpha: true`` inverts the alpha band too."""
    return image.invert()


def normalise(image: pyvips.Image, lower: int = 1, upper: int = 99) -> pyvips.Image:
    """``normalise()``: stretch L* between its 1st and 99th percentiles to 0-100."""
    before = image.interpretation
    if before == "rgb":
        before = "srgb"
    lab = image.colourspace("lab")
    luminance = lab[0]
    low = int(luminance.min() if lower == 0 else luminance.percent(lower))
    high = int(luminance.max() if upper == 100 else luminance.percent(upper))
    if abs(high - low) <= 1:
        return image
    chroma = lab.extract_band(1, n=2)
    factor = 100.0 / (high - low)
    normalised = luminance.linear(factor, -(low * factor)).bandjoin(chroma).colourspace(before)
    if image.hasalpha():
        return normalised.bandjoin(image[image.bands - 1])
    return normalised


def linear(image: pyvips.Image, a: float, b: float) -> pyvips.Image:
    """``linear(a, b)``: a·in + b on the colour bands, alpha kept."""
    uchar = not is_16bit(image)
    if image.hasalpha() and image.bands != 1:
        alpha = image[image.bands - 1]
        return remove_alpha(image).linear([a], [b], uchar=uchar).bandjoin(alpha)
    return image.linear([a], [b], uchar=uchar)


def modulate(image: pyvips.Image, brightness: float, saturation: float, hue: int) -> pyvips.Image:
    """``modulate({brightness, saturation, hue})`` in LCh."""
    hue = int(math.fmod(hue, 360))
    if brightness == 1.0 and saturation == 1.0 and hue == 0:
        return image
    before = image.interpretation

    def run(img: pyvips.Image) -> pyvips.Image:
        return (
            img.colourspace("lch")
            .linear([brightness, saturation, 1.0], [0.0, 0.0, float(hue)])
            .colourspace(before)
        )

    if image.hasalpha():
        return run(remove_alpha(image)).bandjoin(image[image.bands - 1])
    return run(image)


def greyscale(image: pyvips.Image) -> pyvips.Image:
    return image.colourspace("b-w")


def tint(image: pyvips.Image, rgba: Colour) -> pyvips.Image:
    """``tint(colour)``: keep luminance, take chroma from the colour (sharp's LAB lookup table)."""
    tint_lab = (
        (pyvips.Image.black(1, 1) + list(rgba[:3]))
        .colourspace("lab", source_space="srgb")
        .getpoint(0, 0)
    )
    identity = pyvips.Image.identity(bands=3).colourspace("lab", source_space="srgb")
    lightness = identity[0] / 100
    weight = 1.0 - 4.0 * ((lightness - 0.5) * (lightness - 0.5))
    weight_ab = (weight * list(tint_lab)).extract_band(1, n=2)
    lut = identity[0].bandjoin(weight_ab).colourspace("srgb", source_space="lab")
    before = image.interpretation
    if before == "rgb":
        before = "srgb"
    if image.hasalpha():
        alpha = image[image.bands - 1]
        grey = remove_alpha(image).colourspace("b-w")
        return grey.maplut(lut).colourspace(before).bandjoin(alpha)
    return image.colourspace("b-w").maplut(lut).colourspace(before)


def composite(
    image: pyvips.Image,
    layer: pyvips.Image,
    blend: str,
    gravity: int | None,
    offset: tuple[int, int] | None,
    tile: bool,
) -> pyvips.Image:
    """``composite([{input, blend, gravity | top/left, tile}])`` of one layer."""
    image = ensure_alpha(image)
    if layer.width > image.width or layer.height > image.height:
        raise OperationError(
            f"merge: the image to merge ({layer.width}x{layer.height}) must be no larger than "
            f"the image it is merged with ({image.width}x{image.height})"
        )
    grav = gravity if gravity is not None else 0
    if tile:
        across = math.ceil(image.width / layer.width)
        down = math.ceil(image.height / layer.height)
        if grav in (0, 1, 3):
            across |= 1
        if grav in (0, 2, 4):
            down |= 1
        layer = layer.replicate(across, down)
        if offset is not None:
            left, top = crop_offset(
                layer.width, layer.height, image.width, image.height, offset[0], offset[1]
            )
        else:
            left, top = crop_position(layer.width, layer.height, image.width, image.height, grav)
        layer = layer.extract_area(left, top, image.width, image.height)
        grav = 0
    layer = ensure_alpha(layer)
    if offset is not None:
        if tile:
            left, top = crop_offset(
                image.width, image.height, layer.width, layer.height, offset[0], offset[1]
            )
        else:
            left, top = offset
    else:
        left, top = crop_position(image.width, image.height, layer.width, layer.height, grav)
    mode = BLEND.get(blend, blend)
    return image.composite([layer], [mode], compositing_space="srgb", x=[left], y=[top])


def solid(width: int, height: int, rgba: Sequence[float]) -> pyvips.Image:
    """``sharp({create: {width, height, channels: 4, background}})``."""
    return (
        pyvips.Image.black(width, height, bands=1)
        .copy(interpretation="srgb")
        .new_from_image(list(rgba))
        .cast("uchar")
    )


# --------------------------------------------------------------------------- output stage


_HEADER_FIELDS = frozenset(
    {"width", "height", "bands", "format", "coding", "interpretation", "xoffset", "yoffset"}
    | {"xres", "yres"}
)


def finish(image: pyvips.Image) -> pyvips.Image:
    """sharp's output stage: 16-bit stays 16-bit, then into sRGB (its default colourspace)."""
    if is_16bit(image):
        image = image.cast("ushort")
    if image.interpretation != "srgb":
        image = image.colourspace("srgb", source_space=image.interpretation)
    return image


def as_intermediate(image: pyvips.Image, materialise: bool) -> pyvips.Image:
    """What the next sharp call reads back: 8-bit sRGB(A) pixels.

    ``materialise`` computes them once into memory, for a next step that reads its input more
    than once or out of order while the chain still streams from a sequential decode.
    """
    image = finish(image)
    if image.format != "uchar":
        image = image.cast("uchar")
    image = image.copy_memory() if materialise else image.copy()
    # A PNG in between carries no metadata: a GIF's palette, EXIF, ICC and the rest go.
    for name in image.get_fields():
        if name not in _HEADER_FIELDS:
            image.remove(name)
    return image
