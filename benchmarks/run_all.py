"""Run every benchmark, print the results table and write ``benchmarks/results.json``.

``python benchmarks/run_all.py`` (about three minutes on a 2-core machine). A figure whose
script fails is reported as not available with the error, and the others still run.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable

import bench_availability
import bench_drop
import bench_durable
import bench_fixture
import bench_listing
import bench_memory
import bench_reads
import bench_startup
import bench_transform
import bench_uploads
from _common import BENCH_DIR, Row, not_available, report

FIGURES: list[tuple[str, str, Callable[[], list[Row]]]] = [
    ("1", "single-file reads", bench_reads.run),
    ("2", "listing at scale", bench_listing.run),
    ("3", "uploads", bench_uploads.run),
    ("4", "memory per file", bench_memory.run),
    ("5", "fixture overhead", bench_fixture.run),
    ("6", "start-up", bench_startup.run),
    ("7", "durable writes (--data-dir)", bench_durable.run),
    ("8", "memory back after drop/reset", bench_drop.run),
    ("10", "transformations", bench_transform.run),
    ("11.4-5", "availability under idle connections and latency faults", bench_availability.run),
]


def main() -> int:
    rows: list[Row] = []
    for figure, name, run in FIGURES:
        started = time.perf_counter()
        print(f"figure {figure}: {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(run())
        except Exception as error:
            traceback.print_exc()
            rows.append(not_available(figure, name, f"{type(error).__name__}: {error}"))
        print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    report(rows, BENCH_DIR / "results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
