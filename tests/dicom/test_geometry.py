"""Patient-space geometry of slice stacks (viewer.dicom.geometry), checked the way a clinician
would check a volume: which way the slices run, how far apart, where the first voxel is, and
whether index (i, j, k) lands on the true Image Position (Patient) of every slice.

SimpleITK's ImageSeriesReader (GDCM ordering) is the oracle for a clean axial and an oblique
series; it is a benchmark-only dependency, so those tests skip without it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests import factories
from viewer.dicom import geometry
from viewer.dicom.indexer import index_paths
from viewer.dicom.stack import Stack

AXIAL = factories.AXIAL
CORONAL = factories.CORONAL
SAGITTAL = factories.SAGITTAL
OBLIQUE = factories.OBLIQUE


def positions_at(offsets: list[float], orientation=AXIAL, origin=(-40.0, -30.0, 10.0)):
    return factories.slice_positions(orientation, offsets, origin)


def voxel_to_lps(affine: np.ndarray, i: float, j: float, k: float) -> np.ndarray:
    return (affine @ np.array([i, j, k, 1.0]))[:3]


# ---------------------------------------------------------------------------------------------
# Normals and orientation checks


@pytest.mark.parametrize(
    ("orientation", "normal"),
    [
        (AXIAL, (0.0, 0.0, 1.0)),  # towards the head (S)
        (CORONAL, (0.0, 1.0, 0.0)),  # towards the back (P)
        (SAGITTAL, (-1.0, 0.0, 0.0)),  # towards the patient's right (R)
    ],
)
def test_slice_normal_is_row_cross_column(orientation, normal):
    assert geometry.slice_normal(orientation) == pytest.approx(normal)


def test_oblique_normal_is_unit_and_perpendicular():
    normal = geometry.slice_normal(OBLIQUE)
    assert np.linalg.norm(normal) == pytest.approx(1.0)
    assert np.dot(normal, OBLIQUE[:3]) == pytest.approx(0.0, abs=1e-6)
    assert np.dot(normal, OBLIQUE[3:]) == pytest.approx(0.0, abs=1e-6)


def test_degenerate_orientation_raises():
    with pytest.raises(ValueError, match="degenerate"):
        geometry.slice_normal((1, 0, 0, 1, 0, 0))


@pytest.mark.parametrize(
    ("orientation", "valid"),
    [
        (AXIAL, True),
        (OBLIQUE, True),
        ((1, 0, 0, 1, 0, 0), False),  # parallel
        ((2, 0, 0, 0, 1, 0), False),  # not unit
        ((1, 0, 0, 0, 1, math.nan), False),
        (None, False),
        ((1, 0, 0, 0, 1), False),
    ],
)
def test_is_valid_orientation(orientation, valid):
    assert geometry.is_valid_orientation(orientation) is valid


def test_same_orientation_tolerance():
    nudged = (1.0, 0.0, 0.0, 0.0, 1.0, geometry.ORIENTATION_TOLERANCE / 2)
    assert geometry.same_orientation(AXIAL, nudged)
    assert not geometry.same_orientation(AXIAL, (1, 0, 0, 0, 0.99, 0.14))


# ---------------------------------------------------------------------------------------------
# stack_geometry on positions already in ascending order


def test_clean_axial_stack_spacing_origin_direction():
    positions = positions_at([0.0, 2.5, 5.0, 7.5])
    geo = geometry.stack_geometry(positions, AXIAL, (0.6, 0.8))
    # Pixel Spacing is (between rows, between columns); spacing is (columns, rows, slices).
    assert geo.spacing == pytest.approx((0.8, 0.6, 2.5))
    assert geo.origin == pytest.approx((-40.0, -30.0, 10.0))
    assert np.array(geo.direction) == pytest.approx(np.eye(3))
    assert geo.warnings == ()


@pytest.mark.parametrize("orientation", [AXIAL, CORONAL, SAGITTAL, OBLIQUE])
def test_affine_maps_every_index_to_its_true_position(orientation):
    positions = positions_at([0.0, 3.0, 6.0, 9.0, 12.0], orientation)
    geo = geometry.stack_geometry(positions, orientation, (0.5, 0.7))
    affine = geo.affine()
    for k, position in enumerate(positions):
        assert voxel_to_lps(affine, 0, 0, k) == pytest.approx(position, abs=1e-4)
    # One column step moves along the row direction by the column spacing, one row step down
    # the column direction by the row spacing (PS3.3 C.7.6.2.1.1).
    row, column = np.array(orientation[:3]), np.array(orientation[3:])
    expected = np.array(positions[2]) + 5 * 0.7 * row + 3 * 0.5 * column
    assert voxel_to_lps(affine, 5, 3, 2) == pytest.approx(expected, abs=1e-4)
    assert geo.warnings == ()


def test_direction_rows_are_unit_even_when_stored_cosines_are_rounded():
    # Scanners write direction cosines rounded to a few decimals.
    rounded = (0.9397, 0.342, 0.0, -0.2962, 0.8138, 0.5)
    positions = positions_at([0.0, 2.0, 4.0], rounded)
    geo = geometry.stack_geometry(positions, rounded, (1.0, 1.0))
    for axis in geo.direction:
        assert np.linalg.norm(axis) == pytest.approx(1.0, abs=1e-9)


def test_single_slice_uses_slice_thickness_and_no_warnings():
    geo = geometry.stack_geometry([(1.0, 2.0, 3.0)], AXIAL, (0.5, 0.5), slice_thickness=4.0)
    assert geo.spacing == pytest.approx((0.5, 0.5, 4.0))
    assert geo.origin == (1.0, 2.0, 3.0)
    assert geo.warnings == ()


@pytest.mark.parametrize("tilt", [12.0, -20.0])
def test_sheared_stack_warns_and_affine_hits_true_positions(tilt):
    positions = factories.slice_positions(AXIAL, [0.0, 2.5, 5.0, 7.5, 10.0], tilt_deg=tilt)
    geo = geometry.stack_geometry(positions, AXIAL, (0.6, 0.6))
    assert any(f"gantry tilt {abs(tilt):.1f}°" in w for w in geo.warnings)
    assert any("2.5 mm apart along the normal" in w for w in geo.warnings)
    affine = geo.affine()
    for k, position in enumerate(positions):
        assert voxel_to_lps(affine, 0, 0, k) == pytest.approx(position, abs=1e-4)
    # The in-plane axes stay the image's; only the slice axis leans.
    assert geo.direction[0] == pytest.approx((1, 0, 0))
    assert geo.direction[1] == pytest.approx((0, 1, 0))
    assert geo.direction[2] == pytest.approx(
        (0, math.sin(math.radians(tilt)), math.cos(math.radians(tilt))), abs=1e-5
    )


def test_tilt_below_tolerance_is_not_a_shear():
    tiny = geometry.TILT_TOLERANCE_DEG / 2
    positions = factories.slice_positions(AXIAL, [0.0, 50.0, 100.0], tilt_deg=tiny)
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert geo.warnings == ()
    assert geo.direction[2] == pytest.approx((0, 0, 1))


def test_missing_slice_is_reported_where_it_is():
    positions = positions_at([0.0, 2.5, 5.0, 10.0, 12.5])
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert geo.spacing[2] == pytest.approx(2.5)
    assert geo.warnings == ("1 missing slice(s) (after slice 3); spacing 2.5 mm assumed",)


def test_two_slices_missing_in_one_gap():
    positions = positions_at([0.0, 2.0, 4.0, 10.0, 12.0])
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert geo.warnings[0].startswith("2 missing slice(s)")


def test_irregular_spacing_warns_with_range_and_median():
    positions = positions_at([0.0, 2.5, 5.3, 7.5, 10.0])
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert len(geo.warnings) == 1
    assert geo.warnings[0].startswith("irregular slice spacing (2.2 to 2.8 mm)")
    assert geo.spacing[2] == pytest.approx(2.5)


def test_spacing_jitter_within_tolerance_is_regular():
    jitter = 2.5 * geometry.SPACING_RELATIVE_TOLERANCE / 2
    positions = positions_at([0.0, 2.5 + jitter, 5.0, 7.5 - jitter, 10.0])
    assert geometry.stack_geometry(positions, AXIAL, (1.0, 1.0)).warnings == ()


def test_duplicate_positions_warn():
    positions = positions_at([0.0, 2.5, 2.5, 5.0])
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert "1 duplicate slice position(s)" in geo.warnings
    assert geo.spacing[2] == pytest.approx(2.5)


def test_many_duplicates_do_not_collapse_the_slice_spacing():
    # Two unsplit phases: every position twice. Half the gaps are 0; the spacing is not.
    positions = positions_at([0.0, 0.0, 2.5, 2.5, 5.0, 5.0])
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert geo.spacing[2] == pytest.approx(2.5)
    assert "3 duplicate slice position(s)" in geo.warnings


def test_sheared_stack_with_a_missing_slice_keeps_the_per_slice_step():
    tilt = 15.0
    positions = factories.slice_positions(AXIAL, [0.0, 2.0, 4.0, 8.0, 10.0], tilt_deg=tilt)
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert geo.spacing[2] == pytest.approx(2.0 / math.cos(math.radians(tilt)), abs=1e-4)
    affine = geo.affine()
    for k, position in enumerate(positions[:3]):  # up to the gap, the grid is exact
        assert voxel_to_lps(affine, 0, 0, k) == pytest.approx(position, abs=1e-4)
    assert any("missing slice" in w for w in geo.warnings)
    assert any("2 mm apart along the normal" in w for w in geo.warnings)


def test_all_slices_at_one_position():
    positions = positions_at([0.0, 0.0, 0.0])
    geo = geometry.stack_geometry(positions, AXIAL, (1.0, 1.0))
    assert geo.spacing[2] == 1.0
    assert any("share one position" in w for w in geo.warnings)


def test_ascending_order_breaks_ties_with_instance_number():
    distances = np.array([5.0, 1.0, 5.0, 3.0])
    assert geometry.ascending_order(distances, [9, 1, 2, 4]) == [1, 3, 2, 0]


# ---------------------------------------------------------------------------------------------
# SimpleITK (GDCM) as the oracle


def only_stack(folder: Path) -> Stack:
    catalog = index_paths([folder])
    stacks = catalog.all_stacks()
    assert len(stacks) == 1
    return stacks[0]


@pytest.mark.parametrize("orientation", ["axial", "oblique", "sagittal"])
def test_matches_simpleitk_image_series_reader(tmp_path, orientation):
    sitk = pytest.importorskip("SimpleITK")
    truth = factories.write_series(
        tmp_path, slices=7, orientation=orientation, spacing=1.75, reverse_instance_numbers=True
    )
    stack = only_stack(tmp_path)

    reader = sitk.ImageSeriesReader()
    names = list(reader.GetGDCMSeriesFileNames(str(tmp_path), truth.series_uid))
    reader.SetFileNames(names)
    image = reader.Execute()

    # Same file order (ascending along row x column), same as the truth.
    assert [path for path, _ in stack.sources] == names == truth.paths
    assert stack.origin == pytest.approx(image.GetOrigin(), abs=1e-4)
    assert stack.spacing == pytest.approx(image.GetSpacing(), abs=1e-4)
    # ITK's direction matrix holds the axes as columns; ours lists them as rows.
    itk_direction = np.array(image.GetDirection()).reshape(3, 3)
    assert np.array(stack.direction) == pytest.approx(itk_direction.T, abs=1e-5)
    assert image.GetSize() == (stack.columns, stack.rows, stack.frames)
    # And both map the last voxel to the same place.
    corner = image.TransformIndexToPhysicalPoint((15, 15, 6))
    assert voxel_to_lps(stack.affine(), 15, 15, 6) == pytest.approx(corner, abs=1e-3)
