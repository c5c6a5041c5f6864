"""startup_ms: launching ``dicom-viewer open CT_FOLDER`` until the main window's first paint.

Uses viewer.core.startup_timing (the app's own first-paint report); absent until that exists.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from viewer.bench.data import private_user_data
from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, milliseconds


def measure_startup(folder: Path, sizes: BenchSizes) -> dict[str, Figure]:
    try:
        timing = importlib.import_module("viewer.core.startup_timing")
    except ImportError:
        return {}
    launch = getattr(timing, "seconds_to_first_paint", None)
    if launch is None:
        return {}
    with private_user_data(QT_QPA_PLATFORM="offscreen") as environ:
        samples = [
            launch([str(folder)], environ=environ)
            for _ in range(sizes.warmups + sizes.startup_runs)
        ]
    return {"startup_ms": milliseconds(samples[sizes.warmups :])}
