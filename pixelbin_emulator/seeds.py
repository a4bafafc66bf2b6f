"""Finding and reading seed files (state documents, see :mod:`.core.snapshot`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .core import json_values
from .core.emulator import Emulator
from .core.errors import ValidationError

_PACKAGE = Path(__file__).resolve().parent
DEFAULT_SEED_NAME = "default.json"
#: A state document nests a stored value (at most json_values.MAX_DEPTH) five levels down.
MAX_DEPTH = json_values.MAX_DEPTH + 8


def fixtures_dir() -> Path:
    """``fixtures/`` of a source checkout, or its copy packaged inside the wheel."""
    for candidate in (_PACKAGE.parent / "fixtures", _PACKAGE / "fixtures"):
        if (candidate / DEFAULT_SEED_NAME).is_file():
            return candidate
    raise FileNotFoundError("the default seed (fixtures/default.json) is not installed")


def read_seed(path: str | Path) -> tuple[dict[str, Any], Path]:
    """The document in a seed file and the directory its relative file sources live in."""
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_SEED_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read seed {str(path)!r}: {exc.strerror}") from None
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"seed {str(path)!r} is not valid JSON: {exc}") from None
    if json_values.depth(doc) > MAX_DEPTH:
        raise ValidationError(f"seed {str(path)!r} is nested more than {MAX_DEPTH} levels deep")
    return doc, path.parent


def default_emulator(seed: str | Path | None = None, **kwargs: Any) -> Emulator:
    """An emulator loaded with ``seed`` (default: ``fixtures/default.json``)."""
    doc, base_dir = read_seed(seed if seed is not None else fixtures_dir())
    return Emulator(doc, seed_dir=base_dir, **kwargs)
