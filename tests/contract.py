"""Checking responses against the OpenAPI description (``pixelbin_emulator.openapi``).

Operations are found by ``operationId``, which is the Flask endpoint, so a response is checked
against exactly the operation that served it. A response is a violation when its status is not
described for that operation, when its media type is not one described for that status, or when
its JSON body does not match the schema. A request that matched no route must still answer
the error format. A request the server accepted (2xx) is a violation when its JSON body does not
match the operation's request schema, or when its query holds a parameter the operation does not
describe or a value its schema refuses: a field or parameter parsed but not described fails the
test.

Query values are strings; one is read as its parameter's schema type says (an integer's digits,
a boolean's ``true``/``false`` in any case, blanks around either ignored, as the API reads
them) and then checked against that schema. An empty value counts as absent (the API reads it
so). A list parameter (``deepObject``, see ``openapi.query_list``) takes the SDKs' forms:
``tags[0]=a`` (any index), ``tags[]=a``, repeated ``tags=a&tags=b`` and Go's ``tags=[a b]``,
each value checked against the items' schema; a scalar parameter must not be repeated.

An accepted multipart form is checked against the operation's ``multipart/form-data`` schema,
read the way OpenAPI reads a form: a property of type ``boolean`` is the text ``true``/``false``
(``1``/``0`` too, the form spellings the API takes), an ``array`` is one part per item
(``tags[0]``, ``tags[]`` or repeated ``tags``, the SDKs' spellings), an ``object`` is JSON text, a
``binary`` string (or an untyped property) a file part. A form is a violation when it has a field
the schema does not describe, a value its property does not allow, or lacks a required part.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from werkzeug.datastructures import MultiDict

from pixelbin_emulator.api.parsing import FORM_BOOLEANS, QUERY_BOOLEANS, query_list
from pixelbin_emulator.openapi import openapi_document

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>")
_LIST_KEY = re.compile(r"(?P<name>[^\[\]]+)\[[0-9]*\]")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def openapi_path(rule: str) -> str:
    """``/files/<path:file_id>`` -> ``/files/{file_id}``."""
    return _CONVERTER.sub(r"{\1}", rule)


class Contract:
    """The description, indexed by ``operationId``, with validators built on first use."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document or openapi_document()
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for path, methods in self.document["paths"].items():
            for method, operation in methods.items():
                self.operations[operation["operationId"]] = (path, method, operation)
        self._validators: dict[tuple[str, int], Draft202012Validator] = {}
        self._queries: dict[str, dict[str, tuple[bool, Draft202012Validator]]] = {}

    def _validator(self, key: tuple[str, int], schema: dict[str, Any]) -> Draft202012Validator:
        """Built once per (operation, status); ``#/components/...`` resolves in the root."""
        validator = self._validators.get(key)
        if validator is None:
            root = {"allOf": [schema], "components": self.document["components"]}
            validator = Draft202012Validator(root, format_checker=FormatChecker())
            self._validators[key] = validator
        return validator

    def violations(
        self, endpoint: str | None, method: str, status: int, mimetype: str, body: bytes | None
    ) -> list[str]:
        """What is wrong with this response (empty when it follows the description)."""
        where = f"{method} {endpoint or '(no route)'} -> {status}"
        if endpoint is None:
            if status < 400:
                return []
            error = {"$ref": "#/components/schemas/Error"}
            return self._json_violations(where, ("", status), error, mimetype, body)
        _, described_method, operation = self.operations[endpoint]
        responses = operation["responses"]
        if method.lower() == "head" and described_method == "get":
            return [] if str(status) in responses else [f"{where}: status not described"]
        if str(status) not in responses:
            return [f"{where}: status not described (has {sorted(responses)})"]
        content = responses[str(status)].get("content")
        if not content:
            return [] if not body else [f"{where}: a body where none is described"]
        if "*/*" in content:
            return []
        if mimetype not in content:
            return [f"{where}: media type {mimetype!r} not among {sorted(content)}"]
        if mimetype != "application/json":
            return []
        schema = content["application/json"]["schema"]
        return self._json_violations(where, (endpoint, status), schema, mimetype, body)

    def request_violations(
        self, endpoint: str, method: str, body: Callable[[], bytes]
    ) -> list[str]:
        """What is wrong with an accepted request's JSON body (empty: it follows the schema);
        ``body`` is read only for an operation that takes JSON."""
        _, _, operation = self.operations[endpoint]
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            return []
        data = body()
        if not data.strip():
            return []
        where = f"{method} {endpoint} request"
        schema = content["application/json"]["schema"]
        return self._json_violations(where, (endpoint, 0), schema, "application/json", data)

    def query_violations(
        self, endpoint: str, method: str, args: list[tuple[str, str]]
    ) -> list[str]:
        """What is wrong with an accepted request's query (empty: every parameter is described
        and its value follows its schema); ``args`` are the query's pairs, in order."""
        params = self._query_params(endpoint)
        where = f"{method} {endpoint} query"
        found = []
        seen: set[str] = set()
        for key, value in args:
            name = key
            if name not in params:
                match = _LIST_KEY.fullmatch(key)
                if match is None or not params.get(match["name"], (False,))[0]:
                    found.append(f"{where}: parameter {key!r} is not described")
                    continue
                name = match["name"]
            is_list, validator = params[name]
            if not is_list and name in seen:
                found.append(f"{where}: parameter {name!r} is repeated")
            seen.add(name)
            if value == "":
                continue
            found += [
                f"{where}: {key}={value!r}: {error.message}"
                for error in validator.iter_errors(
                    _text_value(value, _types(validator.schema), QUERY_BOOLEANS)
                )
            ]
        return found

    def _query_params(self, endpoint: str) -> dict[str, tuple[bool, Draft202012Validator]]:
        """Name -> (a list parameter?, the validator of one value), built once per operation."""
        params = self._queries.get(endpoint)
        if params is None:
            params = {}
            _, _, operation = self.operations[endpoint]
            for param in operation.get("parameters", ()):
                if param["in"] != "query":
                    continue
                schema = param["schema"]
                is_list = param.get("style") == "deepObject"
                if is_list:
                    schema = schema["additionalProperties"]
                validator = Draft202012Validator(schema, format_checker=FormatChecker())
                params[param["name"]] = (is_list, validator)
            self._queries[endpoint] = params
        return params

    def _json_violations(
        self,
        where: str,
        key: tuple[str, int],
        schema: dict[str, Any],
        mimetype: str,
        body: bytes | None,
    ) -> list[str]:
        if mimetype != "application/json":
            return [f"{where}: {mimetype!r} where JSON is described"]
        try:
            value = json.loads(body or b"")
        except ValueError:
            return [f"{where}: body is not JSON"]
        validator = self._validator(key, schema)
        return [
            f"{where}: {'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator.iter_errors(value)
        ]


def _text_value(text: str, types: set[str], booleans: dict[str, bool]) -> Any:
    """A query's or form's text as a property of ``types`` reads it: an integer's digits, a
    boolean as ``booleans`` spells it, an object's JSON text (left a string when it does not read
    as one, for the schema to refuse)."""
    read = text.strip()
    if "integer" in types and _INTEGER.fullmatch(read):
        return int(read)
    if "boolean" in types and read.lower() in booleans:
        return booleans[read.lower()]
    if "object" in types:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class Recorder:
    """Collects violations from a server's threads; the test that caused them drains them.

    ``check_queries=False`` leaves queries unchecked, for a server fed requests that break
    the description on purpose (fuzzing: the API ignores an unknown parameter, so those pass).
    """

    def __init__(self, contract: Contract, *, check_queries: bool = True) -> None:
        self.contract = contract
        self.check_queries = check_queries
        self._lock = threading.Lock()
        self._found: list[str] = []

    def after_request(self, response: Any) -> Any:
        """A Flask ``after_request`` hook: check the response, pass it on unchanged."""
        from flask import g, request

        if g.get("pixelbin_fault") is not None:  # an injected fault answers what it was told
            return response
        endpoint = request.url_rule.endpoint if request.url_rule is not None else None
        if request.method == "OPTIONS":  # CORS preflights: 204, or a failure in the error format
            endpoint = None
        is_json = response.mimetype == "application/json"
        body = response.get_data() if is_json and not response.direct_passthrough else None
        found = self.contract.violations(
            endpoint, request.method, response.status_code, response.mimetype, body
        )
        if endpoint is not None and 200 <= response.status_code < 300:
            found += self.contract.request_violations(
                endpoint, request.method, lambda: request.get_data(cache=True)
            )
            if self.check_queries:
                found += self.contract.query_violations(
                    endpoint, request.method, list(request.args.items(multi=True))
                )
            if request.mimetype == "multipart/form-data":
                found += form_violations(self.contract, endpoint, request.form, list(request.files))
        if found:
            with self._lock:
                self._found.extend(found)
        return response

    def drain(self) -> list[str]:
        with self._lock:
            found, self._found = self._found, []
        return found


# -- multipart forms ---------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return components[ref.rsplit("/", 1)[-1]] if ref else schema


def _flatten(schema: dict[str, Any], components: dict[str, Any]) -> tuple[dict, list[str]]:
    """The properties and required names of an object schema, through ``allOf`` and refs;
    ``patternProperties`` are kept under their pattern, prefixed by ``~``."""
    schema = _resolve(schema, components)
    properties = dict(schema.get("properties", {}))
    properties |= {"~" + key: value for key, value in schema.get("patternProperties", {}).items()}
    required = list(schema.get("required", []))
    for part in schema.get("allOf", []):
        more, needed = _flatten(part, components)
        properties |= more
        required += needed
    return properties, required


def _property(properties: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The schema of field ``name``: its property's, else the first pattern it matches."""
    if name in properties:
        return properties[name]
    for key, schema in properties.items():
        if key.startswith("~") and re.search(key[1:], name):
            return schema
    return None


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property allows (through ``anyOf``/``oneOf``)."""
    found = {schema["type"]} if "type" in schema else set()
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(option)
    return found


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
    names = {(_LIST_KEY.fullmatch(key) or {"name": key})["name"] for key in form}
    for name in sorted(names):
        schema = _property(properties, name)
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
            value = _text_value(text, types, FORM_BOOLEANS)
        root = {"allOf": [schema], "components": contract.document["components"]}
        found += [
            f"{where}: {name}: {error.message}"
            for error in Draft202012Validator(root).iter_errors(value)
        ]
    for name in files:
        schema = _resolve(_property(properties, name) or {"type": "absent"}, components)
        if schema.get("format") != "binary" and _types(schema):  # untyped: any value, a file too
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
