"""The bench report: one JSON object (medians, nested by dotted key) or a text table.

Keys are flat and dotted inside the suite (``load_slices_per_s.rle``); the JSON nests them
(``{"load_slices_per_s": {"rle": ...}}``). Ratios ours/reference are what the targets are
stated in (plus memory held per voxel byte: (peak RSS - baseline) / voxel bytes); the text
table shows each target from the issues beside its figure.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

from viewer.bench.encodings import ENCODINGS
from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure

Figures = dict[str, Figure]

#: Ratio targets: ours/GDCM for indexing (issue 4), ours/SimpleITK per encoding (issue 5),
#: and memory held beyond the baseline per voxel byte (issue 5): key -> (comparison, bound).
RATIO_TARGETS: dict[str, tuple[str, float]] = {
    "index_vs_gdcm": (">=", 1.0),
    "load_vs_simpleitk.uncompressed": (">=", 3.0),
    "load_vs_simpleitk.rle": (">=", 10.0),
    "load_vs_simpleitk.jpeg_lossless": (">=", 1.5),
    "load_vs_simpleitk.jpeg_ls": (">=", 2.0),
    "load_vs_simpleitk.jpeg2000": (">=", 1.5),
    "rss_over_voxels_ct300": ("<=", 1.3),
    "export_anonymized_vs_pydicom": (">=", 2.0),  # issue 18
    "export_nifti_over_volume": ("<=", 1.5),  # issue 18: time, so lower is better
    # Issue 16: C-GET and WADO-RS at least as fast as DCMTK's getscu on the same study.
    "retrieve_vs_getscu.cget": (">=", 1.0),
    "retrieve_vs_getscu.wado": (">=", 1.0),
}
#: Absolute targets from the issues: key -> (comparison, bound).
TARGETS: dict[str, tuple[str, float]] = {
    "wl_frame_ms.512": ("<=", 4.0),
    "wl_frame_ms.3000": ("<=", 25.0),
    "scroll_fps": (">=", 60.0),
    "cine_dropped_pct": ("<", 1.0),
    "gui_max_stall_ms": ("<=", 50.0),
    "startup_ms": ("<=", 1500.0),
    "mpr_orthogonal_ms": ("<=", 10.0),
    "mpr_oblique_ms": ("<=", 25.0),
    "mpr_slab_mip_ms": ("<=", 30.0),
    "mpr_oblique_slab_mip_ms": ("<=", 150.0),
    "roi_stats_ms.512": ("<=", 2.0),
    "roi_stats_ms.3000": ("<=", 20.0),
    "retrieve_first_image_ms": ("<=", 1000.0),
    "vr_interactive_ms": ("<=", 100.0),
    "vr_full_ms": ("<=", 500.0),
    "vr_mip_ms": ("<=", 250.0),
    "vr_first_frame_ms": ("<=", 2000.0),
}
VERSIONED = ("pydicom", "numpy", "python-gdcm", "SimpleITK", "PySide6-Essentials", "pyqtgraph")


def ratios(figures: Figures) -> dict[str, float]:
    """ours / reference, of medians, for every pair measured (flat dotted keys)."""
    found: dict[str, float] = {}
    pairs = [("index_vs_gdcm", "index_files_per_s", "index_gdcm_files_per_s")]
    pairs += [
        (f"load_vs_simpleitk.{e}", f"load_slices_per_s.{e}", f"load_simpleitk_slices_per_s.{e}")
        for e in ENCODINGS
    ]
    pairs.append(
        ("export_anonymized_vs_pydicom", "export_anonymized_files_per_s",
         "export_pydicom_loop_files_per_s")
    )  # fmt: skip
    pairs.append(("export_nifti_over_volume", "export_nifti_s", "volume_s"))
    pairs += [
        (f"retrieve_vs_getscu.{m}", f"retrieve_images_per_s.{m}", "retrieve_images_per_s.getscu")
        for m in ("cget", "wado")
    ]
    for name, ours, reference in pairs:
        if ours in figures and reference in figures and figures[reference].median > 0:
            found[name] = figures[ours].median / figures[reference].median
    memory = ("peak_rss_mb_ct300", "rss_baseline_mb_ct300", "voxel_mb_ct300")
    if all(key in figures for key in memory) and figures["voxel_mb_ct300"].median > 0:
        peak, baseline, voxels = (figures[key].median for key in memory)
        found["rss_over_voxels_ct300"] = (peak - baseline) / voxels
    return found


def meets(value: float, target: tuple[str, float]) -> bool:
    comparison, bound = target
    return {"<=": value <= bound, "<": value < bound, ">=": value >= bound}[comparison]


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}} (one level, as the report's keys need)."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        head, _, tail = key.partition(".")
        if tail:
            nested.setdefault(head, {})[tail] = value
        else:
            nested[head] = value
    return nested


def json_report(figures: Figures, sizes: BenchSizes) -> dict[str, Any]:
    """The --json object: medians under the contract's keys, then ratios, spread, machine."""
    report = nest({key: round(figure.median, 3) for key, figure in figures.items()})
    report["ratios"] = nest({key: round(value, 3) for key, value in ratios(figures).items()})
    report["spread"] = {
        key: {"min": round(f.low, 3), "max": round(f.high, 3), "runs": f.runs, "unit": f.unit}
        for key, f in figures.items()
    }
    report["quick"] = sizes.name != "bench"
    report["machine"] = machine()
    return report


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        return round(kib / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        return None


def _verdict(value: float, target: tuple[str, float] | None, judge: bool) -> str:
    """The target, and whether it is met (not judged on --quick's small data)."""
    if target is None:
        return ""
    outcome = ("met" if meets(value, target) else "NOT met") if judge else "not judged: quick"
    return f"{target[0]} {target[1]:g} ({outcome})"


def text_report(figures: Figures, sizes: BenchSizes) -> str:
    """A table: median, min-max, runs and target per figure, then the ratios and the machine."""
    judge = sizes.name == "bench"
    lines = [f"{'figure':42} {'median':>9} {'min - max':>19} {'runs':>4}  {'unit':9} target"]
    for key, figure in figures.items():
        spread = f"{figure.low:.4g} - {figure.high:.4g}"
        lines.append(
            f"{key:42} {figure.median:>9.4g} {spread:>19} {figure.runs:>4}  "
            f"{figure.unit:9} {_verdict(figure.median, TARGETS.get(key), judge)}"
        )
    lines += ["", f"{'ratio (of medians)':42} {'value':>9}  target"]
    for key, value in ratios(figures).items():
        lines.append(f"{key:42} {value:>9.3g}  {_verdict(value, RATIO_TARGETS.get(key), judge)}")
    info = machine()
    lines += [
        "",
        f"{'quick run (small data), ' if sizes.name != 'bench' else ''}"
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, "
        f"{info['platform']}, Python {info['python']}",
    ]
    return "\n".join(lines)
