"""``dicom-viewer volume`` as a researcher's script runs it: one process, start to .npz written.

Native frames are read straight into the final array: no decode worker starts and neither
pydicom nor the decode pool is imported. Peak memory stays within the voxels' bytes x 1.3 over
the same process's baseline (no second full copy for the rescale or the write). Measured with
the child's own ru_maxrss, not with time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import factories
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.volume import load_volume, modality_voxels

MATRIX = 256
SLICES = 400
#: Peak RSS over the baseline, as a multiple of the voxels' bytes (issue 13 item 10).
MAX_PEAK_RATIO = 1.3

CHILD = """
import json, resource, sys
from viewer.__main__ import main
rc = main(["volume", sys.argv[1], sys.argv[2]])
heavy = sorted(m for m in ("pydicom", "viewer.dicom.pixels.decode_pool") if m in sys.modules)
import multiprocessing
print(json.dumps({
    "rc": rc, "heavy": heavy, "children": len(multiprocessing.active_children()),
    "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def _run_volume(folder: Path, out: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rc"] == 0, done.stderr
    return result


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    small = tmp_path_factory.mktemp("small")
    large = tmp_path_factory.mktemp("large")
    factories.write_series(small, slices=2, rows=MATRIX, columns=MATRIX)
    factories.write_series(large, slices=SLICES, rows=MATRIX, columns=MATRIX)
    return {"small": small, "large": large}


def test_native_volume_starts_no_worker_and_loads_no_decoder(
    series: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "v.npz"
    result = _run_volume(series["large"], out)
    assert result["heavy"] == [] and result["children"] == 0
    stack = index_paths([series["large"]], workers=0).all_stacks()[0]
    expected = modality_voxels(load_volume(stack))
    with np.load(out) as written:
        assert written["voxels"].dtype == expected.dtype
        assert np.array_equal(written["voxels"], expected)


def test_peak_memory_is_the_voxels_plus_the_baseline(
    series: dict[str, Path], tmp_path: Path
) -> None:
    baseline = _run_volume(series["small"], tmp_path / "small.npz")
    large = _run_volume(series["large"], tmp_path / "large.npz")
    voxel_bytes = SLICES * MATRIX * MATRIX * 2  # int16 modality values
    over_baseline = (int(large["peak_kib"]) - int(baseline["peak_kib"])) * 1024  # type: ignore[call-overload]
    assert over_baseline <= MAX_PEAK_RATIO * voxel_bytes, (
        f"peak {over_baseline / voxel_bytes:.2f} x the voxels over the baseline"
    )
