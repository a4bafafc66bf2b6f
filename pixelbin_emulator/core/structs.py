"""Typed documents decoded with the API's messages: the machinery behind ``api/wire`` and the
state documents of :mod:`.documents`.

It lives in the core because the core reads typed documents of its own (seeds, snapshots, the
data directory) and must not import ``api/``; msgspec is a plain library, not HTTP. A field's
``Meta(description=...)`` completes the sentence "``<field>`` must be ...", so a refused value
is named with the rule the schema publishes, however deep in the document the field is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec

from .errors import ValidationError

S = TypeVar("S", bound=msgspec.Struct)

_AT = re.compile(r"(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.S)
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]*)`")
_NAME = re.compile(r"\.([^.\[]+)")


@functools.cache
def fields(kind: type[msgspec.Struct]) -> Mapping[str, msgspec.inspect.Field]:
    """A struct's fields by their wire names; inspected once per struct (it takes about half a
    millisecond, which ``decode`` would otherwise pay per request for a struct that forbids
    unknown fields or names ``REQUIRED`` ones)."""
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    return MappingProxyType({field.encode_name: field for field in info.fields})


def _description(field: msgspec.inspect.Field | None) -> str | None:
    """The ``Meta(description=...)`` of a field, looking through ``X | None``."""
    if field is None:
        return None
    kinds = [field.type]
    while kinds:
        kind = kinds.pop()
        if isinstance(kind, msgspec.inspect.Metadata):
            extra = kind.extra_json_schema or {}
            if "description" in extra:
                return str(extra["description"])
            kinds.append(kind.type)
        elif isinstance(kind, msgspec.inspect.UnionType):
            kinds.extend(kind.types)
    return None


def _nested(field: msgspec.inspect.Field) -> type[msgspec.Struct] | None:
    """The struct a field holds (itself, in a list or as ``X | None``), if any."""
    kinds = [field.type]
    while kinds:
        kind = kinds.pop()
        if isinstance(kind, msgspec.inspect.StructType):
            return kind.cls
        if isinstance(kind, msgspec.inspect.ListType):
            kinds.append(kind.item_type)
        elif isinstance(kind, msgspec.inspect.Metadata):
            kinds.append(kind.type)
        elif isinstance(kind, msgspec.inspect.UnionType):
            kinds.extend(kind.types)
    return None


def _locate(
    kind: type[msgspec.Struct], path: str
) -> tuple[type[msgspec.Struct], str, msgspec.inspect.Field | None]:
    """Walk ``path`` (``.orgs[0].files[1].seq``) through nested structs: the struct reached,
    and the name and field of the last step that named a field."""
    name, field = "", None
    for step in _NAME.findall(path):  # each names a field of the struct reached so far
        name, field = step, fields(kind)[step]
        nested = _nested(field)
        if nested is None:
            break
        kind = nested
    return kind, name, field


def _message(error: msgspec.ValidationError, kind: type[msgspec.Struct], what: str) -> str:
    """msgspec's reason rephrased as "``field`` must be <its description>" where it has one."""
    match = _AT.fullmatch(str(error))
    assert match is not None
    reason, path = match["reason"], match["path"] or ""
    reached, name, field = _locate(kind, path)
    missing = _MISSING.fullmatch(reason)
    if missing:  # the path names the object (a struct) missing the field
        name = missing["field"]
        description = _description(fields(reached).get(name))
        return f"{name} must be {description}" if description else f"{name} is required"
    if not path:
        if reason.startswith("Expected `object`"):
            return f"{what} must be an object"
        return reason
    description = _description(field)
    if description:
        return f"{name} must be {description}"
    return f"{path.lstrip('.')}: {reason}"


def decode(doc: Any, kind: type[S], what: str = "request body") -> S:
    """``doc`` (decoded JSON) as a ``kind``, validated; a :class:`ValidationError` otherwise.

    A struct that forbids unknown fields names every unknown one at once. The wire names in a
    struct's ``REQUIRED`` class variable are optional fields that must not be missing or null
    ("``name`` is required", where a required field would say "must be ..."); the schema
    publishes them as required.
    """
    if isinstance(doc, dict) and kind.__struct_config__.forbid_unknown_fields:
        unknown = sorted(set(doc) - set(fields(kind)))
        if unknown:
            raise ValidationError(f"unknown {what} fields: {', '.join(unknown)}")
    try:
        value = msgspec.convert(doc, kind)
    except msgspec.ValidationError as error:
        raise ValidationError(_message(error, kind, what)) from None
    for name in getattr(kind, "REQUIRED", ()):
        if getattr(value, fields(kind)[name].name) is None:
            raise ValidationError(f"{name} is required")
    check = getattr(value, "check", None)
    if check is not None:
        check()
    return value
