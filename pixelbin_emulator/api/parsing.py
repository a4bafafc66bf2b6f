"""Turning the wire's loosely typed values into Python ones, with 400s for the wrong types.

The SDKs disagree on encodings (see docs/fidelity.md): lists come as ``tags[0]=a``, repeated
``tags=a``, ``tags[]=a`` or Go's ``tags=[a b]``; booleans as ``true``/``false`` (``1``/``0`` in
forms); PY sends an empty form-encoded body where it means ``{}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from ..core.errors import ValidationError

_INDEXED = re.compile(r"^(?P<key>[^\[\]]+)\[(?P<index>\d*)\]$")


def json_body() -> dict[str, Any]:
    """The JSON object in the body; an empty or non-JSON body is ``{}``.

    A body that claims to be JSON but does not parse, or is JSON but not an object, is a 400.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if not request.is_json:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        raise ValidationError("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    return body


def query_list(args: MultiDict[str, str], key: str) -> list[str]:
    """Collect ``key[0]..key[n]`` (by index), ``key[]`` and repeated ``key``; unwrap ``[a b]``."""
    indexed: list[tuple[int, int, str]] = []
    plain: list[str] = []
    for position, (raw_key, value) in enumerate(args.items(multi=True)):
        if raw_key == key:
            plain.append(value)
            continue
        match = _INDEXED.match(raw_key)
        if match and match["key"] == key:
            index = int(match["index"]) if match["index"] else position
            indexed.append((index, position, value))
    values = [value for _, _, value in sorted(indexed)] + plain
    if len(values) == 1 and values[0].startswith("[") and values[0].endswith("]"):
        return values[0][1:-1].split()
    return values


def parse_bool(value: Any, field: str, *, lenient: bool = False) -> bool:
    """JSON booleans, or the strings ``true``/``false`` (also ``1``/``0`` when lenient)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true" or (lenient and text == "1"):
            return True
        if text == "false" or (lenient and text == "0"):
            return False
    raise ValidationError(f"{field} must be true or false")


def parse_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{field} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{field} must be an integer")


def query_bool(args: MultiDict[str, str], key: str) -> bool:
    value = args.get(key)
    return False if value is None or value == "" else parse_bool(value, key)


def query_int(args: MultiDict[str, str], key: str) -> int | None:
    value = args.get(key)
    return None if value is None or value == "" else parse_int(value, key)


def query_str(args: MultiDict[str, str], key: str) -> str | None:
    value = args.get(key)
    return value if value else None


# -- typed fields of a JSON body -----------------------------------------------------------


def opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{key} must be a string")
    return value


def req_str(body: dict[str, Any], key: str) -> str:
    value = opt_str(body, key)
    if not value:
        raise ValidationError(f"{key} is required")
    return value


def opt_bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValidationError(f"{key} must be a boolean")
    return value


def opt_dict(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValidationError(f"{key} must be an object")
    return value


def opt_str_list(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(f"{key} must be a list of strings")
    return value


def opt_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValidationError(f"{key} must be an integer")
    return value


# -- multipart form fields -------------------------------------------------------------------


def form_str(form: MultiDict[str, str], key: str) -> str | None:
    value = form.get(key)
    return value if value else None


def form_bool(form: MultiDict[str, str], key: str) -> bool:
    value = form.get(key)
    return False if value is None or value == "" else parse_bool(value, key, lenient=True)


def form_tags(form: MultiDict[str, str]) -> list[str]:
    return query_list(form, "tags")


def form_metadata(form: MultiDict[str, str]) -> dict[str, Any]:
    raw = form.get("metadata")
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError("metadata must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValidationError("metadata must be a JSON object")
    return value
