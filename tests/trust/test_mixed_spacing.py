"""Issue 13 item 6: runs of different slice spacing are not missing slices.

A head CT of 14 slices at 4 mm then 14 at 7 mm (a short step between) was reported as
"13 missing slice(s)". Swept here through the real indexer (files written with pydicom, each
slice with its own Slice Thickness): spacings, run lengths, the step between runs, and slices
taken out inside a run, which must still be "missing".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from tests import factories
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths


def two_runs(
    first: float, second: float, lengths: tuple[int, int], step: float
) -> tuple[list[float], list[float]]:
    """Offsets and thicknesses: ``lengths[0]`` slices ``first`` apart, then ``step`` further,
    ``lengths[1]`` slices ``second`` apart."""
    offsets = [k * first for k in range(lengths[0])]
    start = offsets[-1] + step
    offsets += [start + k * second for k in range(lengths[1])]
    return offsets, [first] * lengths[0] + [second] * lengths[1]


def stack_of(folder: Path, offsets: Sequence[float], thicknesses: Sequence[float]) -> Stack:
    def thickness(k: int, ds: Dataset) -> None:
        ds.SliceThickness = factories.ds_value(thicknesses[k])

    factories.write_series(folder, offsets=offsets, rows=4, columns=4, per_slice=thickness)
    [series] = index_paths([folder]).all_series()
    [stack] = series.stacks
    return stack


def test_the_head_ct_of_the_report(tmp_path: Path) -> None:
    offsets, thicknesses = two_runs(4.002, 7.0, (14, 14), 1.08)
    stack = stack_of(tmp_path, offsets, thicknesses)
    assert stack.frames == 28
    assert stack.warnings == ("mixed slice spacing: 4.0 mm for slices 1-14, 7.0 mm for 15-28",)


SWEEP = list(
    itertools.product(
        [(0.625, 1.25), (2.5, 5.0), (3.0, 7.5), (5.0, 2.0)],  # spacings, incl. a whole multiple
        [(3, 3), (5, 12), (14, 14)],  # run lengths
        ["short", "one spacing", "long"],  # the step from the first run to the second
    )
)


@pytest.mark.parametrize(("spacings", "lengths", "step_kind"), SWEEP)
def test_two_runs_are_named_not_missing(
    tmp_path: Path, spacings: tuple[float, float], lengths: tuple[int, int], step_kind: str
) -> None:
    first, second = spacings
    step = {"short": 0.4 * min(spacings), "one spacing": second, "long": 1.7 * max(spacings)}
    offsets, thicknesses = two_runs(first, second, lengths, step[step_kind])
    stack = stack_of(tmp_path, offsets, thicknesses)
    a, b = lengths
    expected = (
        f"mixed slice spacing: {_mm(first)} mm for slices 1-{a}, {_mm(second)} mm for "
        f"{a + 1}-{a + b}"
    )
    assert stack.warnings == (expected,)
    assert not any("missing" in warning for warning in stack.warnings)


@pytest.mark.parametrize(("run", "dropped"), [(0, 1), (0, 2), (1, 1), (1, 3)])
@pytest.mark.parametrize("spacings", [(4.0, 7.0), (1.25, 0.625)])
def test_a_gap_inside_a_run_is_still_missing(
    tmp_path: Path, spacings: tuple[float, float], run: int, dropped: int
) -> None:
    offsets, thicknesses = two_runs(*spacings, (10, 10), 1.08)
    remove = set(range(3 + 10 * run, 3 + 10 * run + dropped))  # from the 4th slice of the run
    kept = [k for k in range(20) if k not in remove]
    stack = stack_of(tmp_path, [offsets[k] for k in kept], [thicknesses[k] for k in kept])
    assert stack.frames == 20 - dropped
    assert stack.warnings[0].startswith("mixed slice spacing: ")
    assert stack.warnings[1].startswith(f"{dropped} missing slice(s) (after slice ")
    assert f"in the {_mm(spacings[run])} mm run" in stack.warnings[1]


@pytest.mark.parametrize("dropped", [1, 2, 5])
def test_one_spacing_with_a_gap_keeps_the_missing_warning(tmp_path: Path, dropped: int) -> None:
    offsets = [k * 2.5 for k in range(20) if not 6 <= k < 6 + dropped]
    stack = stack_of(tmp_path, offsets, [2.5] * len(offsets))
    assert stack.warnings == (
        f"{dropped} missing slice(s) (after slice 6); spacing 2.5 mm assumed",
    )


def _mm(value: float) -> str:
    text = f"{value:.3g}"
    return text if "." in text else f"{text}.0"
