"""GUI timings, measured by driving the real main window in a child process (offscreen).

The child (:mod:`viewer.bench.gui_probe`) imports Qt; this module does not. The offscreen
platform has no OpenGL, so the views draw in software there whatever the rendering setting
(:mod:`viewer.qt.gpu`): ``wl_frame_ms``, ``scroll_fps`` and the cine figures measure the raster
path, and the OpenGL viewport is not measured where no OpenGL context can be made.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from viewer.bench.data import BenchData, private_user_data
from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure

Log = Callable[[str], None]
PROBE_TIMEOUT_S = 1800
UNITS = {"scroll_fps": "frames/s", "cine_fps": "frames/s", "cine_dropped_pct": "%"}


def measure_gui(data: BenchData, sizes: BenchSizes, log: Log) -> dict[str, Figure]:
    """first_image_ms, wl_frame_ms.*, scroll_fps, cine_*, gui_max_stall_ms,
    open_first_image_ms and db_reopen_first_image_ms (what exists)."""
    config = {
        "ct": str(data.ct["uncompressed"]),
        "radiograph": str(data.radiograph),
        "cine": str(data.cine),
        "runs": sizes.runs,
        "warmups": sizes.warmups,
        "steps": sizes.gui_steps,
        "cine_seconds": sizes.cine_seconds,
    }
    with private_user_data(QT_QPA_PLATFORM="offscreen") as environ:
        result = subprocess.run(
            [sys.executable, "-m", "viewer.bench.gui_probe", json.dumps(config)],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
            env=environ,
        )
    probe = _probe_output(result)
    for name, reason in probe["missing"].items():
        log(f"{name}: not measured ({reason})")
    for name, reason in probe["errors"].items():
        log(f"{name} failed: {reason}")
    return {
        key: Figure.of(samples, UNITS.get(key, "ms"))
        for key, samples in probe["samples"].items()
        if samples
    }


def _probe_output(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    for line in reversed(result.stdout.strip().splitlines()):
        if line.startswith("{"):
            parsed: dict[str, dict[str, Any]] = json.loads(line)
            return parsed
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    raise RuntimeError(
        f"the GUI probe exited {result.returncode}: {lines[-1] if lines else 'no output'}"
    )
