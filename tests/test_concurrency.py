"""Thread safety: concurrent writers through HTTP and straight into the core."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from pixelbin_emulator.core.assets import UploadSpec
from pixelbin_emulator.core.emulator import Emulator

from .helpers import png


def test_many_threads_uploading_one_name_with_filename_override(api):
    image = png()

    def upload(_: int) -> str:
        response = api.post(
            api.base + "/upload/direct",
            files={"file": ("same.png", image)},
            data={"name": "same", "filenameOverride": "true"},
        )
        assert response.status_code == 200, response.text
        return response.json()["fileId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        file_ids = list(pool.map(upload, range(40)))
    assert len(set(file_ids)) == 40
    listing = api.get(api.base + "/listFiles?pageSize=100").json()
    assert listing["page"]["itemTotal"] == 40
    assert {item["fileId"] for item in listing["items"]} == set(file_ids)


def test_core_stays_consistent_under_mixed_concurrent_operations():
    emulator = Emulator()
    org = emulator.create_org()
    tree = org.assets
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        barrier.wait()
        try:
            for i in range(60):
                path = f"p{i % 4}/q{n % 2}"
                tree.upload(UploadSpec(data=b"x", name="f", path=path, filename_override=True))
                if i % 7 == 0:
                    tree.create_folder(f"made-{n}-{i}", path)
                if i % 11 == 0:
                    page = tree.listing(tree_query(path))
                    assert page.item_total >= 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(tree.files_by_id) == 360 == len(tree.files_by_file_id)
    for file in tree.files_by_id.values():
        assert tree.folders_by_path[file.path].full_path == file.path


def tree_query(path: str):
    from pixelbin_emulator.core.assets import ListQuery

    return ListQuery(path=path, page_size=100)
