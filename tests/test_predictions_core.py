"""core/predictions.py without HTTP: models from the catalogue, input typing, ids, bounds."""

from __future__ import annotations

import uuid

import pytest

from pixelbin_emulator.core import predictions
from pixelbin_emulator.core.clock import Clock
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import NotFoundError, ValidationError
from pixelbin_emulator.core.faults import Faults
from pixelbin_emulator.core.ids import IdFactory
from pixelbin_emulator.core.journal import Journal
from pixelbin_emulator.core.transformations import load_catalogue

from .helpers import png


def store() -> predictions.Predictions:
    clock = Clock()
    clock.freeze(1_756_461_976.708)  # the README's createdAt, 2025-08-29T10:06:16.708Z
    return predictions.Predictions(clock, IdFactory(1), Faults(), Journal())


def test_every_ai_module_of_the_catalogue_is_a_model_with_its_parameters() -> None:
    catalogue = load_catalogue()
    models = predictions.default_models()
    for plugin_id, plugin in catalogue.plugins.items():
        if plugin_id == "t":
            continue
        for op in plugin["operations"]:
            model = models[f"{plugin_id}_{op['method']}"]
            params = {f.param: f for f in model.fields if f.param}
            assert set(params) == {p["identifier"] for p in op["params"]}
            for param in op["params"]:
                field = params[param["identifier"]]
                assert field.default == param.get("default")
                assert list(field.enum) == param.get("enum", [])
                assert (field.minimum, field.maximum) == (param.get("min"), param.get("max"))


def test_inputs_are_typed_by_the_schema() -> None:
    model = predictions.model("awsRek_detectLabels")
    typed = predictions.check_input(model, {"maximum_labels": "7", "minimum_confidence": 10})
    assert typed == {"maximum_labels": 7, "minimum_confidence": 10}
    erase = predictions.model("erase_bg")
    assert predictions.check_input(erase, {"shadow": "true", "refine": False}) == {
        "shadow": True,
        "refine": False,
    }
    for bad in ({"maximum_labels": "11"}, {"maximum_labels": True}, {"minimum_confidence": "x"}):
        with pytest.raises(ValidationError):
            predictions.check_input(model, bad)
    with pytest.raises(ValidationError, match="one value"):
        predictions.check_input(erase, {"shadow": ["true", "false"]})


def test_job_ids_are_uuid7_from_the_emulator_clock() -> None:
    jobs = store()
    job = jobs.create(
        1,
        predictions.model("af_remove"),
        {},
        predictions.ImageSource(png(), uploaded=True),
        base_url="http://emulator",
        default_latency=0,
    )
    value = uuid.UUID(job.uuid)
    assert value.version == 7
    assert value.int >> 80 == 1_756_461_976_708
    assert job.id == f"af--remove--{job.uuid}"
    assert job.uuid.startswith("0198f54a-cc84-7")  # as the README's example id
    jobs.close()


def test_an_org_keeps_a_bounded_number_of_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(predictions, "MAX_JOBS_PER_ORG", 3)
    jobs = store()
    model = predictions.model("af_remove")
    created = [
        jobs.create(
            1,
            model,
            {},
            predictions.ImageSource(png(), uploaded=True),
            base_url="http://emulator",
            default_latency=0,
        )
        for _ in range(5)
    ]
    kept = [job.id for job in jobs.jobs(1)]
    assert kept == [job.id for job in created[2:]]
    with pytest.raises(NotFoundError):
        jobs.output(created[0].uuid, "af", "remove", "result_0.png")
    jobs.close()


def test_dropping_the_org_or_resetting_forgets_its_jobs() -> None:
    emulator = Emulator()
    org = emulator.create_org()
    model = predictions.model("af_remove")

    def create() -> predictions.Job:
        return emulator.predictions.create(
            org.org_id,
            model,
            {},
            predictions.ImageSource(png(), uploaded=True),
            base_url="http://emulator",
            default_latency=60,
        )

    job = create()
    emulator.drop_org(org.org_id)
    assert emulator.predictions.jobs() == []
    with pytest.raises(NotFoundError):
        emulator.predictions.input_file(job.uuid, "af", "remove", "image")
    org = emulator.create_org()
    create()
    before = emulator.predictions
    emulator.reset()
    assert emulator.predictions is not before and emulator.predictions.jobs() == []
