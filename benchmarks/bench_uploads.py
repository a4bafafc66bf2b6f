"""Figure 3: uploads. A direct (multipart) upload of 50 MB and ``uploader.upload`` of 100 MB in
10 MB parts, against the CLI's server: MB/s, and the growth of the server's peak resident memory
(``VmHWM`` of ``/proc/<pid>/status``, reset through ``clear_refs`` before each upload) against the
file's size. The file is kept in memory by the emulator, so 1.0x is the floor.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import requests
from _common import (
    AUTH,
    SECRET,
    Row,
    not_available,
    proc_status,
    ratio_row,
    report,
    reset_peak,
    server,
    write_seed,
)

MB = 1024 * 1024


def _peak_growth(pid: int, before: dict[str, int]) -> int:
    return proc_status(pid)["VmHWM"] - before["VmRSS"]


def direct(url: str, pid: int, size: int) -> Row:
    data = os.urandom(size)
    reset_peak(pid)
    time.sleep(0.2)
    before = proc_status(pid)
    started = time.perf_counter()
    resp = requests.post(
        f"{url}/service/platform/assets/v1.0/upload/direct",
        headers=AUTH,
        files={"file": ("big.bin", data, "application/octet-stream")},
        data={"name": "big-direct", "path": "bench"},
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    resp.raise_for_status()
    assert resp.json()["size"] == size
    growth = _peak_growth(pid, before)
    retained = proc_status(pid)["VmRSS"] - before["VmRSS"]
    return ratio_row(
        "3",
        f"direct upload {size // MB} MB: server peak RSS growth vs file size",
        growth / MB,
        size / MB,
        "MB",
        at_most=1.5,
        notes=f"{size / MB / elapsed:.0f} MB/s; retained after: {retained / MB:.0f} MB",
        mb_per_s=size / MB / elapsed,
        retained_mb=retained / MB,
    )


def signed(url: str, pid: int, size: int) -> Row:
    name = f"uploader.upload {size // MB} MB in 10 MB parts: server peak RSS growth vs file size"
    probe = requests.post(
        f"{url}/service/platform/assets/v2.0/upload/signed-url",
        headers=AUTH,
        json={"name": "probe"},
        timeout=30,
    )
    if probe.status_code == 404:
        return not_available("3", name, "signed-url answers 404 in this tree")
    from pixelbin import PixelbinClient, PixelbinConfig

    client = PixelbinClient(PixelbinConfig({"domain": url, "apiSecret": SECRET}))
    data = os.urandom(size)
    reset_peak(pid)
    time.sleep(0.2)
    before = proc_status(pid)
    started = time.perf_counter()
    result = client.uploader.upload(
        file=data,
        name="big-signed",
        path="bench",
        format="bin",  # random bytes: declared as the v2 default (jpeg) they would be a bad image
        uploadOptions={"chunkSize": 10 * MB, "maxRetries": 0, "concurrency": 3},
    )
    elapsed = time.perf_counter() - started
    assert result["size"] == size, result
    growth = _peak_growth(pid, before)
    retained = proc_status(pid)["VmRSS"] - before["VmRSS"]
    return ratio_row(
        "3",
        name,
        growth / MB,
        size / MB,
        "MB",
        at_most=1.5,
        notes=f"{size / MB / elapsed:.0f} MB/s; retained after: {retained / MB:.0f} MB",
        mb_per_s=size / MB / elapsed,
        retained_mb=retained / MB,
    )


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        seed = write_seed(Path(tmp))
        argv = [sys.executable, "-m", "pixelbin_emulator", "--port", "0", "--seed", str(seed)]
        rows = []
        with server(argv) as emu:
            if not reset_peak(emu.pid):
                print("warning: cannot reset VmHWM; peaks include start-up", file=sys.stderr)
            rows.append(direct(emu.url, emu.pid, 50 * MB))
        with server(argv) as emu:
            rows.append(signed(emu.url, emu.pid, 100 * MB))
    return rows


if __name__ == "__main__":
    report(run())
