"""Issue 11, items 4 and 5: does a new client still get answers while others hog the server?

Both run against the CLI (``python -m pixelbin_emulator --port 0 --seed ...``), default flags.

- **11.4 idle connections**: 500 connections that sent half a request head and 500 idle
  keep-alive connections (each answered once, then left open) stay open while a new client
  sends 20 ``/_emulator/health`` and 20 ``listFiles`` requests, each on a fresh connection. The
  figure is the slowest of those 40; the floor is the same 40 without the 1,000 connections.
  Target: under 1 s.
- **11.5 latency fault**: org L gets a 20 s latency rule on ``listFiles`` and 8 concurrent calls;
  meanwhile another org's ``listFiles``, ``/_emulator/health`` and the control plane
  (``GET /_emulator/faults``) are timed, 20 of each. The figure is their p50 (the max is in the
  notes); the floor is the same requests without the rule and its callers. Target: under 100 ms.

Every socket is on 127.0.0.1 and closed when its measurement ends; every request has a timeout.
"""

from __future__ import annotations

import base64
import http.client
import json
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from _common import AUTH, Row, report, server, write_seed

API = "/service/platform/assets/v1.0"
HOGS = 500  # of each kind
SAMPLES = 20
LATENCY = 20


def _timed(url: str, path: str, headers: dict[str, str], method: str = "GET") -> float:
    """Seconds for one request on a fresh connection (its status must be 2xx)."""
    parts = urlsplit(url)
    start = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        if not 200 <= answer.status < 300:
            raise RuntimeError(f"{method} {path} answered {answer.status}")
    finally:
        conn.close()
    return time.perf_counter() - start


def _call(url: str, path: str, headers: dict[str, str], method: str = "GET", body=None) -> dict:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        return json.loads(conn.getresponse().read() or b"{}")
    finally:
        conn.close()


def _probe(url: str, probes: list[tuple[str, dict[str, str]]]) -> list[float]:
    return [_timed(url, path, headers) for _ in range(SAMPLES) for path, headers in probes]


def _hogs(url: str) -> list[socket.socket]:
    parts = urlsplit(url)
    sockets = []
    for index in range(2 * HOGS):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        head = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n"
        sock.sendall(head + (b"X-Slow" if index % 2 else b"\r\n"))
        sockets.append(sock)
    for sock in sockets[::2]:
        sock.recv(4096)  # the keep-alive ones are answered, then left idle
    return sockets


def idle_connections(url: str) -> Row:
    probes = [("/_emulator/health", {}), (f"{API}/listFiles", AUTH)]
    floor = _probe(url, probes)
    hogs = _hogs(url)
    try:
        loaded = _probe(url, probes)
    finally:
        for sock in hogs:
            sock.close()
    worst, floor_worst = max(loaded), max(floor)
    return Row(
        "11.4",
        f"slowest of {len(loaded)} new-client requests with {2 * HOGS} idle/half-sent "
        "connections open",
        worst * 1000,
        "ms",
        floor=floor_worst * 1000,
        ratio=worst / floor_worst,
        target="< 1000 ms (absolute)",
        ok=worst < 1.0,
        notes=f"p50 {statistics.median(loaded) * 1000:.1f} ms (floor "
        f"{statistics.median(floor) * 1000:.1f} ms); health + listFiles, fresh connection each",
    )


def latency_fault(url: str) -> Row:
    slow = _call(url, "/_emulator/orgs", {"Content-Type": "application/json"}, "POST", b"{}")
    slow_auth = {"Authorization": "Bearer " + base64.b64encode(slow["apiSecret"].encode()).decode()}
    probes = [(f"{API}/listFiles", AUTH), ("/_emulator/health", {}), ("/_emulator/faults", {})]
    floor = _probe(url, probes)
    rule = {"orgId": slow["orgId"], "operation": "listFiles", "latency": LATENCY}
    headers = {"Content-Type": "application/json"}
    _call(url, "/_emulator/faults", headers, "POST", json.dumps(rule).encode())
    callers = [
        threading.Thread(target=_timed, args=(url, f"{API}/listFiles", slow_auth), daemon=True)
        for _ in range(8)
    ]
    for caller in callers:
        caller.start()
    time.sleep(1)  # let the 8 calls reach their rule
    loaded = _probe(url, probes)
    for caller in callers:
        caller.join(timeout=LATENCY + 30)
    p50, floor_p50 = statistics.median(loaded), statistics.median(floor)
    return Row(
        "11.5",
        f"other orgs, health and control plane while org L has 8 calls in a {LATENCY} s "
        "latency fault: p50",
        p50 * 1000,
        "ms",
        floor=floor_p50 * 1000,
        ratio=p50 / floor_p50,
        target="< 100 ms (absolute)",
        ok=p50 < 0.1,
        notes=f"max {max(loaded) * 1000:.1f} ms (floor {max(floor) * 1000:.1f} ms); "
        f"{len(loaded)} requests, fresh connection each",
    )


def run() -> list[Row]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * HOGS + 256
    if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    with tempfile.TemporaryDirectory() as directory:
        seed = write_seed(Path(directory))
        argv = [sys.executable, "-m", "pixelbin_emulator", "--port", "0", "--seed", str(seed)]
        with server(argv) as emulator:
            rows = [idle_connections(emulator.url)]
        with server(argv) as emulator:
            rows.append(latency_fault(emulator.url))
    return rows


if __name__ == "__main__":
    report(run())
