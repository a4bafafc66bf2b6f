"""The control plane's remaining shapes and the state documents as structs (issue 14 items 1
and 3): one declaration gives the validation (with the rule the schema publishes, however deep
the field), the answer, the export byte for byte, and the published component."""

from __future__ import annotations

import json
import re

import pytest

from pixelbin_emulator.api import wire
from pixelbin_emulator.api.wire import control as wire_control
from pixelbin_emulator.control import ControlClient
from pixelbin_emulator.core import documents
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.core.snapshot import dump_state, import_state, load_into
from pixelbin_emulator.openapi import openapi_document

STATE = documents.FORMAT
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _state(**org: object) -> dict[str, object]:
    return {"format": STATE, "version": 1, "orgs": [org]}


def _schemas() -> dict[str, dict[str, object]]:
    return openapi_document()["components"]["schemas"]


def test_the_published_documents_and_bodies_are_the_structs_own():
    schemas = _schemas()
    generated = wire.schemas(documents.StateDocument, documents.OrgHead)
    assert {name: schemas[name] for name in generated} == generated
    assert {"OrgDocument", "FileDocument", "PresetDocument"} <= set(generated)
    for name in ("ControlOrg", "Snapshot"):  # the hand-written copies are gone
        assert name not in schemas
    paths = openapi_document()["paths"]
    snapshot = paths["/_emulator/snapshot"]
    stubs = paths["/_emulator/url-stubs"]["post"]["requestBody"]["content"]["application/json"]
    state = {"$ref": "#/components/schemas/StateDocument"}
    assert snapshot["put"]["requestBody"]["content"]["application/json"]["schema"] == state
    assert snapshot["get"]["responses"]["200"]["content"]["application/json"]["schema"] == state
    assert stubs["schema"] == {"$ref": "#/components/schemas/UrlStubCreate"}
    org = paths["/_emulator/orgs/{org_id}"]["get"]["responses"]["200"]["content"]
    assert org["application/json"]["schema"] == {"$ref": "#/components/schemas/OrgHead"}


def test_the_format_literal_is_the_format_constant():
    assert documents.StateDocument(format=STATE, version=documents.VERSION).format == STATE


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"format": "other", "version": 1}, "format"),
        ({"format": STATE, "version": 2}, "version"),
        ({"format": STATE, "version": 1, "orgs": {}}, "orgs"),
        ({"format": STATE, "version": 1, "orgs": [3]}, "orgs"),
        (_state(orgId="1"), "orgId"),
        (_state(folders=None), "folders"),
        (_state(folders=[{"path": ""}]), "name"),
        (_state(folders=[{"name": "a", "_id": "a\n"}]), "_id"),
        (_state(folders=[{"name": "a", "_id": "..."}]), "_id"),
        (_state(folders=[{"name": "a", "_id": "f", "isActive": "false"}]), "isActive"),
        (_state(files=[{"name": "a", "base64": PIXEL, "_id": "x", "seq": -1}]), "seq"),
        (_state(files=[{"name": "a", "base64": PIXEL, "tags": [1]}]), "tags"),
        (_state(files=[{"name": "a", "base64": "aGk"}]), "base64"),
        (_state(presets=[{"presetName": "p", "transformation": "t", "params": []}]), "params"),
        (_state(credentials=[{"pluginId": "awsRek", "credentials": "k"}]), "credentials"),
        (_state(createdAt=3), "createdAt"),
    ],
)
def test_a_refused_document_field_is_named_with_the_rule_the_schema_publishes(doc, field):
    """However deep it is: ``orgs[0].files[0].seq`` is refused as ``seq``."""
    with pytest.raises(ValidationError) as refused:
        import_state(Emulator(), doc)
    message = str(refused.value)
    assert message.startswith(f"{field} must be ")
    assert message.removeprefix(f"{field} must be ") in str(_schemas())


def test_a_record_id_pattern_keeps_a_final_newline_out_in_the_schema_too():
    """``$`` matches before a final newline in Python's ``re`` and in JSON Schema; the
    published pattern refuses it by itself, so no second check is needed."""
    pattern = _schemas()["FolderDocument"]["properties"]["_id"]["pattern"]
    assert re.search(pattern, "abc") and re.search(pattern, "a.b")
    for refused in ("abc\n", "..", "a/b", "x" * 129, ""):
        assert not re.search(pattern, refused), refused


def test_a_field_without_a_rule_of_its_own_is_named_by_its_path():
    with pytest.raises(ValidationError, match=r"^orgs\[0\]\.files\[0\]\.access: Expected `str"):
        import_state(Emulator(), _state(files=[{"name": "a", "base64": PIXEL, "access": 3}]))


def test_documents_are_objects():
    with pytest.raises(ValidationError, match=r"^state document must be an object$"):
        import_state(Emulator(), [])
    emulator = Emulator()
    org = emulator.create_org()
    with pytest.raises(ValidationError, match=r"^org must be an object$"):
        load_into(org, ["not", "an", "org"])


def test_an_export_is_byte_for_byte_the_documented_format():
    """Field order and values of every record kind, as exports always wrote them (a durable
    data directory and saved snapshots depend on it)."""
    emulator = Emulator()
    emulator.clock.freeze(1_700_000_000)
    stamp = "2024-01-02T03:04:05.000Z"
    record = {"seq": 1, "createdAt": stamp, "updatedAt": stamp}
    doc = _state(
        orgId=7,
        name="Acme",
        cloudName="acme",
        apiSecret="secret-7",
        accessKey="access-7",
        createdAt=stamp,
        folders=[{"_id": "d", "path": "", "name": "docs", **record}],
        files=[{"_id": "f", "path": "docs", "name": "a", "base64": PIXEL, **record, "seq": 2}],
        presets=[{"_id": "p", "presetName": "thumb", "transformation": "t.flip()", **record}],
        credentials=[{"_id": "c", "pluginId": "awsRek", "credentials": {"k": "v"}, **record}],
    )
    import_state(emulator, doc)
    times = f'"isActive":true,"createdAt":"{stamp}","updatedAt":"{stamp}"'
    expected = (
        '{"format":"pixelbin-emulator-state","version":1,"orgs":[{"orgId":7,"name":"Acme",'
        f'"cloudName":"acme","apiSecret":"secret-7","accessKey":"access-7","createdAt":"{stamp}",'
        f'"folders":[{{"_id":"d","seq":1,"path":"","name":"docs",{times}}}],'
        f'"files":[{{"_id":"f","seq":2,"path":"docs","name":"a",{times},"format":"png",'
        f'"extension":"png","access":"public-read","tags":[],"metadata":{{}},"base64":"{PIXEL}"}}],'
        '"presets":[{"_id":"p","seq":1,"presetName":"thumb","transformation":"t.flip()",'
        f'"params":{{}},"archived":false,{times}}}],'
        '"credentials":[{"_id":"c","seq":1,"pluginId":"awsRek","credentials":{"k":"v"},'
        f"{times}}}]}}]}}"
    )
    exported = dump_state(emulator)
    assert json.dumps(exported, separators=(",", ":")) == expected
    blobs: dict[str, bytes] = {}
    archived = dump_state(emulator, blobs=blobs)["orgs"][0]["files"][0]
    assert (
        "base64" not in archived and archived["source"] == "files/f" and list(blobs) == ["files/f"]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://x.test/a", "base64": "!!"}, "base64"),
        ({"url": "https://x.test/a", "text": 3}, "text"),
        ({"url": "https://x.test/a", "text": "a", "status": 700}, "status"),
        ({"url": "https://x.test/a", "text": "a", "orgId": "1"}, "orgId"),
        ({"url": "", "text": "a"}, "url"),
        ({"text": "a"}, "url"),
    ],
)
def test_a_refused_url_stub_field_is_named_with_the_rule_the_schema_publishes(
    pixelbin_app, body, field
):
    answer = pixelbin_app.test_client().post("/_emulator/url-stubs", json=body)
    assert answer.status_code == 400
    message = answer.get_json()["message"]
    assert message.startswith(f"{field} must be ")
    published = str(_schemas()["UrlStubCreate"])
    assert message.removeprefix(f"{field} must be ") in published


def test_a_url_stub_needs_content_and_text_is_its_bytes(pixelbin_app):
    client = pixelbin_app.test_client()
    empty = client.post("/_emulator/url-stubs", json={"url": "https://x.test/a"})
    assert empty.status_code == 400
    assert empty.get_json()["message"] == "a stub needs its content: base64 or text"
    text = client.post("/_emulator/url-stubs", json={"url": "https://x.test/t", "text": "héllo"})
    assert text.status_code == 201
    assert text.get_json() == {"url": "https://x.test/t", "orgId": None, "status": 200, "size": 6}
    assert client.delete("/_emulator/url-stubs").get_json() == {"removed": 1}


@pytest.mark.parametrize("name", ["status", "since", "limit", "orgId"])
def test_a_journal_query_number_is_named_with_its_rule(pixelbin_app, name):
    answer = pixelbin_app.test_client().get(f"/_emulator/requests?{name}=abc")
    assert answer.status_code == 400
    assert answer.get_json()["message"] == f"{name} must be an integer"
    spaced = pixelbin_app.test_client().get(f"/_emulator/requests?{name}=%201%20")
    assert spaced.status_code in (200, 404)  # " 1 " reads as 1, as it always did


def test_the_plugin_and_the_control_plane_answer_the_same_journal(pixelbin_emulator, api):
    api.get(api.base + "/listFiles?pageSize=1")
    client = ControlClient(pixelbin_emulator.url)
    over_http = client.requests(org_id=pixelbin_emulator.org_id, operation="listFiles", limit=1)
    in_process = pixelbin_emulator.requests(operation="listFiles")[-1:]
    assert over_http == in_process and over_http[0]["status"] == 200
    entry = over_http[0]
    assert list(entry) == list(wire_control.JournalEntry.__struct_encode_fields__)


def test_the_client_sends_what_the_structs_declare(pixelbin_emulator):
    client = ControlClient(pixelbin_emulator.url)
    stub = client.add_url_stub("https://x.test/c", b"\x00\xff", status=404)
    assert stub == {"url": "https://x.test/c", "orgId": None, "status": 404, "size": 2}
    assert client.remove_url_stubs(url="https://x.test/c") == 1
    org = client.create_org(name="Wire control")
    assert list(org) == list(documents.OrgHead.__struct_encode_fields__)
    assert client.drop_org(org["orgId"]) == org


def test_a_seed_entry_without_an_id_is_created_as_the_api_would():
    emulator = Emulator()
    preset = {"presetName": "old", "transformation": "t.flip()", "archived": True}
    import_state(emulator, _state(orgId=3, presets=[preset]))
    (exported,) = dump_state(emulator)["orgs"][0]["presets"]
    assert exported["archived"] is True and exported["params"] == {} and exported["seq"] > 0


@pytest.mark.parametrize(
    ("path", "method", "kind"),
    [
        ("/_emulator/requests", "get", wire_control.RequestsFilter),
        ("/_emulator/snapshot", "get", wire_control.SnapshotExport),
        ("/_emulator/snapshot", "put", wire_control.SnapshotImport),
    ],
)
def test_the_published_query_parameters_are_the_query_structs_fields(path, method, kind):
    operation = openapi_document()["paths"][path][method]
    published = {param["name"]: param["schema"] for param in operation["parameters"]}
    assert published == {name: schema for name, (schema, _) in wire.properties(kind).items()}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("form=zip", "form must be 'json' or 'archive'"),
        ("orgId=x", "orgId must be an integer"),
    ],
)
def test_a_refused_snapshot_query_keeps_its_message(pixelbin_app, query, message):
    answer = pixelbin_app.test_client().get(f"/_emulator/snapshot?{query}")
    assert answer.status_code == 400 and answer.get_json()["message"] == message
    imported = pixelbin_app.test_client().put("/_emulator/snapshot?mode=add", json={})
    assert imported.get_json()["message"] == "mode must be 'replace' or 'merge'"


def test_file_sources_stay_inside_the_seed_directory(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"hello")
    cases = [
        (None, "a.txt", "file sources need a seed directory"),
        (tmp_path, "../a.txt", "is outside the seed directory"),
        (tmp_path, "missing.txt", "No such file or directory"),
    ]
    for base_dir, source, message in cases:
        with pytest.raises(ValidationError, match=message):
            import_state(
                Emulator(), _state(files=[{"name": "a", "source": source}]), base_dir=base_dir
            )
    emulator = Emulator()
    import_state(emulator, _state(files=[{"name": "a", "source": "a.txt"}]), base_dir=tmp_path)
    assert emulator.orgs()[0].assets.entries()[0].data == b"hello"


def test_load_into_keeps_what_the_org_holds():
    emulator = Emulator()
    org = emulator.create_org()
    preset = {"presetName": "p", "transformation": "t.flip()"}
    credentials = {"pluginId": "awsRek", "credentials": {"k": "v"}}
    load_into(org, {"presets": [preset], "credentials": [credentials]})
    with pytest.raises(ValidationError, match="seq must be"):
        load_into(org, {"presets": [{**preset, "presetName": "q", "_id": "q", "seq": -1}]})
    load_into(org, {"presets": [{**preset, "presetName": "r"}]})
    assert [p.name for p in org.presets.all()] == ["p", "r"]
    assert len(org.plugin_credentials.all()) == 1
