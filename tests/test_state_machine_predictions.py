"""Stateful property test of prediction jobs on a frozen clock.

A reference model, written independently of ``core/predictions.py``, tracks each job's due time
and expected outcome, the per-model latencies, the credit limit and the fault rules aimed at
jobs. Rules create jobs (good, invalid and undecodable input, unknown models), change settings,
advance the clock, add fault rules and complete pending jobs; after each, the emulator must agree
with the model on every job's status, on the credits used and on what create answers.

Every rule that may make a job due ends by reading the jobs, which completes the due ones then
and there (in creation order), so the background thread cannot complete them later, after a
fault rule the model applies only to later completions.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.emulator import Emulator

from .helpers import png

SECRET = "predictions-machine-secret"
PREDICTIONS = "/service/platform/transformation/v1.0/predictions"
MODELS = ["af_remove", "erase_bg", "sr_upscale"]
DEFAULT_LATENCY = 0.5  # Settings' default


class PredictionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.emulator = Emulator()
        self.org = self.emulator.create_org(api_secret=SECRET)
        self.emulator.clock.freeze()
        self.client = create_app(self.emulator).test_client()
        token = base64.b64encode(SECRET.encode()).decode()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.now = 0.0  # seconds advanced since the start
        self.latency: float | None = None
        self.model_latency: dict[str, float] = {}
        self.limit: int | None = None
        self.faults = dict.fromkeys(MODELS, 0)  # fault rules not yet fired, per model
        # id -> {"model", "due", "outcome", "status"}, in creation order
        self.jobs: dict[str, dict[str, Any]] = {}

    def teardown(self) -> None:
        self.emulator.predictions.close()

    # -- helpers ---------------------------------------------------------------------------

    def settle(self) -> None:
        """Read the jobs (completing the due ones), and complete the model's the same way."""
        response = self.client.get(f"/_emulator/predictions?orgId={self.org.org_id}")
        assert response.status_code == 200
        for job in self.jobs.values():
            if job["status"] == "ACCEPTED" and job["due"] <= self.now + 1e-9:
                if self.faults[job["model"]] > 0:
                    self.faults[job["model"]] -= 1
                    job["status"] = "FAILURE"
                else:
                    job["status"] = job["outcome"]

    def used(self) -> int:
        return sum(1 for job in self.jobs.values() if job["status"] != "FAILURE")

    def latency_of(self, model: str) -> float:
        if model in self.model_latency:
            return self.model_latency[model]
        return DEFAULT_LATENCY if self.latency is None else self.latency

    def put_settings(self, **settings: Any) -> None:
        body = {"orgId": self.org.org_id, **settings}
        response = self.client.put("/_emulator/predictions/settings", json=body)
        assert response.status_code == 200, response.get_json()

    # -- rules -----------------------------------------------------------------------------

    @rule(
        model=st.sampled_from([*MODELS, "nope_model"]),
        kind=st.sampled_from(["ok", "ok", "garbage", "missing", "bad"]),
    )
    def create(self, model: str, kind: str) -> None:
        plugin, _, operation = model.partition("_")
        image = png(12, 8) if kind != "garbage" else b"\x89PNG\r\n\x1a\nnot really"
        data: dict[str, Any] = {}
        if kind != "missing":
            data["input.image"] = (io.BytesIO(image), "in.png")
        if kind == "bad":
            data["input.colour"] = "red"
        response = self.client.post(
            f"{PREDICTIONS}/{plugin}/{operation}",
            data=data,
            headers=self.headers,
            content_type="multipart/form-data",
        )
        body = response.get_json()
        if model not in MODELS:
            assert response.status_code == 404, body
        elif kind in ("missing", "bad"):
            assert response.status_code == 400, body
        elif self.limit is not None and self.used() + 1 > self.limit:
            assert response.status_code == 403, body
            assert body["errorCode"] == "JR-1000"
        else:
            assert response.status_code == 200, body
            assert body["status"] == "ACCEPTED"
            self.jobs[body["_id"]] = {
                "model": model,
                "due": self.now + self.latency_of(model),
                "outcome": "SUCCESS" if kind == "ok" else "FAILURE",
                "status": "ACCEPTED",
            }
        self.settle()

    @rule(seconds=st.sampled_from([0.25, 0.5, 1.0, 3.0, 10.0]))
    def advance(self, seconds: float) -> None:
        response = self.client.post("/_emulator/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200
        self.now += seconds
        self.settle()

    @rule(latency=st.sampled_from([None, 0, 1, 5]))
    def set_latency(self, latency: float | None) -> None:
        self.put_settings(latency=latency)
        self.latency = latency

    @rule(model=st.sampled_from(MODELS), latency=st.sampled_from([None, 0, 2]))
    def set_model_latency(self, model: str, latency: float | None) -> None:
        self.put_settings(modelLatency={model: latency})
        if latency is None:
            self.model_latency.pop(model, None)
        else:
            self.model_latency[model] = latency

    @rule(limit=st.sampled_from([None, 0, 1, 3, 6]))
    def set_limit(self, limit: int | None) -> None:
        self.put_settings(creditLimit=limit)
        self.limit = limit

    @rule(model=st.sampled_from(MODELS))
    def fail_next(self, model: str) -> None:
        rule_doc = {
            "operation": "runPrediction",
            "path": f"/predictions/{model}/*",
            "orgId": self.org.org_id,
            "status": 500,
            "times": 1,
        }
        assert self.client.post("/_emulator/faults", json=rule_doc).status_code == 201
        self.faults[model] += 1

    @rule()
    def complete(self) -> None:
        response = self.client.post(
            "/_emulator/predictions/complete", json={"orgId": self.org.org_id}
        )
        assert response.status_code == 200
        completed = [job["_id"] for job in response.get_json()["items"]]
        pending = [key for key, job in self.jobs.items() if job["status"] == "ACCEPTED"]
        assert completed == pending
        for key in pending:
            self.jobs[key]["due"] = self.now
        self.settle()

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def jobs_agree_with_the_model(self) -> None:
        for key, job in self.jobs.items():
            response = self.client.get(f"{PREDICTIONS}/{key}", headers=self.headers)
            body = response.get_json()
            assert response.status_code == 200, body
            assert body["status"] == job["status"], (key, body, job)
            assert ("output" in body) == (job["status"] == "SUCCESS")
            assert ("error" in body) == (job["status"] == "FAILURE")

    @invariant()
    def credits_agree_with_the_model(self) -> None:
        response = self.client.get(f"/_emulator/predictions/settings?orgId={self.org.org_id}")
        assert response.get_json()["creditsUsed"] == self.used()


TestPredictionMachine = PredictionMachine.TestCase
