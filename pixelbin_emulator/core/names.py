"""Names and paths: slugification, validation and ``fileId`` arithmetic.

Pixelbin "slugifies names to make them URL safe". Observed names (``1_webp_a-(1)``,
``download_copy_4_2``) match the npm ``slugify`` defaults the Pixelbin backend is built on:
NFC-normalise, transliterate through slugify's character map (``фото`` → ``foto``, ``straße`` →
``strasse``, ``&`` → ``and``), drop characters outside a small allowed set, turn whitespace runs
into ``-`` and keep case. We follow that step for step, and also drop ``"`` (which the npm
default keeps) because it is not URL safe. The character map is slugify's own, shipped as
``data/slugify-charmap.json`` with its MIT license notice.
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib import resources

from .errors import ValidationError

MAX_NAME_LENGTH = 255
MAX_PATH_LENGTH = 1024


def _load_charmap() -> dict[str, str]:
    text = (
        resources.files("pixelbin_emulator")
        .joinpath("data/slugify-charmap.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)["charmap"]


#: npm slugify's transliteration table (character → replacement), unchanged.
CHARMAP: dict[str, str] = _load_charmap()
# JavaScript's \s (what slugify's regular expressions and trim() mean by whitespace), not Python's.
_JS_SPACES = "\t\n\x0b\x0c\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(code) for code in range(0x2000, 0x200B)
)
_SPACE_CLASS = "".join(f"\\u{ord(ch):04x}" for ch in _JS_SPACES)
# npm slugify keeps \w \s $ * _ + ~ . ( ) ' " ! - : @ ; we keep the same minus the double quote.
_DISALLOWED = re.compile(f"[^A-Za-z0-9_{_SPACE_CLASS}$*+~.()'!\\-:@]+")
_WHITESPACE = re.compile(f"[{_SPACE_CLASS}]+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
#: Per character: what it becomes once transliterated and cleaned (filled lazily).
_SLUG_CHARS: dict[str, str] = {}


def _slug_char(ch: str) -> str:
    """One character as slugify appends it: mapped, ``-`` turned into a space, then cleaned."""
    out = _SLUG_CHARS.get(ch)
    if out is None:
        mapped = CHARMAP.get(ch, ch)
        out = _DISALLOWED.sub("", " " if mapped == "-" else mapped)
        if len(_SLUG_CHARS) < 65_536:
            _SLUG_CHARS[ch] = out
    return out


def slugify(text: str) -> str:
    """Return ``text`` as Pixelbin would store it as a name (may be empty)."""
    normalized = unicodedata.normalize("NFC", text)
    kept = "".join(_slug_char(ch) for ch in normalized).strip(_JS_SPACES)
    return _WHITESPACE.sub("-", kept)


def clean_name(raw: str, *, field: str = "name") -> str:
    """Slugify a user-supplied name and reject what cannot be a name."""
    name = slugify(raw)
    if not name:
        raise ValidationError(f"{field} {raw!r} is empty once slugified")
    if name in (".", ".."):
        raise ValidationError(f"{field} {raw!r} is not allowed")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"{field} is longer than {MAX_NAME_LENGTH} characters")
    return name


def split_path(raw: str, *, field: str = "path") -> list[str]:
    """Split a folder path into segments; ``""`` and ``"/"`` are the root.

    Leading and trailing slashes are tolerated (the API answered ``path:""`` for ``"/"``);
    empty inner segments and ``.``/``..`` are rejected, since they would make two spellings of
    one folder or escape it.
    """
    if len(raw) > MAX_PATH_LENGTH:
        raise ValidationError(f"{field} is longer than {MAX_PATH_LENGTH} characters")
    stripped = raw.strip("/")
    if not stripped:
        return []
    segments = stripped.split("/")
    for segment in segments:
        if segment == "":
            raise ValidationError(f"{field} {raw!r} has an empty segment")
        if segment in (".", ".."):
            raise ValidationError(f"{field} {raw!r} has a {segment!r} segment")
    return segments


def clean_path(raw: str, *, field: str = "path") -> str:
    """Validate and slugify every segment of a folder path about to be created or used."""
    return "/".join(clean_name(seg, field=field) for seg in split_path(raw, field=field))


def normalize_path(raw: str, *, field: str = "path") -> str:
    """Validate a folder path used for lookup, without slugifying it."""
    return "/".join(split_path(raw, field=field))


def join(path: str, name: str) -> str:
    """``fileId`` of ``name`` in folder ``path`` (root is ``""``)."""
    return f"{path}/{name}" if path else name


def split_file_id(file_id: str) -> tuple[str, str]:
    """Inverse of :func:`join`."""
    path, _, name = file_id.rpartition("/")
    return path, name


def has_extension(name: str) -> bool:
    """True when ``name`` ends in something that reads as a file extension."""
    return bool(file_extension(name))


def file_extension(filename: str) -> str:
    """``photo.final.jpeg`` -> ``jpeg``; ``""`` when there is none."""
    base = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    match = _EXTENSION.search(base)
    return match.group()[1:] if match and base[0] != "." else ""


def strip_extension(filename: str) -> str:
    """``photo.final.jpeg`` -> ``photo.final``; names without one are returned unchanged."""
    base = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return _EXTENSION.sub("", base) if _EXTENSION.search(base) and base[0] != "." else base
