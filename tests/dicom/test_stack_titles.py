"""Every stack of a series says what splits it from the others, as people say it (issue 14).

Series written as scanners write them (classic single-frame phases, an enhanced 4D file, a
series with a localizer), indexed for real; the titles, the run (``group``) and the phase
numbers must let the GUI list every stack and step through a run's phases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import factories
from viewer.dicom.catalog.stack import Stack, phase_text, plane_name
from viewer.dicom.io.indexer import index_paths


def stacks_in(folder: Path) -> list[Stack]:
    return index_paths([folder]).all_stacks()


@pytest.mark.parametrize("phases", [2, 3, 5])
@pytest.mark.parametrize("slices", [3, 6])
def test_dynamic_series_titles_carry_the_time(tmp_path: Path, phases: int, slices: int) -> None:
    for phase in range(phases):
        factories.write_series(
            tmp_path,
            slices=slices,
            modality="MR",
            series_uid="1.2.3.4",
            study_uid="1.2.3",
            name_prefix=f"T{phase}_",
            extra={"TemporalPositionIdentifier": phase + 1, "TriggerTime": str(phase * 12500)},
        )
    stacks = stacks_in(tmp_path)
    assert [(s.group, s.phase, s.phases, s.frames) for s in stacks] == [
        (0, k, phases, slices) for k in range(phases)
    ]
    expected = ["phase 1 of {n}, 0 ms"] + [
        f"phase {k + 1} of {{n}}, {k * 12.5:g} s" for k in range(1, phases)
    ]
    assert [s.title for s in stacks] == [text.format(n=phases) for text in expected]


def test_echoes_and_b_values(tmp_path: Path) -> None:
    factories.write_phases(tmp_path / "echo", "EchoNumbers", [1, 2], slices=4, modality="MR")
    factories.write_phases(tmp_path / "dwi", "DiffusionBValue", [0, 1000], slices=4, modality="MR")
    assert [s.title for s in stacks_in(tmp_path / "echo")] == ["echo 1 (1 of 2)", "echo 2 (2 of 2)"]
    assert [s.title for s in stacks_in(tmp_path / "dwi")] == [
        "b-value 0 (1 of 2)",
        "b-value 1000 (2 of 2)",
    ]


def test_enhanced_4d_phases_in_time_order(tmp_path: Path) -> None:
    frames = factories.enhanced_frames(slices=5, phases=4)
    factories.write_enhanced(tmp_path / "fmri.dcm", frames)  # frames stored shuffled
    stacks = stacks_in(tmp_path)
    assert [s.title for s in stacks] == [f"phase {k} of 4" for k in range(1, 5)]
    assert {s.frames for s in stacks} == {5}
    assert all(s.positions == stacks[0].positions for s in stacks)


def test_runs_of_a_mixed_series_are_numbered_with_their_plane(tmp_path: Path) -> None:
    truth = factories.write_series(tmp_path, slices=5, orientation="axial", series_uid="1.2.9")
    factories.write_series(
        tmp_path,
        slices=3,
        orientation="sagittal",
        study_uid=truth.study_uid,
        series_uid="1.2.9",
        name_prefix="SAG",
    )
    factories.write_localizer(tmp_path, study_uid=truth.study_uid, series_uid="1.2.9")
    stacks = stacks_in(tmp_path)
    assert [s.title for s in stacks] == [
        "stack 1 of 3, axial",
        "stack 2 of 3, sagittal",
        "stack 3 of 3, localizer",
    ]
    assert [s.group for s in stacks] == [0, 1, 2]
    assert all(s.phases == 1 for s in stacks)


def test_a_single_stack_series_needs_no_title(tmp_path: Path) -> None:
    factories.write_series(tmp_path, slices=4)
    (stack,) = stacks_in(tmp_path)
    assert (stack.title, stack.group, stack.phase, stack.phases) == ("", 0, 0, 1)


def test_phase_text_and_plane_names() -> None:
    assert phase_text("trigger time", 0.0, 1, 3, None) == "phase 1 of 3, trigger time 0 ms"
    assert phase_text("temporal position", 2, 2, 4, 12500.0) == "phase 2 of 4, 12.5 s"
    assert phase_text("echo time", 40.0, 2, 3, None) == "echo time 40 ms (2 of 3)"
    assert phase_text("acquisition", 2, 2, 2, None) == "acquisition 2 (2 of 2)"
    assert plane_name((1, 0, 0, 0, 1, 0)) == "axial"
    assert plane_name((1, 0, 0, 0, 0, -1)) == "coronal"
    assert plane_name((0, 1, 0, 0, 0, -1)) == "sagittal"
    assert plane_name((1, 0, 0, 0, 0.7071, 0.7071)) == "oblique"
    assert plane_name(None) == ""
