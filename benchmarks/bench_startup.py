"""Figure 6: start-up, from launching the CLI to its first successful API answer.

``python -m pixelbin_emulator --port 0`` (default seed) is launched; the clock stops at the
"ready on" line and again at the first 200 of ``listFiles`` with the seed org's secret. The floor
is the same for the bare Flask app under waitress (``floor_app.py``). Five runs, median kept.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from _common import BENCH_DIR, READY, ROOT, THREADS, Row, env, report

RUNS = 5
DEV_SECRET = "dev-api-secret-0000-0000-000000000000"
AUTH = {"Authorization": "Bearer " + base64.b64encode(DEV_SECRET.encode()).decode()}


def _first_ok(url: str, path: str, headers: dict[str, str], deadline: float) -> None:
    parts = urlsplit(url)
    for _ in range(5000):
        if time.monotonic() > deadline:
            break
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            conn.request("GET", path, headers=headers)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.005)
    raise TimeoutError(f"no 200 from {url}{path}")


def time_start(argv: list[str], path: str, headers: dict[str, str]) -> tuple[float, float]:
    """Seconds to the "ready on" line and to the first 200 of ``path``."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env(), cwd=ROOT
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while True:
            line = proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError(f"{argv!r} never printed 'ready on'")
            match = READY.search(line)
            if match:
                break
        ready = time.perf_counter() - started
        _first_ok(match.group(1), path, headers, deadline)
        return ready, time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run() -> list[Row]:
    emulator = [sys.executable, "-m", "pixelbin_emulator", "--port", "0"]
    api = "/service/platform/assets/v1.0/listFiles"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as docs:
        json.dump({"x": {}}, docs)
    floor_argv = [sys.executable, str(BENCH_DIR / "floor_app.py"), docs.name, str(THREADS)]
    try:
        emu = [time_start(emulator, api, AUTH) for _ in range(RUNS)]
        floor = [time_start(floor_argv, "/canned/x", {}) for _ in range(RUNS)]
    finally:
        os.unlink(docs.name)
    ready = statistics.median(r for r, _ in emu)
    first = statistics.median(f for _, f in emu)
    floor_first = statistics.median(f for _, f in floor)
    return [
        Row(
            "6",
            "CLI start to first successful API answer",
            first,
            "s",
            floor=floor_first,
            ratio=first / floor_first,
            target="<= 1 s (absolute)",
            ok=first <= 1.0,
            notes=f"'ready on' printed after {ready:.3f} s; floor: bare Flask app under waitress",
        )
    ]


if __name__ == "__main__":
    report(run())
