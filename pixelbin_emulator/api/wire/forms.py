"""Multipart form bodies declared as structs, like JSON ones.

A form carries only text (and files), and the SDKs spell lists and booleans their own ways, so
:func:`form_document` is the thin first pass: it reads each field the struct declares, the way its
type is sent in a form (a list from ``tags[0]``/``tags[]``/repeated ``tags``/Go's ``[a b]``, a
boolean from ``true``/``false``/``1``/``0``, an object from its JSON text; an empty value is an
absent one), and the struct's own rules then judge the values (:func:`decode`). Text that is not a
boolean is passed on as it is, so the struct refuses it with the rule it publishes.

:func:`form_body` gives the operation's ``multipart/form-data`` request body: the struct's
component plus the file parts. Read as OpenAPI reads a form, a boolean property is the text
``true``/``false``, an array is one part per item and an object is JSON text.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import msgspec
from msgspec import inspect
from werkzeug.datastructures import MultiDict

from .. import parsing
from . import REF_TEMPLATE, decode

S = TypeVar("S", bound=msgspec.Struct)

#: How a form spells a boolean (case and surrounding spaces do not matter).
FORM_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
BINARY = {"type": "string", "format": "binary"}


def _held(field_type: inspect.Type) -> inspect.Type:
    """The type a field holds, through ``Annotated`` and ``X | None``."""
    while True:
        if isinstance(field_type, inspect.Metadata):
            field_type = field_type.type
        elif isinstance(field_type, inspect.UnionType):
            field_type = next(t for t in field_type.types if not isinstance(t, inspect.NoneType))
        else:
            return field_type


@functools.cache
def _form_fields(kind: type[msgspec.Struct]) -> tuple[tuple[str, type[inspect.Type]], ...]:
    """Each declared field's wire name and the kind of type it holds (inspecting a struct
    costs far more than reading a form, so once per struct)."""
    info = inspect.type_info(kind)
    assert isinstance(info, inspect.StructType)
    return tuple((field.encode_name, type(_held(field.type))) for field in info.fields)


def form_document(form: MultiDict[str, str], kind: type[msgspec.Struct]) -> dict[str, Any]:
    """The fields of ``form`` that ``kind`` declares, as the JSON values they stand for."""
    doc: dict[str, Any] = {}
    for name, held in _form_fields(kind):
        if held is inspect.ListType:
            values = parsing.query_list(form, name)
            if values:
                doc[name] = values
            continue
        raw = form.get(name)
        if raw is None or raw == "":
            continue
        if held is inspect.BoolType:
            doc[name] = FORM_BOOLEANS.get(raw.strip().lower(), raw)
        elif held is inspect.DictType:
            doc[name] = parsing.loads(raw, name)
        else:
            doc[name] = raw
    return doc


def decode_form(form: MultiDict[str, str], kind: type[S]) -> S:
    """``form`` as a ``kind``, validated by the struct's rules (a 400 otherwise)."""
    return decode(form_document(form, kind), kind, "form")


def form_body(kind: type[msgspec.Struct], files: tuple[str, ...] = ("file",)) -> dict[str, Any]:
    """The ``multipart/form-data`` request body of an operation: ``kind``'s fields and the
    (required) file parts ``files``."""
    schema = {
        "allOf": [{"$ref": REF_TEMPLATE.format(name=kind.__name__)}],
        "properties": {name: BINARY for name in files},
        "required": list(files),
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
