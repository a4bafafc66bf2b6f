"""Files through the official SDK, sync and async: upload, get, update, delete."""

from __future__ import annotations

import pytest
import requests
from pixelbin.common.exceptions import PixelbinServerResponseError

from .helpers import jpeg, png, sdk_error, webp


def test_upload_returns_the_ingestion_shape(assets, pixelbin_emulator):
    result = assets.fileUpload(file=png(40, 30), path="dir/sub", name="my pic", tags=["a", "b"])
    assert result["name"] == "my-pic"
    assert result["path"] == "dir/sub"
    assert result["fileId"] == "dir/sub/my-pic"
    assert result["format"] == "png"
    assert result["assetType"] == "image"
    assert (result["width"], result["height"]) == (40, 30)
    assert result["size"] == len(png(40, 30))
    assert result["access"] == "public-read"
    assert result["tags"] == ["a", "b"]
    assert result["metadata"] == {"source": "direct"}
    assert result["orgId"] == pixelbin_emulator.org_id
    assert result["isOriginal"] is True
    assert result["context"]["meta"]["format"] == "png"
    assert result["url"] == (
        f"{pixelbin_emulator.url}/v2/{pixelbin_emulator.cloud_name}/original/dir/sub/my-pic.png"
    )


def test_get_by_id_and_by_file_id_agree(assets):
    uploaded = assets.fileUpload(file=jpeg(), path="a/b", name="c", metadata={"k": [1, 2]})
    by_id = assets.getFileById(_id=uploaded["_id"])
    by_file_id = assets.getFileByFileId(fileId="a/b/c")
    assert by_id == by_file_id
    assert by_id["_id"] == uploaded["_id"]
    assert by_id["metadata"] == {"source": "direct", "k": [1, 2]}
    assert by_id["isActive"] is True
    assert by_id["createdAt"].endswith("Z") and by_id["createdAt"] == by_id["updatedAt"]
    for key in ("meta", "kvStore", "width", "height", "url", "assetType"):
        assert key in by_id


def test_name_defaults_to_the_file_name_minus_extension(assets, tmp_path):
    picture = tmp_path / "holiday photo.jpeg"
    picture.write_bytes(webp())
    with picture.open("rb") as handle:
        result = assets.fileUpload(file=handle)
    assert result["name"] == "holiday-photo"
    assert result["format"] == "webp"  # sniffed from the bytes, not the extension
    assert result["context"]["meta"]["extension"] == "jpeg"  # what the client called it
    assert result["url"].endswith("/original/holiday-photo.webp")


def test_raw_bytes_are_named_after_the_sdk_part_name(assets):
    result = assets.fileUpload(file=b"plain text, not an image")
    assert result["name"] == "file"
    assert result["assetType"] == "raw"


def test_ancestors_are_created(assets):
    assets.fileUpload(file=png(), path="x/y/z", name="leaf")
    folder = assets.getFolderDetails(path="x/y", name="z")
    assert folder["type"] == "folder"
    ancestors = assets.getFolderAncestors(_id=folder["_id"])
    assert [a["name"] for a in ancestors["ancestors"]] == ["x", "y"]


def test_collision_without_flags_is_a_400_that_says_why(assets):
    assets.fileUpload(file=png(), name="same")
    with pytest.raises(PixelbinServerResponseError) as caught:
        assets.fileUpload(file=jpeg(), name="same")
    assert caught.value.status_code == 400
    body = sdk_error(caught.value)
    assert "overwrite" in body["message"] and "filenameOverride" in body["message"]
    assert assets.getFileByFileId(fileId="same")["format"] == "png"


def test_overwrite_replaces_and_keeps_identity(assets):
    first = assets.fileUpload(file=png(), name="same", tags=["old"])
    second = assets.fileUpload(file=jpeg(), name="same", tags=["new"], overwrite=True)
    assert second["_id"] == first["_id"]
    stored = assets.getFileByFileId(fileId="same")
    assert stored["format"] == "jpeg" and stored["tags"] == ["new"]
    assert assets.listFiles()["page"]["itemTotal"] == 1


def test_overwrite_takes_precedence_over_filename_override(assets):
    first = assets.fileUpload(file=png(), name="same")
    second = assets.fileUpload(file=png(), name="same", overwrite=True, filenameOverride=True)
    assert second["_id"] == first["_id"] and second["name"] == "same"


def test_filename_override_adds_a_unique_suffix(assets):
    assets.fileUpload(file=png(), name="same")
    second = assets.fileUpload(file=png(), name="same", filenameOverride=True)
    assert second["name"].startswith("same-")
    suffix = second["name"][len("same-") :]
    assert len(suffix) == 9 and suffix[4] == "-" and suffix.replace("-", "").isalnum()
    assert assets.listFiles()["page"]["itemTotal"] == 2


def test_update_file_attributes(assets):
    uploaded = assets.fileUpload(file=png(), name="f")
    updated = assets.updateFile(
        fileId="f", access="private", isActive=False, tags=["t"], metadata={"m": 1}
    )
    assert updated["_id"] == uploaded["_id"]
    assert (updated["access"], updated["isActive"]) == ("private", False)
    assert (updated["tags"], updated["metadata"]) == (["t"], {"m": 1})
    assert assets.getFileById(_id=uploaded["_id"]) == updated


def test_rename_and_move_update_the_file_id(assets):
    uploaded = assets.fileUpload(file=png(), path="old", name="f")
    moved = assets.updateFile(fileId="old/f", name="g h", path="new/place")
    assert moved["fileId"] == "new/place/g-h" and moved["_id"] == uploaded["_id"]
    assert assets.getFileByFileId(fileId="new/place/g-h")["_id"] == uploaded["_id"]
    assert assets.getFolderDetails(path="new", name="place")["name"] == "place"
    with pytest.raises(PixelbinServerResponseError) as caught:
        assets.getFileByFileId(fileId="old/f")
    assert caught.value.status_code == 404


def test_rename_onto_an_existing_file_is_a_conflict(assets):
    assets.fileUpload(file=png(), name="a")
    assets.fileUpload(file=png(), name="b")
    with pytest.raises(PixelbinServerResponseError) as caught:
        assets.updateFile(fileId="a", name="b")
    assert caught.value.status_code == 409
    assert assets.getFileByFileId(fileId="a")["name"] == "a"


def test_delete_file_then_it_is_gone(assets):
    uploaded = assets.fileUpload(file=png(), name="gone")
    deleted = assets.deleteFile(fileId="gone")
    assert deleted["_id"] == uploaded["_id"]
    for call, kwargs in (
        (assets.getFileById, {"_id": uploaded["_id"]}),
        (assets.getFileByFileId, {"fileId": "gone"}),
        (assets.deleteFile, {"fileId": "gone"}),
    ):
        with pytest.raises(PixelbinServerResponseError) as caught:
            call(**kwargs)
        assert caught.value.status_code == 404


def test_delete_files_returns_the_deleted_array(assets):
    ids = [assets.fileUpload(file=png(), name=f"n{i}")["_id"] for i in range(3)]
    deleted = assets.deleteFiles(ids=[ids[0], ids[2], "unknown-id"])
    assert isinstance(deleted, list)
    assert sorted(d["_id"] for d in deleted) == sorted([ids[0], ids[2]])
    remaining = assets.listFiles()["items"]
    assert [item["_id"] for item in remaining] == [ids[1]]


def test_url_upload_from_a_data_url(assets):
    result = assets.urlUpload(
        url="data:image/png;base64," + __import__("base64").b64encode(png(3, 2)).decode(),
        path="from-url",
        tags=["u"],
    )
    assert result["format"] == "png" and (result["width"], result["height"]) == (3, 2)
    assert result["path"] == "from-url" and result["name"].startswith("asset-")
    assert result["metadata"] == {"source": "direct"}  # as the captured urlUpload answer


def test_url_upload_of_text_takes_the_data_url_media_type(assets):
    result = assets.urlUpload(url="data:text/plain,hello%20there", name="note")
    assert (result["format"], result["size"]) == ("txt", 11)


def test_url_upload_from_the_emulators_own_cdn(assets):
    source = assets.fileUpload(file=png(5, 5), name="source")
    copy = assets.urlUpload(url=source["url"], name="copy")
    assert copy["size"] == source["size"] and copy["format"] == "png"
    assert requests.get(copy["url"], timeout=5).content == png(5, 5)


def test_url_upload_of_a_remote_url_is_refused_when_fetching_is_off(assets):
    with pytest.raises(PixelbinServerResponseError) as caught:
        assets.urlUpload(url="http://203.0.113.9/picture.png")
    assert caught.value.status_code == 400
    message = sdk_error(caught.value)["message"]
    # under pytest the way out is a stub; the dev server's answer names --allow-fetch
    assert "pixelbin_emulator.stub_url(url, data)" in message and "--allow-fetch" not in message
    assert assets.listFiles()["page"]["itemTotal"] == 0


def test_the_dev_servers_refusal_names_allow_fetch():
    import base64

    from pixelbin_emulator.app import create_app
    from pixelbin_emulator.seeds import default_emulator
    from pixelbin_emulator.settings import Settings

    client = create_app(default_emulator(), Settings()).test_client()
    token = base64.b64encode(b"dev-api-secret-0000-0000-000000000000").decode()
    answer = client.post(
        "/service/platform/assets/v1.0/upload/url",
        json={"url": "http://203.0.113.9/picture.png"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400
    assert "--allow-fetch" in answer.get_json()["message"]
