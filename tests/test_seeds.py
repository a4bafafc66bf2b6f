"""Reading seed files: what a bad one says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.seeds import MAX_DEPTH, read_seed


def test_a_seed_nested_too_deep_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    doc: object = {}
    for _ in range(MAX_DEPTH + 1):
        doc = [doc]
    seed = tmp_path / "deep.json"
    seed.write_text(json.dumps({"orgs": doc}), encoding="utf-8")
    with pytest.raises(ValidationError, match=f"nested more than {MAX_DEPTH} levels deep"):
        read_seed(seed)


def test_a_directory_means_its_default_json(tmp_path: Path) -> None:
    (tmp_path / "default.json").write_text('{"orgs": []}', encoding="utf-8")
    assert read_seed(tmp_path) == ({"orgs": []}, tmp_path)
