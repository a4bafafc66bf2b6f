"""An emulator served exactly as the CLI serves it, but populated in-process first.

``python serve_populated.py SIZE [SIZE ...]``: one org (the bench secret) with a folder
``f<SIZE>`` of SIZE small files for every SIZE, stored through ``org.assets.upload`` (the core
call an HTTP upload ends in) rather than by SIZE HTTP uploads. Every file gets one of four tags
(``red``, ``green``, ``blue``, ``cyan``) in turn. Prints ``ready on URL`` when serving.
"""

from __future__ import annotations

import sys
import time

from _common import SECRET

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.assets import UploadSpec
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.server import DEFAULT_THREADS, LiveServer
from pixelbin_emulator.settings import Settings

TAGS = ("red", "green", "blue", "cyan")


def populate(emulator: Emulator, sizes: list[int]) -> None:
    org = emulator.create_org(name="Bench", api_secret=SECRET, cloud_name="bench-cloud")
    for size in sizes:
        folder = f"f{size}"
        for i in range(size):
            org.assets.upload(
                UploadSpec(
                    data=b"%d" % i,
                    name=f"file-{i:06d}",
                    path=folder,
                    tags=[TAGS[i % 4]],
                    metadata={"source": "direct"},
                    filename=f"file-{i:06d}.txt",
                )
            )


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]]
    emulator = Emulator()
    started = time.perf_counter()
    populate(emulator, sizes)
    print(f"populated {sum(sizes)} files in {time.perf_counter() - started:.1f}s", flush=True)
    server = LiveServer(create_app(emulator, Settings()), threads=DEFAULT_THREADS)
    print(f"pixelbin-emulator ready on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
