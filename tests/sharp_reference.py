"""Python side of `tests/js/sharp_reference.js`: renders Pixelbin `t.*` pipelines with real sharp.

The emulator's engine claims sharp 0.35's results, one `t.*` step after another; this renders the
same steps with sharp itself (one sharp call per step, a lossless PNG in between, the last step
encoding to the output format) so tests and tuning can compare pixels. Batch every case into one
`render()` call: each node start costs a few hundred milliseconds.

    from tests.sharp_reference import Case, Step, render

    results = render([
        Case("photo.jpeg", [Step("resize", {"w": 100, "f": "contain"})], "out.jpeg"),
        Case("alpha.png", [Step("rotate", {"a": 30})], "out2.png", dpr=2.0, format="webp"),
    ])
    results[0].width, results[0].height, results[0].format, results[0].image()

Parameters use Pixelbin's names and defaults (`pixelbin_emulator/data/modules.json`); a merge
step's `i` is the overlay's local path and its `tr` a list of `Step`s applied to it first.
`dpr` is the `?dpr=` query (the default of each step's own `dpr`), `format` forces the output
format (what `?f_auto=true` chose). Needs `npm ci --prefix tests/js` (tests/setup.sh runs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyvips

SCRIPT = Path(__file__).parent / "js" / "sharp_reference.js"
SHARP = Path(__file__).parent / "js" / "node_modules" / "sharp"


def available() -> bool:
    """Whether node and the sharp package are installed (the suite skips otherwise)."""
    return shutil.which("node") is not None and SHARP.is_dir()


@dataclass(frozen=True)
class Step:
    """One `t.*` operation: its method name and the URL's parameters (defaults filled by sharp)."""

    op: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        params = {
            key: [s.to_json() for s in value] if key == "tr" and isinstance(value, list) else value
            for key, value in self.params.items()
        }
        return {"op": self.op, "params": params}


@dataclass(frozen=True)
class Case:
    """An original, the steps to apply in order, and where sharp's output is written."""

    input: str | Path
    steps: list[Step]
    output: str | Path
    dpr: float | None = None
    format: str | None = None

    def to_json(self) -> dict[str, Any]:
        job: dict[str, Any] = {
            "input": str(self.input),
            "steps": [s.to_json() for s in self.steps],
            "output": str(self.output),
        }
        if self.dpr is not None:
            job["dpr"] = self.dpr
        if self.format is not None:
            job["format"] = self.format
        return job


@dataclass(frozen=True)
class Result:
    """What sharp produced for one case, or the error it raised (`error` set, no output)."""

    width: int = 0
    height: int = 0
    format: str = ""
    channels: int = 0
    density: float | None = None
    output: str = ""
    error: str | None = None

    def image(self) -> pyvips.Image:
        """The output decoded by libvips."""
        return pyvips.Image.new_from_file(self.output, access="sequential")


def render(cases: list[Case], *, timeout: float = 300) -> list[Result]:
    """Renders every case with sharp in a single node process; results in the cases' order."""
    job = json.dumps({"cases": [c.to_json() for c in cases]})
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=job,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"sharp_reference.js failed: {done.stderr.strip()}")
    results = json.loads(done.stdout)["results"]
    keys = {"width", "height", "format", "channels", "density", "output", "error"}
    return [Result(**{k: v for k, v in r.items() if k in keys}) for r in results]
