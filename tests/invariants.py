"""Consistency of an org, seen only through the HTTP API: what must hold after any sequence.

Used after fuzzing (against a live server, with ``requests``); the state machine checks the
same properties against its own model.
"""

from __future__ import annotations

from typing import Any

API = "/service/platform/assets/v1.0"


def join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def walk_listing(get: Any, folder: str, page_size: int, sort: str | None) -> list[dict[str, Any]]:
    """Every item of one folder's listing, page by page; paging must be consistent."""
    items: list[dict[str, Any]] = []
    page_no, has_next, totals = 1, True, set()
    while has_next:
        query: dict[str, Any] = {"path": folder, "pageNo": page_no, "pageSize": page_size}
        if sort:
            query["sort"] = sort
        page = get("/listFiles", query)
        assert len(page["items"]) <= page_size
        totals.add(page["page"]["itemTotal"])
        items.extend(page["items"])
        has_next, page_no = page["page"]["hasNext"], page["page"]["current"] + 1
    assert len(totals) == 1 and totals.pop() == len(items), (folder, sort)
    ids = [item["_id"] for item in items]
    assert len(ids) == len(set(ids)), f"an item listed twice in {folder!r} ({sort})"
    return items


def check_consistency(session: Any, base: str, *, detail_limit: int = 50) -> None:
    """Walk the whole tree and check the invariants of docs/testing.md."""

    def get(path: str, params: dict[str, Any] | None = None) -> Any:
        response = session.get(base + API + path, params=params)
        assert response.status_code == 200, (path, params, response.text)
        return response.json()

    folders: dict[str, dict[str, Any]] = {}
    files: dict[str, dict[str, Any]] = {}
    pending = [""]
    while pending:
        folder = pending.pop()
        items = walk_listing(get, folder, 7, None)
        other = walk_listing(get, folder, 100, "-createdAt")
        assert sorted(i["_id"] for i in items) == sorted(i["_id"] for i in other)
        for item in items:
            assert item["path"] == folder
            full = join(folder, item["name"])
            if item["type"] == "folder":
                assert full not in folders
                folders[full] = item
                pending.append(full)
            else:
                assert item["fileId"] == full
                assert full not in files, f"fileId {full!r} twice"
                files[full] = item
    ids = [item["_id"] for item in [*folders.values(), *files.values()]]
    assert len(ids) == len(set(ids)), "an _id used twice"
    for file_id, item in list(files.items())[:detail_limit]:
        parts = item["path"].split("/") if item["path"] else []
        for depth in range(1, len(parts) + 1):
            assert "/".join(parts[:depth]) in folders, f"{file_id!r} lacks a folder"
        by_id = get("/files/id/" + item["_id"])
        by_file_id = session.get(base + API + "/files/" + file_id)
        assert by_file_id.status_code == 200 and by_file_id.json() == by_id
    for full, item in list(folders.items())[:detail_limit]:
        answer = get(f"/folders/{item['_id']}/ancestors")
        chain = [join(a["path"], a["name"]) for a in answer["ancestors"]]
        parts = item["path"].split("/") if item["path"] else []
        assert chain == ["/".join(parts[: i + 1]) for i in range(len(parts))], full
