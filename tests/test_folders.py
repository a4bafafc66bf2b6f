"""Folders through the official SDK, sync and async."""

from __future__ import annotations

import pytest
from pixelbin.common.exceptions import PixelbinServerResponseError

from .helpers import png


def test_create_folder_creates_ancestors(assets):
    created = assets.createFolder(name="leaf", path="a/b")
    assert set(created) == {"_id", "name", "path", "isActive"}
    assert (created["name"], created["path"], created["isActive"]) == ("leaf", "a/b", True)
    for path, name in (("", "a"), ("a", "b"), ("a/b", "leaf")):
        assert assets.getFolderDetails(path=path, name=name)["name"] == name


def test_root_slash_means_root(assets):
    assert assets.createFolder(name="top", path="/")["path"] == ""


def test_folder_names_are_slugified(assets):
    assert assets.createFolder(name="My Folder (2)")["name"] == "My-Folder-(2)"


def test_existing_folder_is_a_conflict(assets):
    assets.createFolder(name="dup")
    with pytest.raises(PixelbinServerResponseError) as caught:
        assets.createFolder(name="dup")
    assert caught.value.status_code == 409


def test_folder_details_shape(assets, pixelbin_emulator):
    created = assets.createFolder(name="d", path="p")
    details = assets.getFolderDetails(path="p", name="d")
    assert details["_id"] == created["_id"]
    assert details["type"] == "folder" and details["orgId"] == pixelbin_emulator.org_id
    assert details["fileId"] is None and details["size"] is None


def test_unknown_folder_is_a_404(assets):
    with pytest.raises(PixelbinServerResponseError) as caught:
        assets.getFolderDetails(path="", name="missing")
    assert caught.value.status_code == 404


def test_update_folder_changes_only_is_active(assets):
    created = assets.createFolder(name="f", path="p")
    updated = assets.updateFolder(folderId="p/f", isActive=False)
    assert updated == {**created, "isActive": False}
    assert assets.getFolderDetails(path="p", name="f")["isActive"] is False
    assert assets.updateFolder(folderId="p/f")["isActive"] is False  # empty body: no change


def test_ancestors_are_root_first(assets):
    leaf = assets.createFolder(name="c", path="a/b")
    answer = assets.getFolderAncestors(_id=leaf["_id"])
    assert answer["folder"] == {"_id": leaf["_id"], "path": "a/b", "name": "c", "type": "folder"}
    assert [(a["path"], a["name"]) for a in answer["ancestors"]] == [("", "a"), ("a", "b")]
    top = assets.getFolderDetails(path="", name="a")
    assert assets.getFolderAncestors(_id=top["_id"])["ancestors"] == []


def test_delete_folder_removes_everything_below(assets):
    assets.fileUpload(file=png(), path="gone/deeper", name="f1")
    assets.fileUpload(file=png(), path="gone", name="f2")
    kept = assets.fileUpload(file=png(), path="kept", name="f3")
    gone = assets.getFolderDetails(path="", name="gone")
    deleted = assets.deleteFolder(_id=gone["_id"])
    assert deleted == {"_id": gone["_id"], "name": "gone", "path": "", "isActive": True}
    listing = assets.listFiles()["items"]
    assert [item["name"] for item in listing] == ["kept"]
    assert assets.getFileById(_id=kept["_id"])["fileId"] == "kept/f3"
    for call, kwargs in (
        (assets.getFileByFileId, {"fileId": "gone/deeper/f1"}),
        (assets.getFolderDetails, {"path": "gone", "name": "deeper"}),
        (assets.deleteFolder, {"_id": gone["_id"]}),
        (assets.getFolderAncestors, {"_id": gone["_id"]}),
    ):
        with pytest.raises(PixelbinServerResponseError) as caught:
            call(**kwargs)
        assert caught.value.status_code == 404


def test_a_file_and_a_folder_may_share_a_full_path(assets):
    assets.createFolder(name="same")
    assets.fileUpload(file=png(), name="same")
    kinds = sorted(item["type"] for item in assets.listFiles()["items"])
    assert kinds == ["file", "folder"]
