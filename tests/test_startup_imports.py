"""The main window appears before pydicom and the decoders are loaded (issue 8: startup time).

pydicom with its decoding plugins (GDCM, pylibjpeg, OpenJPEG, imagecodecs) costs a third of a
second to import; the GUI needs none of it to draw its window, so it is imported after the
first paint (in the workers that index and decode, or on first use). Each test launches
``dicom-viewer open`` in a child process, as a person would, with
:data:`viewer.core.startup_timing.FIRST_PAINT_ENV` set to "exit"; the child's first-paint reporter
is wrapped to print which heavy modules were loaded at that moment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.core.startup_timing import FIRST_PAINT_ENV

#: Top-level packages that must not be loaded when the window is first painted.
HEAVY_PACKAGES = ("pydicom", "gdcm", "pylibjpeg", "openjpeg", "imagecodecs", "libjpeg")
LOADED_PREFIX = "loaded-at-first-paint:"

#: The child: the real launch path (viewer.__main__.main), with the first-paint reporter
#: wrapped so that it also lists the heavy packages in sys.modules when the paint arrives.
CHILD = f"""
import sys
from PySide6.QtCore import QEvent
from viewer.qt import first_paint

HEAVY = {HEAVY_PACKAGES!r}
report = first_paint.FirstPaintReporter.eventFilter

def event_filter(self, watched, event):
    if event.type() == QEvent.Type.Paint and self.painted_at is None:
        loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set(HEAVY))
        print({LOADED_PREFIX!r}, ",".join(loaded), flush=True)
    return report(self, watched, event)

first_paint.FirstPaintReporter.eventFilter = event_filter
from viewer.__main__ import main
sys.exit(main(["open", *sys.argv[1:]]))
"""


def heavy_packages_at_first_paint(paths: list[str], child: str = CHILD) -> list[str]:
    """Launch the viewer on ``paths`` (none: the demo); the heavy packages loaded at its first
    paint."""
    environ = {**os.environ, FIRST_PAINT_ENV: "exit", "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", child, *paths],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith(LOADED_PREFIX):
            return [name for name in line[len(LOADED_PREFIX) :].strip().split(",") if name]
    pytest.fail(f"no first paint (exit {result.returncode}): {result.stderr[-2000:]}")


def test_the_window_is_painted_before_pydicom_is_imported(demo_study: Path) -> None:
    assert heavy_packages_at_first_paint([str(demo_study)]) == []


def test_the_demo_window_is_painted_before_pydicom_is_imported() -> None:
    assert heavy_packages_at_first_paint([]) == []


def test_the_probe_sees_pydicom_once_it_is_imported(demo_study: Path) -> None:
    """The check is not vacuous: the same probe reports pydicom when it is already loaded."""
    child = CHILD.replace("import sys\n", "import sys\nimport pydicom\n", 1)
    assert "pydicom" in heavy_packages_at_first_paint([str(demo_study)], child)
