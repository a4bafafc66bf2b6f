"""Wire shapes declared once, as msgspec Structs: validation, serialization and the OpenAPI
components all come from the same declaration.

A request struct's field constraints (``Meta``) are checked when a decoded JSON body is
converted with :func:`decode`; what one field cannot say alone (e.g. "headers need a status")
is its ``check()`` method. A field's ``Meta(description=...)`` completes the sentence
"``<field>`` must be ..." so the 400 names the rule the schema publishes. Responses are built
as structs and turned into JSON-ready values by :func:`to_builtins`. :func:`schemas` gives the
``components/schemas`` entries, so ``openapi.py`` writes none of these shapes by hand.

msgspec (rather than pydantic): one small compiled dependency with no dependencies of its own,
typed Structs that encode and decode fast, and JSON Schema out via ``schema_components``.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import msgspec

from ...core.errors import ValidationError
from ..parsing import QUERY_BOOLEANS, text_document

S = TypeVar("S", bound=msgspec.Struct)

_AT = re.compile(r"(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.S)
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]*)`")
REF_TEMPLATE = "#/components/schemas/{name}"


def _fields(kind: type[msgspec.Struct]) -> dict[str, msgspec.inspect.Field]:
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    return {field.encode_name: field for field in info.fields}


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


def _message(error: msgspec.ValidationError, kind: type[msgspec.Struct], what: str) -> str:
    """msgspec's reason rephrased as "``field`` must be <its description>" where it has one."""
    match = _AT.fullmatch(str(error))
    assert match is not None
    reason, path = match["reason"], match["path"]
    fields = _fields(kind)
    missing = _MISSING.fullmatch(reason)
    if missing and not path:
        name = missing["field"]
        description = _description(fields.get(name))
        return f"{name} must be {description}" if description else f"{name} is required"
    if not path:
        if reason.startswith("Expected `object`"):
            return f"{what} must be an object"
        return reason
    name = re.split(r"[.\[]", path.lstrip("."), maxsplit=1)[0]
    description = _description(fields.get(name))
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
        unknown = sorted(set(doc) - set(_fields(kind)))
        if unknown:
            raise ValidationError(f"unknown {what} fields: {', '.join(unknown)}")
    try:
        value = msgspec.convert(doc, kind)
    except msgspec.ValidationError as error:
        raise ValidationError(_message(error, kind, what)) from None
    for name in getattr(kind, "REQUIRED", ()):
        if getattr(value, _fields(kind)[name].name) is None:
            raise ValidationError(f"{name} is required")
    check = getattr(value, "check", None)
    if check is not None:
        check()
    return value


def decode_query(args: Any, kind: type[S]) -> S:
    """A query string's arguments (a werkzeug ``MultiDict``) as a ``kind``, validated.

    The SDKs' encodings are undone first (``parsing.text_document``): the list forms of a
    list field, ``true``/``false`` of a boolean, the digits of an integer; empty values count
    as absent, and of a repeated scalar the first counts. Unknown arguments are ignored.
    """
    return decode(text_document(args, text_kinds(kind), QUERY_BOOLEANS), kind, "query")


def text_kinds(kind: type[msgspec.Struct]) -> dict[str, str]:
    """Wire name -> ``list``, ``bool``, ``int``, ``dict`` or ``str``: what the first pass of a
    query or form makes of it (inspecting a struct costs far more than reading a query, so
    once per struct)."""
    kinds = _TEXT_KINDS.get(kind)
    if kinds is None:
        kinds = {name: _scalar(field.type) for name, field in _fields(kind).items()}
        _TEXT_KINDS[kind] = kinds
    return kinds


_TEXT_KINDS: dict[type[msgspec.Struct], dict[str, str]] = {}


def _scalar(kind: msgspec.inspect.Type) -> str:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.UnionType):
        (kind,) = [k for k in kind.types if not isinstance(k, msgspec.inspect.NoneType)]
        return _scalar(kind)
    if isinstance(kind, msgspec.inspect.ListType):
        return "list"
    if isinstance(kind, msgspec.inspect.BoolType):
        return "bool"
    if isinstance(kind, msgspec.inspect.IntType):
        return "int"
    if isinstance(kind, msgspec.inspect.DictType):
        return "dict"
    return "str"


def validated(value: S) -> S:
    """A struct built in Python (not decoded), held to the same rules as a decoded one."""
    return decode(to_builtins(value), type(value))


def to_builtins(value: Any) -> Any:
    """Structs (nested, in lists) as JSON-ready dicts with their wire names; a pre-encoded
    ``msgspec.Raw`` field as the value it encodes."""
    return msgspec.to_builtins(value, enc_hook=_raw)


def _raw(value: Any) -> Any:
    if isinstance(value, msgspec.Raw):
        return json.loads(bytes(value))
    raise NotImplementedError(type(value))  # pragma: no cover - msgspec's own TypeError


def schemas(*kinds: type[msgspec.Struct]) -> dict[str, dict[str, Any]]:
    """The ``components/schemas`` entries for ``kinds`` (and the structs they refer to); a
    struct's ``EXTRA_JSON_SCHEMA`` class variable is merged into its own entry (what msgspec's
    ``Meta(extra_json_schema=...)`` does for a field)."""
    _, components = msgspec.json.schema_components(kinds, ref_template=REF_TEMPLATE)
    for kind in kinds:
        required = list(getattr(kind, "REQUIRED", ()))
        if required:
            schema = components[kind.__name__]
            schema["required"] = [*schema.get("required", ()), *required]
        extra = getattr(kind, "EXTRA_JSON_SCHEMA", None)
        if extra:
            components[kind.__name__] |= extra
    return components


def properties(kind: type[msgspec.Struct]) -> dict[str, tuple[dict[str, Any], bool]]:
    """A struct's fields as wire name -> (schema, required), ``null`` dropped from optional
    ones: what ``openapi.py`` makes a query's parameters of."""
    component = schemas(kind)[kind.__name__]
    required = set(component.get("required", ()))
    found = {}
    for name, schema in component["properties"].items():
        options = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
        if len(options) == 1:
            schema = options[0] | {k: v for k, v in schema.items() if k != "anyOf"}
        if schema.get("default", 0) is None:
            schema = {k: v for k, v in schema.items() if k != "default"}
        found[name] = (schema, name in required)
    return found
