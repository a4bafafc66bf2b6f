"""Figure 1: single-file reads, ``GET files/id/{_id}`` over keep-alive HTTP.

The emulator is the CLI (``python -m pixelbin_emulator --port 0 --seed ...``) holding one file;
the floor is the bare Flask app of ``floor_app.py`` returning the very bytes the emulator
answered (checked), encoded once at its start, under the same WSGI server and thread count. Both
are driven by the same external load generator (``wrk`` if installed, else ``_pyload.py``),
taking turns (``TURNS``), best run kept. The server's CPU time per request is quoted too: on a
shared machine it drifts far less than req/s.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
from pathlib import Path

from _common import (
    AUTH,
    CAPPED,
    THREADS,
    TURNS,
    Row,
    floor_server,
    load,
    ratio_row,
    report,
    request,
    server,
    write_seed,
)

API = "/service/platform/assets/v1.0"


def seed_with_one_file(directory: Path) -> Path:
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
    photo = {
        "path": "photos/2024",
        "name": "holiday-beach",
        "base64": base64.b64encode(png).decode(),
        "tags": ["beach", "summer"],
        "metadata": {"source": "direct"},
    }
    return write_seed(directory, [photo])


def run(seconds: float = 3.0) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        seed = seed_with_one_file(Path(tmp))
        argv = [sys.executable, "-m", "pixelbin_emulator", "--port", "0", "--seed", str(seed)]
        argv += ["--threads", str(THREADS)]
        with server(argv) as emu:
            status, body = request(emu.url, f"{API}/listFiles?path=photos/2024", AUTH)
            assert status == 200, body
            _id = json.loads(body)["items"][0]["_id"]
            path = f"{API}/files/id/{_id}"
            status, body = request(emu.url, path, AUTH)
            assert status == 200, body
            doc = json.loads(body)
            with floor_server({"file": doc}) as floor:
                status, floor_body = request(floor.url, "/canned/file")
                # The floor answers byte for byte what the emulator answered.
                assert status == 200 and floor_body == body, (floor_body, body)
                emu_runs, floor_runs = [], []
                for _ in range(TURNS):
                    emu_runs.append(load(emu.url, path, AUTH, seconds=seconds, pid=emu.pid))
                    floor_runs.append(
                        load(floor.url, "/canned/file", seconds=seconds, pid=floor.pid)
                    )
    best = max(emu_runs, key=lambda r: r.rps)
    best_floor = max(floor_runs, key=lambda r: r.rps)
    errors = sum(r.errors for r in emu_runs + floor_runs)
    emu_cpu = min(r.server_cpu_ms for r in emu_runs)
    floor_cpu = min(r.server_cpu_ms for r in floor_runs)
    return [
        ratio_row(
            "1",
            f"GET files/id/{{_id}} ({len(body)} B body), req/s",
            best.rps,
            best_floor.rps,
            "req/s",
            at_least=0.9,
            notes=(
                f"{best.tool}, 4 keep-alive conns, {THREADS} threads, errors={errors}"
                f"{CAPPED if any(r.capped for r in emu_runs + floor_runs) else ''}; "
                f"server CPU/request {emu_cpu:.3f} ms vs floor {floor_cpu:.3f} ms "
                f"= {floor_cpu / emu_cpu:.2f}x"
            ),
            server_cpu_ms=emu_cpu,
            floor_server_cpu_ms=floor_cpu,
            p50_ms=best.p50_ms,
            floor_p50_ms=best_floor.p50_ms,
        )
    ]


if __name__ == "__main__":
    report(run())
