"""Regressions of issue 11 (state): hostile input is a 400 that changes nothing, imports are all
or nothing and atomic, a dropped org is freed without the cycle collector, time stays in range.
"""

from __future__ import annotations

import base64
import gc
import json
import platform
import subprocess
import sys
import threading
import time
import weakref
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from pixelbin_emulator import allocator
from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.clock import MAX_EPOCH, Clock
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import ConflictError, ValidationError
from pixelbin_emulator.core.signed_uploads import SignedUploadRequest
from pixelbin_emulator.core.snapshot import FORMAT, dump_state, import_state
from pixelbin_emulator.server import LiveServer
from pixelbin_emulator.settings import Settings

from .helpers import assert_error, expect_error, png, state

API = "/service/platform/assets/v1.0"
PNG = png()
PNG64 = base64.b64encode(PNG).decode()


def nested(levels: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def nested_text(levels: int) -> str:
    """``nested(levels)`` as JSON, written out without the recursive encoder."""
    return '{"a": ' * levels + "1" + "}" * levels


def send_json(session: Any, method: str, url: str, text: str) -> Any:
    return session.request(method, url, data=text, headers={"Content-Type": "application/json"})


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + base64.b64encode(secret.encode()).decode()}


def document(*orgs: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "version": 1, "orgs": list(orgs)}


@pytest.fixture
def stored(api: Any) -> dict[str, Any]:
    response = api.post(
        api.base + "/upload/direct", files={"file": ("m.png", PNG)}, data={"name": "m"}
    )
    assert response.status_code == 200, response.text
    return response.json()


# -- 1: nesting and size of stored JSON values ---------------------------------------------------


DEEP = nested_text(979)


@pytest.mark.parametrize(
    "metadata",
    [DEEP, nested_text(33), json.dumps({"big": "x" * 70_000})],
    ids=["979-deep", "33-deep", "70kB"],
)
def test_deep_or_huge_metadata_in_a_patch_is_400_and_stores_nothing(
    api, pixelbin_emulator, stored, metadata
):
    before = state(pixelbin_emulator)
    response = send_json(api, "PATCH", api.base + "/files/m", '{"metadata": ' + metadata + "}")
    assert_error(response, 400)
    assert state(pixelbin_emulator) == before
    assert api.get(api.base + "/files/m").status_code == 200
    assert api.get(api.base + "/listFiles").status_code == 200


def test_metadata_at_the_bounds_is_stored(api, stored):
    response = api.patch(api.base + "/files/m", json={"metadata": nested(32)})
    assert response.status_code == 200, response.text
    assert api.get(api.base + "/files/m").json()["metadata"] == nested(32)


def test_deep_metadata_through_every_upload_is_400(api, pixelbin_emulator):
    before = state(pixelbin_emulator)
    url = json.dumps("data:image/png;base64," + PNG64)
    responses = [
        api.post(
            api.base + "/upload/direct",
            files={"file": ("d.png", PNG)},
            data={"name": "d", "metadata": DEEP},
        ),
        send_json(api, "POST", api.base + "/upload/url", f'{{"url": {url}, "metadata": {DEEP}}}'),
        api.post(
            pixelbin_emulator.url + "/service/platform/assets/v2.0/upload/signed-url",
            json={"name": "s", "metadata": nested(40)},
        ),
        api.post(
            api.base + "/presets",
            json={
                "presetName": "deep",
                "transformation": "t.resize(w:$w)",
                "params": {"w": {"type": "integer", "default": 5, "x": nested(40)}},
            },
        ),
    ]
    for response in responses:
        assert_error(response, 400)
    assert state(pixelbin_emulator) == before


def test_nan_and_infinity_are_not_json(api, stored):
    for text in ('{"metadata": {"a": NaN}}', '{"metadata": {"a": Infinity}}'):
        response = api.patch(
            api.base + "/files/m", data=text, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 400)


def test_the_core_refuses_what_it_could_not_serialize_again(pixelbin_emulator, stored):
    assets = pixelbin_emulator.emulator.org(pixelbin_emulator.org_id).assets
    for metadata in (nested(979), {"n": float("nan")}, {"i": 10**5000}, {"s": {1, 2}}):
        with pytest.raises(ValidationError):
            assets.update_file("m", metadata=metadata)
    file = assets.get_file("m")
    assert file.metadata == {"source": "direct"}


def test_an_import_with_deep_metadata_is_400(pixelbin_app):
    client = pixelbin_app.test_client()
    before = client.get("/_emulator/snapshot").data
    doc = document(
        {"name": "deep", "files": [{"name": "a", "base64": PNG64, "metadata": nested(33)}]}
    )
    response = client.put("/_emulator/snapshot?mode=merge", json=doc)
    assert response.status_code == 400, response.text
    assert client.get("/_emulator/snapshot").data == before


# -- 12: a body that is not JSON -----------------------------------------------------------------


def test_a_form_encoded_patch_is_400_and_changes_nothing(api, pixelbin_emulator, stored):
    before = state(pixelbin_emulator)
    response = api.patch(api.base + "/files/m", data={"isActive": "false", "name": "renamed"})
    assert_error(response, 400)
    assert state(pixelbin_emulator) == before


def test_json_without_a_json_content_type_and_an_empty_body_still_work(api, stored):
    response = api.patch(
        api.base + "/files/m", data='{"tags": ["t"]}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["tags"] == ["t"]
    assert api.patch(api.base + "/files/m", data=b"").status_code == 200


# -- 2, 3, 10, 13: snapshot imports --------------------------------------------------------------


@pytest.fixture
def two_orgs(pixelbin_app: Any) -> Any:
    """A test client of an emulator with org 1 (the seed) and org 2 holding a file."""
    client = pixelbin_app.test_client()
    org = client.post("/_emulator/orgs", json={"name": "two", "apiSecret": "secret-two"}).json
    assert org["orgId"] == 2
    response = client.post(
        API + "/upload/direct",
        data={"file": (__import__("io").BytesIO(PNG), "a.png")},
        headers=auth("secret-two"),
    )
    assert response.status_code == 200, response.text
    return client


FAILING_IMPORTS = [
    # orgs without orgId were numbered from 1 in the trial load, from the live counter for real
    ("replace", [{"name": "noid", "apiSecret": "secret-x"}, {"orgId": 3, "apiSecret": "secret-x"}]),
    ("merge", [{"name": "noid", "apiSecret": "secret-y"}, {"orgId": 2, "apiSecret": "secret-y"}]),
    # a clash with an org that stays
    ("merge", [{"name": "noid"}, {"orgId": 5, "cloudName": "local-dev-000000"}]),
    # a bad entry after a good org
    ("replace", [{"orgId": 7}, {"orgId": 8, "files": [{"name": "x", "base64": "!!"}]}]),
    ("merge", [{"orgId": 2}, {"orgId": 8, "folders": 5}]),
]


@pytest.mark.parametrize(("mode", "orgs"), FAILING_IMPORTS)
def test_a_failing_import_leaves_the_state_byte_identical(two_orgs, mode, orgs):
    before = two_orgs.get("/_emulator/snapshot").data
    before_orgs = two_orgs.get("/_emulator/orgs").json
    response = two_orgs.put(f"/_emulator/snapshot?mode={mode}", json=document(*orgs))
    assert response.status_code in (400, 409), response.text
    assert set(response.json) == {"message", "status", "code", "exception"}
    assert two_orgs.get("/_emulator/snapshot").data == before
    assert two_orgs.get("/_emulator/orgs").json == before_orgs
    # the live numbering did not move either
    assert two_orgs.post("/_emulator/orgs", json={}).json["orgId"] == 3


def test_orgs_without_orgid_are_numbered_after_those_named(two_orgs):
    doc = document({"name": "noid", "apiSecret": "secret-noid"}, {"orgId": 3})
    response = two_orgs.put("/_emulator/snapshot", json=doc)
    assert response.status_code == 200, response.text
    assert sorted(org["orgId"] for org in response.json["orgs"]) == [3, 4]
    assert sorted(org["orgId"] for org in two_orgs.get("/_emulator/orgs").json["items"]) == [3, 4]


def test_a_merge_numbers_new_orgs_after_the_named_ones(two_orgs):
    """Was a 409 that left a stray org: the trial load numbered orgs without orgId from 1."""
    doc = document({"name": "noid"}, {"orgId": 3})
    response = two_orgs.put("/_emulator/snapshot?mode=merge", json=doc)
    assert response.status_code == 200, response.text
    assert sorted(org["orgId"] for org in two_orgs.get("/_emulator/orgs").json["items"]) == [
        1,
        2,
        3,
        4,
    ]


@pytest.mark.parametrize("value", [None, 5, True, "x", {"a": 1}])
@pytest.mark.parametrize("key", ["files", "folders", "presets", "credentials"])
def test_a_non_list_of_records_is_400(two_orgs, key, value):
    before = two_orgs.get("/_emulator/snapshot").data
    response = two_orgs.put(
        "/_emulator/snapshot?mode=merge", json=document({"orgId": 9, key: value})
    )
    assert response.status_code == 400, response.text
    assert two_orgs.get("/_emulator/snapshot").data == before


FOLDER = {"_id": "f1", "name": "d", "path": ""}


@pytest.mark.parametrize(
    "org",
    [
        {"orgId": 10**30},
        {"orgId": 2**53},
        {"cloudName": "a/b"},
        {"cloudName": "c" * 100_000},
        {"name": "n" * 100_000},
        {"accessKey": "a/b"},
        {"folders": [FOLDER | {"_id": ""}]},
        {"folders": [FOLDER | {"_id": ".."}]},
        {"folders": [FOLDER | {"seq": 10**100}]},
        {"folders": [FOLDER | {"isActive": "false"}]},
        {"files": [{"_id": "x", "name": "a", "base64": PNG64, "isActive": 0}]},
        {"presets": [{"_id": "p", "presetName": "p", "transformation": "t.flip()", "isActive": 1}]},
        {"createdAt": "9999-12-31T23:59:59-14:00"},
        {"folders": [FOLDER | {"updatedAt": "0001-01-01T00:00:00+01:00"}]},
        {"createdAt": 5},
        {"files": [{"name": "a", "base64": "é" * 8}]},
    ],
)
def test_loose_values_in_an_import_are_400(two_orgs, org):
    before = two_orgs.get("/_emulator/snapshot").data
    response = two_orgs.put("/_emulator/snapshot?mode=merge", json=document(org))
    assert response.status_code == 400, response.text
    assert two_orgs.get("/_emulator/snapshot").data == before


@pytest.mark.parametrize(
    "body",
    [
        {"orgId": 10**30},
        {"cloudName": "a/b"},
        {"cloudName": "c" * 100_000},
        {"apiSecret": "line\nbreak"},
    ],
)
def test_loose_org_fields_are_400(pixelbin_app, body):
    client = pixelbin_app.test_client()
    before = client.get("/_emulator/orgs").json
    assert client.post("/_emulator/orgs", json=body).status_code == 400
    assert client.get("/_emulator/orgs").json == before


def test_readers_see_the_old_state_or_the_new_never_a_mix() -> None:
    """During an import, listFiles answers the old total or the new one, never a partial one."""
    secret = "secret-of-the-big-org"
    files = [{"name": f"f{i}", "base64": PNG64} for i in range(1500)]
    emulator = Emulator(document({"orgId": 1, "apiSecret": secret}))
    with LiveServer(create_app(emulator, Settings())) as live:
        seen: list[Any] = []
        stop = threading.Event()

        def read() -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    response = session.get(
                        live.url + API + "/listFiles?pageSize=1", headers=auth(secret), timeout=10
                    )
                    seen.append(
                        response.json()["page"]["itemTotal"]
                        if response.status_code == 200
                        else response.status_code
                    )

        reader = threading.Thread(target=read)
        reader.start()
        try:
            time.sleep(0.05)
            response = requests.put(
                live.url + "/_emulator/snapshot",
                json=document({"orgId": 1, "apiSecret": secret, "files": files}),
                timeout=60,
            )
            time.sleep(0.05)
        finally:
            stop.set()
            reader.join()
        assert response.status_code == 200, response.text
    assert seen and set(seen) <= {0, 1500}, sorted(set(seen))[:10]
    assert seen[0] == 0 and seen[-1] == 1500


def test_reset_swaps_the_seed_in_whole() -> None:
    emulator = Emulator(document({"orgId": 1, "apiSecret": "secret-one"}))
    old = emulator.org(1)
    emulator.create_org(org_id=2)
    emulator.reset()
    assert [org.org_id for org in emulator.orgs()] == [1]
    assert emulator.org(1) is not old


# -- 8: a dropped org is freed by reference counting ---------------------------------------------


def test_a_dropped_org_is_freed_without_the_cycle_collector() -> None:
    emulator = Emulator()
    gc.collect()
    gc.disable()
    try:
        org = emulator.create_org()
        org.signed_uploads.create_multipart(SignedUploadRequest(name="big"))
        org.signed_uploads.create_post(SignedUploadRequest(name="small"))
        org.assets.create_folder("d")
        gone = weakref.ref(org)
        emulator.drop_org(org.org_id)
        del org
        assert gone() is None
        again = emulator.create_org(org_id=5)
        freed_by_reset = weakref.ref(again)
        del again
        emulator.reset()
        assert freed_by_reset() is None
    finally:
        gc.enable()


def test_a_dropped_org_is_freed_after_serving_requests(pixelbin_app) -> None:
    client = pixelbin_app.test_client()
    emulator = pixelbin_app.extensions["pixelbin_emulator"]["emulator"]
    org_id = client.post("/_emulator/orgs", json={"apiSecret": "secret-free"}).json["orgId"]
    gc.collect()
    gc.disable()
    try:
        for _ in range(2):
            client.post(
                API + "/upload/direct",
                data={"file": (__import__("io").BytesIO(PNG), "a.png"), "overwrite": "true"},
                headers=auth("secret-free"),
            )
        client.post(
            "/service/platform/assets/v2.0/upload/signed-url",
            json={"name": "b"},
            headers=auth("secret-free"),
        )
        client.get(API + "/files/nope", headers=auth("secret-free"))  # an error answered
        gone = weakref.ref(emulator.org(org_id))
        assert client.delete(f"/_emulator/orgs/{org_id}").status_code == 200
        assert gone() is None
    finally:
        gc.enable()


# -- 11, 15: time stays within what can be written -----------------------------------------------


def test_a_running_clock_stops_at_the_end_of_time(pixelbin_app) -> None:
    emulator = pixelbin_app.extensions["pixelbin_emulator"]["emulator"]
    emulator.clock.advance(MAX_EPOCH - emulator.clock.time() - 0.002)
    time.sleep(0.01)
    assert emulator.clock.time() == MAX_EPOCH
    client = pixelbin_app.test_client()
    headers = auth(emulator.orgs()[0].api_secret)
    for version in ("v1.0", "v2.0"):
        response = client.post(
            f"/service/platform/assets/{version}/upload/signed-url", json={}, headers=headers
        )
        assert response.status_code == 200, response.text
    policy = response = client.post(API + "/upload/signed-url", json={}, headers=headers).json
    encoded = policy["s3PresignedUrl"]["fields"]["Policy"]
    assert json.loads(base64.b64decode(encoded))["expiration"].startswith("9999-12-31T23:59:59")
    assert client.get("/_emulator/clock").json["now"] == "9999-12-31T23:59:59.999Z"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_emulator/clock/advance", b'{"seconds": 1' + b"0" * 400 + b"}"),
        ("/_emulator/clock/advance", b'{"seconds": -1' + b"0" * 400 + b"}"),
        ("/_emulator/clock/freeze", b'{"at": 1' + b"0" * 400 + b"}"),
        ("/_emulator/clock/freeze", b'{"at": "10000-01-01T00:00:00Z"}'),
        ("/_emulator/clock/freeze", b'{"at": "9999-12-31T23:59:59-14:00"}'),
    ],
)
def test_huge_clock_moves_are_400(pixelbin_app, path, body):
    client = pixelbin_app.test_client()
    before = client.get("/_emulator/clock").json
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.text
    assert client.get("/_emulator/clock").json["frozen"] == before["frozen"]


def test_a_huge_advance_in_python_is_a_validation_error():
    clock = Clock()
    with pytest.raises(ValidationError):
        clock.advance(10**400)


def test_timestamps_without_an_offset_are_utc(pixelbin_app):
    client = pixelbin_app.test_client()
    frozen = client.post("/_emulator/clock/freeze", json={"at": "2030-01-01T00:00:00"}).json
    assert frozen["now"] == "2030-01-01T00:00:00.000Z"


def test_freeze_time_takes_iso_strings(pixelbin_emulator):
    assert pixelbin_emulator.freeze_time("2030-01-01T00:00:00Z") == 1_893_456_000
    assert pixelbin_emulator.freeze_time(1_893_456_001.5) == 1_893_456_001.5
    with pytest.raises(ValidationError):
        pixelbin_emulator.freeze_time("not a time")


def test_a_snapshot_round_trips_the_last_instant() -> None:
    emulator = Emulator()
    doc = document({"orgId": 1, "createdAt": "9999-12-31T23:59:59.999Z"})
    import_state(emulator, doc)
    exported = dump_state(emulator)
    assert exported["orgs"][0]["createdAt"] == "9999-12-31T23:59:59.999Z"
    import_state(emulator, exported)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_server_process_maps_large_blocks_on_their_own():
    """With glibc's sliding mmap threshold, freed 20 MB files stayed in the heaps: RSS grew by
    the file size per dropped org (benchmarks/bench_drop.py)."""
    code = "from pixelbin_emulator import allocator; assert allocator.return_large_blocks()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # not this process


def test_without_glibc_mallopt_the_allocator_is_left_alone(monkeypatch):
    """On a C library without ``mallopt`` (musl, macOS) the tuning is skipped, not an error."""
    monkeypatch.setattr(allocator.ctypes.util, "find_library", lambda name: None)
    assert allocator.return_large_blocks() is False

    def no_library(name):
        raise OSError(name)

    monkeypatch.setattr(allocator.ctypes.util, "find_library", lambda name: "libc-missing")
    monkeypatch.setattr(allocator.ctypes, "CDLL", no_library)
    assert allocator.return_large_blocks() is False


# -- soft delete: one rule (docs/fidelity.md) ----------------------------------------------------


def test_an_inactive_folder_takes_its_whole_subtree_off_the_cdn(api, pixelbin_emulator):
    uploaded = api.post(
        api.base + "/upload/direct", files={"file": ("a.png", PNG)}, data={"path": "x/y"}
    ).json()
    assert requests.get(uploaded["url"], timeout=5).status_code == 200
    response = api.patch(api.base + "/folders/x", json={"isActive": False})
    assert response.status_code == 200 and response.json()["isActive"] is False
    assert requests.get(uploaded["url"], timeout=5).status_code == 404
    # the management API still sees and lists it all, with each entry's own flag
    assert api.get(api.base + "/files/x/y/a").json()["isActive"] is True
    assert [item["name"] for item in api.get(api.base + "/listFiles?path=x").json()["items"]] == [
        "y"
    ]
    assert api.patch(api.base + "/folders/x", json={"isActive": True}).status_code == 200
    assert requests.get(uploaded["url"], timeout=5).status_code == 200


def test_an_inactive_file_is_got_listed_and_restored_by_overwrite(api, pixelbin_emulator):
    uploaded = api.post(api.base + "/upload/direct", files={"file": ("b.png", PNG)}).json()
    api.patch(api.base + "/files/b", json={"isActive": False})
    assert requests.get(uploaded["url"], timeout=5).status_code == 404
    assert api.get(api.base + "/files/b").json()["isActive"] is False
    items = api.get(api.base + "/listFiles").json()["items"]
    assert [(item["name"], item["isActive"]) for item in items] == [("b", False)]
    # re-upload: the path is taken (soft delete), overwrite replaces and reactivates it
    again = api.post(api.base + "/upload/direct", files={"file": ("b.png", PNG)})
    assert_error(again, 400)
    again = api.post(
        api.base + "/upload/direct", files={"file": ("b.png", PNG)}, data={"overwrite": "true"}
    )
    assert again.status_code == 200 and again.json()["_id"] == uploaded["_id"]
    assert api.get(api.base + "/files/b").json()["isActive"] is True
    assert requests.get(uploaded["url"], timeout=5).status_code == 200


# -- fidelity gaps found against the docs' own examples ------------------------------------------


def test_get_folder_details_without_a_name_takes_the_folder_from_the_path(assets):
    created = assets.createFolder(name="dir", path="dir1/dir2")
    assert assets.getFolderDetails(path="dir1/dir2/dir")["_id"] == created["_id"]
    assert assets.getFolderDetails(path="dir1")["name"] == "dir1"
    expect_error(404, assets.getFolderDetails, path="dir1/missing")
    expect_error(404, assets.getFolderDetails)  # the root is not a folder


def test_add_preset_takes_the_docs_own_example(assets):
    for number in range(3):
        added = assets.addPreset(presetName=f"t_{number}", transformation=f"t.resize(a:{number})")
        assert added["transformation"] == f"t.resize(a:{number})"
    page = assets.getPresets(transformation="t.resize(a:0)")
    assert [item["presetName"] for item in page["items"]] == ["t_0"]
    # known parameters are still checked, and variables still need their params
    expect_error(400, assets.addPreset, presetName="bad", transformation="t.resize(w:huge)")
    expect_error(400, assets.addPreset, presetName="bad", transformation="t.resize(a:$a)")
    expect_error(400, assets.addPreset, presetName="bad", transformation="t.nope(a:0)")


def test_credentials_for_a_plugin_that_does_not_require_them(assets):
    added = assets.addCredentials(credentials={"apiKey": "k"}, pluginId="erase")
    assert added["pluginId"] == "erase"
    modules = assets.getModules()["plugins"]
    assert modules["erase"]["credentials"] == {"required": False, "configured": True}
    expect_error(400, assets.addCredentials, credentials={"apiKey": "k"}, pluginId="nope")


# -- property: any document either loads or changes nothing --------------------------------------


VALID = document(
    {
        "orgId": 2,
        "cloudName": "c-1",
        "apiSecret": "secret-1",
        "createdAt": "2030-01-01T00:00:00Z",
        "folders": [{"_id": "f1", "seq": 1, "path": "", "name": "d"}, {"path": "d", "name": "e"}],
        "files": [
            {"_id": "x1", "seq": 3, "path": "d", "name": "a", "tags": ["t"], "base64": PNG64},
            {"path": "", "name": "b", "base64": "aGVsbG8=", "metadata": {"m": 1}},
        ],
        "presets": [{"presetName": "p", "transformation": "t.flip()"}],
        "credentials": [{"pluginId": "remove", "credentials": {"k": 1}}],
    },
    {"name": "second", "files": [{"name": "c", "base64": PNG64}]},
)
ODD_VALUES = st.sampled_from(
    [
        *(None, 5, -1, 2**60, 10**30, 1.5, True, False, "", "x", "a/b", "..", [], [1], {}),
        *({"a": 1}, "9999-12-31T23:59:59-14:00", "2030-01-01", "\x00", "é" * 300),
        *("secret-1", "local-dev-000000"),
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict | list):
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            found += _paths(child, (*prefix, key))
    return found


PATHS = _paths(VALID)


@given(
    changes=st.lists(st.tuples(st.sampled_from(PATHS), ODD_VALUES), min_size=1, max_size=3),
    mode=st.sampled_from(["replace", "merge"]),
)
def test_an_import_loads_whole_or_changes_nothing(changes, mode):
    doc = json.loads(json.dumps(VALID))
    for path, value in changes:
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass
    emulator = Emulator(document({"orgId": 1, "apiSecret": "secret-one", "files": []}))
    client = create_app(emulator, Settings()).test_client()
    before = client.get("/_emulator/snapshot").data
    response = client.put(f"/_emulator/snapshot?mode={mode}", json=doc)
    assert response.status_code in (200, 400, 409), response.text
    if response.status_code != 200:
        assert client.get("/_emulator/snapshot").data == before
    else:
        loaded = {org["orgId"] for org in response.json["orgs"]}
        listed = {org["orgId"] for org in client.get("/_emulator/orgs").json["items"]}
        assert listed == loaded | ({1} if mode == "merge" and 1 not in loaded else set())


def test_loading_into_an_org_that_clashes_with_its_contents_changes_nothing(
    api, pixelbin_emulator, stored
):
    before = state(pixelbin_emulator)
    doc = {
        "folders": [{"name": "new"}],
        "files": [{"_id": stored["_id"], "name": "other", "base64": PNG64}],
    }
    with pytest.raises(ConflictError, match="appears twice"):
        pixelbin_emulator.load(document(doc))
    assert state(pixelbin_emulator) == before
    pixelbin_emulator.load(document({"folders": [{"name": "new"}]}))
    assert api.get(api.base + "/folders?name=new").status_code == 200
