"""Bounds on the free-form JSON values an org stores: file metadata, tags, preset params,
transformation-module credentials.

Whatever is stored is serialized again by every later get, list, delete and snapshot, so a value
that cannot be (nested deeper than the encoder's recursion allows, NaN, an integer too long to
print, a Python object) must be refused when it arrives, not found out on the way back out.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import ValidationError

#: Deepest nesting of one stored value (``{"a": {"b": 1}}`` is 2 deep).
MAX_DEPTH = 32
#: Largest stored value, in bytes of compact JSON.
MAX_BYTES = 64 * 1024


def depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0); iterative, so a value
    nested thousands deep is measured without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children)
    return deepest


def check(value: Any, field: str) -> None:
    """Refuse a value that is not plain, finite JSON within :data:`MAX_DEPTH` and
    :data:`MAX_BYTES` (a 400 naming ``field``)."""
    if depth(value) > MAX_DEPTH:
        raise ValidationError(f"{field} is nested more than {MAX_DEPTH} levels deep")
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):  # a non-JSON type, NaN/Infinity, an int too long to print
        raise ValidationError(f"{field} must be plain JSON (finite numbers)") from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ValidationError(f"{field} is larger than {MAX_BYTES // 1024} KB as JSON")
