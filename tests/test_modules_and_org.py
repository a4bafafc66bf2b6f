"""Module catalogue, playground asset and organization details, through the official SDK."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import pytest
import requests
from pixelbin import PixelbinClient
from pixelbin.common.exceptions import PixelbinServerResponseError
from pixelbin.utils.url import url_to_obj

from pixelbin_emulator.seeds import fixtures_dir

from .helpers import sdk_error

PLAYGROUND_BYTES = (fixtures_dir() / "playground-default.jpeg").read_bytes()


@pytest.fixture
def app_org_details(
    sdk: PixelbinClient, flavour: str, event_loop: asyncio.AbstractEventLoop
) -> Callable[[], dict[str, Any]]:
    """``organization.getAppOrgDetails``, sync or async like the ``assets`` fixture."""
    if flavour == "sync":
        return sdk.organization.getAppOrgDetails
    return lambda: event_loop.run_until_complete(sdk.organization.getAppOrgDetailsAsync())


# -- modules -------------------------------------------------------------------------------


def test_get_modules_shape(assets):
    modules = assets.getModules()
    assert set(modules) == {"delimiters", "plugins", "presets"}
    assert modules["delimiters"] == {"operationSeparator": "~", "parameterSeparator": ","}
    assert modules["presets"] == []
    plugins = modules["plugins"]
    assert {"t", "erase", "awsRek"} <= set(plugins)
    for identifier, plugin in plugins.items():
        assert plugin["identifier"] == identifier
        assert {"name", "description", "credentials", "isHeavy", "operations", "enabled"} <= set(
            plugin
        )
        for operation in plugin["operations"]:
            assert {"params", "displayName", "method", "description"} <= set(operation)
            for param in operation["params"]:
                assert {"name", "type", "identifier"} <= set(param)
    methods = {op["method"] for op in plugins["t"]["operations"]}
    assert {"resize", "compress", "extend", "extract", "trim", "rotate", "flip", "flop"} <= methods
    assert {"sharpen", "blur", "toFormat"} <= methods
    assert [op["method"] for op in plugins["erase"]["operations"]] == ["bg"]


def test_get_module_is_the_same_plugin_as_in_get_modules(assets):
    plugins = assets.getModules()["plugins"]
    for identifier in ("t", "erase", "awsRek"):
        assert assets.getModule(identifier=identifier) == plugins[identifier]


def test_unknown_module_is_a_404(assets):
    with pytest.raises(PixelbinServerResponseError) as caught:
        assets.getModule(identifier="nope")
    assert caught.value.status_code == 404
    body = sdk_error(caught.value)
    assert (body["code"], body["exception"]) == ("CG-0404", "NotFoundError")
    assert "nope" in body["message"]


def test_get_modules_does_not_leak_between_orgs(assets, pixelbin_emulator):
    other = pixelbin_emulator.emulator.create_org()
    try:
        other.plugin_credentials.add("awsRek", {"k": "v"})
        other.presets.add("theirs", "t.flip()")
        modules = assets.getModules()
        assert modules["presets"] == []
        assert modules["plugins"]["awsRek"]["credentials"]["configured"] is False
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)


# -- playground ----------------------------------------------------------------------------


def test_playground_asset_is_a_real_file_the_cdn_serves(assets, pixelbin_emulator):
    asset = assets.getDefaultAssetForPlayground()
    assert (asset["path"], asset["name"]) == ("__playground", "playground-default")
    assert asset["fileId"] == "__playground/playground-default"
    assert (asset["format"], asset["assetType"], asset["access"]) == (
        "jpeg",
        "image",
        "public-read",
    )
    assert (asset["orgId"], asset["type"]) == (pixelbin_emulator.org_id, "file")
    assert asset["size"] == len(PLAYGROUND_BYTES) and asset["width"] and asset["height"]
    assert asset["url"].endswith(
        f"/v2/{pixelbin_emulator.cloud_name}/original/__playground/playground-default.jpeg"
    )
    served = requests.get(asset["url"], timeout=5)
    assert served.status_code == 200 and served.content == PLAYGROUND_BYTES
    assert served.headers["Content-Type"] == "image/jpeg"
    stored = assets.getFileById(_id=asset["_id"])
    assert stored == {k: v for k, v in asset.items() if k not in ("orgId", "type")}
    assert assets.getDefaultAssetForPlayground() == asset


def test_playground_asset_appears_on_first_use(assets):
    assert assets.listFiles()["items"] == []
    asset = assets.getDefaultAssetForPlayground()
    root = assets.listFiles()["items"]
    assert [(item["name"], item["type"]) for item in root] == [("__playground", "folder")]
    inside = assets.listFiles(path="__playground")["items"]
    assert [item["_id"] for item in inside] == [asset["_id"]]


def test_deleted_playground_asset_comes_back(assets):
    first = assets.getDefaultAssetForPlayground()
    assets.deleteFile(fileId="__playground/playground-default")
    again = assets.getDefaultAssetForPlayground()
    assert again["_id"] != first["_id"]
    assert again["size"] == first["size"] and again["fileId"] == first["fileId"]


def test_a_replaced_playground_asset_is_returned_as_it_is(assets):
    assets.getDefaultAssetForPlayground()
    assets.updateFile(fileId="__playground/playground-default", tags=["mine"], access="private")
    asset = assets.getDefaultAssetForPlayground()
    assert (asset["tags"], asset["access"]) == (["mine"], "private")


def test_the_development_seed_has_the_playground_asset(pixelbin_app):
    org = pixelbin_app.extensions["pixelbin_emulator"]["emulator"].orgs()[0]
    stored = org.assets.get_file("__playground/playground-default")
    assert stored.data == PLAYGROUND_BYTES and stored.format == "jpeg"
    token = base64.b64encode(org.api_secret.encode()).decode()
    response = pixelbin_app.test_client().get(
        "/service/platform/assets/v1.0/playground/default",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and response.json["_id"] == stored.id


# -- organization --------------------------------------------------------------------------


def test_app_org_details_match_the_tokens_org(app_org_details, assets, pixelbin_emulator):
    details = app_org_details()
    assert set(details) == {"app", "org"}
    app, org = details["app"], details["org"]
    assert set(app) == {
        "_id",
        "orgId",
        "name",
        "token",
        "permissions",
        "active",
        "createdAt",
        "updatedAt",
    }
    assert set(org) == {
        "_id",
        "name",
        "cloudName",
        "ownerId",
        "active",
        "createdAt",
        "updatedAt",
        "restrictions",
        "rateLimit",
    }
    assert isinstance(app["_id"], int) and isinstance(org["_id"], int)
    assert app["orgId"] == org["_id"] == pixelbin_emulator.org_id
    assert app["token"] == pixelbin_emulator.access_key
    assert app["active"] is True and org["active"] is True
    assert (org["restrictions"], org["rateLimit"]) == ([], None)
    assert len(org["ownerId"]) == 24 and int(org["ownerId"], 16) >= 0
    assert org["name"] == pixelbin_emulator.org.name
    # The cloud name is the one file URLs carry.
    uploaded = assets.getDefaultAssetForPlayground()
    assert url_to_obj(uploaded["url"])["cloudName"] == org["cloudName"]


def test_app_org_details_of_two_orgs_differ(app_org_details, pixelbin_emulator):
    other = pixelbin_emulator.emulator.create_org()
    try:
        session = requests.Session()
        token = base64.b64encode(other.api_secret.encode()).decode()
        session.headers["Authorization"] = f"Bearer {token}"
        theirs = session.get(
            pixelbin_emulator.url + "/service/platform/organization/v1.0/apps/info", timeout=5
        ).json()
        mine = app_org_details()
        assert theirs["org"]["cloudName"] == other.cloud_name != mine["org"]["cloudName"]
        assert theirs["app"]["token"] == other.access_key != mine["app"]["token"]
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)


@pytest.mark.parametrize(
    "path",
    [
        "/service/platform/organization/v1.0/apps/info",
        "/service/platform/assets/v1.0/playground/plugins",
        "/service/platform/assets/v1.0/playground/default",
        "/service/platform/assets/v1.0/presets",
    ],
)
def test_the_new_routes_need_a_token(pixelbin_emulator, path):
    response = requests.get(
        pixelbin_emulator.url + path, headers={"Authorization": "Bearer bm9wZQ=="}, timeout=5
    )
    assert response.status_code == 401
    assert response.json()["code"] == "CG-0401"
