"""No client can lock others out (issue 11, items 4 and 5): idle or half-sent connections, and
latency faults on one org. Each test runs its own server; timeouts here only stop a test that
would otherwise hang (the latency figures are measured by benchmarks/bench_availability.py)."""

from __future__ import annotations

import base64
import resource
import socket
import threading
import time
from collections.abc import Iterator

import click
import pytest
import requests
from pixelbin import PixelbinClient, PixelbinConfig

from pixelbin_emulator.app import create_app
from pixelbin_emulator.cli import parse_args
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.server import LiveServer
from pixelbin_emulator.settings import Settings

from .helpers import fault_rule

API = "/service/platform/assets/v1.0"
#: Well under the time a blocked request would wait (a latency of 5 s, a 120 s idle timeout).
PATIENCE = 2.5


def bearer(org) -> dict[str, str]:
    return {"Authorization": "Bearer " + base64.b64encode(org.api_secret.encode()).decode()}


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer(create_app(default_emulator(), Settings())) as live:
        yield live


def _connections(server: LiveServer, count: int, payload: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((server.host, server.port), timeout=10)
        sock.sendall(payload)
        sockets.append(sock)
    return sockets


def test_idle_and_half_sent_connections_do_not_lock_others_out(server):
    """100 half-sent requests used to fill waitress's connection limit: nothing else answered."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)  # raised by LiveServer to fit
    each = max(60, min(300, (soft - 300) // 4))  # two ends of every connection live here
    org = server.emulator.orgs()[0]
    half_sent = _connections(server, each, b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nX-Slow")
    keep_alive = _connections(server, each, b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        for sock in keep_alive:  # answered, and left open
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        health = requests.get(f"{server.url}/_emulator/health", timeout=PATIENCE)
        listing = requests.get(
            f"{server.url}{API}/listFiles", headers=bearer(org), timeout=PATIENCE
        )
        assert (health.status_code, listing.status_code) == (200, 200)
    finally:
        for sock in half_sent + keep_alive:
            sock.close()


def test_connections_that_trickle_their_head_are_closed():
    settings = Settings(header_timeout=1)
    with LiveServer(create_app(default_emulator(), settings)) as live:
        sock = socket.create_connection((live.host, live.port), timeout=10)
        try:
            sock.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
            deadline = time.monotonic() + 8
            closed = False
            while not closed and time.monotonic() < deadline:
                try:
                    sock.sendall(b"X")  # a byte at a time keeps waitress's idle timeout at bay
                    time.sleep(0.3)
                    sock.setblocking(False)
                    closed = sock.recv(1) == b""
                except BlockingIOError:
                    pass
                except OSError:  # reset, or a broken pipe: closed by the server
                    closed = True
                finally:
                    sock.setblocking(True)
            assert closed
        finally:
            sock.close()
        # A client sending a whole request is served as before.
        assert requests.get(f"{live.url}/_emulator/health", timeout=10).status_code == 200


def test_connection_limit_is_a_setting():
    with LiveServer(create_app(default_emulator(), Settings(connection_limit=321))) as live:
        assert live.connection_limit == 321


def test_one_orgs_latency_fault_does_not_stall_the_server():
    """8 delayed calls from org L used to hold every worker thread for the whole delay."""
    with LiveServer(create_app(default_emulator()), threads=2) as live:
        em = live.emulator
        slow, other = em.create_org(), em.create_org()
        rule = em.faults.add(
            fault_rule({"orgId": slow.org_id, "operation": "listFiles", "latency": 5})
        )
        answers: list[tuple[int, float]] = []

        def slow_call() -> None:
            start = time.monotonic()
            answer = requests.get(f"{live.url}{API}/listFiles", headers=bearer(slow), timeout=30)
            answers.append((answer.status_code, time.monotonic() - start))

        callers = [threading.Thread(target=slow_call) for _ in range(8)]
        for caller in callers:
            caller.start()
        deadline = time.monotonic() + 10
        while rule.matched < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert rule.matched == 8
        others = requests.get(f"{live.url}{API}/listFiles", headers=bearer(other), timeout=PATIENCE)
        health = requests.get(f"{live.url}/_emulator/health", timeout=PATIENCE)
        removed = requests.delete(f"{live.url}/_emulator/faults/{rule.id}", timeout=PATIENCE)
        assert (others.status_code, health.status_code, removed.status_code) == (200, 200, 200)
        for caller in callers:
            caller.join(timeout=30)
        # The delayed calls were still delayed, and answered.
        assert [status for status, _ in answers] == [200] * 8
        assert min(seconds for _, seconds in answers) >= 5
        entries = [e for e in em.journal.query() if e.org_id == slow.org_id]
        assert len(entries) == 8 and all(e.fault == rule.id and e.duration >= 5 for e in entries)


def test_a_delayed_upload_keeps_its_body_and_later_effects(event_loop):
    """The parked request runs again after the delay: its body is read then, and a status or
    drop the rule also asks for applies then."""
    with LiveServer(create_app(default_emulator())) as live:
        org = live.emulator.create_org()
        pixelbin = PixelbinClient(PixelbinConfig({"domain": live.url, "apiSecret": org.api_secret}))
        live.emulator.faults.add(
            fault_rule({"operation": "fileUpload", "latency": 0.5, "times": 1})
        )
        uploaded = pixelbin.assets.fileUpload(file=b"x" * 200_000, name="slow")
        assert uploaded["size"] == 200_000
        live.emulator.faults.add(
            fault_rule({"operation": "listFiles", "latency": 0.3, "status": 503})
        )
        answer = requests.get(f"{live.url}{API}/listFiles", headers=bearer(org), timeout=10)
        assert answer.status_code == 503
        assert answer.json()["exception"] == "EmulatedFaultError"


def test_connection_flags_and_environment(monkeypatch):
    monkeypatch.setenv("PIXELBIN_EMULATOR_HEADER_TIMEOUT", "7")
    args = parse_args(["--connection-limit", "2000", "--channel-timeout", "60"])
    assert (args.connection_limit, args.channel_timeout, args.header_timeout) == (2000, 60, 7)
    with pytest.raises(click.BadParameter, match="0 is not in the range x>=1"):
        parse_args(["--connection-limit", "0"])
