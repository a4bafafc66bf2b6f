"""The CDN renders transformations: statuses, headers, presets, dpr and f_auto, the variant
cache, limits, stand-in wiring, the transformation context and urlUpload of transformed URLs.

Pixels are compared with sharp itself in tests/test_transform_vs_sharp.py; these tests check
the emulator's own behaviour around the renderer.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from typing import Any

import pytest
import requests
from PIL import Image

from pixelbin_emulator.core import rendering
from pixelbin_emulator.core.render_cache import VariantCache
from pixelbin_emulator.core.rendering import Rendered

from .helpers import assert_error, state


def picture(width: int = 64, height: int = 48, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    image = Image.new(mode, (width, height), "red" if mode == "RGB" else (255, 0, 0, 128))
    for x in range(width // 2):
        for y in range(height // 2):
            image.putpixel((x, y), (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def size_of(content: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(content)).size


@pytest.fixture
def cdn(sdk: Any, pixelbin_emulator: Any) -> str:
    """Base of the org's CDN URLs, with ``photo.jpeg`` (64x48) and ``logo.png`` (16x12, alpha)."""
    sdk.assets.fileUpload(file=picture(), name="photo")
    sdk.assets.fileUpload(file=picture(16, 12, "PNG", "RGBA"), name="logo")
    return f"{pixelbin_emulator.url}/v2/{pixelbin_emulator.cloud_name}"


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30)


def test_resize_and_format_follow_the_steps(cdn):
    resized = get(f"{cdn}/t.resize(w:32)/photo.jpeg")
    assert resized.status_code == 200
    assert resized.headers["Content-Type"] == "image/jpeg"
    assert size_of(resized.content) == (32, 24)
    converted = get(f"{cdn}/t.resize(w:20,h:20,f:contain)~t.toFormat(f:png)/photo.jpeg")
    assert converted.headers["Content-Type"] == "image/png"
    assert converted.content.startswith(b"\x89PNG") and size_of(converted.content) == (20, 20)
    webp = get(f"{cdn}/t.toFormat(f:webp,q:40)/photo.jpeg")
    assert webp.headers["Content-Type"] == "image/webp" and webp.content[8:12] == b"WEBP"
    bmp = get(f"{cdn}/t.flip()~t.toFormat(f:bmp)/photo.jpeg")
    assert bmp.headers["Content-Type"] == "image/bmp" and size_of(bmp.content) == (64, 48)


def test_density_is_written_into_the_output(cdn):
    response = get(f"{cdn}/t.density(d:300)~t.toFormat(f:png)/photo.jpeg")
    assert Image.open(io.BytesIO(response.content)).info["dpi"][0] == pytest.approx(300, abs=1)


def test_presets_expand_with_their_variables(sdk, cdn):
    sdk.assets.addPreset(
        presetName="thumb",
        transformation="t.resize(w:$w,h:$h)~t.toFormat(f:png)",
        params={"w": {"type": "integer", "default": 16}, "h": {"type": "integer", "default": 8}},
    )
    assert size_of(get(f"{cdn}/p:thumb/photo.jpeg").content) == (16, 8)
    shaped = get(f"{cdn}/p:thumb(w:30)~t.rotate(a:90)/photo.jpeg")
    assert shaped.headers["Content-Type"] == "image/png"
    assert size_of(shaped.content) == (8, 30)
    for bad, words in (
        ("p:thumb(w:big)", "not an integer"),
        ("p:thumb(x:3)", "no variable 'x'"),
        ("p:thumb(w:20000)", "above the maximum"),
    ):
        body = assert_error(get(f"{cdn}/{bad}/photo.jpeg"), 400)
        assert words in body["message"], body
    sdk.assets.updatePreset(presetName="thumb", archived=True)
    body = assert_error(get(f"{cdn}/p:thumb/photo.jpeg"), 400)
    assert "archived" in body["message"]


def test_a_url_has_at_most_15_operations(cdn):
    assert get(f"{cdn}/{'~'.join(['t.flip()'] * 15)}/photo.jpeg").status_code == 200
    body = assert_error(get(f"{cdn}/{'~'.join(['t.flip()'] * 16)}/photo.jpeg"), 400)
    assert "too many operations" in body["message"]


def test_dpr_scales_sizes_and_is_checked(cdn):
    assert size_of(get(f"{cdn}/t.resize(w:16)/photo.jpeg?dpr=2.0").content) == (32, 24)
    assert size_of(get(f"{cdn}/t.resize(w:16,dpr:1.5)/photo.jpeg?dpr=2").content) == (24, 18)
    assert size_of(get(f"{cdn}/t.resize(w:16)/photo.jpeg?dpr=auto", DPR="3").content) == (48, 36)
    assert size_of(get(f"{cdn}/t.resize(w:16)/photo.jpeg?dpr=auto", DPR="nan").content) == (16, 12)
    for bad in ("0.05", "5.5", "two"):
        assert_error(get(f"{cdn}/t.resize(w:16)/photo.jpeg?dpr={bad}"), 400)


def test_f_auto_picks_by_accept_header(cdn):
    url = f"{cdn}/t.resize(w:16)/photo.jpeg?f_auto=true"
    avif = get(url, Accept="image/avif,image/webp,*/*")
    assert avif.headers["Content-Type"] == "image/avif"
    assert "Accept" in avif.headers["Vary"]
    assert get(url, Accept="image/webp,*/*").headers["Content-Type"] == "image/webp"
    assert get(url, Accept="*/*").headers["Content-Type"] == "image/jpeg"
    original = get(f"{cdn}/original/photo.jpeg?f_auto=true", Accept="image/webp")
    assert original.headers["Content-Type"] == "image/webp"
    assert size_of(original.content) == (64, 48)
    assert_error(get(f"{cdn}/original/photo.jpeg?f_auto=maybe"), 400)


def test_variants_have_their_own_etag_conditional_get_and_range(cdn):
    original = get(f"{cdn}/original/photo.jpeg")
    variant = get(f"{cdn}/t.resize(w:32)/photo.jpeg")
    etag = variant.headers["ETag"]
    assert etag != original.headers["ETag"]
    assert get(f"{cdn}/t.resize(w:32)/photo.jpeg", **{"If-None-Match": etag}).status_code == 304
    partial = get(f"{cdn}/t.resize(w:32)/photo.jpeg", Range="bytes=0-9")
    assert partial.status_code == 206 and partial.content == variant.content[:10]


def test_rendered_variants_are_cached_and_dropped_when_the_file_changes(sdk, cdn):
    first = get(f"{cdn}/t.resize(w:10)/photo.jpeg")
    again = get(f"{cdn}/t.resize(w:10)/photo.jpeg")
    assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]
    sdk.assets.fileUpload(file=picture(40, 40), name="photo", overwrite=True)
    changed = get(f"{cdn}/t.resize(w:10)/photo.jpeg")
    assert size_of(changed.content) == (10, 10)
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_concurrent_requests_for_a_new_variant_render_it_once(cdn, pixelbin_emulator_server):
    cache = pixelbin_emulator_server.app.extensions["pixelbin_emulator"]["render_cache"]
    before = cache.renders
    url = f"{cdn}/t.resize(w:33)~t.sharpen(s:3)~t.rotate(a:7)/photo.jpeg"
    responses: list[requests.Response] = []
    threads = [threading.Thread(target=lambda: responses.append(get(url))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [200] * 6
    assert len({r.content for r in responses}) == 1
    assert cache.renders - before == 1


def test_cache_renders_a_variant_once_for_concurrent_requests():
    cache = VariantCache(max_bytes=1000)
    calls = []

    def render() -> Rendered:
        calls.append(1)
        time.sleep(0.2)
        return Rendered(b"x" * 100, "png", 1, 1, False)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("f", "v1", "k", render)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len({r.etag for r in results}) == 1
    assert cache.get("f", "v1", "k", render) is results[0] and cache.hits == 1


def test_cache_is_capped_in_bytes_and_forgets_old_versions():
    cache = VariantCache(max_bytes=250)

    def make(n: int):
        return lambda: Rendered(bytes([n]) * 100, "png", 1, 1, False)

    for n in range(3):
        cache.get("f", "v1", n, make(n))
    assert len(cache) == 2 and cache.size == 200  # the least recently used went
    cache.get("f", "v2", 0, make(9))
    assert len(cache) == 1  # a new version of the file drops the old one's variants
    failing = cache.get
    with pytest.raises(ValueError):
        failing("g", "v1", "k", lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert len(cache) == 1  # errors are not cached


def test_limits_and_bad_input_are_400_and_change_nothing(sdk, cdn, pixelbin_emulator):
    sdk.assets.fileUpload(file=b"%PDF-1.4 not an image", name="doc")
    before = state(pixelbin_emulator)
    cases = {
        "t.resize(w:10000,h:10000)~t.extend(t:500)/photo.jpeg": "output limit",
        "t.resize(w:10000,dpr:2)/photo.jpeg": "output limit",
        "t.extract(t:40,l:0,h:20,w:10)/photo.jpeg": "past the edges",
        "t.median(s:0)/photo.jpeg": "between 1 and 1000",
        "t.resize(w:10)/doc.pdf": "images only",
        "t.nope()/doc.pdf": "unknown operation",  # the pattern is refused before the file
        "t.merge(i:missing)/photo.jpeg": "no file",
    }
    for path, words in cases.items():
        body = assert_error(get(f"{cdn}/{path}"), 400)
        assert words in body["message"], (path, body)
    assert state(pixelbin_emulator) == before


def test_a_decompression_bomb_is_refused_before_decoding(pixelbin_emulator):
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 4000)).save(buffer, "PNG")
    bomb = buffer.getvalue()
    org = pixelbin_emulator.emulator.org(pixelbin_emulator.org_id)
    plan = rendering.plan("t.resize(w:10)", org)
    small = rendering.Plan(plan.steps, max_input_pixels=1_000_000)
    with pytest.raises(rendering.RenderError, match="decompression bomb"):
        rendering.render(bomb, "png", "image", small, org.catalogue)


def test_merge_layers_a_stored_file(sdk, cdn):
    sdk.assets.createFolder(name="brand")
    sdk.assets.fileUpload(file=picture(16, 12, "PNG", "RGBA"), path="brand", name="mark")
    by_name = get(f"{cdn}/t.merge(i:logo,g:southeast)/photo.jpeg")
    assert by_name.status_code == 200 and size_of(by_name.content) == (64, 48)
    reference = base64.urlsafe_b64encode(b"brand/mark").decode().rstrip("=")
    transformation = base64.urlsafe_b64encode(b"t.resize(w:8)").decode().rstrip("=")
    nested = get(f"{cdn}/t.merge(i:{reference},tr:{transformation},r:true)/photo.jpeg")
    assert nested.status_code == 200, nested.text
    assert nested.content != by_name.content
    too_big = get(f"{cdn}/t.resize(w:8)~t.merge(i:logo)/photo.jpeg")
    assert "no larger" in assert_error(too_big, 400)["message"]


def test_ai_modules_are_stand_ins_and_credentials_are_required(sdk, cdn):
    erased = get(f"{cdn}/erase.bg()/photo.jpeg")
    assert erased.status_code == 200
    assert erased.headers["X-Pixelbin-Emulator-Transformation"] == "stand-in"
    assert erased.headers["Content-Type"] == "image/png"  # the stand-in forces its format...
    later = get(f"{cdn}/erase.bg()~t.toFormat(f:webp)/photo.jpeg")
    assert later.headers["Content-Type"] == "image/webp"  # ...unless a later toFormat says
    assert "X-Pixelbin-Emulator-Transformation" not in get(f"{cdn}/t.flip()/photo.jpeg").headers
    body = assert_error(get(f"{cdn}/remove.bg()/photo.jpeg"), 403)
    assert "addCredentials" in body["message"]
    sdk.assets.addCredentials(pluginId="remove", credentials={"apiKey": "k"})
    assert get(f"{cdn}/remove.bg()/photo.jpeg").status_code == 200


def test_v1_and_version_less_urls_are_served(cdn, pixelbin_emulator):
    from pixelbin.utils.url import url_to_obj

    v1 = cdn.replace("/v2/", "/v1/")
    assert size_of(get(f"{v1}/t.resize(w:8)/photo.jpeg").content) == (8, 6)
    bare = cdn.replace("/v2/", "/")
    assert url_to_obj(f"{bare}/t.resize(w:8)/photo.jpeg")["version"] == "v1"
    assert size_of(get(f"{bare}/t.resize(w:8)/photo.jpeg").content) == (8, 6)
    assert assert_error(get(f"{pixelbin_emulator.url}/no-such-cloud/original/photo.jpeg"), 404)
    # The emulator's own paths keep their answers for methods they do not serve.
    assert_error(requests.delete(f"{pixelbin_emulator.url}/_emulator/orgs/-1", timeout=5), 404)


def test_url_upload_of_a_transformed_url_stores_the_transformed_bytes(sdk, cdn):
    stored = sdk.assets.urlUpload(
        url=f"{cdn}/t.resize(w:20)~t.toFormat(f:png)/photo.jpeg", name="small"
    )
    assert (stored["format"], stored["width"], stored["height"]) == ("png", 20, 15)
    bare = cdn.replace("/v2/", "/")
    again = sdk.assets.urlUpload(url=f"{bare}/t.resize(w:10)/photo.jpeg", name="smaller")
    assert (again["format"], again["width"]) == ("jpeg", 10)


def test_transformation_context_describes_each_step(sdk, cdn, pixelbin_emulator):
    path = f"/v2/{pixelbin_emulator.cloud_name}/t.resize(w:32)~t.toFormat(f:png)/photo.jpeg"
    context = sdk.transformation.getTransformationContext(url=path)["context"]
    assert [(s["identifier"], s["name"]) for s in context["steps"]] == [
        ("t", "resize"),
        ("t", "toFormat"),
    ]
    assert (context["steps"][0]["width"], context["steps"][0]["format"]) == (32, "jpeg")
    assert context["steps"][1]["format"] == "png" and context["steps"][1]["size"] > 0
    assert context["metadata"]["width"] == 64 and context["metadata"]["format"] == "jpeg"
    assert context["params"] == {} and "host" in context["headers"]
    bmp = sdk.transformation.getTransformationContext(url=f"{cdn}/t.toFormat(f:bmp)/photo.jpeg")
    assert bmp["context"]["steps"][0]["format"] == "bmp"
    assert bmp["context"]["steps"][0]["width"] == 64
    full = sdk.transformation.getTransformationContext(url=f"{cdn}/original/photo.jpeg")
    assert full["context"]["steps"] == []


def test_cache_size_comes_from_the_flag_or_the_environment(monkeypatch):
    from pixelbin_emulator.cli import parse_args

    assert parse_args([]).transform_cache_mb == 256
    assert parse_args(["--transform-cache-mb", "8"]).transform_cache_mb == 8
    monkeypatch.setenv("PIXELBIN_EMULATOR_TRANSFORM_CACHE_MB", "16")
    assert parse_args([]).transform_cache_mb == 16


def test_a_private_files_variants_need_a_signed_url_too(sdk, cdn, pixelbin_emulator):
    from pixelbin.utils.security import sign_url

    sdk.assets.fileUpload(file=picture(), name="secret", access="private")
    url = f"{cdn}/t.resize(w:16)/secret.jpeg"
    signed = sign_url(url, 60, pixelbin_emulator.access_key, pixelbin_emulator.api_secret)
    first = get(signed)
    assert first.status_code == 200 and size_of(first.content) == (16, 12)
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert_error(get(url), 401)  # the cached variant is not served without the signature


def test_output_is_8_bit_srgb_even_without_pixel_steps(sdk, cdn):
    deep = io.BytesIO()
    Image.new("I;16", (8, 6), 40000).save(deep, "PNG")
    sdk.assets.fileUpload(file=deep.getvalue(), name="deep")
    for pattern in ("t.toFormat(f:png)", "t.flip()"):
        rendered = Image.open(io.BytesIO(get(f"{cdn}/{pattern}/deep.png").content))
        assert rendered.mode == "RGB", pattern  # sharp's output stage: 8-bit sRGB
