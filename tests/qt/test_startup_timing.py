"""The first-paint probe behind the startup figure (the bench reports the time, not this test)."""

from __future__ import annotations

import os
from pathlib import Path

from viewer.core.startup_timing import seconds_to_first_paint


def test_first_paint_is_reported_and_the_gui_exits(demo_study: Path, tmp_path: Path) -> None:
    environ = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    seconds = seconds_to_first_paint([str(demo_study)], timeout_s=120, environ=environ)
    assert seconds > 0
