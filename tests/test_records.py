"""Records are replaced, never changed in place: frozen by construction, and every store puts a
new record where the old one was (the one a reader or a change sink already holds stays as it
was), including when a snapshot's record without a ``seq`` is numbered on restore."""

from __future__ import annotations

import dataclasses

import pytest

from pixelbin_emulator.core.changes import CREDENTIALS, PRESET, Change
from pixelbin_emulator.core.credentials import CredentialSet
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.predictions import Delivery, Job
from pixelbin_emulator.core.presets import Preset
from pixelbin_emulator.core.records import File, Folder

from .helpers import png

RESIZE = "t.resize(w:10)"


class Recorder:
    """A change sink that keeps every published change."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def publish(self, changes: list[Change]) -> None:
        self.changes.extend(changes)

    def checkpoint(self) -> None:
        return None

    def wait(self) -> None:
        return None


@pytest.fixture
def org_and_sink():
    emulator = Emulator()
    sink = Recorder()
    emulator.attach(sink)
    return emulator.create_org(), sink


@pytest.mark.parametrize("record", [Folder, File, Preset, CredentialSet])
def test_every_record_is_frozen_with_slots(record):
    assert record.__dataclass_params__.frozen
    assert "__slots__" in vars(record)


@pytest.mark.parametrize("record", [Job, Delivery])
def test_prediction_records_are_replaced_not_mutated(record):
    """A job is read (and serialized) outside the store's lock while the store settles it;
    regression: it was mutated in place, status before error, so a reader could see a failed
    job with no error."""
    assert record.__dataclass_params__.frozen


def test_a_preset_update_stores_a_new_record_and_publishes_it(org_and_sink):
    org, sink = org_and_sink
    before = org.presets.add("thumb", RESIZE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.archived = True  # type: ignore[misc]
    after = org.presets.update("thumb", archived=True)
    assert after is not before and before.archived is False and after.archived is True
    assert (after.id, after.seq, after.created_at) == (before.id, before.seq, before.created_at)
    assert org.presets.get("thumb") is after
    assert [c.record for c in sink.changes if c.kind == PRESET] == [before, after]


def test_a_credentials_update_stores_a_new_record_and_publishes_it(org_and_sink):
    org, sink = org_and_sink
    before = org.plugin_credentials.add("awsRek", {"accessKeyId": "one"})
    after = org.plugin_credentials.update("awsRek", {"accessKeyId": "two"})
    assert after is not before and before.credentials == {"accessKeyId": "one"}
    assert after.credentials == {"accessKeyId": "two"} and after.seq == before.seq
    assert org.plugin_credentials.get("awsRek") is after
    assert [c.record for c in sink.changes if c.kind == CREDENTIALS] == [before, after]


def test_restore_numbers_a_copy_and_leaves_the_given_record_alone(org_and_sink):
    org, sink = org_and_sink
    org.assets.create_folder("first")
    folder = Folder("f-1", "docs", "", 1.0, 1.0, seq=0)
    stored = org.assets.restore(folder)
    assert folder.seq == 0 and stored.seq == 2 and org.assets.get_folder("", "docs") is stored
    file = dataclasses.replace(_file(), path="docs")
    stored_file = org.assets.restore(file)
    assert file.seq == 0 and stored_file.seq == 3
    assert org.assets.get_file("docs/a") is stored_file

    preset = Preset("p-1", "thumb", RESIZE, {}, 1.0, 1.0, seq=0)
    stored_preset = org.presets.restore(preset)
    assert preset.seq == 0 and stored_preset.seq == 1 and org.presets.get("thumb") is stored_preset

    entry = CredentialSet("c-1", "awsRek", {"k": "v"}, 1.0, 1.0, seq=0)
    stored_entry = org.plugin_credentials.restore(entry)
    assert entry.seq == 0 and stored_entry.seq == 1
    assert org.plugin_credentials.get("awsRek") is stored_entry

    published = [c.record for c in sink.changes]
    assert all(r in published for r in (stored, stored_file, stored_preset, stored_entry))
    assert not any(r in published for r in (folder, file, preset, entry))


def _file() -> File:
    data = png()
    return File(
        id="file-1",
        name="a",
        path="",
        data=data,
        format="png",
        asset_type="image",
        content_type="image/png",
        width=1,
        height=1,
        etag="e",
        created_at=1.0,
        updated_at=1.0,
        seq=0,
    )
