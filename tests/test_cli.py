"""The headless command line, as scripts use it (shared/cli-contract.md)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viewer import demo
from viewer.__main__ import main


def inspect_json(*paths: Path) -> dict:  # type: ignore[type-arg]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["inspect", "--json", *map(str, paths)]) == 0
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def demo_report(demo_study: Path) -> dict:  # type: ignore[type-arg]
    return inspect_json(demo_study)


def series_of(report: dict, modality: str) -> dict:  # type: ignore[type-arg]
    return next(
        series
        for patient in report["patients"]
        for study in patient["studies"]
        for series in study["series"]
        if series["modality"] == modality
    )


def test_inspect_reports_the_demo_ct_volume(demo_report: dict) -> None:  # type: ignore[type-arg]
    report = demo_report
    assert report["scanned"] >= 221
    assert len(report["patients"]) == 1
    ct = series_of(report, "CT")
    assert ct["instances"] == demo.CT_SLICES
    (stack,) = ct["stacks"]
    assert stack["frames"] == demo.CT_SLICES
    assert (stack["rows"], stack["columns"]) == (demo.CT_ROWS, demo.CT_COLUMNS)
    assert stack["spacing"] == pytest.approx([1.4, 1.4, 1.25])
    assert stack["origin"] == pytest.approx(list(demo.CT_ORIGIN))
    assert np.allclose(stack["direction"], np.eye(3))
    assert stack["warnings"] == []
    # Sources ascend along the normal (feet to head), whatever the file names say.
    import pydicom

    z = [
        float(pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient[2])
        for path, _frame in stack["sources"][:5]
    ]
    assert z == pytest.approx([demo.CT_ORIGIN[2] + 1.25 * k for k in range(5)])


def test_inspect_reports_the_sagittal_mr_in_its_own_orientation(demo_report: dict) -> None:  # type: ignore[type-arg]
    (stack,) = series_of(demo_report, "MR")["stacks"]
    assert stack["frames"] == demo.MR_SLICES
    assert np.allclose(stack["direction"], [[0, 1, 0], [0, 0, -1], [-1, 0, 0]])
    assert stack["spacing"] == pytest.approx([0.9, 0.9, 4.0])
    assert stack["origin"] == pytest.approx(list(demo.MR_ORIGIN))


def test_inspect_cine_keeps_natural_order_without_geometry(demo_report: dict) -> None:  # type: ignore[type-arg]
    (cine,) = series_of(demo_report, "US")["stacks"]
    assert [frame for _path, frame in cine["sources"]] == list(range(cine["frames"]))
    assert cine["frames"] >= 30 and cine["spacing"] is None


def test_inspect_reports_skipped_files(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "ct")
    (tmp_path / "notes.txt").write_text("hello")
    report = inspect_json(tmp_path)
    assert report["scanned"] == 2
    skipped = {Path(item["path"]).name: item["reason"] for item in report["skipped"]}
    assert "not a DICOM file" in skipped["notes.txt"]


def test_inspect_of_the_clean_demo_cd_skips_nothing(
    demo_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The DICOMDIR read as the index is looked at (``scanned``) but is no problem: it is
    listed nowhere, whether the folder or the DICOMDIR itself is opened."""
    files = [p for p in demo_study.rglob("*") if p.is_file()]
    for opened in (demo_study, demo_study / "DICOMDIR"):
        assert main(["inspect", "--json", str(opened)]) == 0
        captured = capsys.readouterr()
        report = json.loads(captured.out)
        assert report["skipped"] == []
        assert report["scanned"] == len(files)
        assert captured.err == ""
    assert main(["inspect", str(demo_study)]) == 0
    assert f"scanned {len(files)} file(s), skipped 0" in capsys.readouterr().out


def test_an_unexpected_inspect_error_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.cli import inspect as inspect_verb

    def broken_indexer(paths: list[str]) -> None:
        raise RuntimeError("a bug in the indexer\nwith a second line")

    monkeypatch.setattr(inspect_verb, "index_paths", broken_indexer)
    assert main(["inspect", "--json", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"dicom-viewer: cannot inspect {tmp_path}: a bug in the indexer with a second line"
    ]


def test_nothing_found_exits_1_and_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "junk.bin").write_bytes(os.urandom(300))
    assert main(["inspect", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "junk.bin" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as usage:
        main(["inspect"])
    assert usage.value.code == 2


def test_demo_file_set_is_cd_like(demo_study: Path) -> None:
    """What ``dicom-viewer demo DIR`` writes (the fixture uses the same function)."""
    assert (demo_study / "DICOMDIR").is_file()
    files = [p for p in demo_study.rglob("*") if p.is_file()]
    assert all(p.suffix == "" and p.name == p.name.upper() and len(p.name) <= 8 for p in files)


def test_demo_verb_refuses_a_non_empty_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["demo", str(tmp_path)]) == 1
    assert "cannot write the demo study" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_screenshot_draws_the_real_window(demo_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    ct_study = next(p for p in demo_study.rglob("*") if p.is_dir() and len(list(p.iterdir())) > 100)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "viewer",
            "screenshot",
            str(out),
            "--size",
            "900x600",
            str(ct_study),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    image = np.asarray(Image.open(out).convert("L"))
    assert image.shape == (600, 900)
    # The CT is on screen: a broad spread of grey levels, not a blank window.
    assert len(np.unique(image)) > 50
