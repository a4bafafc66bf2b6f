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

from ..core import json_values
from ..core.errors import ValidationError

_INDEXED = re.compile(r"^(?P<key>[^\[\]]+)\[(?P<index>\d*)\]$")


#: A body may nest one stored value (see :mod:`~pixelbin_emulator.core.json_values`) a few
#: levels down; anything deeper cannot be a valid request and is refused before it is looked at.
MAX_BODY_DEPTH = json_values.MAX_DEPTH + 8


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes | str, what: str, *, max_depth: int = MAX_BODY_DEPTH) -> Any:
    """Parse strict JSON (no NaN/Infinity, as ``JSON.parse`` refuses them) nested at most
    ``max_depth`` deep; anything else is a 400 naming ``what``."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        raise ValidationError(f"{what} is not valid JSON") from None
    if json_values.depth(value) > max_depth:
        raise ValidationError(f"{what} is nested more than {max_depth} levels deep")
    return value


def json_body() -> dict[str, Any]:
    """The JSON object in the body; an empty body is ``{}``.

    A non-empty body must be a JSON object whatever its Content-Type says: a form-encoded
    ``isActive=false`` is a 400, not an empty update that only touches ``updatedAt``.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    body = loads(raw, "request body")
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


#: How a query spells a boolean (case and surrounding blanks do not matter).
QUERY_BOOLEANS = {"true": True, "false": False}
#: How a form spells one: also ``1``/``0``.
FORM_BOOLEANS = QUERY_BOOLEANS | {"1": True, "0": False}


def text_document(
    args: MultiDict[str, str], kinds: dict[str, str], booleans: dict[str, bool]
) -> dict[str, Any]:
    """The first pass of a query or a form, whose values are text (see ``wire.decode_query``
    and ``wire.forms.decode_form``): for each wire name, by its ``kinds`` entry, the list
    (:func:`query_list`), the boolean (spelled as ``booleans`` says), the integer, the object
    (JSON text), or the string; other values are left as sent for the decoding to refuse, empty
    ones left out."""
    doc: dict[str, Any] = {}
    for key, kind in kinds.items():
        if kind == "list":
            values = query_list(args, key)
            if values:
                doc[key] = values
            continue
        value = args.get(key)
        if not value:
            continue
        if kind == "bool":
            doc[key] = booleans.get(value.strip().lower(), value)
        elif kind == "int":
            try:
                doc[key] = int(value.strip())
            except ValueError:
                doc[key] = value
        elif kind == "dict":
            doc[key] = loads(value, key)
        else:
            doc[key] = value
    return doc
