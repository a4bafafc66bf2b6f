"""Figure 8 (issue 11): memory given back when orgs are dropped or the emulator is reset.

Against the CLI's server: 15 rounds of create an org, upload 20 MB to it, drop it
(``DELETE /_emulator/orgs/{id}``); then 15 rounds of create, upload, ``POST /_emulator/reset``.
Nothing calls ``gc.collect()``: an org must be freed by reference counting alone, so the figure
is the server's RSS after the rounds, against the floor of its RSS before them (measured after
one warm-up round with a 1 KB file). Target: within 10 % of that baseline.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
from pathlib import Path

import requests
from _common import Row, proc_status, ratio_row, report, server, write_seed

MB = 1024 * 1024
ROUNDS = 15
SIZE = 20 * MB
API = "/service/platform/assets/v1.0"


def _round(url: str, size: int, number: int, *, reset: bool) -> None:
    secret = f"bench-drop-secret-{number:04d}"
    org = requests.post(f"{url}/_emulator/orgs", json={"apiSecret": secret}, timeout=30)
    org.raise_for_status()
    token = base64.b64encode(secret.encode()).decode()
    uploaded = requests.post(
        f"{url}{API}/upload/direct",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("big.bin", os.urandom(size), "application/octet-stream")},
        data={"name": "big"},
        timeout=120,
    )
    uploaded.raise_for_status()
    if reset:
        requests.post(f"{url}/_emulator/reset", timeout=30).raise_for_status()
    else:
        org_id = org.json()["orgId"]
        requests.delete(f"{url}/_emulator/orgs/{org_id}", timeout=30).raise_for_status()


def _rss_after(url: str, pid: int, *, reset: bool) -> tuple[int, int, int]:
    """(baseline RSS, RSS after the rounds, highest RSS seen between rounds)."""
    _round(url, 1024, 0, reset=reset)
    time.sleep(0.3)
    baseline = proc_status(pid)["VmRSS"]
    highest = baseline
    for number in range(1, ROUNDS + 1):
        _round(url, SIZE, number, reset=reset)
        highest = max(highest, proc_status(pid)["VmRSS"])
    time.sleep(0.3)
    return baseline, proc_status(pid)["VmRSS"], highest


def run() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        seed = write_seed(Path(tmp))
        argv = [sys.executable, "-m", "pixelbin_emulator", "--port", "0", "--seed", str(seed)]
        for reset in (False, True):
            with server(argv) as emu:
                baseline, after, highest = _rss_after(emu.url, emu.pid, reset=reset)
            how = "POST /_emulator/reset" if reset else "DELETE /_emulator/orgs/{id}"
            rows.append(
                ratio_row(
                    "8",
                    f"server RSS after {ROUNDS} rounds of create org / upload "
                    f"{SIZE // MB} MB / {how}",
                    after / MB,
                    baseline / MB,
                    "MB",
                    at_most=1.1,
                    notes=f"floor: RSS before the rounds; highest between rounds "
                    f"{highest / MB:.0f} MB; no gc.collect()",
                )
            )
    return rows


if __name__ == "__main__":
    report(run())
