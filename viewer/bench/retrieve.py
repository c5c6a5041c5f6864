"""Retrieve speed against a real Orthanc on loopback (issue 16): images per second by C-GET,
C-MOVE and WADO-RS beside DCMTK's getscu on the same study in the same run, and the time to
the first instance landed. Runs in a child process (:mod:`viewer.bench.retrieve_probe`) in a
private network namespace; not measured (empty) where that or Orthanc is unavailable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from viewer.bench.stats import Figure

PROBE_TIMEOUT_S = 900
CANNOT = 3


def measure_retrieve(folder: Path, runs: int, log: object = None) -> dict[str, Figure]:
    """``retrieve_images_per_s.{cget,move,wado,getscu}`` and ``retrieve_first_image_ms`` (C-GET
    from the GUI's dock to the first image on its viewport)."""
    result = subprocess.run(
        [sys.executable, "-m", "viewer.bench.retrieve_probe", str(folder), str(runs)],
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    if result.returncode == CANNOT:
        if callable(log):
            log(f"retrieve: not measured ({result.stderr.strip()})")
        return {}
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {result.returncode}")
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    images = int(probe["images"])
    figures = {
        f"retrieve_images_per_s.{key}": Figure.of([images / s for s in probe[key]], "images/s")
        for key in ("cget", "move", "wado", "getscu")
        if probe[key]
    }
    # The first image as the user sees it (the GUI's viewport); the first instance landed
    # where the GUI probe could not run.
    first = probe.get("shown_ms") or probe["first_ms"]
    if first:
        figures["retrieve_first_image_ms"] = Figure.of(first, "ms")
    return figures
