"""The Predictions API's wire structs and its control plane's (issue 14 item 1): one declaration
gives the answer, the published schema and, for bodies, the validation."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
import requests

from pixelbin_emulator.api import wire
from pixelbin_emulator.api.wire import modules as wire_modules
from pixelbin_emulator.api.wire import predictions as wire_predictions
from pixelbin_emulator.control import ControlClient, ControlError
from pixelbin_emulator.core import predictions
from pixelbin_emulator.core.clock import Clock
from pixelbin_emulator.core.errors import NotFoundError, ValidationError
from pixelbin_emulator.core.faults import Faults
from pixelbin_emulator.core.ids import IdFactory
from pixelbin_emulator.core.journal import Journal
from pixelbin_emulator.openapi import openapi_document
from pixelbin_emulator.pytest_plugin import EmulatorHandle

from .contract import Contract
from .helpers import png

TRANSFORMATION = "/service/platform/transformation/v1.0/predictions"
PUBLIC = "/service/public/transformation/v1.0/predictions"
DEV_SECRET = b"dev-api-secret-0000-0000-000000000000"


def _schema(operation: dict[str, Any], status: str = "200") -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    return schema


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_the_published_schemas_are_the_structs_own() -> None:
    document = openapi_document()
    generated = wire.schemas(*wire_predictions.REQUESTS, *wire_predictions.RESPONSES)
    assert {name: document["components"]["schemas"][name] for name in generated} == generated
    paths = document["paths"]
    create = paths[TRANSFORMATION + "/{plugin}/{operation}"]["post"]
    assert _schema(create) == ref("PredictionJob")
    assert _schema(create, "403") == ref("UsageBlockedError")
    assert _schema(paths[TRANSFORMATION + "/{request_id}"]["get"]) == ref("PredictionJob")
    assert _schema(paths[PUBLIC]["get"])["items"] == ref("PredictionModel")
    assert _schema(paths[PUBLIC + "/schema/{name}"]["get"]) == ref("PredictionSchema")
    listed = _schema(paths["/_emulator/predictions"]["get"])
    assert listed["properties"]["items"]["items"] == ref("ControlPredictionJob")
    settings = paths["/_emulator/predictions/settings"]
    assert _schema(settings["get"]) == _schema(settings["put"]) == ref("PredictionSettings")
    webhooks = _schema(paths["/_emulator/webhooks"]["get"])
    assert webhooks["properties"]["items"]["items"] == ref("WebhookDelivery")


def test_a_job_shows_its_result_fields_only_once_settled() -> None:
    schema = wire.schemas(wire_predictions.PredictionJob)["PredictionJob"]
    assert set(schema["properties"]) - set(schema["required"]) == {
        "consumedCredits",
        "output",
        "error",
    }
    control = wire.schemas(wire_predictions.ControlPredictionJob)["ControlPredictionJob"]
    assert list(control["properties"])[-1] == "dueAt" and "dueAt" in control["required"]


class _Posted:
    """A poster that records what it is given and answers 204."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        self.done = threading.Event()

    def __call__(self, url: str, payload: bytes) -> int:
        self.bodies.append((url, payload))
        self.done.set()
        return 204


def test_the_core_posts_the_payload_the_api_layer_gives_it() -> None:
    """The core knows no wire shape: a webhook carries the function that serializes the job."""
    posted = _Posted()
    store = predictions.Predictions(Clock(), IdFactory(1), Faults(), Journal(), poster=posted)
    try:
        job = store.create(
            1,
            predictions.model("erase_bg"),
            {},
            predictions.ImageSource(png(), uploaded=True),
            base_url="http://127.0.0.1:1",
            default_latency=0,
            webhook=predictions.Webhook("http://127.0.0.1:9/hook", lambda job: job.id.encode()),
        )
        store.complete(1)
        assert posted.done.wait(10)
        assert posted.bodies == [("http://127.0.0.1:9/hook", job.id.encode())]
    finally:
        store.close()


def test_the_handle_answers_as_the_control_plane_does(
    pixelbin_emulator: EmulatorHandle, pixelbin_control: ControlClient
) -> None:
    org_id = pixelbin_emulator.org_id
    in_process = pixelbin_emulator.prediction_settings(latency=5, modelLatency={"erase_bg": 1})
    over_http = pixelbin_control.prediction_settings(org_id)
    assert over_http == {"orgId": org_id} | in_process
    assert list(over_http)[1:] == list(in_process)
    assert in_process == {
        "latency": 5.0,
        "modelLatency": {"erase_bg": 1.0},
        "creditLimit": None,
        "webhookRetryDelay": 1.0,
        "creditsUsed": 0,
    }


def test_the_webhook_body_is_the_job_as_get_answers_it(
    pixelbin_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted = _Posted()
    monkeypatch.setattr(pixelbin_emulator.emulator.predictions, "_post", posted)
    url = pixelbin_emulator.url + TRANSFORMATION
    token = base64.b64encode(pixelbin_emulator.api_secret.encode()).decode()
    headers = {"Authorization": f"Bearer {token}"}
    pixelbin_emulator.prediction_settings(latency=0)
    image = "data:image/png;base64," + base64.b64encode(png()).decode()
    created = requests.post(
        url + "/erase/bg",
        headers=headers,
        json={"input.image": image, "webhook": "http://127.0.0.1:9/h"},
        timeout=30,
    )
    job_id = created.json()["_id"]
    assert pixelbin_emulator.wait_for_webhook(job_id)["delivered"] is True
    answer = requests.get(f"{url}/{job_id}", headers=headers, timeout=30)
    assert posted.bodies == [("http://127.0.0.1:9/h", answer.content.rstrip(b"\n"))]
    assert json.loads(posted.bodies[0][1])["status"] == "SUCCESS"


@pytest.mark.parametrize("name", ["erase_bg", "awsRek_detectLabels"])
def test_a_model_schema_lists_every_input(pixelbin_app: Any, name: str) -> None:
    answer = pixelbin_app.test_client().get(f"{PUBLIC}/schema/{name}").get_json()
    model = predictions.model(name)
    assert list(answer["input"]["properties"]) == [spec.name for spec in model.fields]
    assert answer["input"]["required"] == ["image"]
    for spec in model.fields:
        shown = answer["input"]["properties"][spec.name]
        if spec.kind == "image":
            assert shown["imageValidation"]["maxSize"] == predictions.MAX_IMAGE_BYTES
        else:
            assert shown.get("default") == spec.default
            assert shown.get("enum", []) == list(spec.enum)


def test_the_bodies_refer_to_their_structs() -> None:
    paths = openapi_document()["paths"]
    create = paths[TRANSFORMATION + "/{plugin}/{operation}"]["post"]["requestBody"]["content"]
    assert create == {
        "application/json": {"schema": ref("PredictionCreate")},
        "multipart/form-data": {"schema": ref("PredictionCreate")},
    }
    for path, method, name in [
        ("/_emulator/predictions/complete", "post", "PredictionsComplete"),
        ("/_emulator/predictions/settings", "put", "PredictionSettingsUpdate"),
    ]:
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == ref(name)


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        ({"webhook": 5}, wire_predictions.PredictionCreate, "webhook"),
        ({"webhook": ""}, wire_predictions.PredictionCreate, "webhook"),
        ({"input": ["x"]}, wire_predictions.PredictionCreate, "input"),
        ({"orgId": "1"}, wire_predictions.PredictionsComplete, "orgId"),
        ({"orgId": True}, wire_predictions.PredictionsComplete, "orgId"),
        ({"jobId": 5}, wire_predictions.PredictionsComplete, "jobId"),
        ({"orgId": "1"}, wire_predictions.PredictionSettingsUpdate, "orgId"),
        ({"orgId": 1, "latency": -1}, wire_predictions.PredictionSettingsUpdate, "latency"),
        ({"orgId": 1, "latency": True}, wire_predictions.PredictionSettingsUpdate, "latency"),
        (
            {"orgId": 1, "creditLimit": 1.5},
            wire_predictions.PredictionSettingsUpdate,
            "creditLimit",
        ),
        ({"orgId": 1, "creditLimit": -1}, wire_predictions.PredictionSettingsUpdate, "creditLimit"),
        (
            {"orgId": 1, "webhookRetryDelay": 31},
            wire_predictions.PredictionSettingsUpdate,
            "webhookRetryDelay",
        ),
        (
            {"orgId": 1, "modelLatency": []},
            wire_predictions.PredictionSettingsUpdate,
            "modelLatency",
        ),
    ],
)
def test_a_refused_field_is_named_with_the_rule_the_schema_publishes(
    body: dict[str, Any], kind: type[wire_predictions.Wire], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        wire.decode(body, kind)
    message = str(refused.value)
    assert message.startswith(f"{field} must be ")
    published = openapi_document()["components"]["schemas"][kind.__name__]["properties"][field]
    assert message.removeprefix(f"{field} must be ") in str(published)


def test_a_refused_model_latency_names_its_model(pixelbin_app: Any) -> None:
    api = pixelbin_app.test_client()
    for seconds in (-1, 86_401, True, "1"):
        answer = api.put(
            "/_emulator/predictions/settings",
            json={"orgId": 1, "modelLatency": {"erase_bg": seconds}},
        )
        assert answer.status_code == 400
        message = answer.get_json()["message"]
        assert message == "modelLatency.erase_bg must be a number of seconds between 0 and 86400"
    schema = openapi_document()["components"]["schemas"]["PredictionSettingsUpdate"]
    entry = schema["properties"]["modelLatency"]["additionalProperties"]["anyOf"][0]
    assert entry == {"type": "number", "minimum": 0, "maximum": predictions.MAX_LATENCY}


def test_unknown_settings_are_all_named(
    pixelbin_emulator: EmulatorHandle, pixelbin_control: ControlClient
) -> None:
    with pytest.raises(ValidationError, match=r"^unknown prediction settings: colour, orgId$"):
        pixelbin_emulator.prediction_settings(colour=1, orgId=2, latency=1)
    with pytest.raises(ControlError, match="unknown prediction settings: colour, size"):
        pixelbin_control.set_prediction_settings(pixelbin_emulator.org_id, colour=1, size=2)
    assert pixelbin_emulator.prediction_settings()["latency"] is None


def test_a_change_keeps_what_it_leaves_out_and_null_restores_the_default(
    pixelbin_emulator: EmulatorHandle,
) -> None:
    settings = pixelbin_emulator.prediction_settings
    settings(latency=5, creditLimit=2, modelLatency={"erase_bg": 1, "af_remove": 3})
    assert settings(webhookRetryDelay=0) == {
        "latency": 5.0,
        "modelLatency": {"erase_bg": 1.0, "af_remove": 3.0},
        "creditLimit": 2,
        "webhookRetryDelay": 0.0,
        "creditsUsed": 0,
    }
    changed = settings(latency=None, creditLimit=None, modelLatency={"erase_bg": None})
    assert changed["latency"] is None and changed["creditLimit"] is None
    assert changed["modelLatency"] == {"af_remove": 3.0}
    with pytest.raises(NotFoundError):
        settings(latency=7, modelLatency={"erase_bg": 2, "nope_model": 1})
    assert settings() == changed  # a refused change changes nothing


def test_the_complete_body_is_decoded(pixelbin_app: Any) -> None:
    api = pixelbin_app.test_client()
    done = api.post("/_emulator/predictions/complete", json={"orgId": 1, "other": "ignored"})
    assert done.status_code == 200 and done.get_json() == {"items": []}
    assert api.post("/_emulator/predictions/complete").get_json() == {"items": []}
    missing = api.post("/_emulator/predictions/complete", json={"orgId": 1, "jobId": "x"})
    assert missing.status_code == 404
    unnamed = api.get("/_emulator/predictions/settings")
    assert unnamed.status_code == 400 and unnamed.get_json()["message"] == "orgId is required"


# -- transformation modules (getModules, getModule) ---------------------------------------------


def test_the_module_schemas_are_the_structs_own() -> None:
    document = openapi_document()
    generated = wire.schemas(*wire_modules.RESPONSES)
    assert {name: document["components"]["schemas"][name] for name in generated} == generated
    plugins = document["paths"]["/service/platform/assets/v1.0/playground/plugins"]
    assert _schema(plugins["get"]) == ref("Modules")
    one = document["paths"]["/service/platform/assets/v1.0/playground/plugins/{identifier}"]
    assert _schema(one["get"]) == ref("Plugin")


def test_a_module_shows_the_org_credential_state_without_touching_the_catalogue(
    pixelbin_emulator: EmulatorHandle,
) -> None:
    org = pixelbin_emulator.emulator.org(pixelbin_emulator.org_id)
    entry = org.catalogue.plugins["awsRek"]
    before = json.dumps(entry)
    shown = wire.to_builtins(wire_modules.Plugin.of(org, entry))
    assert shown["credentials"] == {"required": True, "configured": False}
    assert list(shown) == list(entry)
    assert {key: shown[key] for key in entry if key != "credentials"} == {
        key: value for key, value in entry.items() if key != "credentials"
    }
    org.plugin_credentials.add("awsRek", {"accessKeyId": "a", "secretAccessKey": "b"})
    assert wire.to_builtins(wire_modules.Plugin.of(org, entry))["credentials"]["configured"]
    assert json.dumps(entry) == before
    every = wire.to_builtins(wire_modules.Modules.of(org, org.catalogue))
    assert list(every) == ["delimiters", "plugins", "presets"]
    assert every["delimiters"] == org.catalogue.delimiters


def test_the_contract_holds_accepted_bodies_to_these_schemas() -> None:
    contract = Contract()
    settings = "control_predictions.set_prediction_settings"
    assert contract.request_violations(settings, "PUT", lambda: b'{"orgId": 1, "latency": 2}') == []
    found = contract.request_violations(settings, "PUT", lambda: b'{"orgId": 1, "size": 2}')
    assert len(found) == 1 and "size" in found[0]
    create = "predictions.create_prediction"
    sdk_body = b'{"input.image": "https://example.com/a.png", "webhook": "http://127.0.0.1/h"}'
    assert contract.request_violations(create, "POST", lambda: sdk_body) == []
    assert contract.request_violations(create, "POST", lambda: b'{"webhook": ""}') != []
    nested = b'{"input": {"image": "https://example.com/a.png"}}'
    assert contract.request_violations(create, "POST", lambda: nested) == []
    stray = b'{"input.image": "https://example.com/a.png", "image": 1}'
    (found,) = contract.request_violations(create, "POST", lambda: stray)
    assert "image" in found


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/_emulator/predictions/settings", "put", {"latency": 1}),
        ("/_emulator/predictions/settings", "put", {"orgId": None}),
        ("/_emulator/predictions/settings?orgId=", "get", None),
        ("/_emulator/predictions/settings", "get", None),
    ],
)
def test_the_org_is_required_where_the_schema_says_so(
    pixelbin_app: Any, path: str, method: str, body: dict[str, Any] | None
) -> None:
    answer = getattr(pixelbin_app.test_client(), method)(path, json=body)
    assert answer.status_code == 400 and answer.get_json()["message"] == "orgId is required"
    document = openapi_document()
    if method == "put":
        assert "orgId" in document["components"]["schemas"]["PredictionSettingsUpdate"]["required"]
    else:
        (param,) = document["paths"]["/_emulator/predictions/settings"]["get"]["parameters"]
        assert param["name"] == "orgId" and param["required"] is True


def test_the_queries_are_their_structs(pixelbin_app: Any) -> None:
    api = pixelbin_app.test_client()
    paths = openapi_document()["paths"]
    for path, kind in [
        ("/_emulator/predictions", wire_predictions.PredictionJobsQuery),
        ("/_emulator/webhooks", wire_predictions.WebhookDeliveriesQuery),
        ("/_emulator/predictions/settings", wire_predictions.PredictionSettingsQuery),
    ]:
        published = [param["name"] for param in paths[path]["get"]["parameters"]]
        assert published == list(wire.schemas(kind)[kind.__name__]["properties"])
        refused = api.get(f"{path}?orgId=one")
        assert refused.status_code == 400
        assert refused.get_json()["message"] == "orgId must be an integer"
        assert api.get(f"{path}?orgId=99").status_code == 404
    assert api.get("/_emulator/webhooks?orgId=1&jobId=nope").get_json() == {"items": []}
    assert api.get("/_emulator/predictions?orgId=+1&other=x").status_code == 200


def test_the_playground_asset_is_the_file_answer_with_org_and_type(pixelbin_app: Any) -> None:
    api = pixelbin_app.test_client()
    headers = {"Authorization": "Bearer " + base64.b64encode(DEV_SECRET).decode()}
    asset = api.get("/service/platform/assets/v1.0/playground/default", headers=headers)
    shown = asset.get_json()
    file = api.get(f"/service/platform/assets/v1.0/files/id/{shown['_id']}", headers=headers)
    assert shown == file.get_json() | {"orgId": 1, "type": "file"}
    assert list(shown)[-2:] == ["orgId", "type"]
    generated = wire.schemas(wire_modules.PlaygroundAsset)["PlaygroundAsset"]
    assert openapi_document()["components"]["schemas"]["PlaygroundAsset"] == generated
