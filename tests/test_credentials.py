"""Transformation-module credentials through the official SDK (sync and async) and raw HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .helpers import expect_error

AWS = {"region": "ap-south-1", "accessKeyId": "123456789ABC", "secretAccessKey": "DUMMY1234567890"}


def configured(assets: Any, plugin_id: str) -> bool:
    return assets.getModule(identifier=plugin_id)["credentials"]["configured"]


def test_add_credentials_does_not_echo_the_secrets(assets, pixelbin_emulator):
    added = assets.addCredentials(credentials=AWS, pluginId="awsRek")
    assert set(added) == {"_id", "createdAt", "updatedAt", "orgId", "pluginId"}
    assert (added["orgId"], added["pluginId"]) == (pixelbin_emulator.org_id, "awsRek")
    assert added["createdAt"] == added["updatedAt"]
    assert "DUMMY1234567890" not in json.dumps(added)


def test_update_then_delete_credentials(assets):
    added = assets.addCredentials(credentials=AWS, pluginId="awsRek")
    newer = dict(AWS, secretAccessKey="ROTATED")
    updated = assets.updateCredentials(pluginId="awsRek", credentials=newer)
    assert set(updated) == {"_id", "createdAt", "updatedAt", "isActive", "orgId", "pluginId"}
    assert updated["_id"] == added["_id"] and updated["createdAt"] == added["createdAt"]
    assert updated["isActive"] is True and updated["updatedAt"] >= added["updatedAt"]
    assert "ROTATED" not in json.dumps(updated)
    deleted = assets.deleteCredentials(pluginId="awsRek")
    assert deleted == updated | {"credentials": newer}


def test_deleted_credentials_are_gone_and_can_be_added_again(assets):
    first = assets.addCredentials(credentials=AWS, pluginId="remove")
    assets.deleteCredentials(pluginId="remove")
    expect_error(404, assets.deleteCredentials, pluginId="remove")
    expect_error(404, assets.updateCredentials, pluginId="remove", credentials=AWS)
    again = assets.addCredentials(credentials={"apiKey": "k"}, pluginId="remove")
    assert again["_id"] != first["_id"]


def test_modules_reflect_configured_credentials(assets):
    assert configured(assets, "awsRek") is False
    assets.addCredentials(credentials=AWS, pluginId="awsRek")
    assert configured(assets, "awsRek") is True
    plugins = assets.getModules()["plugins"]
    assert plugins["awsRek"]["credentials"] == {"required": True, "configured": True}
    assert plugins["googleVis"]["credentials"] == {"required": True, "configured": False}
    assert plugins["t"]["credentials"] == {"required": False, "configured": False}
    assets.deleteCredentials(pluginId="awsRek")
    assert configured(assets, "awsRek") is False


def test_one_set_per_plugin(assets):
    assets.addCredentials(credentials=AWS, pluginId="awsRek")
    body = expect_error(409, assets.addCredentials, credentials={"other": "x"}, pluginId="awsRek")
    assert body["exception"] == "ConflictError" and "updateCredentials" in body["message"]
    assert assets.deleteCredentials(pluginId="awsRek")["credentials"] == AWS


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"credentials": AWS, "pluginId": "nope"}, "unknown plugin 'nope'"),
        ({"credentials": AWS}, "pluginId"),
        ({"pluginId": "awsRek"}, "credentials"),
        ({"credentials": {}, "pluginId": "awsRek"}, "empty"),
    ],
)
def test_bad_add_credentials_changes_nothing(assets, kwargs, names):
    assets.addCredentials(credentials={"apiKey": "kept"}, pluginId="remove")
    body = expect_error(400, assets.addCredentials, **kwargs)
    assert names in body["message"]
    assert not configured(assets, "awsRek")
    assert assets.deleteCredentials(pluginId="remove")["credentials"] == {"apiKey": "kept"}


def test_update_of_an_unknown_plugin_is_a_404(assets):
    body = expect_error(404, assets.updateCredentials, pluginId="nope", credentials=AWS)
    assert "nope" in body["message"]
    expect_error(404, assets.deleteCredentials, pluginId="awsRek")


# -- raw HTTP: what the SDK's client-side validation would not let through ------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"pluginId": 5, "credentials": AWS},
        {"pluginId": "awsRek", "credentials": "secret"},
        {"pluginId": "awsRek", "credentials": ["secret"]},
        {"pluginId": "awsRek", "credentials": None},
        {"pluginId": ["awsRek"], "credentials": AWS},
    ],
)
def test_add_credentials_wrong_types_over_http(api, body):
    response = api.post(api.base + "/credentials", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "CG-0400"
    # Nothing was stored: deleting finds nothing.
    assert api.delete(api.base + "/credentials/awsRek").status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"credentials": "x"}, {"credentials": {}}, {"credentials": 1}]
)
def test_bad_update_credentials_keeps_the_old_values(api, body):
    api.post(api.base + "/credentials", json={"pluginId": "awsRek", "credentials": AWS})
    response = api.patch(api.base + "/credentials/awsRek", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["exception"] == "ValidationError"
    assert api.delete(api.base + "/credentials/awsRek").json()["credentials"] == AWS


def test_credentials_are_per_org(api, pixelbin_emulator):
    other = pixelbin_emulator.emulator.create_org()
    try:
        other.plugin_credentials.add("awsRek", {"theirs": "1"})
        added = api.post(api.base + "/credentials", json={"pluginId": "awsRek", "credentials": AWS})
        assert added.status_code == 200
        assert other.plugin_credentials.get("awsRek").credentials == {"theirs": "1"}
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)
