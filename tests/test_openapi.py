"""The OpenAPI description: valid OpenAPI 3.1, served without auth, in step with the routes."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from pixelbin_emulator.openapi import openapi_document

from .contract import Contract, openapi_path

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_the_description_is_valid_openapi_3_1():
    document = openapi_document("http://127.0.0.1:1")
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_served_at_openapi_json_without_auth(pixelbin_app):
    response = pixelbin_app.test_client().get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["servers"] == [{"url": "http://localhost"}]
    assert document["paths"] == openapi_document()["paths"]


def test_every_route_is_described_and_every_description_is_a_route(pixelbin_app):
    routes = {
        (openapi_path(rule.rule), method.lower(), rule.endpoint)
        for rule in pixelbin_app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) & METHODS
    }
    described = {
        (path, method, operation["operationId"])
        for path, operations in openapi_document()["paths"].items()
        for method, operation in operations.items()
    }
    assert routes - described == set(), "routes missing from the description"
    assert described - routes == set(), "described operations that no route serves"


def test_every_json_error_response_is_the_error_format():
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                # /_emulator/ready's 503 is its answer, {"ready": false}, not a failure.
                not_ready = operation["operationId"] == "control.ready" and status == "503"
                # A prediction past the credit limit answers the SDK README's own error shape.
                usage = schema == {"$ref": "#/components/schemas/UsageBlockedError"}
                if int(status) >= 400 and schema is not None and not not_ready and not usage:
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (404, b'{"message":"m","status":404,"code":"CG-0404","exception":"E"}', None),
        (418, b'{"message":"m","status":418,"code":"CG-0418","exception":"E"}', "not described"),
        (404, b'{"message":"m","status":404}', "is a required property"),
        (200, b'{"_id":"x"}', "is a required property"),
        (200, b"not json", "not JSON"),
    ],
)
def test_the_contract_checker_finds_violations(status, body, problem):
    found = Contract().violations("files.get_file_by_id", "GET", status, "application/json", body)
    if problem is None:
        assert found == []
    else:
        assert found and all(problem in line for line in found), found


def test_unrouted_requests_answer_the_error_format(pixelbin_app):
    contract = Contract()
    response = pixelbin_app.test_client().get("/no/such/route")
    assert contract.violations(None, "GET", 404, response.mimetype, response.get_data()) == []
