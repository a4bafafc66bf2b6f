"""Figure 5: the pytest plugin's overhead, over a generated suite of 200 trivial tests.

Two suites are generated: one whose tests take the ``pixelbin_emulator`` fixture, one whose tests
take none (the floor; the plugin is loaded in both). Each runs with pytest in a subprocess; a
generated ``conftest.py`` records every test's setup/call/teardown durations. Per-test isolation
is the mean extra time per test (all tests but the first and the last); the session server start
is the first test's extra setup time, and the session teardown is the last test's teardown.
Each suite runs three times, the median run is kept.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Row, env, report

TESTS = 200
RUNS = 3

CONFTEST = """
import json, os
_DURATIONS = {}

def pytest_runtest_logreport(report):
    _DURATIONS.setdefault(report.nodeid, {})[report.when] = report.duration

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_DURATIONS"], "w") as handle:
        json.dump(_DURATIONS, handle)
"""


def write_suite(directory: Path, with_fixture: bool) -> None:
    directory.mkdir()
    (directory / "conftest.py").write_text(CONFTEST)
    arg = "pixelbin_emulator" if with_fixture else ""
    body = "assert pixelbin_emulator.api_secret" if with_fixture else "assert True"
    tests = "\n\n".join(f"def test_{i:03d}({arg}):\n    {body}\n" for i in range(TESTS))
    (directory / "test_generated.py").write_text(tests)


def run_suite(directory: Path) -> dict:
    durations = directory / "durations.json"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=directory,
        env={**env(), "BENCH_DURATIONS": str(durations)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    wall = time.perf_counter() - started
    per_test = list(json.loads(durations.read_text()).values())
    totals = [sum(phases.values()) for phases in per_test]
    return {
        "wall": wall,
        "first_setup": per_test[0]["setup"],
        "rest_setup": statistics.median(t["setup"] for t in per_test[1:]),
        "last_teardown": per_test[-1]["teardown"],
        "rest_mean": statistics.mean(totals[1:-1]),
    }


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        with_dir, without_dir = Path(tmp, "with"), Path(tmp, "without")
        write_suite(with_dir, True)
        write_suite(without_dir, False)
        withs, withouts = [], []
        for _ in range(RUNS):
            withs.append(run_suite(with_dir))
            withouts.append(run_suite(without_dir))
    w = sorted(withs, key=lambda r: r["wall"])[RUNS // 2]
    wo = sorted(withouts, key=lambda r: r["wall"])[RUNS // 2]
    per_test_ms = (w["rest_mean"] - wo["rest_mean"]) * 1000
    start_s = w["first_setup"] - w["rest_setup"]
    best_with, best_without = min(r["wall"] for r in withs), min(r["wall"] for r in withouts)
    wall_note = (
        f"best wall: {best_with:.2f} s with vs {best_without:.2f} s without "
        f"({(best_with - best_without) * 1000 / TESTS:.2f} ms/test incl. session start/stop)"
    )
    return [
        Row(
            "5",
            f"pytest plugin per-test isolation ({TESTS} tests)",
            per_test_ms,
            "ms",
            floor=wo["rest_mean"] * 1000,
            ratio=per_test_ms / 2.0,
            target="<= 2 ms",
            ok=per_test_ms <= 2.0,
            notes=f"value = extra mean time per test; floor = a test without it; {wall_note}",
        ),
        Row(
            "5",
            "pytest plugin session server start",
            start_s,
            "s",
            floor=None,
            ratio=start_s / 0.5,
            target="<= 0.5 s",
            ok=start_s <= 0.5,
            notes=f"ratio is against the target; session teardown: {w['last_teardown']:.3f} s",
        ),
    ]


if __name__ == "__main__":
    report(run())
