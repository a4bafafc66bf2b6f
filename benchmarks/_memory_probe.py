"""Run in a fresh interpreter by ``bench_memory.py``: stores N small files, prints RSS figures.

``python _memory_probe.py N SIZE``: one org; N files of SIZE random bytes each, stored through
``org.assets.upload`` the way a direct upload stores them (``metadata={"source": "direct"}``,
one tag, a filename). Prints a JSON line with the RSS growth of the emulator and, as a floor,
of a plain list holding the same number of same-sized ``bytes`` objects.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

from pixelbin_emulator.core.assets import UploadSpec
from pixelbin_emulator.core.emulator import Emulator


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    count, size = int(sys.argv[1]), int(sys.argv[2])
    emulator = Emulator()
    org = emulator.create_org(name="Bench")
    # Warm up every code path (and its caches) before the baseline.
    org.assets.upload(UploadSpec(data=os.urandom(size), name="warm", path="bench"))
    gc.collect()
    start = rss()
    for i in range(count):
        org.assets.upload(
            UploadSpec(
                data=os.urandom(size),
                name=f"file-{i:06d}",
                path="bench",
                tags=["bench"],
                metadata={"source": "direct"},
                filename=f"file-{i:06d}.bin",
            )
        )
    gc.collect()
    grown = rss() - start
    del org, emulator
    gc.collect()
    start = rss()
    plain = [os.urandom(size) for _ in range(count)]
    gc.collect()
    floor = rss() - start
    print(json.dumps({"count": count, "size": size, "grown": grown, "floor": floor}))
    del plain


if __name__ == "__main__":
    main()
