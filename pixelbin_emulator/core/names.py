"""Names and paths: slugification, validation and ``fileId`` arithmetic.

Pixelbin "slugifies names to make them URL safe". Observed names (``1_webp_a-(1)``,
``download_copy_4_2``) match the npm ``slugify`` defaults the Pixelbin backend is built on:
transliterate, drop characters outside a small allowed set, turn whitespace runs into ``-`` and
keep case. We follow that, and also drop ``"`` (which the npm default keeps) because it is not
URL safe.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import ValidationError

MAX_NAME_LENGTH = 255
MAX_PATH_LENGTH = 1024

# npm slugify keeps \w \s $ * _ + ~ . ( ) ' " ! - : @ ; we keep the same minus the double quote.
_DISALLOWED = re.compile(r"[^A-Za-z0-9_\s$*+~.()'!\-:@]+")
_WHITESPACE = re.compile(r"\s+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def slugify(text: str) -> str:
    """Return ``text`` as Pixelbin would store it as a name (may be empty)."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # npm slugify turns the replacement character into a space first, so dash runs collapse.
    spaced = ascii_only.replace("-", " ")
    kept = _DISALLOWED.sub("", spaced).strip()
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
