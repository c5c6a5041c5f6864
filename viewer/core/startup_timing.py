"""How long the GUI takes to appear: process launch -> the main window's first paint (no Qt here).

:func:`seconds_to_first_paint` starts ``dicom-viewer open`` as a child process with
:data:`FIRST_PAINT_ENV` set; the GUI (:mod:`viewer.qt.first_paint`) prints the wall-clock time of
the main window's first paint event and quits. The figure includes interpreter start-up and
every import, as a person launching the viewer waits for them. For the bench command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

#: Set to "exit" (quit after the first paint) or "report" (print it and go on).
FIRST_PAINT_ENV = "DICOM_VIEWER_FIRST_PAINT"
#: The line the GUI prints: this prefix, seconds since the epoch, then the CPU seconds the
#: process had used (all threads), e.g. ``first-paint-at 1767225600.123456 cpu 0.912``.
FIRST_PAINT_PREFIX = "first-paint-at "


class StartupSample(NamedTuple):
    """One launch: wall seconds to the first paint, and the CPU seconds the GUI spent until then
    (the CPU figure hardly moves when other programs load the machine; the wall one does)."""

    wall_s: float
    cpu_s: float


def viewer_command() -> list[str]:
    """How to start the viewer from here: the frozen binary itself, or ``python -m viewer``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "viewer"]


def seconds_to_first_paint(
    paths: Sequence[str] = (),
    timeout_s: float = 120.0,
    environ: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> float:
    """Launch the GUI on ``paths`` (none: the demo) and answer launch -> first paint, seconds."""
    return measure_first_paint(paths, timeout_s, environ, command).wall_s


def measure_first_paint(
    paths: Sequence[str] = (),
    timeout_s: float = 120.0,
    environ: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> StartupSample:
    """Launch the GUI on ``paths`` (none: the demo); time launch -> the main window's first paint.

    ``command`` starts the viewer (default :func:`viewer_command`; e.g. a frozen binary).
    Raises RuntimeError when the GUI exits without reporting a paint.
    """
    env = {**(os.environ if environ is None else environ), FIRST_PAINT_ENV: "exit"}
    started = time.time()
    result = subprocess.run(
        [*(command or viewer_command()), "open", *paths],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith(FIRST_PAINT_PREFIX):
            painted_at, _, cpu = line[len(FIRST_PAINT_PREFIX) :].split()
            return StartupSample(float(painted_at) - started, float(cpu))
    tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
    raise RuntimeError(f"the viewer reported no first paint (exit {result.returncode}): {tail}")


def main() -> int:
    """``python -m viewer.core.startup_timing [RUNS [COMMAND ...]]``: each run and the median."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    command = sys.argv[2:] or None
    samples = [measure_first_paint(command=command) for _ in range(runs)]
    wall = sorted(sample.wall_s for sample in samples)
    cpu = sorted(sample.cpu_s for sample in samples)
    print(
        f"wall {' '.join(f'{s:.2f}' for s in wall)} median {wall[runs // 2]:.2f} s; "
        f"cpu median {cpu[runs // 2]:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
