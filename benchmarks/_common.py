"""Shared plumbing of the benchmark scripts: servers in subprocesses, load generation, reporting.

Every server is a separate process bound to 127.0.0.1 and is killed when its ``with`` block ends.
Every request loop is bounded both in count and in time. Figures are reported as rows of a table
(and as JSON), each one next to a floor measured in the same run and the ratio between them.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
READY = re.compile(r"ready on (http://\S+)")
HOST = "127.0.0.1"
#: waitress threads of every server measured, emulator and floor alike (the CLI's default).
THREADS = 8
#: Turns the emulator and its floor take in the throughput figures (1 and 2); the best run of
#: each is kept. Other work on a shared machine inflates some runs' CPU per request by half or
#: more, so a third turn makes the best run far likelier to be an undisturbed one.
TURNS = 3
#: The org every benchmark's emulator serves.
SECRET = "bench-api-secret-0000-0000-000000000000"
AUTH = {"Authorization": "Bearer " + base64.b64encode(SECRET.encode()).decode()}


def write_seed(directory: Path, files: Sequence[dict[str, Any]] = ()) -> Path:
    """A seed file holding the bench org (and ``files``), for ``--seed``."""
    org = {
        "orgId": 1,
        "name": "Bench",
        "cloudName": "bench-cloud",
        "apiSecret": SECRET,
        "accessKey": "bench-access-key-0000-0000-000000000000",
        "files": list(files),
    }
    path = directory / "seed.json"
    path.write_text(json.dumps({"format": "pixelbin-emulator-state", "version": 1, "orgs": [org]}))
    return path


def env() -> dict[str, str]:
    """The environment for subprocesses: this checkout first on the path."""
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@dataclass
class Row:
    """One figure: the measured value, its floor, their ratio and whether the target holds."""

    figure: str
    name: str
    value: float | None
    unit: str
    floor: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def ratio_row(
    figure: str,
    name: str,
    value: float,
    floor: float,
    unit: str,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    notes: str = "",
    **extra: Any,
) -> Row:
    """A row whose target is a bound on ``value / floor``."""
    ratio = value / floor if floor else None
    ok: bool | None = None
    target = ""
    if ratio is not None and at_least is not None:
        ok, target = ratio >= at_least, f">= {at_least}x"
    if ratio is not None and at_most is not None:
        ok, target = ratio <= at_most, f"<= {at_most}x"
    return Row(figure, name, value, unit, floor, ratio, target, ok, notes, extra)


#: Appended to the notes of a row one of whose load runs hit its request bound.
CAPPED = " (a run hit its request bound: req/s is a lower bound)"


def not_available(figure: str, name: str, reason: str) -> Row:
    return Row(figure, name, None, "", notes=f"not available: {reason}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table of the rows (also what ``docs/performance.md`` quotes)."""
    lines = [
        "| # | figure | value | floor | ratio | target | holds | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        holds = {True: "yes", False: "**NO**", None: "-"}[row.ok]
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        lines.append(
            f"| {row.figure} | {row.name} | {_fmt(row.value)} {row.unit} | "
            f"{_fmt(row.floor)} {row.unit if row.floor is not None else ''} | {ratio} | "
            f"{row.target} | {holds} | {row.notes} |"
        )
    return "\n".join(lines)


def report(rows: Sequence[Row], out: Path | None = None) -> None:
    """Print the table and the JSON; write the JSON to ``out`` when given."""
    print(table(rows))
    doc = {"machine": machine(), "rows": [asdict(row) for row in rows]}
    text = json.dumps(doc, indent=2)
    print(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "load_generator": "wrk" if shutil.which("wrk") else "python (http.client pool)",
    }


# -- processes ----------------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    lines: list[str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


def _drain(proc: subprocess.Popen, lines: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))


@contextmanager
def server(argv: Sequence[str], timeout: float = 120.0) -> Iterator[Server]:
    """Run ``argv`` (a process that prints ``ready on URL``) until the block ends."""
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env(),
        cwd=ROOT,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        url = None
        while url is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{argv!r} printed no 'ready on' line")
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{argv!r} exited: {proc.wait()} {lines}")
            lines.append(line.rstrip("\n"))
            match = READY.search(line)
            if match:
                url = match.group(1)
        threading.Thread(target=_drain, args=(proc, lines), daemon=True).start()
        yield Server(proc, url, lines)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (bytes) of a process."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not permitted."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# -- HTTP ---------------------------------------------------------------------------------------


def request(
    url: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass
class Load:
    """What a load run measured.

    ``server_cpu_ms`` is the server process's CPU time (user + system) per request: unlike
    requests/s it hardly moves when other work shares the machine, so its ratio is quoted too.
    """

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    errors: int
    tool: str
    server_cpu_ms: float | None = None
    #: The run hit its request bound before its time bound. wrk then idles until its duration
    #: ends, so ``rps`` is only a lower bound (the default bound is far above what a 2-core
    #: machine serves in a few seconds).
    capped: bool = False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ``max_requests`` is prepended by load(): with one wrk thread, this counter is the total.
_WRK_LUA = """
local count = 0
response = function(status, headers, body)
  count = count + 1
  if count >= max_requests then wrk.thread:stop() end
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50)))
end
"""


def load(
    url: str,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    connections: int = 4,
    seconds: float = 3.0,
    max_requests: int = 200_000,
    pid: int | None = None,
) -> Load:
    """Keep-alive GETs of ``path`` from a separate process: wrk if installed, else Python.

    ``pid``: the server's process, whose CPU time per request is then measured as well.
    """
    cpu_before = cpu_seconds(pid) if pid else None
    result = _load(url, path, headers, connections, seconds, max_requests)
    if pid and cpu_before is not None and result.requests:
        result.server_cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / result.requests
    return result


def _load(
    url: str,
    path: str,
    headers: dict[str, str] | None,
    connections: int,
    seconds: float,
    max_requests: int,
) -> Load:
    headers = headers or {}
    parts = urlsplit(url)
    if parts.hostname != HOST:
        raise ValueError("benchmarks only target 127.0.0.1")
    if shutil.which("wrk"):
        script = f"local max_requests = {max_requests}\n{_WRK_LUA}"
        count, secs, errors, p50 = wrk(url + path, script, connections, seconds, headers)
        return Load(count, secs, count / secs, p50, errors, "wrk", capped=count >= max_requests)
    argv = [sys.executable, str(BENCH_DIR / "_pyload.py"), url, path, json.dumps(headers)]
    argv += [str(connections), str(seconds), str(max_requests)]
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + 60, check=True, env=env()
    ).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    return Load(**doc, tool="python", capped=doc["requests"] >= max_requests)


def wrk(
    url: str,
    script: str,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    *,
    timeout: str = "10s",
) -> tuple[int, float, int, float]:
    """Run wrk with a Lua ``script`` whose ``done`` prints the ``BENCH`` line of ``_WRK_LUA``.

    Returns (requests, seconds, errors including non-2xx answers, p50 latency in ms).
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s"]
        argv += [handle.name, "--timeout", timeout]
        for key, value in (headers or {}).items():
            argv += ["-H", f"{key}: {value}"]
        argv.append(url)
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
    finally:
        os.unlink(handle.name)
    match = re.search(r"BENCH (\d+) (\d+) (\d+) ([\d.]+)", out)
    if not match:
        raise RuntimeError(f"unexpected wrk output: {out}")
    count, micros, errors, p50 = match.groups()
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors_total = int(errors) + (int(non2xx.group(1)) if non2xx else 0)
    return int(count), int(micros) / 1e6, errors_total, float(p50) / 1000


def interleaved_p50(
    url: str,
    paths: Sequence[str],
    headers: dict[str, str],
    rounds: int = 15,
    per_round: int = 10,
    seconds: float = 4.0,
) -> list[float]:
    """Median latency (ms) of each path, from sequential keep-alive GETs made in this process.

    The paths take turns (``per_round`` requests each, ``rounds`` times), so drift in the load of
    a shared machine falls on all of them alike rather than on whichever is measured last.
    """
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    samples: list[list[float]] = [[] for _ in paths]
    deadline = time.monotonic() + seconds
    try:
        for _ in range(rounds):
            for index, path in enumerate(paths):
                for _ in range(per_round):
                    start = time.perf_counter()
                    conn.request("GET", path, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    samples[index].append((time.perf_counter() - start) * 1000)
                    if resp.status != 200:
                        raise RuntimeError(f"GET {path}: {resp.status}")
            if time.monotonic() > deadline:
                break
    finally:
        conn.close()
    return [statistics.median(s) for s in samples]


def floor_server(docs: dict[str, Any]) -> Any:
    """The bare Flask floor serving ``docs`` (name -> JSON document) at ``/canned/<name>``."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(docs, handle)
    argv = [sys.executable, str(BENCH_DIR / "floor_app.py"), handle.name, str(THREADS)]

    @contextmanager
    def running() -> Iterator[Server]:
        try:
            with server(argv) as srv:
                yield srv
        finally:
            os.unlink(handle.name)

    return running()
