"""Checking responses against the OpenAPI description (``pixelbin_emulator.openapi``).

Operations are found by ``operationId``, which is the Flask endpoint, so a response is checked
against exactly the operation that served it. A response is a violation when its status is not
described for that operation, when its media type is not one described for that status, or when
its JSON body does not match the schema. A request that matched no route must still answer
the error format. A request the server accepted (2xx) is a violation when its JSON body does not
match the operation's request schema: a field parsed but not described fails the test.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from pixelbin_emulator.openapi import openapi_document

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>")


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


class Recorder:
    """Collects violations from a server's threads; the test that caused them drains them."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
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
        if found:
            with self._lock:
                self._found.extend(found)
        return response

    def drain(self) -> list[str]:
        with self._lock:
            found, self._found = self._found, []
        return found
