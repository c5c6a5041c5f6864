"""``dicom-viewer bench --quick --json`` end to end: every key present and positive.

Speed is never asserted here (the bench reports it); this proves the command works, that its
JSON has the contract's keys, and that generated data is reused with ``--keep`` (without it,
what a run generated is deleted: tested on a tiny set through the data module). Runs the quick
suite once (about 30-60 s on a 2-core machine), in a private cache folder.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from viewer.bench.data import bench_data, cache_root, ensure_data
from viewer.bench.orthanc import dicomweb_plugin, orthanc_binary
from viewer.bench.report import nest, ratios
from viewer.bench.sizes import FULL, QUICK
from viewer.bench.stats import Figure

ENCODINGS = ("uncompressed", "rle", "jpeg_lossless", "jpeg_ls", "jpeg2000")
KEYS = [
    "index_files_per_s",
    "index_gdcm_files_per_s",
    *(f"load_slices_per_s.{e}" for e in ENCODINGS),
    *(f"load_whole_process_s.{e}" for e in ENCODINGS),
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
    "vr_refined_ms",
    "vr_mip_interactive_ms",
    "peak_rss_mb_ct300",
    "voxel_mb_ct300",
    "startup_ms",
    "gui_max_stall_ms",
    "export_anonymized_files_per_s",
    "export_pydicom_loop_files_per_s",
    "export_nifti_s",
    "volume_s",
    "db_import_files_per_s",
    "db_import_gdcm_files_per_s",
    *(f"db_query_ms.{search}" for search in ("name", "date", "modality")),
    "open_first_image_ms",
    "db_reopen_first_image_ms",
    *(f"reopen_slices_per_s.{e}" for e in ENCODINGS),
]
if importlib.util.find_spec("SimpleITK") is not None:
    KEYS += [f"load_simpleitk_slices_per_s.{e}" for e in ENCODINGS]
    KEYS += [f"reopen_simpleitk_slices_per_s.{e}" for e in ENCODINGS]
    KEYS += [f"load_whole_process_simpleitk_s.{e}" for e in ENCODINGS]
    KEYS += [f"ratios.load_whole_process_ratio.{e}" for e in ENCODINGS]
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
        [sys.executable, "-m", "viewer", "bench", "--quick", "--json", "--keep"],
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
    assert report["ratios"]["db_import_vs_gdcm"] > 0
    assert report["spread"]["index_files_per_s"]["runs"] >= 1
    assert report["machine"]["cores"] >= 1


def test_generated_data_is_reused(quick_run: QuickRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(quick_run.cache))
    messages: list[str] = []
    data = ensure_data(QUICK, messages.append)
    assert messages == []
    assert len(list(data.ct["rle"].iterdir())) == QUICK.ct_slices
    assert len(list(data.root.glob("db-*.sqlite.complete"))) == 1  # the query database, once


def test_nest_makes_one_level_of_objects() -> None:
    assert nest({"a": 1, "b.x": 2, "b.y": 3}) == {"a": 1, "b": {"x": 2, "y": 3}}


def test_ratios_are_ours_over_the_reference() -> None:
    figures = {
        "load_slices_per_s.rle": Figure.of([30.0, 40.0, 50.0], "slices/s"),
        "load_simpleitk_slices_per_s.rle": Figure.of([10.0], "slices/s"),
        "index_files_per_s": Figure.of([5.0], "files/s"),
    }
    assert ratios(figures) == {"load_vs_simpleitk.rle": 4.0}


def test_the_quick_run_says_where_its_data_is_and_how_big(quick_run: QuickRun) -> None:
    root = quick_run.cache / "dicom-viewer" / QUICK.folder_name
    assert f"bench: data: {root}, " in quick_run.stderr
    assert f"bench: data kept (--keep): {root}, " in quick_run.stderr
    assert root.is_dir()


#: Smaller than --quick: generation takes a second or two.
TINY = dataclasses.replace(
    QUICK, name="bench-tiny", ct_slices=3, ct_matrix=32, index_files=4, index_matrix=32,
    radiograph_matrix=32, cine_frames=2, cine_rows=16, cine_columns=16, volume_slices=4,
    volume_matrix=16,
)  # fmt: skip


def _tiny_run(keep: bool, fail: bool = False) -> list[str]:
    said: list[str] = []
    try:
        with bench_data(TINY, said.append, keep=keep) as data:
            assert len(list(data.ct["rle"].iterdir())) == TINY.ct_slices
            if fail:
                raise KeyboardInterrupt  # Ctrl+C (or SIGTERM) in the middle of measuring
    except KeyboardInterrupt:
        assert fail
    return said


def test_a_run_deletes_the_data_it_generated_unless_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 item 13: nothing is left in the user cache unless --keep; the output says
    where the data is and how big."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    root = cache_root(TINY)
    said = _tiny_run(keep=False)
    assert not root.exists() and not list((tmp_path / "dicom-viewer").iterdir())
    assert any(line.startswith(f"data: {root}, ") and "MiB" in line for line in said), said
    assert any(line.startswith("data removed: ") and str(root) in line for line in said), said

    said = _tiny_run(keep=False, fail=True)  # interrupted: removed all the same
    assert not root.exists(), said

    said = _tiny_run(keep=True)
    assert root.is_dir() and any(line.startswith("data kept (--keep): ") for line in said)
    kept = sorted(path.name for path in root.iterdir())
    said = _tiny_run(keep=False)  # an earlier --keep run's data is reused and left alone
    assert not any(line.startswith("generating") for line in said), said
    assert sorted(path.name for path in root.iterdir()) == kept
    assert any(line.startswith("data kept (an earlier run's --keep): ") for line in said), said


def test_the_full_set_stays_under_2_gb() -> None:
    """Even if no encoding compressed at all (it was 5.7 GB with 512 x 512 indexing files)."""
    assert FULL.pixel_bytes() + FULL.index_files * 4096 < 2 * 10**9


def test_whole_process_ratio_is_the_reference_seconds_over_ours() -> None:
    figures = {
        "load_whole_process_s.uncompressed": Figure.of([0.5, 0.5, 0.5], "s"),
        "load_whole_process_simpleitk_s.uncompressed": Figure.of([1.5, 1.5, 1.5], "s"),
    }
    assert ratios(figures) == {"load_whole_process_ratio.uncompressed": 3.0}
