"""The Predictions API through the official Python SDK (sync and async), on the emulator's clock.

Tests never sleep for a job: they freeze and advance the clock, set the org's latency to 0 or
complete pending jobs with the handle's helper, so ``predictions.wait`` returns on its first poll.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import click
import pytest
import pyvips
import requests
from pixelbin import PixelbinClient, PixelbinConfig
from pixelbin.common.exceptions import PixelbinServerResponseError

from pixelbin_emulator.cli import parse_args
from pixelbin_emulator.control import ControlClient, ControlError
from pixelbin_emulator.core.transformations import load_catalogue
from pixelbin_emulator.pytest_plugin import EmulatorHandle

from .conftest import Flavoured
from .helpers import expect_error, png, sdk_error

JOB_ID = re.compile(
    r"^erase--bg--[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
MODELS = (
    "erase_bg",
    "remove_bg",
    "sr_upscale",
    "wm_remove",
    "af_remove",
    "ic_crop",
    "awsRek_detectLabels",
    "googleVis_detectLabels",
)


def subject_png(width: int = 40, height: int = 30) -> bytes:
    """A red rectangle on white: erase_bg keeps exactly the rectangle."""
    white = pyvips.Image.black(width, height).new_from_image([255, 255, 255])
    drawn = white.draw_rect(
        [200, 0, 0], width // 4, height // 4, width // 2, height // 2, fill=True
    )
    return drawn.cast("uchar").copy(interpretation="srgb").write_to_buffer(".png")


@pytest.fixture
def predictions(sdk: PixelbinClient, flavour: str, event_loop: asyncio.AbstractEventLoop) -> Any:
    """``sdk.predictions``, once per flavour."""
    return Flavoured(sdk.predictions, flavour, event_loop)


def fetch(url: str) -> requests.Response:
    response = requests.get(url, timeout=10)
    return response


class Receiver:
    """A local webhook receiver: answers the statuses queued in ``answers`` (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.received.append(json.loads(self.rfile.read(length)))
                status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


# -- models -------------------------------------------------------------------------------------


def test_list_and_schema_describe_every_model(predictions: Any) -> None:
    listed = predictions.list()
    names = [item["name"] for item in listed]
    assert set(MODELS) <= set(names)
    assert all(set(item) == {"name", "displayName", "description"} for item in listed)
    assert listed[names.index("erase_bg")]["displayName"] == "Erase Background"
    schema = predictions.get_schema("erase_bg")
    assert set(schema) == {"name", "displayName", "description", "input"}
    image = schema["input"]["properties"]["image"]
    assert len(image["oneOf"]) == 2
    assert "image/png" in image["supportedContentTypes"]
    assert image["imageValidation"] == {
        "maxWidth": 10000,
        "maxHeight": 10000,
        "maxSize": 26214400,
    }
    assert schema["input"]["required"] == ["image"]
    catalogue = load_catalogue().operation("erase", "bg")
    industry = next(p for p in catalogue["params"] if p["identifier"] == "i")
    assert schema["input"]["properties"]["industry_type"]["enum"] == industry["enum"]
    assert {"shadow", "refine", "quality_type"} <= set(schema["input"]["properties"])
    upscale = predictions.get_schema("sr_upscale")["input"]["properties"]["type"]
    assert upscale["enum"] == ["2x", "4x"] and upscale["default"] == "2x"


def test_an_unknown_model_is_a_404(sdk: PixelbinClient) -> None:
    expect_error(404, sdk.predictions.get_schema, name="nope_model")
    expect_error(404, sdk.predictions.create, name="nope_model", input={"image": png()})


# -- the life cycle -----------------------------------------------------------------------------


def test_create_get_wait_and_the_output_is_served(
    predictions: Any, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.freeze_time()
    job = predictions.create(
        name="erase_bg",
        input={"image": subject_png(), "industry_type": "ecommerce", "shadow": False},
    )
    assert JOB_ID.match(job["_id"])
    assert job["status"] == "ACCEPTED"
    assert job["orgId"] == pixelbin_emulator.org_id
    assert job["retention"] == "30d"
    assert job["urls"]["get"] == (
        f"{pixelbin_emulator.url}/service/platform/transformation/v1.0/predictions/{job['_id']}"
    )
    assert job["input"]["industry_type"] == "ecommerce" and job["input"]["shadow"] is False
    assert "output" not in job and "consumedCredits" not in job
    # The uploaded file is replaced by a URL the emulator serves.
    uploaded = fetch(job["input"]["image"])
    assert uploaded.status_code == 200 and uploaded.content == subject_png()

    assert predictions.get(job["_id"])["status"] == "ACCEPTED"  # frozen: not due yet
    pixelbin_emulator.advance_time(0.5)  # the session server's default latency
    done = predictions.wait(job["_id"])
    assert done["status"] == "SUCCESS"
    assert done["consumedCredits"] == 1
    assert {k: v for k, v in done.items() if k not in ("status", "consumedCredits", "output")} == {
        k: v for k, v in job.items() if k != "status"
    }
    (url,) = done["output"]
    assert url.endswith(
        f"/predictions/outputs/30d/erase/bg/{job['_id'][len('erase--bg--') :]}/result_0.png"
    )
    served = fetch(url)
    assert served.headers["Content-Type"] == "image/png"
    again = requests.get(url, headers={"If-None-Match": served.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    out = pyvips.Image.new_from_buffer(served.content, "")
    assert (out.width, out.height, out.bands) == (40, 30, 4)
    assert out.extract_band(3).getpoint(0, 0) == [0.0]
    assert out.extract_band(3).getpoint(20, 15) == [255.0]


def test_url_inputs_json_bodies_and_upscale(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=0)
    stored = sdk.assets.fileUpload(file=subject_png(), name="photo")
    job = sdk.predictions.create_and_wait(
        name="sr_upscale", input={"image": stored["url"], "type": "4x"}
    )
    assert job["status"] == "SUCCESS"
    assert job["input"] == {"image": stored["url"], "type": "4x"}  # a URL input stays as given
    out = pyvips.Image.new_from_buffer(fetch(job["output"][0]).content, "")
    assert (out.width, out.height) == (160, 120)
    # The Python SDK sent JSON (no binary input).
    (entry,) = pixelbin_emulator.requests(operation="createPrediction")
    assert json.loads(entry["requestBody"]) == {"input.image": stored["url"], "input.type": "4x"}

    data_url = "data:image/png;base64," + base64.b64encode(subject_png()).decode()
    cropped = sdk.predictions.create_and_wait(
        name="ic_crop", input={"image": data_url, "required_width": 10, "required_height": 6}
    )
    out = pyvips.Image.new_from_buffer(fetch(cropped["output"][0]).content, "")
    assert (out.width, out.height) == (10, 6)
    # An output fed back as the next job's input.
    again = sdk.predictions.create_and_wait(name="af_remove", input={"image": job["output"][0]})
    assert pyvips.Image.new_from_buffer(fetch(again["output"][0]).content, "").width == 160


def test_detection_models_answer_a_json_document(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=0)
    aws = sdk.predictions.create_and_wait(
        name="awsRek_detectLabels", input={"image": subject_png(), "maximum_labels": "10"}
    )
    assert aws["output"][0].endswith("/result_0.json")
    document = fetch(aws["output"][0]).json()
    (subject,) = [label for label in document["Labels"] if label["Name"] == "Object"]
    box = subject["Instances"][0]["BoundingBox"]
    assert box == {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": 0.2333}
    google = sdk.predictions.create_and_wait(
        name="googleVis_detectLabels", input={"image": subject_png(), "maximum_labels": "2"}
    )
    assert len(fetch(google["output"][0]).json()["labelAnnotations"]) == 2


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"industry_type": "general"}, "'image' is required"),
        ({"image": b"\x89PNG", "industry_type": "space"}, "must be one of"),
        ({"image": b"\x89PNG", "colour": "red"}, "unknown input 'colour'"),
        ({"image": b"GIF89a\x01\x00\x01\x00", "shadow": True}, "content type image/gif"),
        ({"image": b"plain text"}, "is not supported"),
        ({"image": "not a url"}, "must be an http(s) or data: URL"),
        ({"image": "data:image/png;base64,!!!"}, "invalid base64"),
    ],
)
def test_input_that_fails_the_schema_is_a_400_and_creates_no_job(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle, inputs: dict[str, Any], message: str
) -> None:
    if isinstance(inputs.get("image"), bytes):
        inputs = inputs | {"image": {"value": inputs["image"], "filename": "in.txt"}}
    body = expect_error(400, sdk.predictions.create, name="erase_bg", input=inputs)
    assert message in body["message"]
    assert pixelbin_emulator.prediction_jobs() == []


def test_an_image_past_the_size_limit_is_a_400(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    wide = pyvips.Image.black(10_001, 1).write_to_buffer(".png")
    body = expect_error(400, sdk.predictions.create, name="erase_bg", input={"image": wide})
    assert "larger than 10000x10000" in body["message"]
    assert pixelbin_emulator.prediction_jobs() == []


def test_unfetchable_and_undecodable_inputs_fail_the_job(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=0)
    pixelbin_emulator.stub_url("https://images.example.com/gone.png", b"", status=404)
    pixelbin_emulator.stub_url("https://images.example.com/bad.png", b"\x89PNG\r\n\x1a\nbroken")
    cases = {
        "https://images.example.com/remote.png": "fetching is disabled",
        "https://images.example.com/gone.png": "HTTP 404",
        "https://images.example.com/bad.png": "could not be decoded",
    }
    for url, message in cases.items():
        job = sdk.predictions.create_and_wait(name="erase_bg", input={"image": url})
        assert job["status"] == "FAILURE", job
        assert message in job["error"]
        assert "output" not in job and "consumedCredits" not in job
    broken = sdk.predictions.create_and_wait(
        name="erase_bg", input={"image": {"value": b"\xff\xd8\xffjunk", "filename": "a.jpg"}}
    )
    assert broken["status"] == "FAILURE" and "could not be decoded" in broken["error"]
    assert pixelbin_emulator.prediction_settings()["creditsUsed"] == 0


def test_a_fault_rule_aimed_at_jobs_fails_them(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=0)
    rule = pixelbin_emulator.fail_predictions("erase_bg", message="model crashed")
    other = sdk.predictions.create_and_wait(name="af_remove", input={"image": subject_png()})
    assert other["status"] == "SUCCESS"  # aimed at erase_bg only
    failed = sdk.predictions.create_and_wait(name="erase_bg", input={"image": subject_png()})
    assert (failed["status"], failed["error"]) == ("FAILURE", "model crashed")
    assert rule.fired == 1
    again = sdk.predictions.create_and_wait(name="erase_bg", input={"image": subject_png()})
    assert again["status"] == "SUCCESS"  # times=1


def test_per_model_latency_on_a_frozen_clock(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=1, modelLatency={"sr_upscale": 10})
    pixelbin_emulator.freeze_time()
    slow = sdk.predictions.create(name="sr_upscale", input={"image": subject_png()})
    fast = sdk.predictions.create(name="af_remove", input={"image": subject_png()})
    pixelbin_emulator.advance_time(9)
    assert sdk.predictions.get(fast["_id"])["status"] == "SUCCESS"
    assert sdk.predictions.get(slow["_id"])["status"] == "ACCEPTED"
    pixelbin_emulator.advance_time(1)
    assert sdk.predictions.get(slow["_id"])["status"] == "SUCCESS"


def test_complete_predictions_lets_wait_return_without_sleeping(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=3600)
    job = sdk.predictions.create(name="wm_remove", input={"image": subject_png()})
    (completed,) = pixelbin_emulator.complete_predictions()
    assert completed["_id"] == job["_id"] and completed["status"] == "SUCCESS"
    assert sdk.predictions.wait(job["_id"])["status"] == "SUCCESS"
    pixelbin_emulator.assert_called("getPrediction", times=1)  # one poll, no sleep


def test_another_org_cannot_see_the_job(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    job = sdk.predictions.create(name="af_remove", input={"image": subject_png()})
    stranger = pixelbin_emulator.emulator.create_org()
    try:
        other = PixelbinClient(
            PixelbinConfig({"domain": pixelbin_emulator.url, "apiSecret": stranger.api_secret})
        )
        expect_error(404, other.predictions.get, request_id=job["_id"])
    finally:
        pixelbin_emulator.emulator.drop_org(stranger.org_id)


def test_outputs_are_served_for_the_retention_period(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.freeze_time()
    job = sdk.predictions.create(name="af_remove", input={"image": subject_png()})
    (done,) = pixelbin_emulator.complete_predictions()
    assert fetch(done["output"][0]).status_code == 200
    assert fetch(done["output"][0].replace("/30d/", "/7d/")).status_code == 404
    pixelbin_emulator.advance_time(30 * 24 * 3600 + 1)
    assert fetch(done["output"][0]).status_code == 404
    assert fetch(job["input"]["image"]).status_code == 404


# -- usage --------------------------------------------------------------------------------------


def test_past_the_credit_limit_create_is_usage_blocked(
    predictions: Any, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=0, creditLimit=1)
    first = predictions.create(name="af_remove", input={"image": subject_png()})
    with pytest.raises(PixelbinServerResponseError) as caught:
        predictions.create(name="af_remove", input={"image": subject_png()})
    assert caught.value.status_code == 403
    assert sdk_error(caught.value) == {
        "message": "Usage Limit Exceeded",
        "status": 403,
        "errorCode": "JR-1000",
        "exception": "UsageBlockedError",
        "info": "https://fynd.engineering/erasebg/docs/error/1000",
    }
    assert [job["_id"] for job in pixelbin_emulator.prediction_jobs()] == [first["_id"]]
    assert pixelbin_emulator.prediction_settings()["creditsUsed"] == 1
    pixelbin_emulator.prediction_settings(creditLimit=None)
    assert predictions.create(name="af_remove", input={"image": subject_png()})["_id"]


# -- webhooks -----------------------------------------------------------------------------------


def test_the_webhook_gets_the_final_job_and_non_2xx_is_retried(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle, receiver: Receiver
) -> None:
    pixelbin_emulator.prediction_settings(latency=0, webhookRetryDelay=0.05)
    receiver.answers = [500, 503]
    job = sdk.predictions.create(
        name="erase_bg", input={"image": subject_png()}, webhook=receiver.url
    )
    delivery = pixelbin_emulator.wait_for_webhook(job["_id"])
    assert delivery["attempt"] == 3 and delivery["status"] == 200
    attempts = pixelbin_emulator.webhook_deliveries(job["_id"])
    assert [(a["attempt"], a["status"], a["delivered"]) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert [a["retryIn"] for a in attempts] == [0.05, 0.1, None]
    final = sdk.predictions.get(job["_id"])
    assert receiver.received == [final, final, final]
    assert final["status"] == "SUCCESS"
    outgoing = pixelbin_emulator.requests(operation="webhookDelivery")
    assert [entry["status"] for entry in outgoing] == [500, 503, 200]
    assert outgoing[0]["path"] == receiver.url


def test_webhook_retries_are_bounded(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle, receiver: Receiver
) -> None:
    pixelbin_emulator.prediction_settings(latency=0, webhookRetryDelay=0.01)
    receiver.answers = [500] * 10
    job = sdk.predictions.create(
        name="af_remove", input={"image": subject_png()}, webhook=receiver.url
    )
    pixelbin_emulator.complete_predictions()
    for _ in range(100):
        attempts = pixelbin_emulator.webhook_deliveries(job["_id"])
        if attempts and attempts[-1]["retryIn"] is None:
            break
        pixelbin_emulator.wait_for_webhook(job["_id"], delivered=False, timeout=1)
        threading.Event().wait(0.02)
    assert len(attempts) == 5 and not any(a["delivered"] for a in attempts)
    assert len(receiver.received) == 5


def test_a_remote_webhook_is_not_called_without_allow_fetch(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle
) -> None:
    pixelbin_emulator.prediction_settings(latency=0)
    job = sdk.predictions.create(
        name="af_remove", input={"image": subject_png()}, webhook="https://example.com/webhook"
    )
    delivery = pixelbin_emulator.wait_for_webhook(job["_id"], delivered=None)
    assert delivery["delivered"] is False and delivery["status"] is None
    assert "not a loopback URL" in delivery["error"] and delivery["retryIn"] is None
    assert sdk.predictions.get(job["_id"])["status"] == "SUCCESS"


def test_a_webhook_that_is_not_a_url_is_a_400(sdk: PixelbinClient) -> None:
    expect_error(
        400,
        sdk.predictions.create,
        name="af_remove",
        input={"image": subject_png()},
        webhook="ftp://example.com",
    )


# -- control plane and CLI ----------------------------------------------------------------------


def test_the_control_plane_drives_jobs(
    sdk: PixelbinClient, pixelbin_emulator: EmulatorHandle, pixelbin_control: ControlClient
) -> None:
    org_id = pixelbin_emulator.org_id
    settings = pixelbin_control.set_prediction_settings(
        org_id, latency=60, modelLatency={"erase_bg": 120}, creditLimit=5
    )
    assert settings == {
        "orgId": org_id,
        "latency": 60.0,
        "modelLatency": {"erase_bg": 120.0},
        "creditLimit": 5,
        "webhookRetryDelay": 1.0,
        "creditsUsed": 0,
    }
    job = sdk.predictions.create(name="erase_bg", input={"image": subject_png()})
    (listed,) = pixelbin_control.prediction_jobs(org_id)
    assert listed["_id"] == job["_id"] and listed["status"] == "ACCEPTED" and "dueAt" in listed
    assert pixelbin_control.prediction_settings(org_id)["creditsUsed"] == 1
    (done,) = pixelbin_control.complete_predictions(org_id=org_id, job_id=job["_id"])
    assert done["status"] == "SUCCESS"
    assert pixelbin_control.webhook_deliveries(org_id=org_id) == []
    for bad in ({"latency": -1}, {"creditLimit": "many"}, {"colour": 1}, {"webhookRetryDelay": 99}):
        with pytest.raises(ControlError) as caught:
            pixelbin_control.set_prediction_settings(org_id, **bad)
        assert caught.value.status == 400
    with pytest.raises(ControlError) as caught:
        pixelbin_control.set_prediction_settings(org_id, modelLatency={"nope_model": 1})
    assert caught.value.status == 404
    with pytest.raises(ControlError) as caught:
        pixelbin_control.complete_predictions(org_id=org_id, job_id="erase--bg--missing")
    assert caught.value.status == 404


def test_the_cli_sets_the_default_latency() -> None:
    assert parse_args([]).prediction_latency == 0.5
    assert parse_args(["--prediction-latency", "2"]).prediction_latency == 2.0
    with pytest.raises(click.BadParameter, match="not in the range"):
        parse_args(["--prediction-latency", "-1"])


def test_multipart_bodies_with_repeated_or_misplaced_fields_are_400(
    pixelbin_emulator: EmulatorHandle,
) -> None:
    token = base64.b64encode(pixelbin_emulator.api_secret.encode()).decode()
    url = f"{pixelbin_emulator.url}/service/platform/transformation/v1.0/predictions/erase/bg"
    headers = {"Authorization": f"Bearer {token}"}
    cases = [
        {"files": {"input.image": ("a.png", io.BytesIO(subject_png()))}, "data": {"x": "1"}},
        {"files": {"input.shadow": ("a.png", io.BytesIO(b"1"))}, "data": {"input.image": "a"}},
        {"data": [("input.image", "https://a/1.png"), ("input.image", "https://a/2.png")]},
    ]
    for case in cases:
        response = requests.post(url, headers=headers, timeout=10, **case)
        assert response.status_code == 400, response.text
    response = requests.post(url, headers=headers, data=b"x", timeout=10)
    assert response.status_code == 400
    assert pixelbin_emulator.prediction_jobs() == []


def test_concurrent_creates_never_pass_the_credit_limit(pixelbin_emulator: EmulatorHandle) -> None:
    pixelbin_emulator.prediction_settings(creditLimit=3)
    token = base64.b64encode(pixelbin_emulator.api_secret.encode()).decode()
    url = f"{pixelbin_emulator.url}/service/platform/transformation/v1.0/predictions/af/remove"
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        response = requests.post(
            url,
            headers={"Authorization": f"Bearer {token}"},
            files={"input.image": ("a.png", subject_png(200, 150))},
            timeout=30,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 3 + [403] * 5
    assert len(pixelbin_emulator.prediction_jobs()) == 3
