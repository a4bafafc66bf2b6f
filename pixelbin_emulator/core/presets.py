"""An org's presets: named transformations that CDN URLs use as ``p:name``.

A preset's transformation is parsed and validated against the module catalogue when it is
added, so a URL that names the preset can rely on it. Only the ``params`` entries that the
transformation actually uses as ``$variables`` are kept: the real service answered ``params:{}``
for ``t.flip()~t.flop()`` sent with ``{w, h}`` declarations, and echoed them for
``t.resize(w:$w,h:$h)``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import json_values, transformations
from .changes import PRESET
from .errors import ConflictError, NotFoundError, ValidationError
from .ids import IdFactory
from .listing import Page, check_paging, paginate, parse_sort, sort_entries
from .transformations import Catalogue, Operation, TransformationError

# What a ``p:name`` reference may contain (see transformations._PRESET_NAME).
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_LENGTH = 255
SORT_KEYS = ("presetName", "transformation", "archived", "createdAt", "updatedAt")


@dataclass(frozen=True, slots=True, eq=False)
class Preset:
    """Frozen: an update stores a new record in place of the old (see :mod:`.records`)."""

    id: str
    name: str
    transformation: str
    params: dict[str, Any]
    created_at: float
    updated_at: float
    seq: int
    archived: bool = False
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class PresetQuery:
    """getPresets: substring filters on name and transformation, equality on archived."""

    name: str | None = None
    transformation: str | None = None
    archived: bool | None = None
    page_no: int | None = None
    page_size: int | None = None
    sort: tuple[str, ...] = ()


def check_name(name: Any) -> str:
    """A preset name is what follows ``p:`` in a URL, so it uses that grammar."""
    if not isinstance(name, str) or not name:
        raise ValidationError("presetName is required")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"presetName is longer than {MAX_NAME_LENGTH} characters")
    if not _NAME.fullmatch(name):
        raise ValidationError(f"presetName {name!r} may only contain letters, digits, '_' and '-'")
    return name


def check_transformation(
    transformation: Any, params: Mapping[str, Any] | None, catalogue: Catalogue
) -> dict[str, Any]:
    """Validate a preset's transformation and params; returns the params worth keeping.

    Each variable's declared ``default`` is validated as if it stood in the URL in place of
    ``$name``, so ``{"w": {"default": "big"}}`` for ``t.resize(w:$w)`` is refused.
    """
    if transformation is None or transformation == "":
        raise ValidationError("transformation is required")
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError("params must be an object")
    json_values.check(params, "params")
    declared = dict(params or {})
    for key, spec in declared.items():
        if not _VARIABLE.fullmatch(key):
            raise ValidationError(f"params key {key!r} is not a valid variable name")
        if not isinstance(spec, Mapping):
            raise ValidationError(f"params[{key!r}] must be an object such as {{type, default}}")
        if "type" in spec and not isinstance(spec["type"], str):
            raise ValidationError(f"params[{key!r}].type must be a string")
    try:
        ops = transformations.parse(transformation)
        if not ops:
            raise TransformationError("a preset needs at least one operation, not 'original'")
        for op in ops:
            if op.is_preset:
                raise TransformationError(
                    f"a preset cannot use another preset ('{op}' in '{transformation}')"
                )
        # Unknown parameters pass: the docs' getPresets example holds t.resize(a:0) ... (a:9).
        transformations.validate(ops, catalogue, declared, unknown_params=True)
        defaults = {
            k: spec["default"] for k, spec in declared.items() if spec.get("default") is not None
        }
        if defaults:
            transformations.validate(
                [_substitute(op, defaults) for op in ops],
                catalogue,
                declared,
                unknown_params=True,
            )
    except TransformationError as exc:
        raise ValidationError(f"invalid transformation: {exc}") from None
    used = transformations.variables(ops)
    return {key: spec for key, spec in declared.items() if key in used}


def _wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _substitute(op: Operation, defaults: Mapping[str, Any]) -> Operation:
    values = tuple(
        (key, _wire_value(defaults[value[1:]]))
        if value.startswith("$") and value[1:] in defaults
        else (key, value)
        for key, value in op.values
    )
    return replace(op, values=values)


def _sort_value(preset: Preset, key: str) -> Any:
    return {
        "presetName": preset.name,
        "transformation": preset.transformation,
        "archived": preset.archived,
        "createdAt": preset.created_at,
        "updatedAt": preset.updated_at,
    }[key]


@dataclass(eq=False)
class PresetStore:
    """Presets of one org, by name. Every public method holds the org lock."""

    lock: threading.RLock
    ids: IdFactory
    now: Callable[[], float]
    catalogue: Catalogue
    #: Told ``[(kind, preset, removed)]`` after each change (see :mod:`.changes`).
    report: Callable[[list[tuple[str, Any, bool]]], None] = lambda changes: None
    _by_name: dict[str, Preset] = field(default_factory=dict, init=False)
    _seq: int = field(default=0, init=False)

    def add(self, name: Any, transformation: Any, params: Any = None) -> Preset:
        name = check_name(name)
        kept = check_transformation(transformation, params, self.catalogue)
        with self.lock:
            if name in self._by_name:
                raise ConflictError(f"a preset named {name!r} already exists")
            self._seq += 1
            now = self.now()
            preset = Preset(self.ids.uuid(), name, transformation, kept, now, now, self._seq)
            self._by_name[name] = preset
            self.report([(PRESET, preset, False)])
            return preset

    def get(self, name: str) -> Preset:
        with self.lock:
            try:
                return self._by_name[name]
            except KeyError:
                raise NotFoundError(f"preset {name!r} not found") from None

    def find(self, name: str) -> Preset | None:
        """The preset called ``name``, or None (for the CDN, which reports its own error)."""
        with self.lock:
            return self._by_name.get(name)

    def update(self, name: str, *, archived: bool) -> Preset:
        with self.lock:
            preset = replace(self.get(name), archived=archived, updated_at=self.now())
            self._by_name[name] = preset
            self.report([(PRESET, preset, False)])
            return preset

    def delete(self, name: str) -> Preset:
        with self.lock:
            preset = self.get(name)
            del self._by_name[name]
            self.report([(PRESET, preset, True)])
            return preset

    def all(self) -> list[Preset]:
        """Every preset in creation order."""
        with self.lock:
            return sorted(self._by_name.values(), key=lambda p: p.seq)

    def list(self, query: PresetQuery) -> Page:
        page_no, page_size = check_paging(query.page_no, query.page_size)
        keys = [parse_sort(raw, SORT_KEYS) for raw in query.sort]
        needle = query.name.lower() if query.name else None
        with self.lock:
            selected = [
                p
                for p in self._by_name.values()
                if (needle is None or needle in p.name.lower())
                and (not query.transformation or query.transformation in p.transformation)
                and (query.archived is None or p.archived == query.archived)
            ]
            ordered = sort_entries(selected, keys, _sort_value, lambda p: p.seq)
        return paginate(ordered, page_no, page_size)

    def restore(self, preset: Preset) -> Preset:
        """Put back a preset from a snapshot as it was (the transformation is re-validated);
        the record stored, numbered next if ``preset`` has no ``seq``."""
        check_name(preset.name)
        check_transformation(preset.transformation, preset.params, self.catalogue)
        with self.lock:
            if preset.name in self._by_name:
                raise ConflictError(f"preset {preset.name!r} appears twice")
            if preset.seq > 0:
                self._seq = max(self._seq, preset.seq)
            else:
                self._seq += 1
                preset = replace(preset, seq=self._seq)
            self._by_name[preset.name] = preset
            self.report([(PRESET, preset, False)])
            return preset
