"""Presets through the official SDK (sync and async), plus raw HTTP for what the SDK won't send."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import EmulatorError
from pixelbin_emulator.core.snapshot import dump_state

from .helpers import expect_error

PRESET_KEYS = {
    "orgId",
    "presetName",
    "transformation",
    "params",
    "_id",
    "createdAt",
    "updatedAt",
    "isActive",
    "archived",
}
RESIZE_PARAMS = {"w": {"type": "integer", "default": 200}, "h": {"type": "integer", "default": 400}}


def expect_http_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["status"], body["code"]) == (status, f"CG-{status:04d}")
    return body


def all_presets(assets: Any) -> list[dict[str, Any]]:
    return assets.getPresets(pageSize=100)["items"]


def test_add_and_get_preset_shape(assets, pixelbin_emulator):
    added = assets.addPreset(
        presetName="pre-set_1",
        transformation="t.resize(w:$w,h:$h)~t.extract()",
        params=RESIZE_PARAMS,
    )
    assert set(added) == PRESET_KEYS
    assert added["orgId"] == pixelbin_emulator.org_id
    assert added["presetName"] == "pre-set_1"
    assert added["transformation"] == "t.resize(w:$w,h:$h)~t.extract()"
    assert added["params"] == RESIZE_PARAMS
    assert (added["isActive"], added["archived"]) == (True, False)
    assert added["createdAt"] == added["updatedAt"] and added["createdAt"].endswith("Z")
    assert assets.getPreset(presetName="pre-set_1") == added


def test_params_not_used_by_the_transformation_are_dropped(assets):
    added = assets.addPreset(
        presetName="p1", transformation="t.flip()~t.flop()", params=RESIZE_PARAMS
    )
    assert added["params"] == {}
    half = assets.addPreset(
        presetName="p2", transformation="t.resize(w:$w)~t.flip()", params=RESIZE_PARAMS
    )
    assert half["params"] == {"w": RESIZE_PARAMS["w"]}


def test_a_preset_without_params_and_every_plugin_kind(assets):
    for name, transformation in (
        ("erase", "erase.bg(i:ecommerce,shadow:true)"),
        ("aws", "awsRek.detectLabels(l:5)"),
        ("chain", "t.resize(w:100,h:80,f:contain)~t.compress(q:70)~t.toFormat(f:webp)"),
    ):
        added = assets.addPreset(presetName=name, transformation=transformation)
        assert (added["transformation"], added["params"]) == (transformation, {})


def test_fifteen_operations_is_the_limit(assets):
    assets.addPreset(presetName="fifteen", transformation="~".join(["t.flip()"] * 15))
    before = all_presets(assets)
    body = expect_error(
        400,
        assets.addPreset,
        presetName="sixteen",
        transformation="~".join(["t.flip()"] * 16),
    )
    assert "too many operations" in body["message"]
    assert all_presets(assets) == before


def test_update_preset_archives_and_unarchives(assets):
    added = assets.addPreset(presetName="p1", transformation="t.flip()")
    archived = assets.updatePreset(presetName="p1", archived=True)
    assert archived["archived"] is True and archived["_id"] == added["_id"]
    assert archived["updatedAt"] >= added["updatedAt"]
    assert assets.getPreset(presetName="p1")["archived"] is True
    assert assets.updatePreset(presetName="p1", archived=False)["archived"] is False


def test_delete_preset_returns_it_and_it_is_gone(assets):
    assets.addPreset(presetName="p1", transformation="t.flip()")
    archived = assets.updatePreset(presetName="p1", archived=True)
    deleted = assets.deletePreset(presetName="p1")
    assert deleted == archived
    for call, kwargs in (
        (assets.getPreset, {"presetName": "p1"}),
        (assets.deletePreset, {"presetName": "p1"}),
        (assets.updatePreset, {"presetName": "p1", "archived": True}),
    ):
        expect_error(404, call, **kwargs)
    assert all_presets(assets) == []
    # The name is free again.
    assert assets.addPreset(presetName="p1", transformation="t.flop()")["_id"] != deleted["_id"]


def test_duplicate_name_is_a_conflict_and_keeps_the_first(assets):
    first = assets.addPreset(presetName="p1", transformation="t.flip()")
    body = expect_error(409, assets.addPreset, presetName="p1", transformation="t.flop()")
    assert body["exception"] == "ConflictError" and "p1" in body["message"]
    assert assets.getPreset(presetName="p1") == first
    assert all_presets(assets) == [first]


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"transformation": "t.flip()"}, "presetName"),
        ({"presetName": "p"}, "transformation"),
        ({"presetName": "has space", "transformation": "t.flip()"}, "presetName"),
        ({"presetName": "p.dot", "transformation": "t.flip()"}, "presetName"),
        ({"presetName": "p", "transformation": "x.flip()"}, "'x'"),
        ({"presetName": "p", "transformation": "t.nope()"}, "t.nope"),
        # an unknown parameter is stored as written (docs/fidelity.md), its $variable is checked
        ({"presetName": "p", "transformation": "t.resize(z:$z)"}, "$z"),
        ({"presetName": "p", "transformation": "t.resize(w:abc)"}, "'abc'"),
        ({"presetName": "p", "transformation": "t.resize(w:10001)"}, "maximum"),
        ({"presetName": "p", "transformation": "t.resize(f:squash)"}, "'squash'"),
        ({"presetName": "p", "transformation": "t.flip("}, "parenthes"),
        ({"presetName": "p", "transformation": "t.flip()~~t.flop()"}, "empty operation"),
        ({"presetName": "p", "transformation": "t.flip"}, "'('"),
        ({"presetName": "p", "transformation": "t.resize(w:$w)"}, "$w"),
        (
            {"presetName": "p", "transformation": "t.resize(w:$w)", "params": {"h": {}}},
            "$w",
        ),
        (
            {
                "presetName": "p",
                "transformation": "t.resize(w:$w)",
                "params": {"w": {"type": "integer", "default": "big"}},
            },
            "'big'",
        ),
        ({"presetName": "p", "transformation": "p:other"}, "another preset"),
        ({"presetName": "p", "transformation": "original"}, "at least one operation"),
        ({"presetName": "p", "transformation": "erase.bg(i:spaceship)"}, "'spaceship'"),
    ],
)
def test_bad_add_preset_is_a_400_that_names_the_problem_and_changes_nothing(assets, kwargs, names):
    kept = assets.addPreset(presetName="kept", transformation="t.flip()")
    body = expect_error(400, assets.addPreset, **kwargs)
    assert names in body["message"]
    assert all_presets(assets) == [kept]


def test_get_presets_filters(assets):
    assets.addPreset(presetName="Flip_one", transformation="t.flip()")
    assets.addPreset(presetName="flop-two", transformation="t.flop()~t.flip()")
    assets.addPreset(presetName="small", transformation="t.resize(w:10)")
    assets.updatePreset(presetName="small", archived=True)
    small = assets.getPreset(presetName="small")

    def names(**query: Any) -> list[str]:
        return [p["presetName"] for p in assets.getPresets(**query)["items"]]

    assert names() == ["Flip_one", "flop-two", "small"]
    assert names(name="FL") == ["Flip_one", "flop-two"]
    assert names(name="one") == ["Flip_one"]
    assert names(transformation="t.flip()") == ["Flip_one", "flop-two"]
    assert names(transformation="t.resize(w:10)") == ["small"]
    assert names(transformation="T.FLIP()") == []  # case-sensitive, unlike name
    assert names(archived=True) == ["small"]
    assert names(name="zzz") == []
    assert assets.getPresets(name="small")["items"] == [small]


def test_get_presets_sort(assets):
    for name in ("b", "c", "a"):
        assets.addPreset(presetName=name, transformation="t.flip()")
    assets.updatePreset(presetName="c", archived=True)

    def names(sort: list[str]) -> list[str]:
        return [p["presetName"] for p in assets.getPresets(sort=sort)["items"]]

    assert names(["presetName"]) == ["a", "b", "c"]
    assert names(["-presetName"]) == ["c", "b", "a"]
    assert names(["presetName-"]) == ["c", "b", "a"]
    assert names(["createdAt"]) == ["b", "c", "a"]
    assert names(["-archived", "presetName"]) == ["c", "a", "b"]


def test_get_presets_page_object(assets):
    for i in range(3):
        assets.addPreset(presetName=f"t_{i}", transformation="t.flip()")
    first = assets.getPresets(pageNo=1, pageSize=2)
    assert first["page"] == {
        "type": "number",
        "size": 2,
        "current": 1,
        "hasNext": True,
        "itemTotal": 3,
    }
    last = assets.getPresets(pageNo=2, pageSize=2)
    assert last["page"] == {
        "type": "number",
        "size": 1,
        "current": 2,
        "hasNext": False,
        "itemTotal": 3,
    }
    empty = assets.getPresets()
    assert empty["page"]["current"] == 1 and empty["page"]["size"] == 3


@pytest.mark.parametrize("sort", [None, ["-presetName"], ["-createdAt"], ["archived"]])
def test_paging_walks_every_preset_exactly_once(assets, sort):
    expected = {f"preset_{i:02d}" for i in range(11)}
    for i, name in enumerate(sorted(expected)):
        assets.addPreset(presetName=name, transformation="t.flip()")
        if i % 3 == 0:
            assets.updatePreset(presetName=name, archived=True)
    seen: list[str] = []
    page_no, has_next = 1, True
    while has_next:
        query: dict[str, Any] = {"pageNo": page_no, "pageSize": 4}
        if sort:
            query["sort"] = sort
        result = assets.getPresets(**query)
        assert result["page"]["current"] == page_no
        assert result["page"]["size"] == len(result["items"])
        seen += [p["presetName"] for p in result["items"]]
        has_next = result["page"]["hasNext"]
        page_no += 1
    assert len(seen) == len(expected) and set(seen) == expected
    assert page_no - 1 == 3


def test_get_modules_lists_the_orgs_presets_archived_too(assets):
    added = assets.addPreset(presetName="compressor", transformation="t.compress(q:95)")
    assets.addPreset(presetName="old", transformation="t.flip()")
    archived = assets.updatePreset(presetName="old", archived=True)
    assert assets.getModules()["presets"] == [added, archived]


def test_a_variable_without_a_default_is_fine(assets):
    params = {"w": {"type": "integer"}, "q": {"type": "integer", "default": None}}
    added = assets.addPreset(
        presetName="p", transformation="t.resize(w:$w)~t.compress(q:$q)", params=params
    )
    assert added["params"] == params


# -- raw HTTP: what the SDK's client-side validation would not let through ------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"presetName": 5, "transformation": "t.flip()"},
        {"presetName": "p", "transformation": ["t.flip()"]},
        {"presetName": "p", "transformation": 7},
        {"presetName": "p", "transformation": "t.flip()", "params": "w"},
        {"presetName": "p", "transformation": "t.flip()", "params": ["w"]},
        {"presetName": "p", "transformation": "t.resize(w:$w)", "params": {"w": 3}},
        {"presetName": "p", "transformation": "t.resize(w:$w)", "params": {"w": {"type": 1}}},
        {"presetName": "p", "transformation": "t.resize(w:$w)", "params": {"bad-key": {}}},
        {"presetName": "", "transformation": "t.flip()"},
        {"presetName": "p" * 256, "transformation": "t.flip()"},
    ],
)
def test_add_preset_wrong_types_over_http(api, body):
    api.post(api.base + "/presets", json={"presetName": "kept", "transformation": "t.flip()"})
    before = api.get(api.base + "/presets").json()
    expect_http_error(api.post(api.base + "/presets", json=body), 400)
    assert api.get(api.base + "/presets").json() == before


def test_add_preset_with_a_body_that_is_not_json(api):
    response = api.post(
        api.base + "/presets", data="{not json", headers={"Content-Type": "application/json"}
    )
    expect_http_error(response, 400)
    assert api.get(api.base + "/presets").json()["items"] == []


@pytest.mark.parametrize("body", [{}, {"archived": "yes"}, {"archived": 1}, {"archived": None}])
def test_update_preset_needs_a_boolean(api, body):
    original = api.post(
        api.base + "/presets", json={"presetName": "p", "transformation": "t.flip()"}
    ).json()
    expect_http_error(api.patch(api.base + "/presets/p", json=body), 400)
    assert api.get(api.base + "/presets/p").json() == original


@pytest.mark.parametrize(
    "query",
    [
        "pageNo=0",
        "pageNo=abc",
        "pageSize=0",
        "pageSize=101",
        "pageSize=x",
        "sort[0]=nope",
        "sort=-size",
        "archived=maybe",
    ],
)
def test_get_presets_bad_query(api, query):
    expect_http_error(api.get(api.base + "/presets?" + query), 400)


def test_get_presets_js_style_query(api):
    for name in ("a", "b"):
        api.post(api.base + "/presets", json={"presetName": name, "transformation": "t.flip()"})
    api.patch(api.base + "/presets/b", json={"archived": True})
    # JS sends archived=false; Go sends sort=[a b]; both must work.
    unarchived = api.get(api.base + "/presets?archived=false").json()
    assert [p["presetName"] for p in unarchived["items"]] == ["a"]
    by_go = api.get(api.base + "/presets", params={"sort": "[-presetName]"}).json()
    assert [p["presetName"] for p in by_go["items"]] == ["b", "a"]


def test_presets_are_per_org(api, pixelbin_emulator):
    other = pixelbin_emulator.emulator.create_org()
    try:
        other.presets.add("theirs", "t.flip()")
        api.post(api.base + "/presets", json={"presetName": "theirs", "transformation": "t.flop()"})
        assert api.get(api.base + "/presets/theirs").json()["transformation"] == "t.flop()"
        assert other.presets.get("theirs").transformation == "t.flip()"
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)


# -- snapshots -------------------------------------------------------------------------------


def _state(org: dict[str, Any]) -> dict[str, Any]:
    return {"format": "pixelbin-emulator-state", "version": 1, "orgs": [org]}


def test_snapshot_round_trips_presets_and_credentials():
    emulator = Emulator(_state({"orgId": 1, "apiSecret": "secret-1"}), random_seed=5)
    org = emulator.org(1)
    org.presets.add("a", "t.resize(w:$w)", RESIZE_PARAMS)
    org.presets.add("b", "t.flip()")
    org.presets.update("b", archived=True)
    org.plugin_credentials.add("awsRek", {"accessKeyId": "x"})
    exported = dump_state(emulator)
    assert [p["presetName"] for p in exported["orgs"][0]["presets"]] == ["a", "b"]
    assert exported["orgs"][0]["credentials"][0]["credentials"] == {"accessKeyId": "x"}
    copy = Emulator(json.loads(json.dumps(exported)))
    assert dump_state(copy) == exported
    assert copy.org(1).presets.get("b").archived is True


def test_hand_written_seed_presets_and_credentials():
    emulator = Emulator(
        _state(
            {
                "orgId": 3,
                "apiSecret": "secret-3",
                "presets": [
                    {"presetName": "thumb", "transformation": "t.resize(w:100)"},
                    {"presetName": "old", "transformation": "t.flip()", "archived": True},
                ],
                "credentials": [{"pluginId": "remove", "credentials": {"apiKey": "k"}}],
            }
        )
    )
    org = emulator.org(3)
    assert [p.name for p in org.presets.all()] == ["thumb", "old"]
    assert org.presets.get("old").archived is True
    assert org.plugin_credentials.configured("remove")


@pytest.mark.parametrize(
    "extra",
    [
        {"presets": [{"presetName": "bad", "transformation": "t.nope()"}]},
        {"presets": [{"presetName": "a", "transformation": "t.flip()"}] * 2},
        {"presets": [{"_id": "x", "presetName": "a", "transformation": "t.flip()", "params": 1}]},
        {"presets": "not a list"},
        {"credentials": [{"pluginId": "nope", "credentials": {"k": "v"}}]},
        {"credentials": [{"_id": "x", "pluginId": "awsRek", "credentials": "v"}]},
        {"credentials": [1]},
    ],
)
def test_bad_seed_presets_or_credentials_are_refused(extra):
    # ValidationError, or ConflictError for the duplicate: both are 4xx EmulatorErrors.
    with pytest.raises(EmulatorError):
        Emulator(_state({"orgId": 4, "apiSecret": "secret-4"} | extra))


def test_concurrent_adds_of_one_name_make_one_preset(pixelbin_emulator):
    org = pixelbin_emulator.org
    outcomes: list[str] = []

    def add(i: int) -> None:
        try:
            org.presets.add("same", f"t.rotate(a:{i})")
            outcomes.append("added")
        except EmulatorError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ConflictError"] * 15 + ["added"]
    assert [p.name for p in org.presets.all()] == ["same"]
