"""``kill -9`` of ``pixelbin-emulator --data-dir`` in the middle of a concurrent write load.

Each run starts the CLI on the same directory, lets a few client threads upload (small files go
inline in the log, large ones as blobs), retag, move and delete files, kills the server at a
random moment, and checks after the restart that:

- every acknowledged write is there, exactly (``_id``, bytes, tags, place), and every
  acknowledged delete stays done;
- a write that was not acknowledged is either wholly there or not at all (never a file with
  other bytes, nor a move half done);
- nothing else appeared.

Every other run compacts the log every 100 KB, so kills also land during compactions.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import requests

SECRET = "dev-api-secret-0000-0000-000000000000"
AUTH = {"Authorization": "Bearer " + base64.b64encode(SECRET.encode()).decode()}
API = "/service/platform/assets/v1.0"
RUNS = 5
THREADS = 4


#: The CLI with a small compaction threshold, so that compactions happen under the load too.
COMPACTING = (
    "import sys; from pixelbin_emulator import cli, durable; durable.COMPACT_MIN = 100_000; "
    "sys.exit(cli.main(sys.argv[1:]))"
)


def start(data_dir, compacting: bool = False) -> tuple[subprocess.Popen, str]:
    program = ["-c", COMPACTING] if compacting else ["-m", "pixelbin_emulator"]
    process = subprocess.Popen(
        [sys.executable, *program, "--port", "0", "--quiet", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = process.stdout.readline()
    assert "ready on" in line, line + process.stdout.read()
    # Nothing else is read from stdout: --quiet keeps it to the start-up lines.
    return process, line.split("ready on ", 1)[1].strip()


@dataclass
class Expected:
    """What the clients know: per file name, its acknowledged version and versions in doubt."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    #: name -> (fileId, md5 of bytes, tags) acknowledged last, or None when deleted.
    acked: dict[str, tuple[str, str, tuple[str, ...]] | None] = field(default_factory=dict)
    #: name -> versions a write in flight at the crash may have left (None: deleted).
    doubtful: dict[str, list[tuple[str, str, tuple[str, ...]] | None]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


def client_load(url: str, worker: int, run: int, expected: Expected, stop: threading.Event):
    """One client: a random sequence of writes on its own names, noting each answer."""
    rng = random.Random(f"{run}-{worker}")
    session = requests.Session()
    mine: list[str] = []
    count = 0
    while not stop.is_set() and count < 400:
        count += 1
        live = [name for name in mine if expected.acked.get(name) is not None]
        action = rng.choice(["upload", "upload", "upload", "retag", "move", "delete"])
        if action == "upload" or not live:
            name = f"r{run}w{worker}n{count}"
            size = rng.choice([10, 1000, 70_000])  # 70 KB > INLINE_MAX: a blob
            data = os.urandom(size)
            version = (f"crash/{name}", hashlib.md5(data).hexdigest(), ())
            request = dict(
                method="POST",
                url=url + API + "/upload/direct",
                files={"file": (f"{name}.bin", data)},
                data={"name": name, "path": "crash"},
            )
        else:
            name = rng.choice(live)
            file_id, digest, tags = expected.acked[name]
            if action == "retag":
                tags = (f"t{count}",)
                version = (file_id, digest, tags)
                request = dict(
                    method="PATCH",
                    url=url + API + f"/files/{file_id}",
                    json={"tags": list(tags)},
                )
            elif action == "move":
                moved = f"crash/moved/{name}"
                version = (moved, digest, tags)
                request = dict(
                    method="PATCH",
                    url=url + API + f"/files/{file_id}",
                    json={"path": "crash/moved"},
                )
            else:
                version = None
                request = dict(method="DELETE", url=url + API + f"/files/{file_id}")
        with expected.lock:
            expected.doubtful.setdefault(name, []).append(version)
        try:
            response = session.request(headers=AUTH, timeout=10, **request)
        except requests.RequestException:
            return  # the server died: this write stays in doubt
        assert response.status_code == 200, response.text
        with expected.lock:
            expected.doubtful[name].remove(version)
            expected.acked[name] = version
            if version is not None:
                expected.ids[name] = response.json()["_id"]
        if name not in mine:
            mine.append(name)


def observed(url: str) -> dict[str, tuple[str, str, tuple[str, ...], str]]:
    """Every file under ``crash/`` after the restart: name -> (fileId, md5, tags, _id)."""
    found = {}
    for path in ("crash", "crash/moved"):
        for page_no in range(1, 100):
            page = requests.get(
                url + API + "/listFiles",
                params={"path": path, "onlyFiles": "true", "pageSize": 100, "pageNo": page_no},
                headers=AUTH,
                timeout=30,
            ).json()
            for item in page["items"]:
                data = requests.get(item["url"], timeout=30).content
                digest = hashlib.md5(data).hexdigest()
                found[item["name"]] = (item["fileId"], digest, tuple(item["tags"]), item["_id"])
            if not page["page"]["hasNext"]:
                break
    return found


def test_acknowledged_writes_survive_kill_9(tmp_path):
    expected = Expected()
    rng = random.Random(13)
    deadline = time.monotonic() + 60
    for run in range(RUNS):
        if time.monotonic() > deadline:
            break
        process, url = start(tmp_path, compacting=run % 2 == 1)
        try:
            if run:
                check(url, expected)
            stop = threading.Event()
            clients = [
                threading.Thread(target=client_load, args=(url, w, run, expected, stop))
                for w in range(THREADS)
            ]
            for thread in clients:
                thread.start()
            time.sleep(rng.uniform(0.3, 1.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            stop.set()
            for thread in clients:
                thread.join(timeout=20)
        finally:
            process.kill()
            process.wait()
    process, url = start(tmp_path)
    try:
        check(url, expected)
        assert sum(v is not None for v in expected.acked.values()) > 20  # the load did run
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


def check(url: str, expected: Expected) -> None:
    """Every name is in an acceptable state; then the doubt is settled by what survived."""
    found = observed(url)
    names = set(expected.acked) | set(expected.doubtful)
    assert set(found) <= names, f"files nobody wrote: {set(found) - names}"
    for name in names:
        acked = expected.acked.get(name)
        allowed = [acked, *expected.doubtful.get(name, [])]
        seen = found.get(name)
        state = None if seen is None else seen[:3]
        assert state in allowed, f"{name}: found {state}, acknowledged {acked}"
        if seen is not None and name in expected.ids:
            assert seen[3] == expected.ids[name]
        # Settle: what survived is now what a client knows.
        expected.acked[name] = state
        expected.doubtful[name] = []
        if seen is not None:
            expected.ids[name] = seen[3]
