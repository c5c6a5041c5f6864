"""Stepping phases keeps the slice position; the series a study opens on (issue 14)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from pydicom import dcmread

from tests import factories
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths
from viewer.model.display import ViewState
from viewer.model.series_choice import first_to_show, is_page
from viewer.model.window_level import Voi


def run(phases: int, slices: int, offset_mm: float = 0.0, group: int = 0) -> list[Stack]:
    """``phases`` stacks of one run, slice k at z = 2 k mm (+ ``offset_mm`` in odd phases)."""
    stacks = []
    for phase in range(phases):
        shift = offset_mm if phase % 2 else 0.0
        positions = tuple((0.0, 0.0, 2.0 * k + shift) for k in range(slices))
        stacks.append(
            Stack(
                sources=tuple((f"p{phase}", k) for k in range(slices)),
                rows=4,
                columns=4,
                orientation=(1, 0, 0, 0, 1, 0),
                positions=positions,
                group=group,
                phase=phase,
                phases=phases,
            )
        )
    return stacks


@pytest.mark.parametrize("seed", range(20))
def test_stepping_phases_keeps_the_nearest_position(seed: int) -> None:
    rng = random.Random(seed)
    phases, slices = rng.randint(2, 6), rng.randint(1, 12)
    offset = rng.choice([0.0, 0.4, -0.9])
    localizer = replace(run(1, 1, group=1)[0], localizer=True)
    state = ViewState()
    state.set_series([*run(phases, slices, offset), localizer], 0, rng.randrange(slices))
    state.set_voi(Voi(10, 100))
    state.invert = True
    events: list[str] = []
    state.changed.connect(events.append)
    for _ in range(30):
        before_z = state.stack.positions[state.index][2]  # type: ignore[union-attr]
        state.step_phase(rng.choice([-1, 1]), wrap=rng.random() < 0.5)
        after_z = state.stack.positions[state.index][2]  # type: ignore[union-attr]
        assert abs(after_z - before_z) <= 1.0 + 1e-9  # nearest slice, never another level
        assert state.phase_count == phases and state.stack is not localizer
        assert state.voi == Voi(10, 100) and state.invert  # the window stays with the slice
    assert set(events) <= {"phase"}
    state.set_phase(phases + 5)
    assert state.phase == phases - 1
    state.step_phase(1, wrap=True)
    assert state.phase == 0


def test_a_single_stack_has_one_phase() -> None:
    state = ViewState()
    state.set_stack(run(1, 3)[0])
    assert state.phase_count == 1 and state.phase == 0
    state.step_phase(1)
    assert state.stack_number == 0


def _renumber(path: str, number: int, description: str) -> None:
    ds = dcmread(path)
    ds.SeriesNumber, ds.SeriesDescription = number, description
    ds.save_as(path)


def test_opens_on_the_largest_volume_not_scout_dose_or_page(tmp_path: Path) -> None:
    study = "1.2.826.0.1.3680043.8.498.1"
    scout = factories.write_localizer(tmp_path, study_uid=study, series_uid=study + ".1")
    _renumber(scout, 1, "Topogram")
    dose = factories.write_series(
        tmp_path / "dose", slices=40, study_uid=study, series_number=2,
        series_description="Dose Report",
    )  # fmt: skip
    small = factories.write_series(tmp_path / "small", slices=10, study_uid=study, series_number=3)
    big = factories.write_series(tmp_path / "big", slices=30, study_uid=study, series_number=4)
    catalog = index_paths([tmp_path])
    choice = first_to_show(catalog)
    assert choice is not None
    series, number = choice
    assert series.uid == big.series_uid and number == 0
    assert is_page(catalog.series(dose.series_uid))  # type: ignore[arg-type]
    assert not is_page(catalog.series(small.series_uid))  # type: ignore[arg-type]


def test_only_a_scout_still_opens(tmp_path: Path) -> None:
    factories.write_localizer(tmp_path, study_uid="1.2.3", series_uid="1.2.3.1")
    choice = first_to_show(index_paths([tmp_path]))
    assert choice is not None and choice[1] == 0
