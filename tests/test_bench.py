"""``dicom-viewer bench --quick --json`` end to end: every key present and positive.

Speed is never asserted here (the bench reports it); this proves the command works, that its
JSON has the contract's keys, and that generated data is reused. Runs the quick suite once
(about 30-60 s on a 2-core machine), in a private cache folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from viewer.bench.data import ensure_data
from viewer.bench.orthanc import dicomweb_plugin, orthanc_binary
from viewer.bench.report import nest, ratios
from viewer.bench.sizes import QUICK
from viewer.bench.stats import Figure

ENCODINGS = ("uncompressed", "rle", "jpeg_lossless", "jpeg_ls", "jpeg2000")
KEYS = [
    "index_files_per_s",
    "index_gdcm_files_per_s",
    *(f"load_slices_per_s.{e}" for e in ENCODINGS),
    "first_image_ms",
    "wl_frame_ms.512",
    "wl_frame_ms.3000",
    "scroll_fps",
    "cine_fps",
    "cine_dropped_pct",
    "mpr_orthogonal_ms",
    "mpr_oblique_ms",
    "mpr_slab_mip_ms",
    "mpr_oblique_slab_mip_ms",
    "roi_stats_ms.512",
    "roi_stats_ms.3000",
    "vr_interactive_ms",
    "vr_full_ms",
    "vr_mip_ms",
    "vr_first_frame_ms",
    "peak_rss_mb_ct300",
    "voxel_mb_ct300",
    "startup_ms",
    "gui_max_stall_ms",
    "export_anonymized_files_per_s",
    "export_pydicom_loop_files_per_s",
    "export_nifti_s",
    "volume_s",
]
if importlib.util.find_spec("SimpleITK") is not None:
    KEYS += [f"load_simpleitk_slices_per_s.{e}" for e in ENCODINGS]
if (
    os.geteuid() == 0
    and orthanc_binary() is not None
    and dicomweb_plugin() is not None
    and shutil.which("ip") is not None
):  # the retrieve probe's private network namespace needs root (issue 16)
    KEYS += [f"retrieve_images_per_s.{m}" for m in ("cget", "move", "wado")]
    KEYS += ["retrieve_first_image_ms"]
    if shutil.which("getscu"):
        KEYS += ["retrieve_images_per_s.getscu"]
#: Keys that may be exactly zero (nothing dropped is the goal).
MAY_BE_ZERO = {"cine_dropped_pct"}


class QuickRun:
    def __init__(self, report: dict[str, Any], stderr: str, cache: Path) -> None:
        self.report, self.stderr, self.cache = report, stderr, cache

    def value(self, dotted: str) -> Any:
        node: Any = self.report
        for part in dotted.split("."):
            node = node[part]
        return node


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    cache = tmp_path_factory.mktemp("bench-cache")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "viewer", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return QuickRun(json.loads(result.stdout), result.stderr, cache)


@pytest.mark.parametrize("key", KEYS)
def test_every_key_is_a_positive_number(quick_run: QuickRun, key: str) -> None:
    try:
        value = quick_run.value(key)
    except KeyError:
        pytest.fail(f"{key} is missing; bench said:\n{quick_run.stderr}")
    assert isinstance(value, (int, float)) and not isinstance(value, bool)
    assert value >= 0 if key in MAY_BE_ZERO else value > 0


def test_ratios_spread_and_machine_are_reported(quick_run: QuickRun) -> None:
    report = quick_run.report
    assert report["quick"] is True
    assert report["ratios"]["index_vs_gdcm"] > 0
    assert report["spread"]["index_files_per_s"]["runs"] >= 1
    assert report["machine"]["cores"] >= 1


def test_generated_data_is_reused(quick_run: QuickRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(quick_run.cache))
    messages: list[str] = []
    data = ensure_data(QUICK, messages.append)
    assert messages == []
    assert len(list(data.ct["rle"].iterdir())) == QUICK.ct_slices


def test_nest_makes_one_level_of_objects() -> None:
    assert nest({"a": 1, "b.x": 2, "b.y": 3}) == {"a": 1, "b": {"x": 2, "y": 3}}


def test_ratios_are_ours_over_the_reference() -> None:
    figures = {
        "load_slices_per_s.rle": Figure.of([30.0, 40.0, 50.0], "slices/s"),
        "load_simpleitk_slices_per_s.rle": Figure.of([10.0], "slices/s"),
        "index_files_per_s": Figure.of([5.0], "files/s"),
    }
    assert ratios(figures) == {"load_vs_simpleitk.rle": 4.0}
