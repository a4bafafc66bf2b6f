"""Tests for content-based format sniffing (pixelbin_emulator.core.media)."""

from __future__ import annotations

import io
import os
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, features

from pixelbin_emulator.core.media import (
    MediaInfo,
    content_type_for,
    normalize_format,
    sniff,
)

ASSET_TYPES = {"image", "video", "audio", "raw"}


def pillow_bytes(fmt: str, size: tuple[int, int], **save_args: object) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buf, fmt, **save_args)
    return buf.getvalue()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes) -> bytes:
    return box(kind, b"\x00\x00\x00\x00" + payload)


def ftyp(major: bytes, *compat: bytes) -> bytes:
    return box(b"ftyp", major + b"\x00\x00\x00\x00" + b"".join(compat))


def heif(major: bytes, compat: tuple[bytes, ...], sizes: list[tuple[int, int]]) -> bytes:
    """Minimal HEIF: ftyp + meta(hdlr, iprp/ipco with one ispe per size) + mdat."""
    ispes = b"".join(full_box(b"ispe", struct.pack(">II", w, h)) for w, h in sizes)
    hdlr = full_box(b"hdlr", b"\x00" * 4 + b"pict" + b"\x00" * 13)
    meta = full_box(b"meta", hdlr + box(b"iprp", box(b"ipco", ispes)))
    return ftyp(major, *compat) + meta + box(b"mdat", b"\x00" * 32)


# --------------------------------------------------------------------------
# raster images via Pillow


@pytest.mark.parametrize(
    ("pil_format", "expected", "mime"),
    [
        ("JPEG", "jpeg", "image/jpeg"),
        ("PNG", "png", "image/png"),
        ("GIF", "gif", "image/gif"),
        ("WEBP", "webp", "image/webp"),
        ("BMP", "bmp", "image/bmp"),
        ("TIFF", "tiff", "image/tiff"),
    ],
)
def test_raster_formats_with_dimensions(pil_format: str, expected: str, mime: str) -> None:
    info = sniff(pillow_bytes(pil_format, (37, 21)))
    assert info == MediaInfo(expected, "image", mime, 37, 21)


@pytest.mark.parametrize(
    "save_args",
    [
        {"progressive": True},
        {"quality": 5, "subsampling": 0},
        {"icc_profile": b"x" * 200_000},
    ],
)
def test_jpeg_variants(save_args: dict[str, object]) -> None:
    info = sniff(pillow_bytes("JPEG", (101, 57), **save_args))
    assert (info.format, info.width, info.height) == ("jpeg", 101, 57)


def test_jpeg_with_megabytes_of_app_segments_before_sof() -> None:
    data = pillow_bytes("JPEG", (640, 360))
    app1 = b"\xff\xe1" + struct.pack(">H", 65_000) + b"\x00" * 64_998
    padded = data[:2] + app1 * 40 + b"\xff\xff\xff" + data[2:]  # plus fill bytes
    info = sniff(padded)
    assert (info.format, info.width, info.height) == ("jpeg", 640, 360)


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_jpeg_other_modes(mode: str) -> None:
    buf = io.BytesIO()
    Image.new(mode, (13, 31)).save(buf, "JPEG")
    assert (sniff(buf.getvalue()).width, sniff(buf.getvalue()).height) == (13, 31)


def test_animated_gif() -> None:
    frames = [Image.new("P", (25, 15), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    info = sniff(buf.getvalue())
    assert (info.format, info.width, info.height) == ("gif", 25, 15)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        (b"\xff\xd8\xff", "jpeg"),
        (b"GIF89a", "gif"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"RIFF\x00\x00\x00\x00WEBP", "webp"),
        (b"II*\x00", "tiff"),
    ],
)
@pytest.mark.parametrize("filler", [b"\x00", b"\xff"])
def test_large_garbage_after_signature_is_fast(
    signature: bytes, expected: str, filler: bytes
) -> None:
    data = signature + filler * 20_000_000
    started = time.perf_counter()
    assert sniff(data).format == expected
    assert time.perf_counter() - started < 1.5


def test_psd_header() -> None:
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 50, 70, 8, 3)
    sections = struct.pack(">IIIH", 0, 0, 0, 0)  # empty mode/resources/layers, raw
    info = sniff(header + sections + b"\x00" * (50 * 70 * 3))
    assert info == MediaInfo("psd", "image", "image/vnd.adobe.photoshop", 70, 50)


def test_ico_reports_largest_icon() -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (48, 48)).save(buf, "ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    info = sniff(buf.getvalue())
    assert (info.format, info.asset_type, info.width, info.height) == (
        "ico",
        "image",
        48,
        48,
    )


@pytest.mark.filterwarnings("ignore::UserWarning")  # header-only TIFF has no IFD
def test_big_endian_and_bigtiff_headers() -> None:
    for header in (b"MM\x00*\x00\x00\x00\x08", b"II+\x00\x08\x00\x00\x00"):
        assert sniff(header).format == "tiff"


def test_content_beats_filename_and_declared_format() -> None:
    """A ``1.jpeg`` whose bytes are WebP is stored as webp, like real Pixelbin."""
    info = sniff(pillow_bytes("WEBP", (12, 8)), filename="1.jpeg", declared_format="jpeg")
    assert (info.format, info.content_type, info.width, info.height) == (
        "webp",
        "image/webp",
        12,
        8,
    )


@pytest.mark.parametrize("cut", [8, 20, 30, 100])
def test_truncated_png_keeps_format(cut: int) -> None:
    data = pillow_bytes("PNG", (64, 40))[:cut]
    info = sniff(data)
    assert info.format == "png"
    assert (info.width, info.height) in {(None, None), (64, 40)}


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow complains about the damage
@pytest.mark.parametrize("pil_format", ["JPEG", "GIF", "WEBP", "TIFF", "BMP"])
def test_corrupted_body_keeps_format(pil_format: str) -> None:
    data = pillow_bytes(pil_format, (30, 30))
    mangled = data[:32] + b"\xff" * 64
    info = sniff(mangled)
    assert info.format == pil_format.lower()
    assert info.width in {None, 30}


def test_decompression_bomb_header_does_not_raise() -> None:
    # A PNG IHDR claiming 100000 x 100000 pixels, no image data.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\x00" * 4
    info = sniff(b"\x89PNG\r\n\x1a\n" + chunk)
    assert info.format == "png"


# --------------------------------------------------------------------------
# AVIF / HEIC (ISO-BMFF + ispe)


@pytest.mark.parametrize(
    ("major", "compat", "expected"),
    [
        (b"avif", (b"mif1", b"miaf"), "avif"),
        (b"avis", (b"avif", b"msf1"), "avif"),
        (b"mif1", (b"avif", b"miaf"), "avif"),  # generic HEIF major, AV1 codec brand
        (b"heic", (b"mif1",), "heic"),
        (b"heix", (b"mif1", b"heic"), "heic"),
        (b"mif1", (b"heic",), "heic"),
        (b"mif1", (), "heic"),
        (b"msf1", (b"hevc",), "heic"),
    ],
)
def test_heif_family(major: bytes, compat: tuple[bytes, ...], expected: str) -> None:
    info = sniff(heif(major, compat, [(640, 480)]))
    assert info == MediaInfo(expected, "image", f"image/{expected}", 640, 480)


def test_heif_picks_primary_image_over_thumbnail() -> None:
    info = sniff(heif(b"heic", (b"mif1",), [(160, 120), (4032, 3024), (512, 512)]))
    assert (info.width, info.height) == (4032, 3024)


def test_heif_without_meta_has_no_dimensions() -> None:
    info = sniff(ftyp(b"heic", b"mif1") + box(b"mdat", b"ispe" + b"\x00" * 20))
    assert (info.format, info.width, info.height) == ("heic", None, None)


def test_heif_truncated_inside_meta() -> None:
    data = heif(b"avif", (b"mif1",), [(10, 10)])
    for cut in range(len(data)):
        assert sniff(data[:cut]).format in {"avif", "bin"}


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_real_avif_from_pillow() -> None:
    info = sniff(pillow_bytes("AVIF", (41, 23)))
    assert (info.format, info.width, info.height) == ("avif", 41, 23)


# --------------------------------------------------------------------------
# video


@pytest.mark.parametrize(
    ("data", "expected", "asset_type"),
    [
        (
            ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41") + box(b"moov", b""),
            "mp4",
            "video",
        ),
        (ftyp(b"mp42", b"mp42", b"isom"), "mp4", "video"),
        (ftyp(b"dash", b"iso6"), "mp4", "video"),
        (ftyp(b"qt  ", b"qt  "), "mov", "video"),
        (ftyp(b"M4V ", b"M4V ", b"mp42"), "m4v", "video"),
        (ftyp(b"3gp5", b"3gp5", b"isom"), "3gp", "video"),
        (ftyp(b"M4A ", b"M4A ", b"mp42"), "m4a", "audio"),
        (box(b"moov", box(b"mvhd", b"\x00" * 100)), "mov", "video"),
        (box(b"wide", b"") + box(b"mdat", b"\x00" * 16), "mov", "video"),
        (b"RIFF\x00\x10\x00\x00AVI LIST", "avi", "video"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "flv", "video"),
    ],
)
def test_video_containers(data: bytes, expected: str, asset_type: str) -> None:
    info = sniff(data)
    assert (info.format, info.asset_type, info.width) == (expected, asset_type, None)


def ebml_header(doctype: bytes) -> bytes:
    body = b"\x42\x86\x81\x01" + b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67"


def test_webm_and_mkv() -> None:
    assert sniff(ebml_header(b"webm")).content_type == "video/webm"
    assert sniff(ebml_header(b"matroska")).format == "mkv"
    assert sniff(b"\x1a\x45\xdf\xa3").format == "mkv"


def test_ogg_theora_is_video() -> None:
    page = b"OggS\x00\x02" + b"\x00" * 22 + b"\x80theora\x03\x02"
    assert (sniff(page).format, sniff(page).asset_type) == ("ogv", "video")


# --------------------------------------------------------------------------
# audio


@pytest.mark.parametrize(
    ("data", "expected", "mime"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 100, "mp3", "audio/mpeg"),  # MPEG-1 layer III
        (b"\xff\xf3\x48\xc4" + b"\x00" * 100, "mp3", "audio/mpeg"),  # MPEG-2 layer III
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", "aac", "audio/aac"),  # ADTS
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav", "audio/wav"),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis", "ogg", "audio/ogg"),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"OpusHead", "ogg", "audio/ogg"),
        (b"fLaC\x00\x00\x00\x22", "flac", "audio/flac"),
    ],
)
def test_audio(data: bytes, expected: str, mime: str) -> None:
    assert sniff(data) == MediaInfo(expected, "audio", mime, None, None)


def test_invalid_mpeg_frame_header_is_not_mp3() -> None:
    # bitrate index 0b1111 is forbidden
    assert sniff(b"\xff\xfb\xf0\x00", filename="x.dat").format == "dat"


# --------------------------------------------------------------------------
# documents


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"\xef\xbb\xbf%PDF-1.4", b"\r\n%PDF-2.0"],
)
def test_pdf(data: bytes) -> None:
    assert sniff(data, filename="doc.png") == MediaInfo("pdf", "raw", "application/pdf", None, None)


# --------------------------------------------------------------------------
# SVG


@pytest.mark.parametrize(
    ("text", "width", "height"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"/>', 120, 80),
        ("<svg width='64px' height='32px'></svg>", 64, 32),
        ('<SVG WIDTH="10" HEIGHT="20"></SVG>', 10, 20),
        ('<svg viewBox="0 0 300 150"></svg>', 300, 150),
        ('<svg viewBox="0,0,24,24" width="100%" height="100%"></svg>', 24, 24),
        ('<svg viewBox="0 0 200 100" width="50"></svg>', 50, 25),
        ('<svg viewBox="0 0 200 100" height="50mm"></svg>', 200, 100),
        ('<svg width="10.6" height="3.2"/>', 11, 3),
        ('<svg width="2em" height="1em"/>', None, None),
        ("<svg><rect/></svg>", None, None),
        ('<svg viewBox="0 0 0 10"/>', None, None),
        ('<svg viewBox="0 0 1e999 10"/>', None, None),
        (
            (
                '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                "<!-- Generator: Adobe Illustrator -->\n"
                '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
                '<svg version="1.1"\n width="800"\n height="600"\n viewBox="0 0 8 6">'
            ),
            800,
            600,
        ),
        (
            (
                '<!DOCTYPE svg [ <!ENTITY ns "http://www.w3.org/2000/svg"> ]>'
                '<svg width="5" height="7">'
            ),
            5,
            7,
        ),
        ('  \n\t<svg\nwidth="9"\nheight="4">', 9, 4),
    ],
)
def test_svg_variants(text: str, width: int | None, height: int | None) -> None:
    info = sniff(text.encode())
    assert info == MediaInfo("svg", "image", "image/svg+xml", width, height)


def test_svg_overflowing_width_is_unknown() -> None:
    info = sniff(f'<svg width="{"9" * 400}" height="1"/>'.encode())
    assert (info.format, info.width, info.height) == ("svg", None, None)


def test_svg_with_bom_and_utf16() -> None:
    doc = '<?xml version="1.0"?><svg width="3" height="4"/>'
    assert sniff(b"\xef\xbb\xbf" + doc.encode()).format == "svg"
    utf16 = sniff(doc.encode("utf-16"))
    assert (utf16.format, utf16.width, utf16.height) == ("svg", 3, 4)


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><html><body><svg width='1' height='1'></svg></body></html>",
        "<svgfoo/>",
        "hello <svg>",
        "<?xml version='1.0'?><root/>",
        "<!-- " + "x" * 5000 + " --><svg/>",  # root beyond the sniffing window
    ],
)
def test_not_svg(text: str) -> None:
    assert sniff(text.encode(), filename="page.html").format == "html"


def test_svg_pathological_comments_are_fast() -> None:
    data = ("<!--" + "-->" * 1500).encode()
    started = time.perf_counter()
    assert sniff(data).format == "bin"
    assert time.perf_counter() - started < 1.0


# --------------------------------------------------------------------------
# fallbacks


def test_empty_bytes() -> None:
    assert sniff(b"") == MediaInfo("bin", "raw", "application/octet-stream", None, None)
    assert sniff(b"", filename="photo.JPG").format == "jpeg"


def test_random_bytes_fallbacks() -> None:
    noise = b"\x00\x13" + os.urandom(510)
    noise = b"\x07" + noise[1:]  # keep clear of every signature
    assert sniff(noise).format == "bin"
    assert sniff(noise, filename="clip.MOV") == MediaInfo(
        "mov", "video", "video/quicktime", None, None
    )
    assert sniff(noise, filename="dir.v2/archive.tar.gz").format == "gz"
    assert sniff(noise, filename=r"C:\\x\\pic.tif").format == "tiff"
    assert sniff(noise, filename="notes.txt").asset_type == "raw"
    assert sniff(noise, filename="data.custom1").asset_type == "raw"
    assert sniff(noise, filename="data.custom1").content_type == "application/octet-stream"
    # declared format wins over the extension, but only when bytes are unknown
    assert sniff(noise, filename="a.png", declared_format=".HEIF").format == "heic"
    assert sniff(noise, filename="a.png", declared_format="  ").format == "png"
    assert sniff(noise, filename="a.png", declared_format="../etc").format == "png"


@pytest.mark.parametrize(
    "filename",
    [
        "README",
        ".bashrc",
        "a.",
        "a.toolongext",
        "a.j p g",
        "a.ünï",
        "dir.d/file",
        "...",
    ],
)
def test_filenames_without_usable_extension(filename: str) -> None:
    assert sniff(b"\x07plain", filename=filename).format == "bin"


def test_ascii_text_is_not_mistaken_for_media() -> None:
    for text in [
        b"Tax free wide open",
        b"BMW is a car brand",
        b"ID card",
        b"RIFF raff",
    ]:
        assert sniff(text, filename="t.txt").format == "txt", text


# --------------------------------------------------------------------------
# helpers


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("jpg", "jpeg"),
        ("JPEG", "jpeg"),
        (".jpeg", "jpeg"),
        (" .JPG ", "jpeg"),
        ("tif", "tiff"),
        ("heif", "heic"),
        ("png", "png"),
        ("qt", "mov"),
        ("weird", "weird"),
    ],
)
def test_normalize_format(raw: str, canonical: str) -> None:
    assert normalize_format(raw) == canonical


def test_content_type_for() -> None:
    assert content_type_for("jpeg") == "image/jpeg"
    assert content_type_for("svg") == "image/svg+xml"
    assert content_type_for("mp4") == "video/mp4"
    assert content_type_for("pdf") == "application/pdf"
    assert content_type_for("nope") == "application/octet-stream"


# --------------------------------------------------------------------------
# properties


def _check(info: MediaInfo) -> None:
    assert info.format
    assert info.format == info.format.lower()
    assert info.asset_type in ASSET_TYPES
    assert info.content_type
    for dim in (info.width, info.height):
        assert dim is None or (isinstance(dim, int) and dim > 0)


@settings(max_examples=500, deadline=None)
@given(
    data=st.binary(max_size=2048),
    filename=st.none() | st.text(max_size=40),
    declared=st.none() | st.text(max_size=12),
)
def test_sniff_never_raises(data: bytes, filename: str | None, declared: str | None) -> None:
    _check(sniff(data, filename=filename, declared_format=declared))


_SIGNATURES = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00",
    b"II*\x00",
    b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00",
    b"\x00\x00\x00\x1cftypavif",
    b"\x00\x00\x00\x18ftypheic",
    b"\x1a\x45\xdf\xa3",
    b"%PDF-",
    b"<svg ",
    b"8BPS",
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=500, deadline=None)
@given(prefix=st.sampled_from(_SIGNATURES), tail=st.binary(max_size=512))
def test_sniff_never_raises_on_near_valid_headers(prefix: bytes, tail: bytes) -> None:
    """Real signatures followed by garbage exercise the header parsers."""
    _check(sniff(prefix + tail))
