"""Figure 10: the CDN's transformation renders (issue 10), against sharp in the same run.

(a) Uncached renders: keep-alive GETs of ``t.resize(w:N)`` of a 2-megapixel JPEG, a width no
    other request used (so every request renders), from ``CONNECTIONS`` connections; the floor is
    sharp 0.35 doing the same resizes in-process in node (``sharp_resize.js``) with as many in
    flight. Target: at least 0.7x sharp's throughput.
(b) Cache hits: the same rendered variant over and over against the same file's ``original``
    URL (a 320x240 JPEG at quality 90 and its ``t.flip()~t.compress(q:90)``, bodies of about the
    same size). Target: 0.8x.
(c) A 24-megapixel JPEG to a 400 px wide thumbnail: growth of the server's peak RSS (``VmHWM``,
    reset through ``clear_refs`` just before), next to sharp's own growth for the same resize.
    Target: at most 100 MB.

The originals are drawn by ``tests/imaging.py`` (gradients, detail and noise, so they weigh
what camera JPEGs weigh). Needs ``npm ci --prefix tests/js`` for sharp.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import (
    BENCH_DIR,
    CAPPED,
    HOST,
    ROOT,
    THREADS,
    Row,
    env,
    load,
    not_available,
    proc_status,
    ratio_row,
    report,
    request,
    reset_peak,
    server,
    write_seed,
    wrk,
)

sys.path.insert(0, str(ROOT))
from tests.imaging import originals, photo_jpeg

#: Requests (and sharp resizes) in flight at once in (a).
CONNECTIONS = 4
MB = 1024 * 1024
CLOUD = "bench-cloud"
SHARP = ROOT / "tests" / "js" / "node_modules" / "sharp"
#: Widths for (a): turn k asks for FIRST_WIDTH + k * MAX_RENDERS, then one more per request (both
#: sides the same widths), so every width is a downscale of the 1732 px original and no request
#: of the server repeats another.
FIRST_WIDTH = 200
MAX_RENDERS = 500

# wrk: every request asks for the next width, so no two requests share a cache entry.
_WRK_DISTINCT = """
local count = 0
local width = {first} - 1
request = function()
  width = width + 1
  return wrk.format("GET", "/v2/{cloud}/t.resize(w:" .. width .. ")/{file}")
end
response = function(status, headers, body)
  count = count + 1
  if count >= {cap} then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50)))
end
"""


def _seed(directory: Path) -> Path:
    files = originals()
    entries = [
        ("photo-2mp", photo_jpeg(1732, 1155)),
        ("photo-24mp", photo_jpeg(6000, 4000)),
        ("small", files["photo"].data),
    ]
    for name, data in entries:
        (directory / f"{name}.jpeg").write_bytes(data)
    return write_seed(
        directory,
        [
            {"path": "", "name": name, "base64": base64.b64encode(data).decode()}
            for name, data in entries
        ],
    )


def _distinct_renders(url: str, seconds: float, first: int) -> tuple[float, int, int]:
    """(req/s, requests, errors) of ``t.resize(w:N)`` GETs with N growing from ``first``."""
    if shutil.which("wrk"):
        script = _WRK_DISTINCT.format(
            first=first, cloud=CLOUD, file="photo-2mp.jpeg", cap=MAX_RENDERS
        )
        count, secs, errors, _ = wrk(url, script, CONNECTIONS, seconds, timeout="30s")
        return count / secs, count, errors
    return _python_renders(url, seconds, first)


def _python_renders(url: str, seconds: float, first: int) -> tuple[float, int, int]:
    """The same load from Python threads, one keep-alive connection each (no wrk)."""
    import http.client

    port = int(url.rsplit(":", 1)[1])
    widths = iter(range(first, first + MAX_RENDERS))
    lock = threading.Lock()
    counts = [0, 0]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                width = next(widths, None)
            if width is None:
                break
            conn.request("GET", f"/v2/{CLOUD}/t.resize(w:{width})/photo-2mp.jpeg")
            response = conn.getresponse()
            response.read()
            with lock:
                counts[0] += 1
                counts[1] += response.status != 200
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts[0] / (time.monotonic() - started), counts[0], counts[1]


def _node(*args: str) -> dict:
    out = subprocess.run(
        ["node", str(BENCH_DIR / "sharp_resize.js"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=env(),
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def renders(url: str, pid: int, folder: Path, seconds: float, turns: int = 3) -> Row:
    emulator, floor, errors, first = [], [], 0, FIRST_WIDTH
    cpu_before = _cpu(pid)
    served = 0
    capped = False
    for _ in range(turns):
        rps, count, failed = _distinct_renders(url, seconds, first)
        emulator.append(rps)
        served += count
        errors += failed
        capped = capped or count >= MAX_RENDERS
        args = [str(folder / "photo-2mp.jpeg"), str(CONNECTIONS), str(seconds), str(first)]
        floor.append(_node("throughput", *args))
        first += MAX_RENDERS
    cpu_ms = (_cpu(pid) - cpu_before) * 1000 / max(served, 1)
    sharp_cpu_ms = min(run["cpu_ms"] for run in floor)
    return ratio_row(
        "10",
        "uncached t.resize(w:N) of a 2 MP JPEG over HTTP vs sharp in-process, renders/s",
        max(emulator),
        max(run["rps"] for run in floor),
        "req/s",
        at_least=0.7,
        notes=(
            f"{CONNECTIONS} in flight on both sides, every width distinct, best of {turns} "
            f"turns; errors={errors}; CPU/render: server {cpu_ms:.1f} ms (HTTP included) vs "
            f"sharp {sharp_cpu_ms:.1f} ms = {sharp_cpu_ms / cpu_ms:.2f}x"
            + (CAPPED if capped else "")
        ),
        server_cpu_ms=cpu_ms,
        sharp_cpu_ms=sharp_cpu_ms,
    )


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cache_hits(url: str, pid: int, seconds: float) -> Row:
    variant = f"/v2/{CLOUD}/t.flip()~t.compress(q:90)/small.jpeg"
    original = f"/v2/{CLOUD}/original/small.jpeg"
    status, body = request(url, variant)
    assert status == 200, body[:200]
    status, original_body = request(url, original)
    assert status == 200, original_body[:200]
    hits, originals_ = [], []
    for _ in range(2):
        hits.append(load(url, variant, seconds=seconds, pid=pid))
        originals_.append(load(url, original, seconds=seconds, pid=pid))
    best, best_floor = max(hits, key=lambda r: r.rps), max(originals_, key=lambda r: r.rps)
    capped = CAPPED if any(r.capped for r in hits + originals_) else ""
    cpu = min(r.server_cpu_ms or 0 for r in hits)
    floor_cpu = min(r.server_cpu_ms or 0 for r in originals_)
    return ratio_row(
        "10",
        f"cached variant ({len(body):,} B) vs the file's original URL ({len(original_body):,} B)",
        best.rps,
        best_floor.rps,
        "req/s",
        at_least=0.8,
        notes=(
            f"{best.tool}, 4 keep-alive conns, {THREADS} threads, "
            f"errors={sum(r.errors for r in hits + originals_)}; server CPU/request "
            f"{cpu:.3f} ms vs {floor_cpu:.3f} ms{capped}"
        ),
    )


def thumbnail_memory(url: str, pid: int, folder: Path) -> Row:
    if not reset_peak(pid):
        return not_available("10", "24 MP thumbnail memory", "cannot reset VmHWM")
    time.sleep(0.2)
    before = proc_status(pid)
    started = time.perf_counter()
    status, body = request(url, f"/v2/{CLOUD}/t.resize(w:400)/photo-24mp.jpeg")
    elapsed = time.perf_counter() - started
    assert status == 200, body[:200]
    growth = proc_status(pid)["VmHWM"] - before["VmRSS"]
    sharp_growth = _node("memory", str(folder / "photo-24mp.jpeg"), "400")["peak_growth_bytes"]
    row = ratio_row(
        "10",
        "24 MP JPEG to a 400 px thumbnail: server peak RSS growth vs sharp's",
        growth / MB,
        sharp_growth / MB,
        "MB",
        notes=f"target <= 100 MB (absolute); render {elapsed * 1000:.0f} ms over HTTP",
    )
    row.target, row.ok = "<= 100 MB (absolute)", growth / MB <= 100
    return row


def run(seconds: float = 5.0) -> list[Row]:
    if shutil.which("node") is None or not SHARP.is_dir():
        return [not_available("10", "transformations", "needs node and npm ci --prefix tests/js")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed = _seed(folder)
        argv = [sys.executable, "-m", "pixelbin_emulator", "--port", "0", "--seed", str(seed)]
        argv += ["--threads", str(THREADS)]
        with server(argv) as emu:
            rows = [thumbnail_memory(emu.url, emu.pid, folder)]
            rows.append(renders(emu.url, emu.pid, folder, seconds))
            rows.append(cache_hits(emu.url, emu.pid, seconds))
    return rows


if __name__ == "__main__":
    report(run())
