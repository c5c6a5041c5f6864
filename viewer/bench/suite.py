"""Run every measurement on the generated data; each one that fails or is missing is skipped."""

from __future__ import annotations

from collections.abc import Callable

from viewer.bench.data import BenchData, ensure_data
from viewer.bench.export import measure_export
from viewer.bench.gui import measure_gui
from viewer.bench.indexing import measure_indexing
from viewer.bench.loading import measure_loading
from viewer.bench.memory import measure_memory
from viewer.bench.mpr import measure_mpr
from viewer.bench.retrieve import measure_retrieve
from viewer.bench.roi import measure_roi
from viewer.bench.sizes import BenchSizes
from viewer.bench.startup import measure_startup
from viewer.bench.stats import Figure
from viewer.bench.vr import measure_vr

Log = Callable[[str], None]
Measure = Callable[[BenchData, BenchSizes, Log], dict[str, Figure]]

#: Name -> measurement, in the order they run (and report).
MEASUREMENTS: dict[str, Measure] = {
    "indexing": lambda data, sizes, log: measure_indexing(
        data.index_folder, data.index_files, sizes
    ),
    "loading": lambda data, sizes, log: measure_loading(data.ct, sizes.ct_slices, sizes, log),
    "memory": lambda data, sizes, log: measure_memory(data.ct["uncompressed"]),
    "gui": measure_gui,
    "startup": lambda data, sizes, log: measure_startup(data.ct["uncompressed"], sizes),
    "mpr": lambda data, sizes, log: measure_mpr(data.volume, sizes),
    "roi": lambda data, sizes, log: measure_roi(sizes),
    "export": lambda data, sizes, log: measure_export(
        data.ct["uncompressed"], sizes.ct_slices, sizes, log
    ),
    "retrieve": lambda data, sizes, log: measure_retrieve(
        data.ct["uncompressed"], 1 if sizes.ct_slices < 100 else 3, log
    ),
    "vr": lambda data, sizes, log: measure_vr(data.volume, sizes, log),
}


def run_suite(sizes: BenchSizes, log: Log) -> dict[str, Figure]:
    """Generate (or reuse) the data, then measure; returns flat dotted keys -> figures."""
    data = ensure_data(sizes, log)
    figures: dict[str, Figure] = {}
    for name, measure in MEASUREMENTS.items():
        log(f"measuring {name}")
        try:
            found = measure(data, sizes, log)
        except Exception as error:  # one broken measurement must not hide the others
            log(f"{name} failed: {type(error).__name__}: {error}")
            continue
        if not found:
            log(f"{name}: not measured (the feature does not exist yet)")
        figures.update(found)
    return figures
