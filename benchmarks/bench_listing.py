"""Figure 2: ``listFiles`` pages of 100 in folders of 1,000 / 10,000 / 100,000 files.

One emulator process (``serve_populated.py``, served like the CLI) holds the three folders.
For each folder and each query (plain, ``tags=red``, ``sort=-createdAt``), a page in the middle
of the result is asked for: first once (cold: the listing cache of ``core/assets.py`` is empty
for that query), then sequentially for the p50 latency (steady state; the three folder sizes take
turns), then under load for the throughput (at 100,000, taking turns with the floor). The
floor is the bare Flask app returning the 100,000-file page of the same query. The server's CPU
time per request is quoted too: on a shared machine it drifts far less than req/s. The floor
is checked to answer byte for byte what the emulator answered.
"""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import urlencode

from _common import (
    AUTH,
    CAPPED,
    TURNS,
    Row,
    floor_server,
    interleaved_p50,
    load,
    ratio_row,
    report,
    request,
    server,
)

API = "/service/platform/assets/v1.0"
SIZES = (1_000, 10_000, 100_000)
QUERIES = {"plain": {}, "tags": {"tags": "red"}, "sort": {"sort": "-createdAt"}}


def page_path(size: int, query: dict[str, str]) -> str:
    matching = size // 4 if "tags" in query else size
    params = {"path": f"f{size}", "pageSize": 100, "pageNo": max(1, matching // 200), **query}
    return f"{API}/listFiles?{urlencode(params)}"


def run(seconds: float = 2.0) -> list[Row]:
    argv = [sys.executable, "benchmarks/serve_populated.py", *map(str, SIZES)]
    results: dict[tuple[str, int], dict] = {}
    bodies: dict[str, dict] = {}
    raw: dict[str, bytes] = {}  # the page at the largest size, as the emulator sent it
    with server(argv, timeout=240) as emu:
        for name, query in QUERIES.items():
            paths = [page_path(size, query) for size in SIZES]
            for size, path in zip(SIZES, paths, strict=True):
                started = time.perf_counter()
                status, body = request(emu.url, path, AUTH)
                cold_ms = (time.perf_counter() - started) * 1000
                assert status == 200, body
                doc = json.loads(body)
                assert len(doc["items"]) == 100, doc["page"]
                results[name, size] = {"cold_ms": cold_ms}
                bodies[name] = doc
                bodies[name + "_bytes"] = len(body)
                raw[name] = body
            p50s = interleaved_p50(emu.url, paths, AUTH)
            for size, p50 in zip(SIZES, p50s, strict=True):
                results[name, size]["p50_ms"] = p50
        floors = {}
        with floor_server({k: v for k, v in bodies.items() if k in QUERIES}) as floor:
            for name in QUERIES:  # the floor answers the very bytes the emulator did
                status, floor_body = request(floor.url, f"/canned/{name}")
                assert status == 200 and floor_body == raw[name], (name, len(floor_body))
            for name, query in QUERIES.items():
                # Emulator and floor take turns; the best run of each is kept.
                emu_runs, floor_runs = [], []
                for _ in range(TURNS):
                    path = page_path(SIZES[-1], query)
                    emu_runs.append(load(emu.url, path, AUTH, seconds=seconds, pid=emu.pid))
                    floor_runs.append(
                        load(floor.url, f"/canned/{name}", seconds=seconds, pid=floor.pid)
                    )
                results[name, SIZES[-1]]["load"] = max(emu_runs, key=lambda r: r.rps)
                results[name, SIZES[-1]]["cpu"] = min(r.server_cpu_ms for r in emu_runs)
                floors[name] = max(floor_runs, key=lambda r: r.rps)
                floors[name + "_cpu"] = min(r.server_cpu_ms for r in floor_runs)
    rows: list[Row] = []
    for name in QUERIES:
        small, large = results[name, SIZES[0]], results[name, SIZES[-1]]
        p50s = ", ".join(f"{s:,}: {results[name, s]['p50_ms']:.2f} ms" for s in SIZES)
        rows.append(
            ratio_row(
                "2",
                f"listFiles {name}: p50 at 100k vs 1k",
                large["p50_ms"],
                small["p50_ms"],
                "ms",
                at_most=1.5,
                notes=f"sequential keep-alive, sizes interleaved; {p50s}",
            )
        )
        rows.append(
            ratio_row(
                "2",
                f"listFiles {name}: throughput at 100k vs floor ({bodies[name + '_bytes']:,} B)",
                large["load"].rps,
                floors[name].rps,
                "req/s",
                at_least=0.6,
                notes=(
                    f"{large['load'].tool}, errors={large['load'].errors + floors[name].errors}"
                    f"{CAPPED if large['load'].capped or floors[name].capped else ''}; "
                    f"server CPU/request {large['cpu']:.2f} ms vs floor "
                    f"{floors[name + '_cpu']:.2f} ms = {floors[name + '_cpu'] / large['cpu']:.2f}x"
                ),
                server_cpu_ms=large["cpu"],
                floor_server_cpu_ms=floors[name + "_cpu"],
            )
        )
        colds = ", ".join(f"{s:,}: {results[name, s]['cold_ms']:.1f} ms" for s in SIZES)
        rows.append(
            ratio_row(
                "2",
                f"listFiles {name}: cold first request at 100k vs steady p50",
                large["cold_ms"],
                large["p50_ms"],
                "ms",
                notes=f"informational (cache filled once per query); {colds}",
            )
        )
    return rows


if __name__ == "__main__":
    report(run())
