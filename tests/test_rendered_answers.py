"""Reused answers of the hot reads (api/rendered.py) and their encoding (api/encoding.py).

``listFiles``, ``getFileById`` and ``getFileByFileId`` keep their encoded answers until the
org's asset tree changes: every kind of change must show in the next read, the host the URLs
start with is part of what is asked, and the bytes are those ``jsonify`` writes.
"""

from __future__ import annotations

import base64
import functools
import gc
import io
import json
import threading

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from pixelbin_emulator.api import rendered
from pixelbin_emulator.api.encoding import encode
from pixelbin_emulator.api.rendered import RenderedAnswers
from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.assets import AssetTree, ListQuery, UploadSpec
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.ids import IdFactory

API = "/service/platform/assets/v1.0"
SECRET = "rendered-answers-secret"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def setup():
    emulator = Emulator()
    org = emulator.create_org(api_secret=SECRET)
    app = create_app(emulator)
    client = app.test_client()
    token = base64.b64encode(SECRET.encode()).decode()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return app, client, org


def _upload(org, name: str, path: str = "", **extra) -> str:
    return org.assets.upload(UploadSpec(data=_png(), name=name, path=path, **extra)).id


def _names(client, query: str = "") -> list[str]:
    response = client.get(f"{API}/listFiles{query}")
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["items"]]


def test_every_kind_of_change_shows_in_the_next_read(setup):
    _, client, org = setup
    _id = _upload(org, "a", tags=["x"])
    assert _names(client) == ["a"] and _names(client) == ["a"]  # the second one is reused
    assert client.get(f"{API}/files/id/{_id}").get_json()["tags"] == ["x"]
    assert client.get(f"{API}/files/a").get_json()["tags"] == ["x"]

    _upload(org, "b")  # a new file
    assert _names(client) == ["a", "b"]
    org.assets.update_file("a", tags=["y"])  # replaced in place (same _id, path and name)
    assert client.get(f"{API}/listFiles").get_json()["items"][0]["tags"] == ["y"]
    assert client.get(f"{API}/files/id/{_id}").get_json()["tags"] == ["y"]
    assert client.get(f"{API}/files/a").get_json()["tags"] == ["y"]
    org.assets.update_file("a", name="c")  # moved
    assert _names(client) == ["b", "c"]
    assert client.get(f"{API}/files/a").status_code == 404
    assert client.get(f"{API}/files/id/{_id}").get_json()["fileId"] == "c"
    org.assets.create_folder("d")
    assert _names(client) == ["d", "b", "c"]
    org.assets.update_folder("d", is_active=False)
    assert client.get(f"{API}/listFiles").get_json()["items"][0]["isActive"] is False
    org.assets.delete_folder(org.assets.get_folder("", "d").id)
    org.assets.delete_file("b")
    assert _names(client) == ["c"]
    org.assets.delete_files([_id])
    assert _names(client) == []
    assert client.get(f"{API}/files/id/{_id}").status_code == 404


def test_the_generation_moves_on_every_change():
    tree = AssetTree(threading.RLock(), IdFactory(), lambda: 1.0)
    seen = [tree.generation]

    def changed() -> None:
        assert tree.generation > seen[-1]
        seen.append(tree.generation)

    file = tree.upload(UploadSpec(data=_png(), name="a", path="p"))
    changed()
    tree.upload(UploadSpec(data=_png(), name="a", path="p", overwrite=True))
    changed()
    tree.update_file("p/a", tags=["t"])
    changed()
    tree.update_folder("p", is_active=False)
    changed()
    tree.create_folder("q")
    changed()
    tree.delete_files([file.id])
    changed()
    tree.delete_folder(tree.get_folder("", "q").id)
    changed()
    before = tree.generation
    tree.listing(ListQuery())
    tree.find_file("p/a")
    assert tree.generation == before  # reads change nothing


def test_the_host_is_part_of_what_is_asked(setup):
    _, client, org = setup
    _id = _upload(org, "a")
    urls = set()
    for host in ("one.test", "two.test:8080", "one.test"):
        listed = client.get(f"{API}/listFiles", headers={"Host": host}).get_json()
        got = client.get(f"{API}/files/id/{_id}", headers={"Host": host}).get_json()
        assert listed["items"][0]["url"] == got["url"]
        assert got["url"].startswith(f"http://{host}/v2/")
        urls.add(got["url"])
    assert len(urls) == 2


def test_queries_are_told_apart_and_failures_are_not_kept(setup):
    _, client, org = setup
    for name in "abc":
        _upload(org, name)
    assert _names(client, "?pageSize=1") == ["a"]
    assert _names(client, "?pageSize=1&pageNo=2") == ["b"]
    assert _names(client, "?pageSize=1&pageNo=2&sort=-name") == ["b"]
    assert _names(client, "?sort=-name") == ["c", "b", "a"]
    for _ in range(2):
        assert client.get(f"{API}/listFiles?pageSize=0").status_code == 400
    assert client.get(f"{API}/files/id/missing").status_code == 404


def test_answers_are_the_bytes_jsonify_writes(setup):
    app, client, org = setup
    metadata = {"é": "ü\u2028\x7f\x01", "floats": [1e-05, 1e16, 0.1, -0.0, 2.5e-07], "n": 10**20}
    _id = _upload(org, "a", metadata=metadata, tags=["ß"])
    for path in (f"{API}/listFiles", f"{API}/files/id/{_id}", f"{API}/files/a"):
        body = client.get(path).data
        with app.app_context():
            assert body == app.json.response(json.loads(body)).get_data()
    assert client.get(f"{API}/files/id/{_id}").get_json()["metadata"] == metadata


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@functools.cache
def _app() -> Flask:
    return create_app(Emulator())


@given(_json)
def test_encode_writes_what_jsonify_writes(doc):
    app = _app()
    with app.app_context():
        assert encode(doc) == app.json.response(doc).get_data()


def test_bounded_per_tree_and_never_from_an_older_state():
    answers = RenderedAnswers()
    tree = AssetTree(threading.RLock(), IdFactory(), lambda: 1.0)
    for index in range(rendered.MAX_ANSWERS + 10):
        answers.put(tree, 0, ("n", str(index)), b"x")
    assert answers.get(tree, 0, ("n", "0")) is None  # the oldest went
    assert answers.get(tree, 0, ("n", str(rendered.MAX_ANSWERS + 9))) == b"x"
    answers.put(tree, 0, ("big",), b"x" * (rendered.MAX_BODY + 1))
    assert answers.get(tree, 0, ("big",)) is None
    long_key = ("q", "x" * rendered.MAX_KEY)
    answers.put(tree, 0, long_key, b"x")
    assert answers.get(tree, 0, long_key) is None
    chunk = b"x" * (rendered.MAX_BODY // 2)
    count = 2 * rendered.MAX_BYTES // len(chunk)
    for index in range(count):
        answers.put(tree, 0, ("chunk", str(index)), chunk)
    kept = [answers.get(tree, 0, ("chunk", str(index))) for index in range(count)]
    assert 0 < sum(len(body or b"") for body in kept) <= rendered.MAX_BYTES
    answers.put(tree, 1, ("new",), b"n")  # the tree moved on: what was kept is dropped
    assert answers.get(tree, 0, ("chunk", str(count - 1))) is None
    assert answers.get(tree, 1, ("new",)) == b"n"
    answers.put(tree, 0, ("late",), b"l")  # rendered from a state the tree has left
    assert answers.get(tree, 0, ("late",)) is None and answers.get(tree, 1, ("late",)) is None


def test_a_dropped_tree_takes_its_answers_with_it():
    answers = RenderedAnswers()
    tree = AssetTree(threading.RLock(), IdFactory(), lambda: 1.0)
    answers.put(tree, 0, ("k",), b"v")
    gc.disable()
    try:
        del tree  # freed by reference counting: nothing here holds it
        assert len(answers._trees) == 0
    finally:
        gc.enable()
