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

from typing import Any, TypeVar

import msgspec
from werkzeug.datastructures import MultiDict

from .. import parsing
from . import REF_TEMPLATE, decode, text_kinds

S = TypeVar("S", bound=msgspec.Struct)

BINARY = {"type": "string", "format": "binary"}


def form_document(form: MultiDict[str, str], kind: type[msgspec.Struct]) -> dict[str, Any]:
    """The fields of ``form`` that ``kind`` declares, as the JSON values they stand for."""
    return parsing.text_document(form, text_kinds(kind), parsing.FORM_BOOLEANS)


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
