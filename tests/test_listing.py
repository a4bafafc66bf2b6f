"""listFiles: filters, sorting and paging, as the SDKs use them."""

from __future__ import annotations

import pytest
from pixelbin.common.exceptions import PixelbinServerResponseError

from .helpers import jpeg, png


@pytest.fixture
def tree(assets):
    """root: folders d1, d2; files b (png, tag x), a (jpeg, tags x y), c (png); d1/inner (png)."""
    assets.createFolder(name="d2")
    assets.createFolder(name="d1")
    assets.fileUpload(file=png(), name="b", tags=["x"])
    assets.fileUpload(file=jpeg(), name="a", tags=["x", "y"])
    assets.fileUpload(file=png(3, 3), name="c")
    assets.fileUpload(file=png(), path="d1", name="inner", tags=["y"])
    return assets


def names(answer):
    return [item["name"] for item in answer["items"]]


def test_default_listing_is_the_root_folders_first(tree):
    answer = tree.listFiles()
    assert names(answer) == ["d1", "d2", "a", "b", "c"]
    assert answer["page"] == {
        "type": "number",
        "size": 5,
        "current": 1,
        "hasNext": False,
        "itemTotal": 5,
    }


def test_item_shapes(tree, pixelbin_emulator):
    items = {item["name"]: item for item in tree.listFiles()["items"]}
    folder, file = items["d1"], items["a"]
    assert folder["type"] == "folder" and "access" not in folder
    assert file["type"] == "file" and file["fileId"] == "a" and file["format"] == "jpeg"
    assert file["orgId"] == pixelbin_emulator.org_id
    assert file["url"].endswith("/original/a.jpeg")


def test_path_lists_that_folder(tree):
    assert names(tree.listFiles(path="d1")) == ["inner"]
    assert names(tree.listFiles(path="missing")) == []


def test_name_searches_the_subtree_case_insensitively(tree):
    assert names(tree.listFiles(name="INN")) == ["inner"]
    assert sorted(names(tree.listFiles(name="d"))) == ["d1", "d2"]


def test_only_files_and_only_folders(tree):
    assert names(tree.listFiles(onlyFiles=True)) == ["a", "b", "c"]
    assert names(tree.listFiles(onlyFolders=True)) == ["d1", "d2"]


def test_format_and_tags_filters(tree):
    assert names(tree.listFiles(format="png")) == ["b", "c"]
    assert names(tree.listFiles(format="jpg")) == ["a"]
    assert names(tree.listFiles(tags=["y"])) == ["a"]
    assert names(tree.listFiles(tags=["x", "nope"])) == ["a", "b"]  # any of the tags


@pytest.mark.parametrize("sort", ["-size", "size-"])
def test_descending_sort_by_prefix_or_suffix(tree, sort):
    answer = tree.listFiles(onlyFiles=True, sort=sort)
    sizes = [item["size"] for item in answer["items"]]
    assert sizes == sorted(sizes, reverse=True)


def test_sort_by_name_ascending(tree):
    assert names(tree.listFiles(sort="name")) == ["a", "b", "c", "d1", "d2"]


def test_unknown_sort_key_is_a_400(tree):
    with pytest.raises(PixelbinServerResponseError) as caught:
        tree.listFiles(sort="colour")
    assert caught.value.status_code == 400


def test_pages_walked_like_the_js_paginator_see_everything_once(assets):
    for index in range(23):
        assets.fileUpload(file=png(), name=f"f{index:02d}")
    for sort in (None, "-createdAt", "name", "-name", "size", "createdAt-"):
        seen, page_no, has_next = [], 1, True
        while has_next:
            answer = assets.listFiles(pageNo=page_no, pageSize=5, sort=sort)
            page = answer["page"]
            assert page["size"] == len(answer["items"]) and page["itemTotal"] == 23
            seen.extend(item["_id"] for item in answer["items"])
            has_next, page_no = page["hasNext"], page["current"] + 1
        assert len(seen) == 23 == len(set(seen)), sort


def test_a_page_past_the_end_is_empty(tree):
    answer = tree.listFiles(pageNo=9, pageSize=2)
    assert answer["items"] == [] and answer["page"]["hasNext"] is False
    assert answer["page"]["current"] == 9 and answer["page"]["itemTotal"] == 5


def test_listing_reflects_changes_immediately(assets):
    assets.fileUpload(file=png(), name="one")
    assert names(assets.listFiles()) == ["one"]
    assets.updateFile(fileId="one", name="two")
    assert names(assets.listFiles()) == ["two"]
    assets.deleteFile(fileId="two")
    assert names(assets.listFiles()) == []


def test_list_items_agree_with_the_file_object(tree):
    """listFiles builds its items on a faster path; the fields they share must not drift."""
    for item in tree.listFiles(onlyFiles=True)["items"]:
        full = tree.getFileById(_id=item["_id"])
        shared = set(item) & set(full)
        assert shared >= {"_id", "name", "path", "fileId", "format", "size", "url", "createdAt"}
        assert {key: item[key] for key in shared} == {key: full[key] for key in shared}
