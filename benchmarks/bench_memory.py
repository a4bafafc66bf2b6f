"""Figure 4: resident memory per stored small file, beyond the file's own bytes.

A fresh interpreter (``_memory_probe.py``) stores 100,000 files of 100 random bytes through the
core and reports its RSS growth. The figure is ``growth / N - SIZE`` (everything the emulator
keeps per file except the payload bytes); the target is at most 1.5 KB. The floor quoted next to
it is the same computed for a plain list of the same ``bytes`` objects (object header + pointer).
"""

from __future__ import annotations

import json
import subprocess
import sys

from _common import BENCH_DIR, Row, env, report

COUNT = 100_000
SIZE = 100
TARGET = 1.5 * 1024


def run(count: int = COUNT, size: int = SIZE) -> list[Row]:
    out = subprocess.run(
        [sys.executable, str(BENCH_DIR / "_memory_probe.py"), str(count), str(size)],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
        env=env(),
    ).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    per_file = doc["grown"] / count - size
    floor = doc["floor"] / count - size
    return [
        Row(
            "4",
            f"RSS per stored file beyond its bytes ({count:,} files of {size} B)",
            per_file,
            "B",
            floor=floor,
            ratio=per_file / TARGET,
            target="<= 1536 B",
            ok=per_file <= TARGET,
            notes="ratio is against the 1.5 KB target; floor: a bare list of the same bytes",
            extra=doc,
        )
    ]


if __name__ == "__main__":
    report(run())
