"""Property: export → import into a fresh emulator → every API answer is identical."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.settings import Settings

API = "/service/platform/assets/v1.0"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
NAMES = st.sampled_from(["a", "b", "Cat", "d.e"])
SORTS = (None, "createdAt", "-updatedAt", "name", "-size")

operations = st.lists(
    st.one_of(
        st.tuples(st.just("folder"), NAMES, st.integers(0, 5)),
        st.tuples(
            st.just("upload"),
            NAMES,
            st.integers(0, 5),
            st.sampled_from([PNG, b"hello", b"\x00\x01binary"]),
            st.booleans(),
        ),
        st.tuples(st.just("update"), st.integers(0, 9), st.sampled_from(["tags", "access", "off"])),
        st.tuples(st.just("delete"), st.integers(0, 9)),
        st.tuples(st.just("rmdir"), st.integers(0, 5)),
        st.tuples(st.just("tick"), st.sampled_from([0, 0, 1, 250, 60_000])),
    ),
    max_size=15,
)


class Org:
    def __init__(self, app: Any, org: dict[str, Any]) -> None:
        self.client = app.test_client()
        token = base64.b64encode(org["apiSecret"].encode()).decode()
        self.headers = {"Authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.open(API + path, method=method, headers=self.headers, **kwargs)

    def get(self, route: str, **query: Any) -> Any:
        answer = self("GET", route, query_string=query)
        return answer.status_code, answer.get_json()


def _pick(items: list[Any], index: int) -> Any:
    return items[index % len(items)] if items else None


def _apply(org: Org, op: tuple[Any, ...], app: Any) -> None:
    folders = [""] + [f"{f['path']}/{f['name']}".lstrip("/") for f in _all(org, "folder")]
    files = _all(org, "file")
    kind = op[0]
    if kind == "folder":
        org("POST", "/folders", json={"name": op[1], "path": _pick(folders, op[2])})
    elif kind == "upload":
        _, name, where, data, overwrite = op
        form = {"name": name, "path": _pick(folders, where), "overwrite": str(overwrite).lower()}
        form["file"] = (__import__("io").BytesIO(data), f"{name}.bin")
        org("POST", "/upload/direct", data=form, content_type="multipart/form-data")
    elif kind == "update" and files:
        file = _pick(files, op[1])
        body = {"tags": ["x", op[2]]} if op[2] == "tags" else {}
        if op[2] == "access":
            body = {"access": "private"}
        elif op[2] == "off":
            body = {"isActive": False}
        org("PATCH", f"/files/{file['fileId']}", json=body)
    elif kind == "delete" and files:
        org("DELETE", f"/files/{_pick(files, op[1])['fileId']}")
    elif kind == "rmdir" and len(folders) > 1:
        folder = org.get("/folders", path="", name=folders[1 + op[1] % (len(folders) - 1)])
        if folder[0] == 200:
            org("DELETE", f"/folders/{folder[1]['_id']}")
    elif kind == "tick":
        app.extensions["pixelbin_emulator"]["emulator"].clock.advance(op[1] / 1000)


def _all(org: Org, kind: str) -> list[dict[str, Any]]:
    """Every entry of one kind, by searching the whole tree (``name`` matches everything)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        _, answer = org.get("/listFiles", name="", pageNo=page, pageSize=100)
        items += [item for item in answer["items"] if item["type"] == kind]
        if not answer["page"]["hasNext"]:
            return items
        page += 1


def _answers(org: Org) -> list[Any]:
    """Every read the API offers on the org's state."""
    answers: list[Any] = []
    folders = _all(org, "folder")
    paths = [""] + [f"{f['path']}/{f['name']}".lstrip("/") for f in folders]
    for path in paths:
        for sort in SORTS:
            page = 1
            while True:
                query = {"path": path, "pageNo": page, "pageSize": 2}
                if sort:
                    query["sort"] = sort
                status, answer = org.get("/listFiles", **query)
                answers.append((path, sort, page, status, answer))
                if status != 200 or not answer["page"]["hasNext"]:
                    break
                page += 1
    for folder in folders:
        answers.append(org.get("/folders", path=folder["path"], name=folder["name"]))
        answers.append(org.get(f"/folders/{folder['_id']}/ancestors"))
    for file in _all(org, "file"):
        answers.append(org.get(f"/files/id/{file['_id']}"))
        answers.append(org.get(f"/files/{file['fileId']}"))
    return answers


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # examples: the profile
@given(ops=operations)
def test_snapshot_round_trip_gives_identical_answers(ops: list[tuple[Any, ...]]) -> None:
    source_app = create_app(Emulator(), Settings())
    control = source_app.test_client()
    control.post("/_emulator/clock/freeze", json={"at": "2031-05-06T07:08:09.010Z"})
    org_doc = control.post("/_emulator/orgs", json={"name": "p"}).get_json()
    source = Org(source_app, org_doc)
    for op in ops:
        _apply(source, op, source_app)
    snapshot = control.get("/_emulator/snapshot").get_json()

    target_app = create_app(Emulator(), Settings())
    imported = target_app.test_client().put("/_emulator/snapshot", json=snapshot)
    assert imported.status_code == 200, imported.get_json()
    target = Org(target_app, org_doc)

    assert _answers(target) == _answers(source)
    assert target_app.test_client().get("/_emulator/snapshot").get_json() == snapshot
