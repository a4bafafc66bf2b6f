"""The files, folders and listing wire structs (issue 14 item 1): one declaration gives the
validation, the answer and the published schema (bodies, queries, answers); answers are encoded
straight from the structs with the bytes ``jsonify`` wrote; the suite holds accepted queries to
the description."""

from __future__ import annotations

import base64
import json

import msgspec
import pytest
from flask import Flask, jsonify
from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from pixelbin_emulator.api import wire
from pixelbin_emulator.api.encoding import encode_answer
from pixelbin_emulator.api.wire import assets as wire_assets
from pixelbin_emulator.api.wire import presets as wire_presets
from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.assets import ListQuery, UploadSpec
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.openapi import openapi_document
from pixelbin_emulator.settings import Settings

from .contract import Contract, Recorder
from .helpers import assert_error, png

ASSETS = "/service/platform/assets/v1.0"


def test_the_published_schemas_are_the_structs_own():
    document = openapi_document()
    schemas = document["components"]["schemas"]
    for area in (wire_assets, wire_presets):
        generated = wire.schemas(*area.REQUESTS, *area.RESPONSES)
        assert {name: schemas[name] for name in generated} == generated
    paths = document["paths"]
    for path, method, name in [
        (f"{ASSETS}/files/{{file_id}}", "patch", "FileUpdate"),
        (f"{ASSETS}/files/delete", "post", "FilesDelete"),
        (f"{ASSETS}/folders", "post", "FolderCreate"),
        (f"{ASSETS}/folders/{{folder_id}}", "patch", "FolderUpdate"),
    ]:
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{name}"}
    for path, method, kind in [
        (f"{ASSETS}/listFiles", "get", wire_assets.ListFilesQuery),
        (f"{ASSETS}/folders", "get", wire_assets.FolderDetailsQuery),
        (f"{ASSETS}/presets", "get", wire_presets.PresetsQuery),
    ]:
        params = {p["name"]: p for p in paths[path][method]["parameters"]}
        assert list(params) == list(wire.properties(kind))
        for name, (schema, _) in wire.properties(kind).items():
            if schema.get("type") == "array":  # the SDKs' list forms
                assert params[name]["style"] == "deepObject"
            else:
                assert params[name]["schema"] == schema


def test_required_fields_are_published_and_named():
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["FilesDelete"]["required"] == ["ids"]
    assert schemas["FolderCreate"]["required"] == ["name"]
    for body in ({}, {"ids": None}):
        with pytest.raises(ValidationError, match=r"^ids is required$"):
            wire.decode(body, wire_assets.FilesDelete)
    assert wire.decode({"ids": []}, wire_assets.FilesDelete).ids == []


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("patch", "/files/x", {"isActive": "yes"}, "isActive must be a boolean"),
        ("patch", "/files/x", {"tags": ["a", 1]}, "tags must be a list of strings"),
        ("patch", "/files/x", {"metadata": []}, "metadata must be an object"),
        ("patch", "/files/x", {"name": 5}, "name must be a string"),
        ("post", "/files/delete", {"ids": "a"}, "ids must be a list of strings"),
        ("post", "/files/delete", {}, "ids is required"),
        ("post", "/folders", {"name": ""}, "name is required"),
        ("post", "/folders", {"name": "a", "path": 1}, "path must be a string"),
        ("patch", "/folders/a", {"isActive": 1}, "isActive must be a boolean"),
        ("get", "/listFiles?pageNo=x", None, "pageNo must be an integer"),
        ("get", "/listFiles?pageSize=1.5", None, "pageSize must be an integer"),
        ("get", "/listFiles?onlyFiles=yes", None, "onlyFiles must be true or false"),
        ("get", "/presets?archived=1", None, "archived must be true or false"),
    ],
)
def test_a_refused_field_is_named_with_the_rule_the_schema_publishes(
    api, method, path, body, message
):
    answer = api.request(method, api.base + path, json=body)
    assert assert_error(answer, 400)["message"] == message
    rule = message.split(" ", 1)[1]
    if rule.startswith("must be "):
        published = json.dumps(openapi_document())
        assert f'"description": "{rule.removeprefix("must be ")}"' in published


def test_query_spellings_the_sdks_send(api):
    """Booleans in any case and with blanks, integers with blanks, empty values as absent."""
    api.post(api.base + "/folders", json={"name": "spell"})
    for query in ("onlyFolders=TRUE", "onlyFolders=%20true%20", "pageNo=%201&onlyFolders=true"):
        names = [item["name"] for item in api.get(f"{api.base}/listFiles?{query}").json()["items"]]
        assert "spell" in names, query
    plain = api.get(api.base + "/listFiles").json()
    assert api.get(api.base + "/listFiles?pageNo=&onlyFiles=&name=").json() == plain


def test_presets_sort_takes_the_list_forms(api):
    api.post(api.base + "/presets", json={"presetName": "pa", "transformation": "t.flip()"})
    api.post(api.base + "/presets", json={"presetName": "pb", "transformation": "t.flop()"})
    orders = []
    for query in ("sort%5B0%5D=-presetName", "sort=-presetName", "sort=%5B-presetName%5D"):
        answer = api.get(f"{api.base}/presets?{query}").json()
        assert set(answer["page"]) == {"type", "size", "current", "hasNext", "itemTotal"}
        orders.append([item["presetName"] for item in answer["items"]])
    assert orders[0] == orders[1] == orders[2] == sorted(orders[0], reverse=True)


def test_the_contract_checks_accepted_queries():
    contract = Contract()

    def check(*pairs: tuple[str, str]) -> list[str]:
        return contract.query_violations("files.list_files", "GET", list(pairs))

    # The SDKs' forms: indexed, empty brackets, repeated, Go's bracketed list; empty values.
    assert check(("tags[0]", "a"), ("tags[1]", "b"), ("pageNo", "2"), ("onlyFiles", "true")) == []
    assert check(("tags[]", "a"), ("tags", "b"), ("tags", "[c d]"), ("pageSize", "")) == []
    assert check(("onlyFolders", "FALSE"), ("sort", "-name")) == []
    assert check(("colour", "red")) == [
        "GET files.list_files query: parameter 'colour' is not described"
    ]
    assert check(("tags[x]", "a")) != []
    assert check(("name[0]", "a")) != []  # a scalar takes no list form
    assert check(("name", "a"), ("name", "b")) == [
        "GET files.list_files query: parameter 'name' is repeated"
    ]
    assert check(("pageNo", "abc")) != []
    assert check(("pageSize", "101")) != []
    assert check(("onlyFiles", "yes")) != []
    dashboard = contract.query_violations("dashboard.index", "GET", [("notice", "done")])
    assert dashboard == []


# -- encoding ------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
_metadata = st.dictionaries(
    st.text(max_size=5),
    st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6),
    max_size=4,
)


@given(
    _metadata,
    st.lists(
        st.text(st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=4),
        max_size=3,
    ),
)
@example({"big": 1e16, "small": 6e-05}, [])
@example({"del": "\x7f"}, ["é"])
@example({"lone": "\ud800"}, [])
def test_answers_are_the_bytes_jsonify_wrote(metadata, tags):
    """msgspec writes some floats, non-ASCII text and DEL otherwise than ``jsonify``, and
    cannot write a lone surrogate: the answers still have ``jsonify``'s bytes."""
    emulator = Emulator()
    org = emulator.create_org(api_secret="secret", cloud_name="enc-cloud")
    file = org.assets.upload(
        UploadSpec(data=png(), name="f", tags=tags, metadata=metadata, filename="f.png")
    )
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    answer = wire_assets.File.of(org, file, "http://x")
    page = org.assets.listing(ListQuery())
    listing = wire_assets.ListFilesResponse.of(org, page, "http://x")
    with app.app_context():
        for value in (answer, [answer], listing):
            assert encode_answer(value) == jsonify(wire.to_builtins(value)).get_data()
    assert wire.to_builtins(answer)["metadata"] == metadata


def test_a_query_struct_reads_the_sdk_forms():
    args = MultiDict([("tags[1]", "b"), ("tags[0]", "a"), ("onlyFiles", " True"), ("pageNo", "")])
    query = wire.decode_query(args, wire_assets.ListFilesQuery)
    assert (query.tags, query.only_files, query.page_no) == (["a", "b"], True, None)
    repeated = MultiDict([("name", "first"), ("name", "second")])  # the first counts
    assert wire.decode_query(repeated, wire_assets.FolderDetailsQuery).name == "first"
    assert msgspec.to_builtins(query)["onlyFiles"] is True


def test_the_recorder_holds_accepted_queries_to_the_description():
    emulator = Emulator()
    emulator.create_org(api_secret="secret", cloud_name="rec-cloud")
    app = create_app(emulator, Settings(allow_fetch=False))
    checked, unchecked = Recorder(Contract()), Recorder(Contract(), check_queries=False)
    app.after_request(checked.after_request)
    app.after_request(unchecked.after_request)
    auth = {"Authorization": "Bearer " + base64.b64encode(b"secret").decode()}
    answer = app.test_client().get(f"{ASSETS}/listFiles?tags[0]=a&colour=red", headers=auth)
    assert answer.status_code == 200
    assert checked.drain() == ["GET files.list_files query: parameter 'colour' is not described"]
    assert unchecked.drain() == []
