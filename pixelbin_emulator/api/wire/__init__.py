"""Wire shapes declared once, as msgspec Structs: validation, serialization and the OpenAPI
components all come from the same declaration.

A request struct's field constraints (``Meta``) are checked when a decoded JSON body is
converted with :func:`decode`; what one field cannot say alone (e.g. "headers need a status")
is its ``check()`` method. A field's ``Meta(description=...)`` completes the sentence
"``<field>`` must be ..." so the 400 names the rule the schema publishes. Responses are built
as structs and turned into JSON-ready values by :func:`to_builtins`. :func:`schemas` gives the
``components/schemas`` entries, so ``openapi.py`` writes none of these shapes by hand.

:func:`decode` lives in ``core/structs.py``: the core decodes typed documents of its own (seeds
and snapshots) and must not import ``api/``.

msgspec (rather than pydantic): one small compiled dependency with no dependencies of its own,
typed Structs that encode and decode fast, and JSON Schema out via ``schema_components``.
"""

from __future__ import annotations

import functools
import json
from typing import Any, TypeVar

import msgspec

from ...core.structs import decode, fields
from ..parsing import QUERY_BOOLEANS, text_document

__all__ = [
    "decode",
    "decode_query",
    "properties",
    "schemas",
    "text_kinds",
    "to_builtins",
    "validated",
]

S = TypeVar("S", bound=msgspec.Struct)

REF_TEMPLATE = "#/components/schemas/{name}"


def decode_query(args: Any, kind: type[S]) -> S:
    """A query string's arguments (a werkzeug ``MultiDict``) as a ``kind``, validated.

    The SDKs' encodings are undone first (``parsing.text_document``): the list forms of a
    list field, ``true``/``false`` of a boolean, the digits of an integer; empty values count
    as absent, and of a repeated scalar the first counts. Unknown arguments are ignored.
    """
    return decode(text_document(args, text_kinds(kind), QUERY_BOOLEANS), kind, "query")


@functools.cache
def text_kinds(kind: type[msgspec.Struct]) -> dict[str, str]:
    """Wire name -> ``list``, ``bool``, ``int``, ``dict`` or ``str``: what the first pass of a
    query or form makes of it (inspecting a struct costs far more than reading a query, so
    once per struct)."""
    return {name: _scalar(field.type) for name, field in fields(kind).items()}


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
