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

from typing import Any, TypeVar

import msgspec

from ...core.structs import decode

__all__ = ["decode", "schemas", "to_builtins", "validated"]

S = TypeVar("S", bound=msgspec.Struct)

REF_TEMPLATE = "#/components/schemas/{name}"


def validated(value: S) -> S:
    """A struct built in Python (not decoded), held to the same rules as a decoded one."""
    return decode(to_builtins(value), type(value))


def to_builtins(value: Any) -> Any:
    """Structs (nested, in lists) as JSON-ready dicts with their wire names."""
    return msgspec.to_builtins(value)


def schemas(*kinds: type[msgspec.Struct]) -> dict[str, dict[str, Any]]:
    """The ``components/schemas`` entries for ``kinds`` (and the structs they refer to)."""
    _, components = msgspec.json.schema_components(kinds, ref_template=REF_TEMPLATE)
    return components
