"""Peak memory while holding the CT series as a volume, in a fresh process (MiB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from viewer.bench.stats import Figure

PROBE_TIMEOUT_S = 600


def measure_memory(folder: Path) -> dict[str, Figure]:
    """peak_rss_mb_ct300, voxel_mb_ct300, rss_baseline_mb_ct300 (and worker peaks if any)."""
    result = subprocess.run(
        [sys.executable, "-m", "viewer.bench.memory_probe", str(folder)],
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(_last_line(result.stderr) or f"exit status {result.returncode}")
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    figures = {
        "peak_rss_mb_ct300": _one(probe["peak_rss_mb"]),
        "voxel_mb_ct300": _one(probe["voxel_mb"]),
        "rss_baseline_mb_ct300": _one(probe["baseline_rss_mb"]),
    }
    if probe["children_peak_rss_mb"] > 0:
        figures["peak_rss_workers_mb_ct300"] = _one(probe["children_peak_rss_mb"])
    return figures


def _one(value: float) -> Figure:
    return Figure.of([float(value)], "MiB")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
