"""The AI modules' stand-ins: sizes, alpha, formats, determinism, bad parameters."""

from __future__ import annotations

import pytest
import pyvips

from pixelbin_emulator.core import standins
from pixelbin_emulator.core.standins import StandInError, apply, detect
from pixelbin_emulator.core.transformations import load_catalogue


def subject_on_white(width: int = 100, height: int = 80) -> pyvips.Image:
    """A red 40x30 rectangle at (30, 20) on white: the "subject" is known exactly."""
    white = pyvips.Image.black(width, height).new_from_image([255, 255, 255])
    drawn = white.draw_rect([200, 0, 0], 30, 20, 40, 30, fill=True)
    return drawn.cast("uchar").copy(interpretation="srgb")


def pixels(image: pyvips.Image) -> bytes:
    return bytes(image.write_to_memory())


def ai_modules() -> list[tuple[str, str]]:
    return [
        (plugin_id, op["method"])
        for plugin_id, plugin in load_catalogue().plugins.items()
        if plugin_id != "t"
        for op in plugin["operations"]
    ]


@pytest.mark.parametrize(("plugin", "operation"), ai_modules())
def test_every_catalogue_module_has_a_deterministic_stand_in(plugin: str, operation: str) -> None:
    image = subject_on_white()
    first, second = apply(plugin, operation, image, {}), apply(plugin, operation, image, {})
    assert standins.has_stand_in(plugin, operation)
    assert pixels(first.image) == pixels(second.image)
    assert first.format == second.format


def test_erase_bg_keys_out_the_border_colour_into_png_alpha() -> None:
    result = apply("erase", "bg", subject_on_white(), {})
    assert result.format == "png"
    out = result.image
    assert (out.width, out.height, out.bands) == (100, 80, 4)
    alpha = out.extract_band(3)
    assert alpha.getpoint(0, 0) == [0.0]
    assert alpha.getpoint(50, 35) == [255.0]
    # Exactly the subject stays opaque.
    assert alpha.avg() == pytest.approx(255 * 40 * 30 / (100 * 80))
    assert out.extract_band(0, n=3).getpoint(50, 35) == [200.0, 0.0, 0.0]


def test_erase_bg_keeps_background_coloured_regions_enclosed_by_the_subject() -> None:
    # A red frame with a white inside: the inside is not connected to the border.
    image = subject_on_white().draw_rect([255, 255, 255], 40, 30, 20, 10, fill=True)
    alpha = apply("erase", "bg", image, {}).image.extract_band(3)
    assert alpha.getpoint(50, 35) == [255.0]
    assert alpha.getpoint(5, 5) == [0.0]


def test_erase_bg_tolerates_noise_near_the_border_colour() -> None:
    image = subject_on_white().draw_rect([240, 245, 250], 0, 0, 10, 10, fill=True)
    alpha = apply("remove", "bg", image, {}).image.extract_band(3)
    assert alpha.getpoint(5, 5) == [0.0]


def test_erase_bg_keeps_existing_transparency_and_handles_grey_and_16_bit_input() -> None:
    rgba = subject_on_white().bandjoin(128).copy(interpretation="srgb")
    alpha = apply("erase", "bg", rgba, {}).image.extract_band(3)
    assert alpha.getpoint(50, 35) == [128.0]
    assert alpha.getpoint(0, 0) == [0.0]
    grey = subject_on_white().colourspace("b-w")
    assert apply("erase", "bg", grey, {}).image.bands == 4
    deep = subject_on_white().colourspace("rgb16")
    out = apply("erase", "bg", deep, {}).image
    assert (out.bands, out.format) == (4, "uchar")


@pytest.mark.parametrize(("factor", "scale"), [("2x", 2), ("4x", 4)])
def test_sr_upscale_is_lanczos3_by_its_factor(factor: str, scale: int) -> None:
    image = subject_on_white()
    out = apply("sr", "upscale", image, {"t": factor}).image
    assert (out.width, out.height) == (100 * scale, 80 * scale)
    assert pixels(out) == pixels(image.resize(scale, kernel="lanczos3"))


def test_sr_upscale_defaults_to_2x_and_refuses_outputs_past_the_limit() -> None:
    assert apply("sr", "upscale", subject_on_white(), {}).image.width == 200
    with pytest.raises(StandInError, match="output limit"):
        apply("sr", "upscale", subject_on_white(3000, 10), {"t": "4x"})


def test_wm_remove_smooths_only_inside_its_boxes() -> None:
    image = subject_on_white()
    full = apply("wm", "remove", image, {}).image  # box1 default: the whole image
    assert pixels(full) == pixels(image.median(3))
    left_half = apply("wm", "remove", image, {"box1": "0_0_50_100"}).image
    assert pixels(left_half.crop(50, 0, 50, 80)) == pixels(image.crop(50, 0, 50, 80))
    assert pixels(left_half.crop(0, 0, 50, 80)) == pixels(image.median(3).crop(0, 0, 50, 80))
    with pytest.raises(StandInError, match="box"):
        apply("wm", "remove", image, {"box2": "1_2_3"})


@pytest.mark.parametrize(("width", "height", "kind"), [(97, 61, "uchar"), (40, 30, "ushort")])
def test_median3_equals_libvips_median(width: int, height: int, kind: str) -> None:
    noise = pyvips.Image.gaussnoise(width, height, mean=128, sigma=60, seed=7)
    image = noise.bandjoin([noise.flip("horizontal"), noise.flip("vertical"), noise]).cast(kind)
    assert pixels(standins.median3(image)) == pixels(image.median(3))


@pytest.mark.parametrize(("width", "height"), [(1, 1), (2, 5), (4, 2)])
def test_median3_works_where_libvips_median_refuses_the_image(width: int, height: int) -> None:
    """libvips' rank filter wants an image at least as large as its window."""
    image = pyvips.Image.gaussnoise(width, height, mean=128, sigma=60, seed=3).cast("uchar")
    with pytest.raises(pyvips.Error):
        image.median(3).write_to_memory()
    values = list(pixels(image))

    def at(x: int, y: int) -> int:  # edges extended by copying
        return values[min(max(y, 0), height - 1) * width + min(max(x, 0), width - 1)]

    expected = bytes(
        sorted(at(x + dx, y + dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1))[4]
        for y in range(height)
        for x in range(width)
    )
    assert pixels(standins.median3(image)) == expected


def test_af_remove_is_a_light_median_of_the_same_size() -> None:
    image = subject_on_white()
    out = apply("af", "remove", image, {}).image
    assert (out.width, out.height) == (100, 80)
    assert pixels(out) == pixels(image.median(3))
    tiny = pyvips.Image.black(1, 2).new_from_image([9, 8, 7]).cast("uchar")
    assert pixels(apply("af", "remove", tiny, {}).image) == pixels(tiny)  # libvips' median fails


@pytest.mark.parametrize(
    ("params", "box"),
    [
        ({"w": "40", "h": "20"}, (30, 30, 40, 20)),
        ({"w": "40", "h": "20", "d": "north_west"}, (0, 0, 40, 20)),
        ({"w": "40", "h": "20", "d": "south_east"}, (60, 60, 40, 20)),
        ({"w": "500", "h": "20"}, (0, 30, 100, 20)),
        ({"ar": "1_1"}, (10, 0, 80, 80)),
        ({"w": "30", "ar": "3_2"}, (35, 30, 30, 20)),
        ({"w": "20", "h": "10", "p": "50"}, (30, 30, 40, 20)),
        ({}, (0, 0, 100, 80)),
    ],
)
def test_ic_crop_is_a_crop_of_the_asked_size_placed_by_direction(
    params: dict[str, str], box: tuple[int, int, int, int]
) -> None:
    image = subject_on_white()
    out = apply("ic", "crop", image, params).image
    left, top, width, height = box
    assert (out.width, out.height) == (width, height)
    assert pixels(out) == pixels(image.crop(left, top, width, height))


def test_ic_crop_rejects_a_malformed_aspect_ratio() -> None:
    with pytest.raises(StandInError, match="aspect ratio"):
        apply("ic", "crop", subject_on_white(), {"ar": "wide"})


@pytest.mark.parametrize(
    ("plugin", "operation"),
    [("awsRek", "detectLabels"), ("awsRek", "moderation"), ("googleVis", "detectLabels")],
)
def test_detection_modules_leave_the_image_unchanged(plugin: str, operation: str) -> None:
    image = subject_on_white()
    result = apply(plugin, operation, image, {})
    assert result.format is None
    assert pixels(result.image) == pixels(image)


def test_aws_detect_labels_boxes_the_subject_and_follows_its_limits() -> None:
    image = subject_on_white()
    document = detect("awsRek", "detectLabels", image, {"l": "10", "c": "0"})
    assert document == detect("awsRek", "detectLabels", image, {"l": "10", "c": "0"})
    names = [label["Name"] for label in document["Labels"]]
    assert {"Object", "White", "Landscape", "Bright"} <= set(names)
    confidences = [label["Confidence"] for label in document["Labels"]]
    assert confidences == sorted(confidences, reverse=True)
    (subject,) = [label for label in document["Labels"] if label["Name"] == "Object"]
    box = subject["Instances"][0]["BoundingBox"]
    assert box == {"Width": 0.4, "Height": 0.375, "Left": 0.3, "Top": 0.25}
    assert len(detect("awsRek", "detectLabels", image, {"l": "2", "c": "0"})["Labels"]) == 2
    strict = detect("awsRek", "detectLabels", image, {"l": "10", "c": "95"})["Labels"]
    assert all(label["Confidence"] >= 95 for label in strict)
    assert len(detect("awsRek", "detectLabels", image, {})["Labels"]) <= 5  # catalogue default


def test_detect_labels_follow_the_image() -> None:
    dark = pyvips.Image.black(60, 90).new_from_image([10, 20, 200]).cast("uchar")
    labels = {
        a["description"]
        for a in detect("googleVis", "detectLabels", dark, {"l": "10"})["labelAnnotations"]
    }
    assert {"Blue", "Dark", "Portrait", "Plain"} <= labels
    assert "Object" not in labels  # a plain image has no subject


def test_moderation_finds_nothing_and_image_models_have_no_document() -> None:
    assert detect("awsRek", "moderation", subject_on_white(), {})["ModerationLabels"] == []
    with pytest.raises(StandInError, match="not a detection module"):
        detect("erase", "bg", subject_on_white(), {})


def test_unknown_modules_are_refused() -> None:
    assert not standins.has_stand_in("t", "resize")
    with pytest.raises(StandInError, match="no stand-in"):
        apply("t", "resize", subject_on_white(), {})
