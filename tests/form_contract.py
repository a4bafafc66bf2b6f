"""Checking accepted multipart forms against their operation's ``multipart/form-data`` schema.

``tests/contract.py`` checks JSON request bodies; a form is text and file parts, read the way
OpenAPI reads a form: a property of type ``boolean`` is the text ``true``/``false`` (``1``/``0``
too, the form spellings the API takes), an ``array`` is one part per item (``tags[0]``, ``tags[]``
or repeated ``tags``, the SDKs' spellings), an ``object`` is JSON text, a ``binary`` string a
file part. A form is a violation when it has a field the schema does not describe, a value its
property does not allow, or lacks a required part.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict

from pixelbin_emulator.api.parsing import FORM_BOOLEANS, query_list

from .contract import Contract

_INDEXED = re.compile(r"^(?P<key>[^\[\]]+)\[\d*\]$")


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return components[ref.rsplit("/", 1)[-1]] if ref else schema


def _flatten(schema: dict[str, Any], components: dict[str, Any]) -> tuple[dict, list[str]]:
    """The properties and required names of an object schema, through ``allOf`` and refs."""
    schema = _resolve(schema, components)
    properties = dict(schema.get("properties", {}))
    required = list(schema.get("required", []))
    for part in schema.get("allOf", []):
        more, needed = _flatten(part, components)
        properties |= more
        required += needed
    return properties, required


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property allows (through ``anyOf``/``oneOf``)."""
    found = {schema["type"]} if "type" in schema else set()
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(option)
    return found


def _value(text: str, types: set[str]) -> Any:
    """The JSON value a form's text stands for under a property of ``types``."""
    if "boolean" in types:
        return FORM_BOOLEANS.get(text.strip().lower(), text)
    if "object" in types:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def form_violations(
    contract: Contract, endpoint: str, form: MultiDict[str, str], files: list[str]
) -> list[str]:
    """What is wrong with an accepted form (empty when it follows the description)."""
    where = f"{endpoint} form"
    _, _, operation = contract.operations[endpoint]
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" not in content:
        return [f"{where}: the operation describes no multipart/form-data body"]
    components = contract.document["components"]["schemas"]
    properties, required = _flatten(content["multipart/form-data"]["schema"], components)
    found = []
    names = {(_INDEXED.match(key) or {"key": key})["key"] for key in form}
    for name in sorted(names):
        schema = properties.get(name)
        if schema is None:
            found.append(f"{where}: field {name!r} is not described")
            continue
        types = _types(_resolve(schema, components))
        value: Any
        text = form.get(name)
        if "array" in types:
            value = query_list(form, name)
        elif text is None:
            found.append(f"{where}: {name} is sent as a list, described as {sorted(types)}")
            continue
        else:
            value = _value(text, types)
        root = {"allOf": [schema], "components": contract.document["components"]}
        found += [
            f"{where}: {name}: {error.message}"
            for error in Draft202012Validator(root).iter_errors(value)
        ]
    for name in files:
        if properties.get(name, {}).get("format") != "binary":
            found.append(f"{where}: file part {name!r} is not described")
    found += [
        f"{where}: required part {name!r} is missing"
        for name in required
        if name not in names and name not in files
    ]
    return found


class FormRecorder:
    """A Flask ``after_request`` hook keeping the accepted (2xx) multipart forms."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.forms: list[tuple[str, MultiDict[str, str], list[str]]] = []

    def after_request(self, response: Any) -> Any:
        from flask import request

        accepted = 200 <= response.status_code < 300 and request.url_rule is not None
        if accepted and request.mimetype == "multipart/form-data":
            with self._lock:
                self.forms.append(
                    (request.url_rule.endpoint, request.form.copy(), list(request.files))
                )
        return response
