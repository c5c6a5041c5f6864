"""Headless verbs keep what C decoders print off stderr: one readable line per problem.

GDCM and OpenJPEG print to file descriptor 2 on corrupt JPEG 2000 data ("Expected a SOC
marker"...), in this process and in the decode workers. ``volume`` runs as a console command
(a subprocess) so descriptor 2 is really the one checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.robustness import bad_files
from tests.robustness.corrupt_series import SIZE, series_with_corrupt_slice

PREFIX = "dicom-viewer: "
SLICES = 20  # more than volume.SEQUENTIAL_MAX_FRAMES: frames decode in worker processes
CORRUPT_SLICE = 7


def run_volume(path: Path, out: Path) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "viewer", "volume", str(path), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stderr.splitlines()


@pytest.fixture(scope="module")
def series_with_a_corrupt_j2k_slice(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("j2k")
    paths = series_with_corrupt_slice(folder / "ct", SLICES, CORRUPT_SLICE)
    (folder / "notes.txt").write_text("not dicom")
    return paths


def test_volume_prints_one_line_per_problem_and_no_decoder_noise(
    series_with_a_corrupt_j2k_slice: list[str], tmp_path: Path
) -> None:
    paths = series_with_a_corrupt_j2k_slice
    folder = Path(paths[0]).parent.parent
    status, lines = run_volume(folder, tmp_path / "ct.npz")
    assert status == 0, lines
    assert all(line.startswith(PREFIX) for line in lines), lines
    assert len(lines) == 2, lines
    skipped, warning = lines
    assert skipped.startswith(f"{PREFIX}skipped {folder / 'notes.txt'}: ")
    assert f"1 of {SLICES} frames could not be decoded" in warning
    assert Path(paths[CORRUPT_SLICE]).name in warning
    with np.load(tmp_path / "ct.npz") as saved:
        voxels = saved["voxels"]
    assert voxels.shape == (SLICES, SIZE, SIZE)
    assert np.count_nonzero(voxels.reshape(SLICES, -1).any(axis=1) == 0) == 0  # HU, not 0


def test_a_lone_corrupt_j2k_file_is_one_line(tmp_path: Path) -> None:
    (path,) = [p for p in bad_files.corrupt_j2k(tmp_path) if p.name == "j2k_noise.dcm"]
    status, lines = run_volume(path, tmp_path / "out.npz")
    assert status == 1
    assert len(lines) == 1 and lines[0].startswith(f"{PREFIX}cannot load stack 0 of {path}: ")
