"""Issue 13 item 12: `export` and `db import` summarise past SHOWN skipped or failed files.

As ``inspect`` and ``volume`` do (viewer/cli/skipped.py): the first SHOWN files are named on
stderr, then one line counts the rest by reason; ``--json`` prints every one. Run as real
processes on a folder of real slices, junk files and slices whose RLE data is corrupt (they
index, and fail when exported as PNG).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from tests import factories
from tests.robustness import bad_files
from viewer.cli.skipped import SHOWN

JUNK = 25
BROKEN = 14


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "viewer", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    source = tmp_path / "in"
    factories.write_series(source / "good", slices=3)
    for k in range(JUNK):
        (source / f"note{k:03}.txt").write_text("not DICOM")
    (rle,) = [p for p in bad_files.corrupt_rle(tmp_path / "rle") if p.name == "rle_noise.dcm"]
    template = pydicom.dcmread(rle)
    series = generate_uid()
    broken = source / "broken"
    broken.mkdir()
    for k in range(BROKEN):
        template.SOPInstanceUID = generate_uid()
        template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
        template.SeriesInstanceUID = series
        template.InstanceNumber = k + 1
        template.ImagePositionPatient = [0, 0, float(k)]
        template.save_as(broken / f"b{k:02}.dcm")
    return source


def _summarised(stderr: str, label: str, total: int) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.startswith(f"dicom-viewer: {label} ")]
    assert len(lines) == SHOWN + 1, stderr
    assert f"{label} {total - SHOWN} more: " in lines[-1] and "--json lists them all" in lines[-1]
    return lines


def test_export_names_ten_and_counts_the_rest(folder: Path, tmp_path: Path) -> None:
    done = _cli("export", str(folder), str(tmp_path / "png"), "--format", "png")
    assert done.returncode == 1, done.stderr  # some frames could not be exported
    skipped = _summarised(done.stderr, "skipped", JUNK)
    assert "not a DICOM file" in skipped[-1]
    failed = _summarised(done.stderr, "not exported", BROKEN)
    assert f"{BROKEN - SHOWN} the decoder" in failed[-1], failed[-1]
    as_json = _cli("export", str(folder), str(tmp_path / "png2"), "--format", "png", "--json")
    report = json.loads(as_json.stdout)
    assert len(report["skipped"]) == JUNK and len(report["failed"]) == BROKEN
    assert report["written"] >= 3 and report["out"] == str(tmp_path / "png2")
    assert all(set(item) == {"path", "reason"} for item in report["failed"])


def test_db_import_names_ten_and_counts_the_rest(folder: Path, tmp_path: Path) -> None:
    database = str(tmp_path / "studies.sqlite")
    done = _cli("db", "import", str(folder), "--db", database)
    assert done.returncode == 0, done.stderr
    skipped = _summarised(done.stderr, "skipped", JUNK)
    assert "not a DICOM file" in skipped[-1]
    assert f"{JUNK} skipped" in done.stdout
    as_json = _cli("db", "import", str(folder), "--db", database, "--json")
    report = json.loads(as_json.stdout)
    assert len(report["skipped"]) == JUNK
    assert report["unchanged"] == 3 + BROKEN and len(report["studies"]) == 2
