"""Transformation strings: parse, validate against the module catalogue, print.

A transformation is what addPreset stores and what a CDN URL carries as its pattern:
operations joined by ``~``, each ``plugin.op(key:value,key2:value2)`` or a preset
reference ``p:name`` / ``p:name(key:value)``. The grammar follows the SDK's
``pixelbin/utils/url.py`` (``,`` between parameters, ``:`` between key and value),
but is stricter where the SDK silently drops or mangles input, because the emulator
must reject what the server would reject instead of storing garbage.

Pure Python on purpose (no Flask): the API layer and the tests import it directly.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "Catalogue",
    "Operation",
    "TransformationError",
    "load_catalogue",
    "parse",
    "to_string",
    "validate",
    "variables",
]

OPERATION_SEPARATOR = "~"
PARAMETER_SEPARATOR = ","
KEY_VALUE_SEPARATOR = ":"
PRESET_PLUGIN = "p"
ORIGINAL = "original"
# pixelbin.io/docs/limits: "Max number of transformations in a preset: 15".
DEFAULT_MAX_OPERATIONS = 15

_IDENT = re.compile(r"[A-Za-z0-9_]+")
_PRESET_NAME = re.compile(r"[A-Za-z0-9_-]+")
_KEY = re.compile(r"[A-Za-z0-9_]+")
# Values end up in one URL path segment, so the grammar's own separators, path and
# query delimiters and whitespace cannot appear in them.
_VALUE = re.compile(r"[^\s:,()~/?#]+")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_COLOR = re.compile(r"(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})")


class TransformationError(ValueError):
    """A transformation string is malformed or does not fit the catalogue.

    Subclasses ValueError so callers that only care about "bad input" need not import it;
    the message always quotes the offending part so it can go straight into a 400 body.
    """


@dataclass(frozen=True)
class Operation:
    """One step of a transformation, kept as raw strings so printing it is lossless."""

    plugin: str
    name: str
    values: tuple[tuple[str, str], ...] = ()

    @property
    def is_preset(self) -> bool:
        """True for a preset reference (``p:name``), which the catalogue does not describe."""
        return self.plugin == PRESET_PLUGIN

    def __str__(self) -> str:
        return _op_to_string(self)


@dataclass(frozen=True)
class Catalogue:
    """The getModules document: ``{"delimiters": {...}, "plugins": {identifier: plugin}}``."""

    delimiters: dict
    plugins: dict

    def operation(self, plugin: str, method: str) -> dict | None:
        """The operation object whose ``method`` is the name URLs use, or None."""
        spec = self.plugins.get(plugin)
        if not isinstance(spec, Mapping):
            return None
        for op in spec.get("operations", []):
            if op.get("method") == method:
                return op
        return None


def _default_catalogue_text() -> str:
    return resources.files("pixelbin_emulator").joinpath("data", "modules.json").read_text("utf-8")


def load_catalogue(path: str | os.PathLike | None = None) -> Catalogue:
    """Load the module catalogue; without a path, the copy shipped in ``pixelbin_emulator/data``."""
    if path is None:
        raw = json.loads(_default_catalogue_text())
    else:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    if not isinstance(raw, dict) or not isinstance(raw.get("plugins"), dict):
        # A bad file is bad content, not a wrong Python type: ValueError, like json's own errors.
        raise ValueError("module catalogue must be an object with a 'plugins' object")
    delimiters = raw.get("delimiters") or {
        "operationSeparator": "~",
        "parameterSeparator": ",",
    }
    return Catalogue(delimiters=dict(delimiters), plugins=dict(raw["plugins"]))


# --------------------------------------------------------------------------- parsing


def parse(transformation: str) -> list[Operation]:
    """Split a transformation into operations, checking syntax only.

    ``original`` (the URL pattern for "no transformation") gives ``[]``, as in the SDK.
    Plugin operations need parentheses (``t.flip()``): the SDK's url_to_obj fails on
    ``t.flip``. Preset references may omit them (``p:name``), as the SDK writes them.
    """
    if not isinstance(transformation, str):
        raise TransformationError(
            f"transformation must be a string, not {type(transformation).__name__}"
        )
    if transformation == "":
        raise TransformationError("empty transformation")
    if transformation == ORIGINAL:
        return []
    return [
        _parse_operation(part, transformation) for part in transformation.split(OPERATION_SEPARATOR)
    ]


def _parse_operation(text: str, whole: str) -> Operation:
    if text == "":
        raise TransformationError(f"empty operation in '{whole}'")
    if text.startswith(PRESET_PLUGIN + KEY_VALUE_SEPARATOR):
        head, body = _split_call(text, required=False)
        name = head[len(PRESET_PLUGIN) + 1 :]
        if not name:
            raise TransformationError(f"missing preset name in '{text}'")
        if not _PRESET_NAME.fullmatch(name):
            raise TransformationError(f"invalid preset name '{name}' in '{text}'")
        return Operation(PRESET_PLUGIN, name, _parse_values(body, text))
    head, body = _split_call(text, required=True)
    if "." not in head:
        raise TransformationError(f"missing '.' between plugin and operation in '{text}'")
    plugin, _, name = head.partition(".")
    if not plugin:
        raise TransformationError(f"missing plugin in '{text}'")
    if not name:
        raise TransformationError(f"missing operation name in '{text}'")
    if not _IDENT.fullmatch(plugin):
        raise TransformationError(f"invalid plugin identifier '{plugin}' in '{text}'")
    if not _IDENT.fullmatch(name):
        raise TransformationError(f"invalid operation name '{name}' in '{text}'")
    return Operation(plugin, name, _parse_values(body, text))


def _split_call(text: str, *, required: bool) -> tuple[str, str | None]:
    """Split ``head(body)`` into head and body; body is None when there are no parentheses."""
    opens, closes = text.count("("), text.count(")")
    if opens == 0 and closes == 0:
        if required:
            raise TransformationError(f"missing '(' in '{text}'")
        return text, None
    if opens != 1 or closes != 1 or not text.endswith(")") or text.index("(") > text.index(")"):
        raise TransformationError(f"unbalanced parentheses in '{text}'")
    start = text.index("(")
    return text[:start], text[start + 1 : -1]


def _parse_values(body: str | None, text: str) -> tuple[tuple[str, str], ...]:
    if not body:
        return ()
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in body.split(PARAMETER_SEPARATOR):
        if item == "":
            raise TransformationError(f"empty parameter in '{text}'")
        colons = item.count(KEY_VALUE_SEPARATOR)
        if colons == 0:
            raise TransformationError(f"parameter '{item}' has no ':' in '{text}'")
        if colons > 1:
            raise TransformationError(f"parameter '{item}' has more than one ':' in '{text}'")
        key, _, value = item.partition(KEY_VALUE_SEPARATOR)
        if key == "":
            raise TransformationError(f"empty key in parameter '{item}' in '{text}'")
        if not _KEY.fullmatch(key):
            raise TransformationError(f"invalid key '{key}' in '{text}'")
        if value == "":
            raise TransformationError(f"empty value for '{key}' in '{text}'")
        if not _VALUE.fullmatch(value):
            raise TransformationError(f"invalid value '{value}' for '{key}' in '{text}'")
        if key in seen:
            raise TransformationError(f"duplicate parameter '{key}' in '{text}'")
        seen.add(key)
        pairs.append((key, value))
    return tuple(pairs)


# --------------------------------------------------------------------------- printing


def _op_to_string(op: Operation) -> str:
    params = PARAMETER_SEPARATOR.join(f"{k}{KEY_VALUE_SEPARATOR}{v}" for k, v in op.values)
    if op.is_preset:
        return f"p:{op.name}({params})" if params else f"p:{op.name}"
    return f"{op.plugin}.{op.name}({params})"


def to_string(ops: Iterable[Operation]) -> str:
    """Canonical text, written the way the SDK's obj_to_url writes patterns."""
    ops = list(ops)
    if not ops:
        return ORIGINAL
    return OPERATION_SEPARATOR.join(_op_to_string(op) for op in ops)


def variables(ops: Iterable[Operation]) -> set[str]:
    """Names of the ``$variables`` the operations use (without the ``$``)."""
    return {value[1:] for op in ops for _, value in op.values if value.startswith("$")}


# --------------------------------------------------------------------------- validation


def validate(
    ops: list[Operation],
    catalogue: Catalogue,
    params: Mapping[str, Any] | None = None,
    max_operations: int = DEFAULT_MAX_OPERATIONS,
    *,
    presets: Container[str] | None = None,
    unknown_params: bool = False,
) -> None:
    """Check parsed operations against the catalogue; raise on the first problem.

    ``unknown_params``: accept a parameter the catalogue does not list for its operation (its
    value is kept as written), as addPreset does for the docs' own ``t.resize(a:0)``.

    ``params`` are the preset's declared variables (addPreset ``params``): every ``$name``
    value needs ``params["name"]``. ``presets``, when given, are the preset names a
    ``p:name`` reference may use; without it preset references are not looked up.
    """
    if len(ops) > max_operations:
        raise TransformationError(
            f"too many operations: {len(ops)} (at most {max_operations}) in '{to_string(ops)}'"
        )
    declared = params or {}
    for op in ops:
        text = _op_to_string(op)
        if op.is_preset:
            if presets is not None and op.name not in presets:
                raise TransformationError(f"unknown preset '{op.name}' in '{text}'")
            for key, value in op.values:
                _check_variable(key, value, declared, text)
            continue
        plugin = catalogue.plugins.get(op.plugin)
        if not isinstance(plugin, Mapping):
            raise TransformationError(f"unknown plugin '{op.plugin}' in '{text}'")
        if plugin.get("enabled") is False:
            raise TransformationError(f"plugin '{op.plugin}' is disabled in '{text}'")
        spec = catalogue.operation(op.plugin, op.name)
        if spec is None:
            raise TransformationError(f"unknown operation '{op.plugin}.{op.name}' in '{text}'")
        by_id = {p.get("identifier"): p for p in _params_of(spec)}
        for key, value in op.values:
            param = by_id.get(key)
            if param is None and unknown_params:
                _check_variable(key, value, declared, text)
                continue
            if param is None:
                raise TransformationError(
                    f"unknown parameter '{key}' for '{op.plugin}.{op.name}' in '{text}'"
                )
            if value.startswith("$"):
                _check_variable(key, value, declared, text)
                continue
            _check_value(key, value, param, text)


def _params_of(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    # The SDK docs example shows ``params`` as a single object; real responses use a list.
    raw = spec.get("params") or []
    if isinstance(raw, Mapping):
        raw = [raw]
    return [p for p in raw if isinstance(p, Mapping)]


def _check_variable(key: str, value: str, declared: Mapping[str, Any], text: str) -> None:
    if not value.startswith("$"):
        return
    name = value[1:]
    if not _VARIABLE.fullmatch(name):
        raise TransformationError(f"invalid variable '{value}' for '{key}' in '{text}'")
    if name not in declared:
        raise TransformationError(
            f"variable '{value}' for '{key}' is not defined in params in '{text}'"
        )


def _check_value(key: str, value: str, param: Mapping[str, Any], text: str) -> None:
    kind = param.get("type")
    where = f"for '{key}' in '{text}'"
    if kind == "integer":
        if not _INTEGER.fullmatch(value):
            raise TransformationError(f"value '{value}' {where} is not an integer")
        try:
            # int() refuses more digits than sys.get_int_max_str_digits() with ValueError.
            number = int(value)
        except ValueError:
            raise TransformationError(f"value '{value[:20]}...' {where} is too long") from None
        _check_range(number, value, param, where)
    elif kind == "float":
        if not _FLOAT.fullmatch(value):
            raise TransformationError(f"value '{value}' {where} is not a number")
        _check_range(float(value), value, param, where)
    elif kind == "enum":
        allowed = param.get("enum") or []
        if value not in allowed:
            raise TransformationError(
                f"value '{value}' {where} is not one of {', '.join(map(str, allowed))}"
            )
    elif kind == "boolean":
        if value not in ("true", "false"):
            raise TransformationError(f"value '{value}' {where} is not true or false")
    elif kind == "color" and not _COLOR.fullmatch(value):
        raise TransformationError(
            f"value '{value}' {where} is not a hex colour (RRGGBB or RRGGBBAA)"
        )
    # string, file, custom, bbox, bboxList, polygonList: free text within the value grammar.


def _check_range(number: float, value: str, param: Mapping[str, Any], where: str) -> None:
    low, high = param.get("min"), param.get("max")
    if low is not None and number < low:
        raise TransformationError(f"value '{value}' {where} is below the minimum {low}")
    if high is not None and number > high:
        raise TransformationError(f"value '{value}' {where} is above the maximum {high}")
