"""Stateful property test: random sequences of API calls against a small reference model.

The model below is written independently of the emulator's store: plain dicts of folder paths
and files. After every step the emulator, seen only through its HTTP API (Flask's test client,
for speed), must agree with the model: same files and folders, listings that page through every
item exactly once with the right ``itemTotal``, ancestors that match paths, 404 for what was
deleted, and never a 5xx.
"""

from __future__ import annotations

import base64
import io
import json
import unicodedata
from importlib import resources
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.emulator import Emulator

API = "/service/platform/assets/v1.0"
SECRET = "state-machine-secret"
ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ $*+~.()'!-:@")


#: npm slugify's own character map (the data the emulator ships); the algorithm below is the
#: model's own.
CHARMAP = json.loads(
    resources.files("pixelbin_emulator").joinpath("data/slugify-charmap.json").read_text("utf-8")
)["charmap"]
#: What JavaScript's \\s matches.
JS_SPACE = set("\t\n\v\f\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {
    chr(code) for code in range(0x2000, 0x200B)
}


def model_slug(text: str) -> str:
    """npm-slugify-like, written out longhand for the model."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        mapped = CHARMAP.get(ch, ch)
        for c in " " if mapped == "-" else mapped:
            if c in JS_SPACE:
                out.append(" ")
            elif c in ALLOWED:
                out.append(c)
    words = "".join(out).split(" ")
    return "-".join(word for word in words if word)


def join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def parent_chain(path: str) -> list[str]:
    parts = path.split("/") if path else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


# Names: mostly from a small pool (so collisions happen), sometimes awkward.
POOL = ["a", "b", "A", "photo", "Photo", "x.y", "dots..", "name with space", "naïve", "ü"]
names = st.one_of(
    st.sampled_from(POOL),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    st.just("n" * 256),
)
segments = st.sampled_from(["d1", "d2", "D1", "sub dir", "é"])
paths = st.lists(segments, max_size=3).map("/".join)
contents = st.sampled_from(["png", "jpeg", "text"])
tag_lists = st.lists(st.sampled_from(["t1", "t2", "t3"]), max_size=2, unique=True)


def payload(kind: str) -> tuple[bytes, str]:
    from PIL import Image

    if kind == "text":
        return b"plain text", "text"
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), "red").save(buffer, kind.upper())
    return buffer.getvalue(), kind


class AssetsMachine(RuleBasedStateMachine):
    file_ids = Bundle("file_ids")

    def __init__(self) -> None:
        super().__init__()
        self.emulator = Emulator()
        self.emulator.create_org(api_secret=SECRET)
        self.client = create_app(self.emulator).test_client()
        token = base64.b64encode(SECRET.encode()).decode()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.folders: set[str] = set()
        self.files: dict[str, dict[str, Any]] = {}  # fileId -> model record
        self.deleted_ids: set[str] = set()

    # -- plumbing ------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.open(API + path, method=method, headers=self.headers, **kwargs)
        assert response.status_code < 500, (method, path, response.get_data(as_text=True))
        if response.status_code != 200:
            body = response.get_json()
            assert body["status"] == response.status_code and body["message"], body
        return response

    def add_folders(self, path: str) -> None:
        self.folders.update(parent_chain(path))

    def file_by_id(self, _id: str) -> dict[str, Any] | None:
        return next((f for f in self.files.values() if f["_id"] == _id), None)

    # -- rules ---------------------------------------------------------------------------

    @rule(
        target=file_ids,
        path=paths,
        name=names,
        kind=contents,
        tags=tag_lists,
        overwrite=st.booleans(),
        override=st.booleans(),
    )
    def upload(self, path, name, kind, tags, overwrite, override):
        data, fmt = payload(kind)
        response = self.call(
            "POST",
            "/upload/direct",
            data={
                "file": (io.BytesIO(data), "upload.bin"),
                "path": path,
                "name": name,
                "tags": tags,
                "overwrite": str(overwrite).lower(),
                "filenameOverride": str(override).lower(),
            },
        )
        slug = model_slug(name) if name else "upload"  # no name: the file's name minus extension
        clean_path = "/".join(model_slug(s) for s in path.split("/")) if path else ""
        if not slug or slug in (".", "..") or len(slug) > 255:
            assert response.status_code == 400
            return multiple()
        file_id = join(clean_path, slug)
        existing = self.files.get(file_id)
        if existing and not overwrite and not override:
            assert response.status_code == 400
            return multiple()
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["format"] == ("bin" if fmt == "text" else fmt)
        if existing and overwrite:
            assert body["_id"] == existing["_id"] and body["fileId"] == file_id
        elif existing:
            assert body["name"].startswith(slug + "-") and len(body["name"]) == len(slug) + 10
            assert body["fileId"] not in self.files
        else:
            assert body["fileId"] == file_id
        self.add_folders(clean_path)
        self.files[body["fileId"]] = {
            "_id": body["_id"],
            "path": clean_path,
            "name": body["name"],
            "format": body["format"],
            "tags": tags,
            "access": "public-read",
            "isActive": True,
        }
        return body["fileId"]

    @rule(path=paths, name=st.sampled_from(["d1", "d2", "new", "New"]))
    def create_folder(self, path, name):
        response = self.call("POST", "/folders", json={"name": name, "path": path})
        clean_path = "/".join(model_slug(s) for s in path.split("/")) if path else ""
        full = join(clean_path, name)
        if full in self.folders:
            assert response.status_code == 409
        else:
            assert response.status_code == 200
            self.add_folders(full)

    @rule(file_id=file_ids, new_name=st.none() | st.sampled_from(POOL), new_path=st.none() | paths)
    def move(self, file_id, new_name, new_path):
        response = self.call(
            "PATCH",
            "/files/" + file_id,
            json={k: v for k, v in (("name", new_name), ("path", new_path)) if v is not None},
        )
        record = self.files.get(file_id)
        if record is None:
            assert response.status_code == 404
            return
        name = model_slug(new_name) if new_name is not None else record["name"]
        path = (
            ("/".join(model_slug(s) for s in new_path.split("/")) if new_path else "")
            if new_path is not None
            else record["path"]
        )
        target = join(path, name)
        if target != file_id and target in self.files:
            assert response.status_code == 409
            return
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["fileId"] == target
        del self.files[file_id]
        record.update(name=name, path=path)
        self.files[target] = record
        self.add_folders(path)

    @rule(
        file_id=file_ids,
        access=st.sampled_from(["public-read", "private"]),
        tags=tag_lists,
        active=st.booleans(),
    )
    def update_attributes(self, file_id, access, tags, active):
        response = self.call(
            "PATCH", "/files/" + file_id, json={"access": access, "tags": tags, "isActive": active}
        )
        record = self.files.get(file_id)
        if record is None:
            assert response.status_code == 404
            return
        assert response.status_code == 200
        record.update(access=access, tags=tags, isActive=active)

    @rule(file_id=consumes(file_ids))
    def delete_file(self, file_id):
        response = self.call("DELETE", "/files/" + file_id)
        record = self.files.pop(file_id, None)
        if record is None:
            assert response.status_code == 404
            return
        assert response.status_code == 200 and response.get_json()["_id"] == record["_id"]
        self.deleted_ids.add(record["_id"])

    @rule(picks=st.lists(file_ids, max_size=3))
    def delete_files(self, picks):
        ids = [self.files[f]["_id"] for f in picks if f in self.files] + ["no-such-id"]
        response = self.call("POST", "/files/delete", json={"ids": ids})
        assert response.status_code == 200
        assert sorted(d["_id"] for d in response.get_json()) == sorted(set(ids[:-1]))
        for file_id in [f for f, r in self.files.items() if r["_id"] in ids]:
            self.deleted_ids.add(self.files.pop(file_id)["_id"])

    @precondition(lambda self: self.folders)
    @rule(data=st.data())
    def delete_folder(self, data):
        full = data.draw(st.sampled_from(sorted(self.folders)))
        path, _, name = full.rpartition("/")
        details = self.call("GET", "/folders", query_string={"path": path, "name": name})
        assert details.status_code == 200
        response = self.call("DELETE", "/folders/" + details.get_json()["_id"])
        assert response.status_code == 200
        self.folders = {f for f in self.folders if f != full and not f.startswith(full + "/")}
        for file_id in [
            f
            for f, r in self.files.items()
            if r["path"] == full or r["path"].startswith(full + "/")
        ]:
            self.deleted_ids.add(self.files.pop(file_id)["_id"])

    @precondition(lambda self: self.folders)
    @rule(data=st.data(), active=st.booleans())
    def update_folder(self, data, active):
        full = data.draw(st.sampled_from(sorted(self.folders)))
        response = self.call("PATCH", "/folders/" + full, json={"isActive": active})
        assert response.status_code == 200 and response.get_json()["isActive"] is active

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def files_agree_with_the_model(self):
        for file_id, record in self.files.items():
            assert record["path"] in self.folders or record["path"] == ""
            assert file_id == join(record["path"], record["name"])
            by_id = self.call("GET", "/files/id/" + record["_id"]).get_json()
            by_file_id = self.call("GET", "/files/" + file_id).get_json()
            assert by_id == by_file_id
            for key in ("_id", "name", "path", "format", "tags", "access", "isActive"):
                assert by_id[key] == record[key], (key, by_id, record)
        ids = [r["_id"] for r in self.files.values()]
        assert len(ids) == len(set(ids))
        for _id in list(self.deleted_ids)[:5]:
            assert self.call("GET", "/files/id/" + _id).status_code == 404

    @invariant()
    def every_folder_pages_through_its_children_exactly_once(self):
        for folder in ["", *sorted(self.folders)]:
            expected = {
                ("folder", f.rpartition("/")[2])
                for f in self.folders
                if f.rpartition("/")[0] == folder and f != folder
            }
            expected |= {("file", r["name"]) for r in self.files.values() if r["path"] == folder}
            for sort, size in ((None, 2), ("-createdAt", 3), ("name-", 1)):
                seen, page_no, has_next = [], 1, True
                while has_next:
                    query = {"path": folder, "pageNo": page_no, "pageSize": size}
                    if sort:
                        query["sort"] = sort
                    answer = self.call("GET", "/listFiles", query_string=query).get_json()
                    assert answer["page"]["itemTotal"] == len(expected)
                    seen.extend((i["type"], i["name"]) for i in answer["items"])
                    has_next, page_no = answer["page"]["hasNext"], answer["page"]["current"] + 1
                assert len(seen) == len(set(seen)) and set(seen) == expected, (folder, sort)

    @invariant()
    def ancestors_match_paths(self):
        for full in sorted(self.folders)[:6]:
            path, _, name = full.rpartition("/")
            details = self.call("GET", "/folders", query_string={"path": path, "name": name})
            answer = self.call("GET", f"/folders/{details.get_json()['_id']}/ancestors").get_json()
            chain = parent_chain(path)
            assert [join(a["path"], a["name"]) for a in answer["ancestors"]] == chain


TestAssetsMachine = AssetsMachine.TestCase
