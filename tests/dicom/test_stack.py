"""Series -> ordered stacks (viewer.dicom.catalog.stack), from synthetic files through the real
indexer.

Slice order must follow the position along the normal (row x column), never the file names
(shuffled here) or Instance Numbers (reversed here); phases, localizers, matrix sizes, cine
loops and enhanced multi-frame stacks must come apart the way a reader expects.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from tests import factories
from viewer.dicom.catalog.catalog import SeriesNode
from viewer.dicom.catalog.records import InstanceRecord
from viewer.dicom.catalog.stack import Stack, build_stacks
from viewer.dicom.io.indexer import index_paths


def series_in(folder: Path) -> SeriesNode:
    catalog = index_paths([folder])
    series = catalog.all_series()
    assert len(series) == 1, [s.info.uid for s in series]
    return series[0]


def stacks_in(folder: Path) -> list[Stack]:
    return series_in(folder).stacks


def only_stack(folder: Path) -> Stack:
    stacks = stacks_in(folder)
    assert len(stacks) == 1, [(s.label, s.frames) for s in stacks]
    return stacks[0]


def lps(stack: Stack, i: float, j: float, k: float) -> np.ndarray:
    affine = stack.affine()
    assert affine is not None
    return (affine @ np.array([i, j, k, 1.0]))[:3]


def assert_affine_hits_positions(stack: Stack, positions) -> None:
    for k, position in enumerate(positions):
        assert lps(stack, 0, 0, k) == pytest.approx(position, abs=1e-4), f"slice {k}"


def frame_values(stack: Stack) -> list[int]:
    """The true index each frame was written with (factories fill pixels with 100 x index)."""
    values = []
    for path, frame in stack.sources:
        pixels = dcmread(path).pixel_array
        plane = pixels[frame] if pixels.ndim == 3 else pixels
        values.append(int(plane[0, 0]) // 100)
    return values


# ---------------------------------------------------------------------------------------------
# Single-frame series: order, spacing, origin, direction


@pytest.mark.parametrize("orientation", ["axial", "coronal", "sagittal", "oblique"])
def test_order_is_along_the_normal_not_names_or_instance_numbers(tmp_path, orientation):
    truth = factories.write_series(
        tmp_path, slices=7, orientation=orientation, spacing=2.5, reverse_instance_numbers=True
    )
    assert sorted(truth.paths) != truth.paths  # names really are shuffled
    stack = only_stack(tmp_path)
    assert list(stack.sources) == truth.sources
    assert stack.instance_numbers == tuple(range(7, 0, -1))
    assert stack.spacing == pytest.approx((0.8, 0.6, 2.5))
    assert stack.origin == pytest.approx(truth.positions[0])
    row, column = truth.orientation[:3], truth.orientation[3:]
    assert np.array(stack.direction) == pytest.approx(np.array([row, column, truth.normal]))
    assert stack.warnings == ()
    assert stack.label == ""
    assert_affine_hits_positions(stack, truth.positions)


def test_sagittal_runs_right_to_left_in_patient_terms(tmp_path):
    # Row +y, column -z: normal = row x column = -x, so slices ascend towards the patient's
    # right (decreasing LPS x), exactly as GDCM and ITK order them.
    truth = factories.write_series(tmp_path, orientation="sagittal", slices=5, spacing=4.0)
    stack = only_stack(tmp_path)
    assert stack.direction[2] == pytest.approx((-1.0, 0.0, 0.0))
    xs = [position[0] for position in stack.positions]
    assert xs == sorted(xs, reverse=True)
    assert stack.origin == pytest.approx(truth.positions[0])
    assert stack.spacing[2] == pytest.approx(4.0)


def test_coronal_runs_anterior_to_posterior(tmp_path):
    factories.write_series(tmp_path, orientation="coronal", slices=5, spacing=3.0)
    stack = only_stack(tmp_path)
    assert stack.direction[2] == pytest.approx((0.0, 1.0, 0.0))
    ys = [position[1] for position in stack.positions]
    assert ys == sorted(ys)
    # First voxel: top-left of the first coronal slice; one row down is towards the feet.
    assert lps(stack, 0, 1, 0) - lps(stack, 0, 0, 0) == pytest.approx((0, 0, -0.6))


def test_pixel_content_follows_the_order(tmp_path):
    factories.write_series(tmp_path, slices=5, reverse_instance_numbers=True)
    assert frame_values(only_stack(tmp_path)) == [0, 1, 2, 3, 4]


def test_instance_numbers_do_not_override_positions(tmp_path):
    # Instance Numbers that disagree with the geometry: geometry wins.
    factories.write_series(
        tmp_path, slices=4, per_slice=lambda k, ds: setattr(ds, "InstanceNumber", [3, 1, 4, 2][k])
    )
    stack = only_stack(tmp_path)
    assert stack.instance_numbers == (3, 1, 4, 2)
    assert frame_values(stack) == [0, 1, 2, 3]


# ---------------------------------------------------------------------------------------------
# Irregular stacks: warnings present where they belong, and only there


def test_gantry_tilt_sheared_along_y(tmp_path):
    truth = factories.write_series(tmp_path, slices=6, spacing=2.5, tilt_deg=15.0)
    stack = only_stack(tmp_path)
    assert list(stack.sources) == truth.sources
    assert any("gantry tilt 15.0°" in w for w in stack.warnings)
    assert_affine_hits_positions(stack, truth.positions)
    assert stack.spacing[2] == pytest.approx(2.5 / math.cos(math.radians(15.0)), abs=1e-4)


def test_gantry_tilt_as_a_ct_writes_it(tmp_path):
    # A tilted CT gantry: the image plane leans (column cosines (0, cos, sin)) while the table
    # moves the slices straight along z.
    tilt = math.radians(20.0)
    iop = (1.0, 0.0, 0.0, 0.0, round(math.cos(tilt), 6), round(math.sin(tilt), 6))
    positions = [(-100.0, -120.0, z) for z in (30.0, 27.0, 24.0, 21.0, 18.0)]
    truth = factories.write_series(tmp_path, orientation=iop, positions=positions)
    stack = only_stack(tmp_path)
    assert any("gantry tilt 20.0°" in w for w in stack.warnings)
    assert list(stack.sources) == truth.sources
    assert_affine_hits_positions(stack, truth.positions)
    assert stack.direction[2] == pytest.approx((0.0, 0.0, 1.0))  # the true step: straight up z


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        ([0.0, 2.5, 5.2, 7.5, 10.0, 12.5], "irregular slice spacing"),
        ([0.0, 2.5, 5.0, 10.0, 12.5, 15.0], "1 missing slice(s) (after slice 3)"),
        ([0.0, 2.5, 5.0, 5.0, 7.5, 10.0], "1 duplicate slice position(s)"),
    ],
    ids=["uneven", "missing", "duplicate"],
)
def test_irregular_stacks_warn(tmp_path, offsets, expected):
    truth = factories.write_series(tmp_path, offsets=offsets)
    stack = only_stack(tmp_path)
    assert any(expected in w for w in stack.warnings), stack.warnings
    assert np.array(stack.positions) == pytest.approx(np.array(truth.positions))
    assert stack.spacing[2] == pytest.approx(2.5)


def test_missing_pixel_spacing_is_a_warning_and_1mm(tmp_path):
    factories.write_series(tmp_path, slices=3, per_slice=lambda k, ds: delattr(ds, "PixelSpacing"))
    stack = only_stack(tmp_path)
    assert stack.spacing == pytest.approx((1.0, 1.0, 2.5))
    assert "no Pixel Spacing; 1 mm assumed" in stack.warnings


# ---------------------------------------------------------------------------------------------
# Phases, localizers, matrix sizes


@pytest.mark.parametrize(
    ("keyword", "values", "labels"),
    [
        ("EchoNumbers", [2, 1], ["echo 1", "echo 2"]),
        (
            "TemporalPositionIdentifier",
            [1, 2, 3],
            ["temporal position 1", "temporal position 2", "temporal position 3"],
        ),
        (
            "TriggerTime",
            ["400", "0", "200"],
            ["trigger time 0.0", "trigger time 200.0", "trigger time 400.0"],
        ),
    ],
)
def test_phases_split_with_labels(tmp_path, keyword, values, labels):
    truths = factories.write_phases(tmp_path, keyword, values, slices=4, modality="MR")
    stacks = stacks_in(tmp_path)
    assert [s.label for s in stacks] == labels
    by_value = dict(zip(values, truths, strict=True))
    for stack, value in zip(stacks, sorted(values, key=float), strict=True):
        truth = by_value[value]
        assert list(stack.sources) == truth.sources
        assert stack.spacing == pytest.approx((0.8, 0.6, 2.5))
        assert not any("duplicate" in w for w in stack.warnings)
        assert_affine_hits_positions(stack, truth.positions)


def test_phase_split_prefers_the_key_with_fewest_phases(tmp_path):
    # Two echoes; each image also carries its own Trigger Time (an acquisition offset). Trigger
    # time alone would also make positions unique, one slice per "phase": echo is the answer.
    counter = iter(range(100))
    truths = factories.write_phases(
        tmp_path,
        "EchoNumbers",
        [1, 2],
        slices=4,
        modality="MR",
        per_slice=lambda k, ds: setattr(ds, "TriggerTime", str(10 * next(counter))),
    )
    stacks = stacks_in(tmp_path)
    assert [s.label for s in stacks] == ["echo 1", "echo 2"]
    assert [list(s.sources) for s in stacks] == [t.sources for t in truths]


def test_repeated_positions_without_a_phase_key_stay_one_stack(tmp_path):
    factories.write_phases(tmp_path, "ImageComments", ["a", "b"], slices=3)
    stack = only_stack(tmp_path)
    assert stack.frames == 6
    assert any("3 duplicate slice position(s)" in w for w in stack.warnings)
    assert stack.spacing[2] == pytest.approx(2.5)  # not the median gap, which is 0


def test_localizer_is_split_off_and_listed_last(tmp_path):
    truth = factories.write_series(tmp_path, slices=5)
    scout = factories.write_localizer(
        tmp_path, study_uid=truth.study_uid, series_uid=truth.series_uid, instance_number=99
    )
    stacks = stacks_in(tmp_path)
    assert [s.localizer for s in stacks] == [False, True]
    assert list(stacks[0].sources) == truth.sources
    assert stacks[0].warnings == ()
    assert list(stacks[1].sources) == [(scout, 0)]


def test_localizer_with_the_same_orientation_is_still_split_off(tmp_path):
    truth = factories.write_series(tmp_path, slices=4)
    factories.write_localizer(
        tmp_path, study_uid=truth.study_uid, series_uid=truth.series_uid, orientation="axial"
    )
    stacks = stacks_in(tmp_path)
    assert [s.frames for s in stacks] == [4, 1]
    assert stacks[0].warnings == ()


def test_mixed_matrix_sizes_are_separate_stacks(tmp_path):
    big = factories.write_series(tmp_path, slices=5, name_prefix="A")
    small = factories.write_series(
        tmp_path,
        offsets=[20.0, 22.5],
        rows=8,
        columns=12,
        study_uid=big.study_uid,
        series_uid=big.series_uid,
        name_prefix="B",
    )
    stacks = stacks_in(tmp_path)
    assert [(s.frames, s.rows, s.columns) for s in stacks] == [(5, 16, 16), (2, 8, 12)]
    assert list(stacks[0].sources) == big.sources
    assert list(stacks[1].sources) == small.sources
    assert all(s.warnings == () for s in stacks)


def test_two_orientations_in_one_series(tmp_path):
    axial = factories.write_series(tmp_path, slices=4, name_prefix="AX")
    factories.write_series(
        tmp_path,
        slices=3,
        orientation="sagittal",
        study_uid=axial.study_uid,
        series_uid=axial.series_uid,
        name_prefix="SAG",
    )
    stacks = stacks_in(tmp_path)
    assert [s.frames for s in stacks] == [4, 3]
    assert stacks[1].direction[2] == pytest.approx((-1, 0, 0))


# ---------------------------------------------------------------------------------------------
# Multi-frame


def test_classic_cine_keeps_stored_order_and_frame_time(tmp_path):
    path = factories.write_cine(tmp_path / "cine.dcm", frames=9, frame_time_ms=40.0)
    stack = only_stack(tmp_path)
    assert list(stack.sources) == [(path, k) for k in range(9)]
    assert stack.frame_time_ms == pytest.approx(40.0)
    assert stack.spacing is None and stack.origin is None and stack.direction is None
    assert stack.affine() is None
    assert frame_values(stack) == list(range(9))


def test_two_cine_loops_in_one_series(tmp_path):
    series_uid, study_uid = "1.2.3.4.5", "1.2.3.4"
    a = factories.write_cine(
        tmp_path / "a.dcm", frames=5, series_uid=series_uid, study_uid=study_uid
    )
    b = factories.write_cine(
        tmp_path / "b.dcm",
        frames=7,
        series_uid=series_uid,
        study_uid=study_uid,
        instance_number=2,
    )
    stacks = stacks_in(tmp_path)
    assert [s.sources[0][0] for s in stacks] == [b, a]  # larger first
    assert [s.frames for s in stacks] == [7, 5]


def test_enhanced_single_stack_frames_ordered_along_normal(tmp_path):
    frames = factories.enhanced_frames(slices=6, spacing=2.0, stacks=[("1", factories.OBLIQUE)])
    truth = factories.write_enhanced(tmp_path / "enh.dcm", frames)
    stack = only_stack(tmp_path)
    assert [frame for _, frame in stack.sources] == truth.frame_order()
    assert stack.spacing == pytest.approx((0.7, 0.9, 2.0))
    assert stack.label == "stack 1"
    assert stack.warnings == ()
    ordered = [truth.frames[k].position for k in truth.frame_order()]
    assert_affine_hits_positions(stack, ordered)
    assert stack.slice_thickness == pytest.approx(3.0)


def test_enhanced_two_stacks_in_one_file(tmp_path):
    frames = factories.enhanced_frames(
        slices=4, stacks=[("2", factories.SAGITTAL), ("1", factories.AXIAL)]
    )
    truth = factories.write_enhanced(tmp_path / "enh.dcm", frames, modality="CT")
    stacks = stacks_in(tmp_path)
    assert [s.label for s in stacks] == ["stack 1", "stack 2"]
    assert [[f for _, f in s.sources] for s in stacks] == [
        truth.frame_order("1"),
        truth.frame_order("2"),
    ]
    assert stacks[0].direction[2] == pytest.approx((0, 0, 1))
    assert stacks[1].direction[2] == pytest.approx((-1, 0, 0))
    assert all(s.warnings == () for s in stacks)


def test_enhanced_two_temporal_phases_in_one_file(tmp_path):
    frames = factories.enhanced_frames(slices=5, phases=2)
    truth = factories.write_enhanced(tmp_path / "enh.dcm", frames)
    stacks = stacks_in(tmp_path)
    assert [s.label for s in stacks] == [
        "stack 1, temporal position 1",
        "stack 1, temporal position 2",
    ]
    for phase, stack in enumerate(stacks, start=1):
        assert [f for _, f in stack.sources] == truth.frame_order("1", phase)
        assert not any("duplicate" in w for w in stack.warnings)
        assert stack.spacing == pytest.approx((0.7, 0.9, 3.0))


def test_enhanced_two_stacks_by_two_phases(tmp_path):
    frames = factories.enhanced_frames(
        slices=3, phases=2, stacks=[("1", factories.AXIAL), ("2", factories.CORONAL)]
    )
    truth = factories.write_enhanced(tmp_path / "enh.dcm", frames)
    stacks = stacks_in(tmp_path)
    assert len(stacks) == 4
    expected = [truth.frame_order(s, p) for s in ("1", "2") for p in (1, 2)]
    assert [[f for _, f in s.sources] for s in stacks] == expected


def test_grid_frame_offsets_place_a_classic_multiframe(tmp_path):
    # An RT Dose style grid: one file, frames at Grid Frame Offset Vector along the normal.
    path = factories.write_cine(tmp_path / "dose.dcm", frames=4)
    ds = dcmread(path)
    ds.ImagePositionPatient = ["10", "20", "30"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["2", "3"]
    ds.GridFrameOffsetVector = ["0", "-5", "-10", "-15"]  # stored head to feet
    ds.save_as(path)
    stack = only_stack(tmp_path)
    assert [f for _, f in stack.sources] == [3, 2, 1, 0]
    assert stack.origin == pytest.approx((10, 20, 15))
    assert stack.spacing == pytest.approx((3, 2, 5))
    assert_affine_hits_positions(stack, [(10, 20, z) for z in (15, 20, 25, 30)])


# ---------------------------------------------------------------------------------------------
# build_stacks on records directly


def record(n: int, **fields) -> InstanceRecord:
    values = dict(
        path=f"/x/{n}",
        sop_instance_uid=f"1.{n}",
        sop_class_uid="1.2.840.10008.5.1.4.1.1.7",
        series_uid="1.9",
        study_uid="1.8",
        instance_number=n,
        rows=8,
        columns=8,
    )
    values.update(fields)
    return InstanceRecord(**values)


def test_frames_without_positions_keep_instance_number_order():
    stacks = build_stacks([record(3), record(1), record(2, instance_number=None), record(0)])
    assert len(stacks) == 1
    assert [path for path, _ in stacks[0].sources] == ["/x/0", "/x/1", "/x/3", "/x/2"]
    assert stacks[0].spacing is None


def test_objects_without_pixels_make_no_stack():
    assert build_stacks([record(1, rows=0, columns=0)]) == []


def test_invalid_orientation_means_no_geometry():
    bad = dict(position=(0.0, 0.0, 0.0), orientation=(1.0, 0.0, 0.0, 1.0, 0.0, 0.0))
    stacks = build_stacks([record(1, **bad), record(2, **bad)])
    assert len(stacks) == 1
    assert stacks[0].spacing is None


def test_multiframe_object_without_pixels_makes_no_empty_stack():
    assert build_stacks([record(1, rows=0, columns=0, frames=5)]) == []


def test_phases_of_unequal_size_stay_in_phase_order(tmp_path):
    first = factories.write_series(
        tmp_path, slices=3, extra={"TemporalPositionIdentifier": 1}, name_prefix="T1_"
    )
    factories.write_series(
        tmp_path,
        slices=4,
        extra={"TemporalPositionIdentifier": 2},
        study_uid=first.study_uid,
        series_uid=first.series_uid,
        name_prefix="T2_",
    )
    stacks = stacks_in(tmp_path)
    assert [(s.label, s.frames) for s in stacks] == [
        ("temporal position 1", 3),
        ("temporal position 2", 4),
    ]
