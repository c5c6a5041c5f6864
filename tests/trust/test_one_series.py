"""Issue 13 item 4: one series is one series, whatever its files say about the patient.

A Series Instance UID whose files disagree on patient attributes (a mis-encoded name in two
files, a changed ID in one) was split into three "patients". Swept through the real indexer:
each patient attribute, how many files differ, where those files fall in the reading order
(fixed seeds); the series stays whole under the patient most files name, and says which
attribute differs in how many files. The GUI shows one patient row and lists the warning in
Problems under the series.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from tests import factories
from tests.gui_driving import open_and_wait, shown_main_window
from viewer.dicom.io.indexer import index_paths
from viewer.qt.main_window import MainWindow

#: attribute keyword, its label in the warning, the majority's value, a differing value.
ATTRIBUTES = [
    ("PatientName", "Patient's Name", "Müller^Hans", "MÃ¼ller^Hans"),
    ("PatientID", "Patient ID", "P0001", "P0001-B"),
    ("PatientBirthDate", "Patient's Birth Date", "19600101", "19610101"),
    ("PatientSex", "Patient's Sex", "M", "O"),
]
SLICES = 9


def write_disagreeing(folder: Path, changes: dict[str, tuple[str, set[int]]], seed: int) -> None:
    """One series of SLICES files; ``changes``: keyword -> (value, slices that carry it)."""

    def per_slice(k: int, ds: Dataset) -> None:
        ds.PatientBirthDate = "19600101"
        ds.PatientSex = "M"
        for keyword, (value, where) in changes.items():
            if k in where:
                setattr(ds, keyword, value)

    factories.write_series(
        folder, slices=SLICES, patient_name="Müller^Hans", per_slice=per_slice, seed=seed
    )


@pytest.mark.parametrize(("keyword", "label", "_same", "other"), ATTRIBUTES)
@pytest.mark.parametrize("differ", [1, 2, 4])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_series_stays_whole_under_its_majority(
    tmp_path: Path, keyword: str, label: str, _same: str, other: str, differ: int, seed: int
) -> None:
    where = set(random.Random(seed).sample(range(SLICES), differ))
    write_disagreeing(tmp_path, {keyword: (other, where)}, seed)
    catalog = index_paths([tmp_path])
    assert len(catalog.patients) == 1
    [patient] = catalog.patients.values()
    assert (patient.info.name, patient.info.patient_id) == ("Müller, Hans", "P0001")
    [series] = catalog.all_series()
    assert len(series.instances) == SLICES
    [stack] = series.stacks
    assert stack.frames == SLICES
    expected = f"{label} differs in {differ} of {SLICES} file(s)"
    assert [w for w in stack.warnings if "differs" in w] == [series.warnings[0]]
    assert series.warnings[0].startswith(expected)
    assert "Müller" not in series.warnings[0] and other not in series.warnings[0]


def test_the_case_of_the_report_is_one_patient_with_two_warnings(tmp_path: Path) -> None:
    """Two files with a mis-encoded name, one with a changed ID: one patient, not three."""
    changes = {"PatientName": ("MÃ¼ller^Hans", {2, 5}), "PatientID": ("P0001-B", {7})}
    write_disagreeing(tmp_path, changes, seed=4)
    result = subprocess.run(
        [sys.executable, "-m", "viewer", "inspect", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert len(report["patients"]) == 1
    [study] = report["patients"][0]["studies"]
    [series] = study["series"]
    assert series["instances"] == SLICES
    warnings = series["stacks"][0]["warnings"]
    assert warnings[0].startswith(f"Patient ID differs in 1 of {SLICES} file(s)")
    assert warnings[1].startswith(f"Patient's Name differs in 2 of {SLICES} file(s)")
    text = subprocess.run(
        [sys.executable, "-m", "viewer", "inspect", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert text.count("[P0001]") == 1 and "P0001-B" not in text
    assert "warning: Patient's Name differs in 2 of 9 file(s)" in text


@pytest.mark.parametrize("seed", range(6))
def test_a_study_follows_its_majority_whatever_order_files_come_in(
    tmp_path: Path, seed: int
) -> None:
    """Two series of one study; the second's files all give another Patient ID. The study is
    shown under the ID most of its files give, the second series says so."""
    study_uid = "1.2.826.0.1.3680043.8.498.1"
    first = factories.write_series(
        tmp_path / "a", slices=6, study_uid=study_uid, series_number=1, seed=seed
    )
    factories.write_series(
        tmp_path / "b",
        slices=3,
        study_uid=study_uid,
        series_number=2,
        patient_id="OTHER",
        seed=seed + 10,
    )
    paths = [str(p) for p in (tmp_path / "a").iterdir()] + [
        str(p) for p in (tmp_path / "b").iterdir()
    ]
    random.Random(seed).shuffle(paths)
    catalog = index_paths(paths)
    assert [p.info.patient_id for p in catalog.patients.values()] == ["P0001"]
    first_series, second = catalog.all_series()
    assert first_series.uid == first.series_uid and first_series.warnings == []
    assert second.warnings[0].startswith("Patient ID differs in 3 of 3 file(s)")


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def test_the_gui_shows_one_patient_and_lists_the_difference(qtbot, window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Written so the first file read (by name) is one of the two that differ.
    changes = {"PatientName": ("MÃ¼ller^Hans", {0, 1}), "PatientID": ("P0001-B", {2})}

    def per_slice(k: int, ds: Dataset) -> None:
        for keyword, (value, where) in changes.items():
            if k in where:
                setattr(ds, keyword, value)

    factories.write_series(
        tmp_path,
        slices=SLICES,
        patient_name="Müller^Hans",
        per_slice=per_slice,
        shuffle_names=False,
    )
    open_and_wait(qtbot, window, [str(tmp_path)])
    model = window.tree_model
    root = model.invisibleRootItem()
    assert root.rowCount() == 1
    assert "P0001" in root.child(0).text() and "Müller" in root.child(0).text()
    assert root.child(0).child(0).rowCount() == 1  # one study, one series
    reasons = [reason for _path, _where, reason in window.problems.rows()]
    assert any(r.startswith("Patient's Name differs in 2 of 9") for r in reasons), reasons
    assert any(r.startswith("Patient ID differs in 1 of 9") for r in reasons), reasons
