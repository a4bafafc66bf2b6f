"""The wire structs (issue 14 item 1: the control plane, presets, credentials): one declaration
gives the validation, the answer and the published schema, and the suite holds accepted requests
to that schema."""

from __future__ import annotations

import pytest

from pixelbin_emulator.api import wire
from pixelbin_emulator.api.wire import control as wire_control
from pixelbin_emulator.api.wire import credentials as wire_credentials
from pixelbin_emulator.api.wire import presets as wire_presets
from pixelbin_emulator.control import ControlClient, ControlError
from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.openapi import openapi_document

from .contract import Contract


def test_the_published_schemas_are_the_structs_own():
    schemas = openapi_document()["components"]["schemas"]
    for area in (wire_control, wire_presets, wire_credentials):
        generated = wire.schemas(*area.REQUESTS, *area.RESPONSES)
        assert {name: schemas[name] for name in generated} == generated
    paths = openapi_document()["paths"]
    presets = "/service/platform/assets/v1.0/presets"
    credentials = "/service/platform/assets/v1.0/credentials"
    for path, method, name in [
        ("/_emulator/faults", "post", "FaultRuleSpec"),
        (presets, "post", "PresetCreate"),
        (presets + "/{preset_name}", "patch", "PresetUpdate"),
        (credentials, "post", "CredentialsCreate"),
        (credentials + "/{plugin_id}", "patch", "CredentialsUpdate"),
    ]:
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{name}"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/_emulator/faults", {"status": 600}, "status"),
        ("/_emulator/faults", {"latency": 301}, "latency"),
        ("/_emulator/faults", {"status": 500, "times": 0}, "times"),
        ("/_emulator/clock/advance", {"seconds": "1"}, "seconds"),
        ("/_emulator/clock/freeze", {"at": True}, "at"),
        ("/_emulator/orgs", {"cloudName": "no spaces"}, "cloudName"),
        ("/_emulator/orgs", {"orgId": 2**53}, "orgId"),
        ("/_emulator/domains", {"host": "cdn.example.com"}, "orgId"),
        ("/_emulator/domains", {"host": "", "orgId": 1}, "host"),
    ],
)
def test_a_refused_field_is_named_with_the_rule_the_schema_publishes(
    pixelbin_app, path, body, field
):
    answer = pixelbin_app.test_client().post(path, json=body)
    assert answer.status_code == 400
    message = answer.get_json()["message"]
    schemas = openapi_document()["components"]["schemas"]
    published = str(schemas)
    assert message.startswith(f"{field} must be ")
    assert message.removeprefix(f"{field} must be ") in published


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        ({"transformation": "t.flip()"}, wire_presets.PresetCreate, "presetName"),
        ({"presetName": 7, "transformation": "t.flip()"}, wire_presets.PresetCreate, "presetName"),
        ({"presetName": "a", "transformation": ""}, wire_presets.PresetCreate, "transformation"),
        (
            {"presetName": "a", "transformation": "t.flip()", "params": []},
            wire_presets.PresetCreate,
            "params",
        ),
        ({}, wire_presets.PresetUpdate, "archived"),
        ({"archived": "true"}, wire_presets.PresetUpdate, "archived"),
        ({"credentials": {"k": "v"}}, wire_credentials.CredentialsCreate, "pluginId"),
        ({"pluginId": "x", "credentials": {}}, wire_credentials.CredentialsCreate, "credentials"),
        ({}, wire_credentials.CredentialsUpdate, "credentials"),
        ({"credentials": ["k"]}, wire_credentials.CredentialsUpdate, "credentials"),
    ],
)
def test_a_refused_asset_api_field_is_named_with_the_rule_the_schema_publishes(body, kind, field):
    with pytest.raises(ValidationError) as refused:
        wire.decode(body, kind)
    message = str(refused.value)
    assert message.startswith(f"{field} must be ")
    published = str(openapi_document()["components"]["schemas"][kind.__name__])
    assert message.removeprefix(f"{field} must be ") in published


def test_header_values_with_a_final_newline_are_refused():
    """A JSON Schema ``$`` (and msgspec's ``pattern``) matches before a final newline, so the
    struct's check repeats the pattern with ``fullmatch``."""
    doc = {"status": 500, "headers": {"X-Evil": "ok\n"}}
    with pytest.raises(ValidationError, match="no CR or LF"):
        wire.decode(doc, wire_control.FaultRuleSpec)


def test_unknown_fault_fields_are_all_named():
    with pytest.raises(ValidationError, match="unknown fault rule fields: bogus, extra"):
        wire.decode(
            {"status": 500, "bogus": 1, "extra": 2}, wire_control.FaultRuleSpec, "fault rule"
        )


def test_the_contract_checks_accepted_request_bodies():
    contract = Contract()
    ok = contract.request_violations("control.add_fault", "POST", lambda: b'{"status": 503}')
    assert ok == []
    extra = b'{"status": 503, "undescribed": 1}'
    found = contract.request_violations("control.add_fault", "POST", lambda: extra)
    assert len(found) == 1 and "undescribed" in found[0]
    assert contract.request_violations("control.get_clock", "GET", lambda: b"{}") == []


def test_plugin_and_client_build_the_same_rule(pixelbin_emulator):
    rule = {"operation": "listFiles", "method": "get", "status": 503, "times": 2, "after": 1}
    headers = {"Retry-After": "3"}
    client = ControlClient(pixelbin_emulator.url)
    over_http = client.add_fault(org_id=pixelbin_emulator.org_id, headers=headers, **rule)
    in_process = pixelbin_emulator.fault(headers=headers, **rule)
    assert wire.to_builtins(wire_control.FaultRuleState.of(in_process)) == over_http | {
        "id": in_process.id
    }
    with pytest.raises(ValidationError, match="status must be"):
        pixelbin_emulator.fault(status=600)
    with pytest.raises(ControlError, match="status must be"):
        client.add_fault(org_id=pixelbin_emulator.org_id, status=600)
    pixelbin_emulator.clear_faults()
