"""Tests for pixelbin_emulator.core.transformations (parser, validator, catalogue)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pixelbin.utils.url import obj_to_url, url_to_obj

from pixelbin_emulator.core.transformations import (
    Catalogue,
    Operation,
    TransformationError,
    load_catalogue,
    parse,
    to_string,
    validate,
    variables,
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# --------------------------------------------------------------------------- catalogue


def test_catalogue_shape(catalogue: Catalogue) -> None:
    assert catalogue.delimiters == {
        "operationSeparator": "~",
        "parameterSeparator": ",",
    }
    for ident, plugin in catalogue.plugins.items():
        assert plugin["identifier"] == ident
        assert set(plugin) >= {
            "identifier",
            "name",
            "description",
            "credentials",
            "isHeavy",
            "operations",
            "enabled",
        }
        assert isinstance(plugin["credentials"]["required"], bool)
        for op in plugin["operations"]:
            assert set(op) == {"params", "displayName", "method", "description"}
            ids = [p["identifier"] for p in op["params"]]
            assert len(ids) == len(set(ids)), (ident, op["method"])
            for p in op["params"]:
                assert {"name", "type", "identifier"} <= set(p)
                if p["type"] == "enum":
                    assert p["enum"] and p.get("default", p["enum"][0]) in p["enum"]


def test_catalogue_required_plugins(catalogue: Catalogue) -> None:
    assert {"t", "erase", "awsRek", "remove", "sr", "wm"} <= set(catalogue.plugins)
    assert catalogue.plugins["awsRek"]["credentials"]["required"] is True
    assert catalogue.plugins["erase"]["credentials"]["required"] is False
    methods = {op["method"] for op in catalogue.plugins["t"]["operations"]}
    assert {
        "resize",
        "compress",
        "extend",
        "extract",
        "trim",
        "rotate",
        "flip",
        "flop",
        "sharpen",
        "blur",
        "merge",
        "toFormat",
    } <= methods
    resize = catalogue.operation("t", "resize")
    assert resize is not None
    assert {p["identifier"] for p in resize["params"]} == {
        "h",
        "w",
        "f",
        "b",
        "p",
        "k",
        "dpr",
    }


def test_catalogue_defaults_are_valid(catalogue: Catalogue) -> None:
    """Every documented default must pass the validator for its own parameter."""
    for ident, plugin in catalogue.plugins.items():
        for op in plugin["operations"]:
            values = []
            for p in op["params"]:
                default = p.get("default")
                if default in (None, ""):
                    continue
                text = str(default).lower() if isinstance(default, bool) else str(default)
                values.append((p["identifier"], text))
            validate([Operation(ident, op["method"], tuple(values))], catalogue)


def test_load_catalogue_from_path(tmp_path) -> None:
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "plugins": {
                    "x": {
                        "identifier": "x",
                        "operations": [
                            {
                                "method": "go",
                                "params": [{"name": "N", "type": "integer", "identifier": "n"}],
                            }
                        ],
                    }
                }
            }
        )
    )
    cat = load_catalogue(path)
    validate(parse("x.go(n:3)"), cat)
    with pytest.raises(TransformationError, match="unknown plugin 't'"):
        validate(parse("t.flip()"), cat)


def test_load_catalogue_rejects_bad_document(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("[]")
    with pytest.raises(ValueError):
        load_catalogue(path)


# --------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("t.flip()~t.flop()", [Operation("t", "flip"), Operation("t", "flop")]),
        (
            "t.resize(h:200,w:200)",
            [Operation("t", "resize", (("h", "200"), ("w", "200")))],
        ),
        ("erase.bg()", [Operation("erase", "bg")]),
        ("t.compress(q:95)", [Operation("t", "compress", (("q", "95"),))]),
        (
            "t.resize(w:$w,h:$h)~t.extract()",
            [
                Operation("t", "resize", (("w", "$w"), ("h", "$h"))),
                Operation("t", "extract"),
            ],
        ),
        (
            "erase.bg()~t.resize(h:100,w:100)",
            [
                Operation("erase", "bg"),
                Operation("t", "resize", (("h", "100"), ("w", "100"))),
            ],
        ),
        ("p:compressor", [Operation("p", "compressor")]),
        ("p:pre-set_1(w:100)", [Operation("p", "pre-set_1", (("w", "100"),))]),
        ("p:name()", [Operation("p", "name")]),
        (
            "t.rotate(a:-10,b:ff000080)",
            [Operation("t", "rotate", (("a", "-10"), ("b", "ff000080")))],
        ),
        ("original", []),
    ],
)
def test_parse_valid(text: str, expected: list[Operation]) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty transformation"),
        ("t.flip()~", "empty operation in 't.flip()~'"),
        ("~t.flip()", "empty operation"),
        ("t.flip()~~t.flop()", "empty operation"),
        ("t.flip", "missing '(' in 't.flip'"),
        ("t.resize(h:1", "unbalanced parentheses in 't.resize(h:1'"),
        ("t.resize)h:1(", "unbalanced parentheses"),
        ("t.resize((h:1))", "unbalanced parentheses"),
        ("t.resize(h:1)x", "unbalanced parentheses in 't.resize(h:1)x'"),
        ("tresize(h:1)", "missing '.' between plugin and operation in 'tresize(h:1)'"),
        (".resize()", "missing plugin in '.resize()'"),
        ("t.()", "missing operation name in 't.()'"),
        ("t.re-size()", "invalid operation name 're-size'"),
        ("t.resize(:200)", "empty key in parameter ':200' in 't.resize(:200)'"),
        ("t.resize(h:)", "empty value for 'h' in 't.resize(h:)'"),
        (
            "t.resize(h:1:2)",
            "parameter 'h:1:2' has more than one ':' in 't.resize(h:1:2)'",
        ),
        ("t.resize(h200)", "parameter 'h200' has no ':'"),
        ("t.resize(h:1,)", "empty parameter in 't.resize(h:1,)'"),
        ("t.resize(h:1,h:2)", "duplicate parameter 'h' in 't.resize(h:1,h:2)'"),
        ("t.resize(h:1 0)", "invalid value '1 0' for 'h'"),
        ("t.resize(h w:1)", "invalid key 'h w'"),
        ("p:", "missing preset name in 'p:'"),
        ("p:a.b", "invalid preset name 'a.b'"),
    ],
)
def test_parse_errors_name_the_offending_part(text: str, message: str) -> None:
    with pytest.raises(TransformationError) as info:
        parse(text)
    assert message in str(info.value)


def test_parse_rejects_non_string() -> None:
    with pytest.raises(TransformationError):
        parse(None)  # type: ignore[arg-type]


def test_transformation_error_is_value_error() -> None:
    assert issubclass(TransformationError, ValueError)


# --------------------------------------------------------------------------- validate


@pytest.mark.parametrize(
    "text",
    [
        "t.flip()~t.flop()",
        "t.resize(h:200,w:200)",
        "erase.bg()",
        "erase.bg(i:ecommerce,shadow:true,r:false)",
        "t.compress(q:95)",
        "t.resize(h:100,w:100,f:contain,b:ffffff,p:left_top,k:cubic,dpr:2.5)",
        "t.blur(s:0.3)~t.sharpen(s:10)~t.modulate(b:1.5,s:0,h:-360)",
        "t.toFormat(f:webp,q:80)",
        "t.merge(m:underlay,r:true,g:custom,bg:00000000)",
        "awsRek.detectLabels(l:10,c:0)",
        "awsRek.moderation(c:100)",
        "sr.upscale(t:4x,model:Flash,enhance_face:true)",
        "wm.remove(rem_text:true,box1:0_0_50_50)",
        "remove.bg()~af.remove()~ic.crop(w:100,h:100,g:object,obj:dog,d:south_east)",
        "p:anything(x:1)",
    ],
)
def test_validate_accepts_documented_strings(text: str, catalogue: Catalogue) -> None:
    validate(parse(text), catalogue)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x.flip()", "unknown plugin 'x' in 'x.flip()'"),
        ("t.blurr(s:2)", "unknown operation 't.blurr' in 't.blurr(s:2)'"),
        ("erase.Bg()", "unknown operation 'erase.Bg'"),
        (
            "t.resize(height:200)",
            "unknown parameter 'height' for 't.resize' in 't.resize(height:200)'",
        ),
        (
            "t.resize(h:abc)",
            "value 'abc' for 'h' in 't.resize(h:abc)' is not an integer",
        ),
        ("t.resize(h:1.5)", "is not an integer"),
        (
            "t.resize(h:10001)",
            "value '10001' for 'h' in 't.resize(h:10001)' is above the maximum 10000",
        ),
        ("t.resize(w:-1)", "is below the minimum 0"),
        ("t.compress(q:101)", "above the maximum 100"),
        (
            "t.blur(s:0.1)",
            "value '0.1' for 's' in 't.blur(s:0.1)' is below the minimum 0.3",
        ),
        ("t.blur(s:x)", "is not a number"),
        (
            "t.resize(f:stretch)",
            "value 'stretch' for 'f' in 't.resize(f:stretch)' is not one of cover",
        ),
        ("erase.bg(i:cars)", "is not one of general, ecommerce, car, human"),
        (
            "erase.bg(shadow:yes)",
            "value 'yes' for 'shadow' in 'erase.bg(shadow:yes)' is not true or false",
        ),
        ("erase.bg(shadow:True)", "is not true or false"),
        (
            "t.resize(b:fff)",
            "value 'fff' for 'b' in 't.resize(b:fff)' is not a hex colour",
        ),
        ("t.tint(c:gggggg)", "is not a hex colour"),
        ("t.flip(x:1)", "unknown parameter 'x' for 't.flip'"),
    ],
)
def test_validate_errors_name_the_offending_part(
    text: str, message: str, catalogue: Catalogue
) -> None:
    with pytest.raises(TransformationError) as info:
        validate(parse(text), catalogue)
    assert message in str(info.value)


def test_validate_reports_the_first_bad_operation(catalogue: Catalogue) -> None:
    with pytest.raises(TransformationError, match=r"in 't\.blurr\(\)'"):
        validate(parse("t.flip()~t.blurr()~x.y()"), catalogue)


def test_operation_limit(catalogue: Catalogue) -> None:
    fifteen = parse("~".join(["t.flip()"] * 15))
    validate(fifteen, catalogue)
    with pytest.raises(TransformationError, match=r"too many operations: 16 \(at most 15\)"):
        validate(parse("~".join(["t.flip()"] * 16)), catalogue)
    validate(parse("~".join(["t.flip()"] * 16)), catalogue, max_operations=16)
    with pytest.raises(TransformationError, match="too many operations: 3"):
        validate(parse("t.flip()~t.flop()~t.grey()"), catalogue, max_operations=2)


def test_variables_need_params(catalogue: Catalogue) -> None:
    ops = parse("t.resize(w:$w,h:$h)~t.extract()")
    assert variables(ops) == {"w", "h"}
    params = {
        "w": {"type": "integer", "default": 200},
        "h": {"type": "integer", "default": 400},
    }
    validate(ops, catalogue, params)
    with pytest.raises(
        TransformationError, match=r"variable '\$h' for 'h' is not defined in params"
    ):
        validate(ops, catalogue, {"w": {"type": "integer", "default": 200}})
    with pytest.raises(TransformationError, match=r"variable '\$w'"):
        validate(ops, catalogue)


def test_variables_skip_type_checks_and_cover_presets(catalogue: Catalogue) -> None:
    # An enum or colour slot may hold a variable; its value is only known at render time.
    validate(parse("t.resize(f:$fit,b:$bg)"), catalogue, {"fit": {}, "bg": {}})
    with pytest.raises(TransformationError, match=r"variable '\$x'"):
        validate(parse("p:base(w:$x)"), catalogue, {})
    with pytest.raises(TransformationError, match=r"invalid variable '\$'"):
        validate(parse("t.resize(h:$)"), catalogue, {"": {}})
    assert variables(parse("t.flip()~p:x(a:$one)~t.resize(h:2)")) == {"one"}
    assert variables([]) == set()


def test_preset_names_checked_when_known(catalogue: Catalogue) -> None:
    validate(parse("p:compressor"), catalogue, presets={"compressor"})
    with pytest.raises(TransformationError, match="unknown preset 'nope' in 'p:nope'"):
        validate(parse("p:nope"), catalogue, presets={"compressor"})


def test_disabled_plugin_is_rejected(catalogue: Catalogue) -> None:
    plugins = dict(catalogue.plugins)
    plugins["erase"] = {**plugins["erase"], "enabled": False}
    with pytest.raises(TransformationError, match="plugin 'erase' is disabled"):
        validate(parse("erase.bg()"), Catalogue(catalogue.delimiters, plugins))


def test_overlong_integer_is_a_transformation_error(catalogue: Catalogue) -> None:
    with pytest.raises(TransformationError):
        validate(parse("t.resize(h:" + "9" * 5000 + ")"), catalogue)


# --------------------------------------------------------------------------- to_string


@pytest.mark.parametrize(
    "text",
    [
        "t.flip()~t.flop()",
        "t.resize(h:200,w:200)",
        "erase.bg()",
        "p:name",
        "p:name(a:1,b:$c)",
        "original",
    ],
)
def test_to_string_is_identity_on_canonical_text(text: str) -> None:
    assert to_string(parse(text)) == text


def test_to_string_canonicalises() -> None:
    assert to_string(parse("p:name()")) == "p:name"
    assert to_string([]) == "original"
    assert str(Operation("t", "resize", (("h", "1"),))) == "t.resize(h:1)"


# --------------------------------------------------------------------------- SDK round trip


def _sdk_pattern(transformations: list[dict]) -> tuple[str, list[dict]]:
    url = obj_to_url(
        {
            "cloudName": "demo-cloud",
            "filePath": "dir/a.jpeg",
            "transformations": transformations,
        }
    )
    obj = url_to_obj(url)
    return obj["pattern"], obj["transformations"]


def _as_sdk(ops: list[Operation]) -> list[dict]:
    out = []
    for op in ops:
        item: dict = {"plugin": op.plugin, "name": op.name}
        if op.values:
            item["values"] = [{"key": k, "value": v} for k, v in op.values]
        out.append(item)
    return out


@pytest.mark.parametrize(
    "transformations",
    [
        [
            {"plugin": "t", "name": "resize", "values": [{"key": "w", "value": "200"}]},
            {"plugin": "t", "name": "flip"},
        ],
        [
            {
                "plugin": "erase",
                "name": "bg",
                "values": [{"key": "i", "value": "ecommerce"}],
            }
        ],
        [{"plugin": "p", "name": "compressor"}],
        [
            {"plugin": "p", "name": "thumb", "values": [{"key": "w", "value": "$w"}]},
            {
                "plugin": "t",
                "name": "toFormat",
                "values": [{"key": "f", "value": "webp"}, {"key": "q", "value": "80"}],
            },
        ],
    ],
)
def test_parse_matches_sdk_url_to_obj(transformations: list[dict], catalogue: Catalogue) -> None:
    pattern, sdk_ops = _sdk_pattern(transformations)
    ops = parse(pattern)
    assert _as_sdk(ops) == sdk_ops
    assert to_string(ops) == pattern


def test_original_pattern_matches_sdk() -> None:
    pattern, sdk_ops = _sdk_pattern([])
    assert pattern == "original"
    assert parse(pattern) == [] == sdk_ops


# --------------------------------------------------------------------------- properties

_ident = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    min_size=1,
    max_size=8,
)
_value = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$+!*'=@%&",
    min_size=1,
    max_size=10,
)


@st.composite
def _operations(draw) -> Operation:
    plugin = draw(st.one_of(st.just("p"), _ident))
    name = draw(_ident)
    keys = draw(st.lists(_ident, unique=True, max_size=4))
    return Operation(plugin, name, tuple((k, draw(_value)) for k in keys))


@settings(max_examples=300, deadline=None)
@given(st.lists(_operations(), min_size=1, max_size=6))
def test_property_round_trip(ops: list[Operation]) -> None:
    assert parse(to_string(ops)) == ops


@settings(max_examples=150, deadline=None)
@given(st.lists(_operations(), min_size=1, max_size=4))
def test_property_matches_sdk(ops: list[Operation]) -> None:
    pattern, sdk_ops = _sdk_pattern(_as_sdk(ops))
    assert pattern == to_string(ops)
    assert _as_sdk(parse(pattern)) == sdk_ops


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="tp.:,()~$ab1-_ ", max_size=30)))
def test_property_parse_only_raises_transformation_error(text: str) -> None:
    try:
        ops = parse(text)
    except TransformationError:
        return
    assert parse(to_string(ops)) == ops


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="tersizhwfqb.:,()~$0123456789-", max_size=40))
def test_property_validate_only_raises_transformation_error(text: str) -> None:
    catalogue = load_catalogue()
    with contextlib.suppress(TransformationError):
        validate(parse(text), catalogue, {"w": {}})
