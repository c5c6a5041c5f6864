"""The ``inspect --json`` report (viewer.cli.inspect_report) against shared/cli-contract.md."""

from __future__ import annotations

import argparse
import json
import math
import os

import numpy as np
import pytest

from tests import factories
from viewer.cli.inspect_report import catalog_report, text_report
from viewer.dicom.io.indexer import index_paths

STACK_KEYS = {"frames", "rows", "columns", "sources", "spacing", "origin", "direction", "warnings"}
SERIES_KEYS = {"uid", "number", "modality", "description", "instances", "stacks"}
STUDY_KEYS = {"uid", "date", "description", "series"}
PATIENT_KEYS = {"id", "name", "studies"}


def report_of(*paths) -> dict:
    report = catalog_report(index_paths(paths))
    # The report must survive strict JSON (no NaN, no numpy scalars, no tuples left over).
    return json.loads(json.dumps(report, allow_nan=False))


def all_stacks(report: dict) -> list[dict]:
    return [
        stack
        for patient in report["patients"]
        for study in patient["studies"]
        for series in study["series"]
        for stack in series["stacks"]
    ]


def test_report_shape_follows_the_contract(tmp_path):
    factories.write_series(tmp_path / "ct", slices=4)
    factories.write_cine(tmp_path / "us.dcm", frames=3)
    (tmp_path / "notes.txt").write_text("x")
    report = report_of(tmp_path)
    assert set(report) == {"scanned", "skipped", "patients"}
    assert report["scanned"] == 6
    assert report["skipped"] == [
        {"path": str(tmp_path / "notes.txt"), "reason": "not a DICOM file (no DICM marker)"}
    ]
    for patient in report["patients"]:
        assert set(patient) == PATIENT_KEYS
        for study in patient["studies"]:
            assert set(study) == STUDY_KEYS
            for series in study["series"]:
                assert set(series) == SERIES_KEYS
                for stack in series["stacks"]:
                    assert set(stack) == STACK_KEYS


@pytest.mark.parametrize("orientation", ["axial", "sagittal", "oblique"])
def test_stack_geometry_in_the_report(tmp_path, orientation):
    truth = factories.write_series(
        tmp_path,
        slices=5,
        spacing=3.0,
        pixel_spacing=(0.5, 0.75),
        orientation=orientation,
        reverse_instance_numbers=True,
    )
    report = report_of(tmp_path)
    (patient,) = report["patients"]
    assert patient == {**patient, "id": "P0001", "name": "Test, Patient"}
    (study,) = patient["studies"]
    assert study["uid"] == truth.study_uid and study["date"] == "20240102"
    (series,) = study["series"]
    assert (series["uid"], series["number"], series["modality"], series["instances"]) == (
        truth.series_uid,
        1,
        "CT",
        5,
    )
    (stack,) = series["stacks"]
    assert (stack["frames"], stack["rows"], stack["columns"]) == (5, 16, 16)
    # Absolute paths with the 0-based frame, ascending along row x column.
    assert stack["sources"] == [[path, 0] for path in truth.paths]
    assert all(os.path.isabs(path) for path, _ in stack["sources"])
    # Spacing: between columns, between rows, between slices.
    assert stack["spacing"] == pytest.approx([0.75, 0.5, 3.0])
    assert stack["origin"] == pytest.approx(list(truth.positions[0]))
    expected_direction = [
        list(truth.orientation[:3]),
        list(truth.orientation[3:]),
        list(truth.normal),
    ]
    assert np.array(stack["direction"]) == pytest.approx(np.array(expected_direction), abs=1e-6)
    assert stack["warnings"] == []
    # Along the slice step the positions ascend.
    distances = [float(np.dot(p, truth.normal)) for p in truth.positions]
    assert distances == sorted(distances)


def test_no_geometry_stacks_report_null(tmp_path):
    path = factories.write_cine(tmp_path / "cine.dcm", frames=4)
    (stack,) = all_stacks(report_of(tmp_path))
    assert stack["spacing"] is None and stack["origin"] is None and stack["direction"] is None
    assert stack["sources"] == [[path, k] for k in range(4)]


def test_warnings_reach_the_report(tmp_path):
    factories.write_series(tmp_path, offsets=[0.0, 2.5, 5.0, 10.0, 12.5], tilt_deg=10.0)
    (stack,) = all_stacks(report_of(tmp_path))
    assert any("missing slice" in w for w in stack["warnings"])
    assert any("gantry tilt" in w for w in stack["warnings"])


def test_enhanced_phases_reported_as_separate_stacks(tmp_path):
    truth = factories.write_enhanced(tmp_path / "e.dcm", factories.enhanced_frames(phases=2))
    stacks = all_stacks(report_of(tmp_path))
    assert [len(s["sources"]) for s in stacks] == [5, 5]
    assert [[f for _, f in s["sources"]] for s in stacks] == [
        truth.frame_order("1", 1),
        truth.frame_order("1", 2),
    ]
    assert all(not math.isnan(v) for s in stacks for v in s["spacing"])


def test_empty_input_reports_nothing(tmp_path):
    report = report_of(tmp_path)
    assert report == {"scanned": 0, "skipped": [], "patients": []}


def test_text_report_mentions_every_stack_and_warning(tmp_path):
    factories.write_phases(tmp_path, "EchoNumbers", [1, 2], slices=3, modality="MR")
    text = text_report(index_paths([tmp_path]))
    assert "Test, Patient  [P0001]" in text
    assert text.count("stack 3 x 16 x 16, spacing 0.8 x 0.6 x 2.5 mm") == 2
    assert "(echo 1)" in text and "(echo 2)" in text


def test_inspect_command_prints_one_json_object(tmp_path, capsys):
    inspect = pytest.importorskip("viewer.cli.inspect")
    truth = factories.write_series(tmp_path, slices=3)
    code = inspect.run(argparse.Namespace(paths=[str(tmp_path)], json=True))
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert all_stacks(report)[0]["sources"] == [[p, 0] for p in truth.paths]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert inspect.run(argparse.Namespace(paths=[str(empty)], json=True)) == 1
