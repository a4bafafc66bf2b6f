"""Format sniffing from file bytes.

Pixelbin decides an asset's format from its *content*, not its name: a
``1.jpeg`` whose bytes are WebP is stored as ``webp``.  This module mirrors
that: magic bytes win, and the declared format / file extension are only a
fallback for content we cannot recognise.  Everything here must be safe on
hostile input (uploads are arbitrary bytes), so ``sniff`` never raises,
matches signatures against a bounded prefix only, and reads just the headers
needed for dimensions (never decoding pixels).
"""

from __future__ import annotations

import io
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

__all__ = ["MediaInfo", "content_type_for", "normalize_format", "sniff"]

# Magic numbers live at the start of a file; bounding the scan keeps sniffing
# O(1) in the upload size.
_PREFIX = 64 * 1024
# SVG root element must appear within this many bytes to count as SVG.
_SVG_WINDOW = 4096

# canonical format -> (asset_type, MIME type)
_FORMATS: dict[str, tuple[str, str]] = {
    # images
    "jpeg": ("image", "image/jpeg"),
    "png": ("image", "image/png"),
    "gif": ("image", "image/gif"),
    "webp": ("image", "image/webp"),
    "avif": ("image", "image/avif"),
    "heic": ("image", "image/heic"),
    "bmp": ("image", "image/bmp"),
    "tiff": ("image", "image/tiff"),
    "ico": ("image", "image/x-icon"),
    "svg": ("image", "image/svg+xml"),
    "psd": ("image", "image/vnd.adobe.photoshop"),
    "jxl": ("image", "image/jxl"),
    # video
    "mp4": ("video", "video/mp4"),
    "mov": ("video", "video/quicktime"),
    "webm": ("video", "video/webm"),
    "mkv": ("video", "video/x-matroska"),
    "avi": ("video", "video/x-msvideo"),
    "flv": ("video", "video/x-flv"),
    "3gp": ("video", "video/3gpp"),
    "m4v": ("video", "video/x-m4v"),
    "ogv": ("video", "video/ogg"),
    # audio
    "mp3": ("audio", "audio/mpeg"),
    "aac": ("audio", "audio/aac"),
    "m4a": ("audio", "audio/mp4"),
    "wav": ("audio", "audio/wav"),
    "ogg": ("audio", "audio/ogg"),
    "flac": ("audio", "audio/flac"),
    # raw (documents and data; only reached by magic for pdf)
    "pdf": ("raw", "application/pdf"),
    "txt": ("raw", "text/plain"),
    "csv": ("raw", "text/csv"),
    "json": ("raw", "application/json"),
    "xml": ("raw", "application/xml"),
    "html": ("raw", "text/html"),
    "css": ("raw", "text/css"),
    "js": ("raw", "text/javascript"),
    "zip": ("raw", "application/zip"),
    "gz": ("raw", "application/gzip"),
}

# Extension-like spellings that name the same canonical format.
_ALIASES: dict[str, str] = {
    "jpg": "jpeg",
    "jpe": "jpeg",
    "jfif": "jpeg",
    "pjpeg": "jpeg",
    "tif": "tiff",
    "heif": "heic",
    "hif": "heic",
    "qt": "mov",
    "oga": "ogg",
    "opus": "ogg",
    "wave": "wav",
    "htm": "html",
    "mjs": "js",
    "text": "txt",
}

_EXT_RE = re.compile(r"[A-Za-z0-9]{1,8}", re.ASCII)
_DECLARED_RE = re.compile(r"[a-z0-9]{1,16}", re.ASCII)

# ISO-BMFF (ftyp) brands.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})
_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
_3GP_PREFIXES = (b"3gp", b"3g2")
# Pre-ftyp QuickTime files open straight with one of these atoms.
_QT_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"pnot", b"free", b"skip"})

# BMP DIB header sizes (core, OS/2 v2, v3 info, v4, v5 and adobe variants).
_BMP_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

# Formats whose header Pillow can read; value is Pillow's plugin name.  JPEG
# and GIF are parsed here instead: Pillow scans them byte by byte, which takes
# seconds on large garbage uploads.
_PILLOW_PLUGINS: dict[str, str] = {
    "png": "PNG",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "ico": "ICO",
    "psd": "PSD",
}

# JPEG markers without a length field (TEM, RSTn, SOI) and SOFn frame headers
# (C4 = DHT, C8 = JPG extension, CC = DAC are not frames).
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_MAX_JPEG_SEGMENTS = 4096
_NOT_FF = re.compile(rb"[^\xff]")

_SVG_ROOT_RE = re.compile(
    r"""\A\s*
    (?:
        <\?[^>]*\?>\s*                             # xml declaration / PIs
      | <!--.*?-->\s*                              # comments
      | <!DOCTYPE[^>\[]*(?:\[.*?\])?[^>]*>\s*      # doctype, optional subset
    )*
    <svg(?=[\s>/])""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
_ATTR_RE = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LENGTH_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:px)?\s*", re.IGNORECASE)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What we learned about an upload: canonical format, kind, MIME, size."""

    format: str
    asset_type: str
    content_type: str
    width: int | None
    height: int | None


def normalize_format(fmt: str) -> str:
    """Map an extension-like spelling (``.JPG``, ``tif``) to its canonical name."""
    name = fmt.strip().lstrip(".").lower()
    return _ALIASES.get(name, name)


def content_type_for(fmt: str) -> str:
    """MIME type to serve a canonical format with; octet-stream when unknown."""
    entry = _FORMATS.get(fmt)
    return entry[1] if entry else "application/octet-stream"


def sniff(
    data: bytes, filename: str | None = None, declared_format: str | None = None
) -> MediaInfo:
    """Identify ``data`` by content, falling back to declared format / extension.

    Never raises: unrecognised or corrupt input degrades to a fallback format
    and/or ``None`` dimensions rather than failing the upload.
    """
    head = bytes(data[:_PREFIX])
    fmt = _sniff_magic(head)
    if fmt is None:
        return _info(_fallback_format(filename, declared_format), None, None)
    width, height = _dimensions(fmt, data, head)
    return _info(fmt, width, height)


def _info(fmt: str, width: int | None, height: int | None) -> MediaInfo:
    asset_type = _FORMATS.get(fmt, ("raw", ""))[0]
    return MediaInfo(fmt, asset_type, content_type_for(fmt), width, height)


def _fallback_format(filename: str | None, declared_format: str | None) -> str:
    """Trust the caller's word only when the bytes themselves say nothing."""
    if declared_format:
        declared = normalize_format(declared_format)
        if _DECLARED_RE.fullmatch(declared):
            return declared
    if filename:
        base = re.split(r"[\\/]", filename)[-1]
        stem, dot, ext = base.rpartition(".")
        # A leading-dot name such as ".bashrc" has no extension.
        if dot and stem.strip(".") and _EXT_RE.fullmatch(ext):
            return normalize_format(ext)
    return "bin"


# --------------------------------------------------------------------------
# magic-byte detection


def _sniff_magic(head: bytes) -> str | None:
    """Return the canonical format if ``head`` starts like a known container."""
    for magic, fmt in _PREFIX_MAGIC:
        if head.startswith(magic):
            return fmt
    if head.startswith(b"RIFF"):
        return _RIFF_FORMATS.get(head[8:12])
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _ftyp_format(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if _ebml_doctype(head) == b"webm" else "mkv"
    if head.startswith(b"OggS"):
        return "ogv" if b"\x80theora" in head[:512] else "ogg"
    if head.lstrip(b"\xef\xbb\xbf\t\n\r ").startswith(b"%PDF-"):
        return "pdf"
    for check, fmt in _STRUCTURAL_CHECKS:
        if check(head):
            return fmt
    return _mpeg_audio_format(head)


def _ftyp_format(head: bytes) -> str:
    """Classify an ISO-BMFF file from its major brand, then compatible brands.

    Any ftyp we cannot place more precisely is still an MP4-family file.
    """
    box_size = struct.unpack(">I", head[:4])[0]
    brands = [head[8:12]]
    if box_size >= 16:
        compat = head[16 : min(box_size, len(head))]
        brands += [compat[i : i + 4] for i in range(0, len(compat) - 3, 4)]
    major = brands[0]
    if major in _AVIF_BRANDS:
        return "avif"
    if major in _HEIC_BRANDS:
        return "heic"
    if major in _HEIF_GENERIC_BRANDS:
        # mif1 just says "HEIF structure"; the codec brand decides.
        return "avif" if _AVIF_BRANDS.intersection(brands) else "heic"
    if major == b"qt  ":
        return "mov"
    if major in _M4A_BRANDS:
        return "m4a"
    if major == b"M4V ":
        return "m4v"
    if major.startswith(_3GP_PREFIXES):
        return "3gp"
    compat_set = set(brands[1:])
    if compat_set & _AVIF_BRANDS:
        return "avif"
    if compat_set & (_HEIC_BRANDS | _HEIF_GENERIC_BRANDS):
        return "heic"
    if b"qt  " in compat_set:
        return "mov"
    return "mp4"


def _ebml_doctype(head: bytes) -> bytes | None:
    """Read the DocType element (ID 0x4282) from the EBML header."""
    idx = head.find(b"\x42\x82", 4, 64)
    if idx < 0 or idx + 2 >= len(head):
        return None
    first = head[idx + 2]
    if not first:
        return None
    length = 9 - first.bit_length()  # EBML varint: leading zeros give width
    value = first & ((1 << (8 - length)) - 1)
    for byte in head[idx + 3 : idx + 2 + length]:
        value = (value << 8) | byte
    start = idx + 2 + length
    return head[start : start + value]


def _is_bmp(head: bytes) -> bool:
    """Require a known DIB header size too: a bare "BM" is common in text."""
    return (
        head.startswith(b"BM")
        and len(head) >= 18
        and struct.unpack("<I", head[14:18])[0] in _BMP_DIB_SIZES
    )


def _is_ico(head: bytes) -> bool:
    """ICONDIR: reserved 0, type 1, non-zero count, first entry reserved 0."""
    return (
        len(head) >= 10
        and head.startswith(b"\x00\x00\x01\x00")
        and struct.unpack("<H", head[4:6])[0] > 0
        and head[9] == 0
    )


def _is_bare_quicktime(head: bytes) -> bool:
    """Old QuickTime files lack ``ftyp``; a small first atom of a known type.

    Requiring a size below 16 MiB (leading NUL byte) keeps plain text such as
    "tax free" from matching.
    """
    return (
        len(head) >= 8
        and head[0] == 0
        and head[4:8] in _QT_ATOMS
        and struct.unpack(">I", head[:4])[0] >= 8
    )


def _mpeg_audio_format(head: bytes) -> str | None:
    """Recognise a bare MPEG audio frame (mp3) or ADTS header (aac)."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xF0 != 0xF0:
        return None
    layer = (head[1] >> 1) & 0b11
    if layer == 0:  # MPEG audio reserves layer 0; ADTS uses it.
        return "aac" if (head[2] >> 2) & 0x0F < 13 else None
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return "mp3" if bitrate != 0x0F and sample_rate != 0b11 else None


def _decode_text(head: bytes) -> str:
    """Decode a text prefix honouring a BOM; undecodable bytes become U+FFFD."""
    window = head[:_SVG_WINDOW]
    if window.startswith((b"\xff\xfe", b"\xfe\xff")):
        return window.decode("utf-16", errors="replace")
    return window.decode("utf-8-sig", errors="replace")


def _is_svg(head: bytes) -> bool:
    return _SVG_ROOT_RE.match(_decode_text(head)) is not None


# Formats identified by a fixed leading signature alone.
_PREFIX_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
    (b"8BPS", "psd"),
    (b"\xff\x0a", "jxl"),  # bare codestream
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "jxl"),  # container
    (b"fLaC", "flac"),
    (b"FLV\x01", "flv"),
    (b"ID3", "mp3"),
)
_RIFF_FORMATS: dict[bytes, str] = {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}
# Weak signatures that need a plausibility check of the header behind them.
_STRUCTURAL_CHECKS: tuple[tuple[Callable[[bytes], bool], str], ...] = (
    (_is_bmp, "bmp"),
    (_is_ico, "ico"),
    (_is_bare_quicktime, "mov"),
    (_is_svg, "svg"),
)


# --------------------------------------------------------------------------
# dimensions


def _dimensions(fmt: str, data: bytes, head: bytes) -> tuple[int | None, int | None]:
    if fmt == "jpeg":
        return _jpeg_size(data)
    if fmt == "gif" and len(head) >= 10:
        # Logical screen size, which is also what Pillow reports.
        return _positive(*struct.unpack("<HH", head[6:10]))
    if fmt in _PILLOW_PLUGINS:
        return _pillow_size(data, _PILLOW_PLUGINS[fmt])
    if fmt in ("avif", "heic"):
        return _ispe_size(head)
    if fmt == "svg":
        return _svg_size(_decode_text(head))
    return None, None


def _positive(width: int, height: int) -> tuple[int | None, int | None]:
    return (width, height) if width > 0 and height > 0 else (None, None)


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    """Frame size from the first SOFn segment.

    Walks segment lengths over the whole file (APPn blocks such as extended
    XMP can push SOF megabytes in) without copying or decoding anything.
    """
    pos = 2
    for _ in range(_MAX_JPEG_SEGMENTS):
        if pos >= len(data) or data[pos] != 0xFF:
            break
        fill_end = _NOT_FF.search(data, pos)  # markers may be padded with 0xFF
        if fill_end is None:
            break
        pos = fill_end.start()
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in _JPEG_SOF and pos + 7 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            return _positive(width, height)
        if marker in (0xD9, 0xDA) or pos + 2 > len(data):  # EOI/SOS: no SOF to come
            break
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            break
        pos += length
    return None, None


def _pillow_size(data: bytes, plugin: str) -> tuple[int | None, int | None]:
    """Header-only read: ``Image.open`` is lazy and we never call ``load``.

    Pillow signals bad input with a zoo of exception types (OSError,
    SyntaxError, struct.error, ...); any of them just means "size unknown".
    """
    # The plugin's own class, not ``Image.open``: open() refuses headers over Pillow's
    # decompression-bomb size, and the upload limits need exactly those sizes to refuse them.
    if plugin not in Image.OPEN:
        Image.init()
    factory = Image.OPEN[plugin][0]
    try:
        with factory(io.BytesIO(data), "") as im:
            width, height = im.size
    except Exception:
        return None, None
    return _positive(width, height)


def _ispe_size(head: bytes) -> tuple[int | None, int | None]:
    """Image size from the ``ispe`` property inside the top-level ``meta`` box.

    HEIF files may carry several ``ispe`` boxes (thumbnails, grid tiles); the
    primary image is the largest, so we take the biggest by area.
    """
    meta = _find_top_level_box(head, b"meta")
    if meta is None:
        return None, None
    best: tuple[int, int] | None = None
    pos = meta.find(b"ispe")
    while pos >= 0:
        if (
            pos >= 4
            and pos + 16 <= len(meta)
            and meta[pos - 4 : pos] == b"\x00\x00\x00\x14"  # ispe is 20 bytes
            and meta[pos + 4 : pos + 8] == b"\x00\x00\x00\x00"  # version/flags 0
        ):
            width, height = struct.unpack(">II", meta[pos + 8 : pos + 16])
            if width and height and (best is None or width * height > best[0] * best[1]):
                best = (width, height)
        pos = meta.find(b"ispe", pos + 4)
    return best or (None, None)


def _find_top_level_box(head: bytes, box_type: bytes) -> bytes | None:
    """Payload of the first top-level ISO-BMFF box of ``box_type`` (clipped to head)."""
    offset = 0
    while offset + 8 <= len(head):
        size, kind = struct.unpack(">I4s", head[offset : offset + 8])
        header = 8
        if size == 1:
            if offset + 16 > len(head):
                return None
            size = struct.unpack(">Q", head[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = len(head) - offset
        if size < header:
            return None
        if kind == box_type:
            return head[offset + header : offset + size]
        offset += size
    return None


def _svg_size(text: str) -> tuple[int | None, int | None]:
    """Pixel size of the root ``<svg>``: width/height attrs, else viewBox.

    Relative units (%, em, ...) can't be resolved without a viewport, so they
    defer to the viewBox; a single absolute side keeps the viewBox aspect ratio.
    """
    match = _SVG_ROOT_RE.match(text)
    if match is None:
        return None, None
    end = text.find(">", match.end())
    tag = text[match.end() : end if end >= 0 else len(text)]
    attrs = {m[1].lower(): m[2] if m[2] is not None else m[3] for m in _ATTR_RE.finditer(tag)}
    width = _svg_length(attrs.get("width"))
    height = _svg_length(attrs.get("height"))
    box = _viewbox(attrs.get("viewbox"))
    if width is not None and height is not None:
        return _px(width), _px(height)
    if box is not None:
        box_w, box_h = box
        if width is not None:
            return _px(width), _px(width * box_h / box_w)
        if height is not None:
            return _px(height * box_w / box_h), _px(height)
        return _px(box_w), _px(box_h)
    return None, None


def _svg_length(value: str | None) -> float | None:
    if value is None or (m := _LENGTH_RE.fullmatch(value)) is None:
        return None
    length = float(m[1])
    return length if 0 < length < math.inf else None


def _viewbox(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    numbers = _NUMBER_RE.findall(value)
    if len(numbers) != 4:
        return None
    width, height = float(numbers[2]), float(numbers[3])
    return (width, height) if 0 < width < math.inf and 0 < height < math.inf else None


def _px(value: float) -> int | None:
    """Round to whole pixels; absurd or sub-pixel sizes become unknown."""
    if not math.isfinite(value):
        return None
    rounded = round(value)
    return rounded if 0 < rounded < 1 << 31 else None
