"""Patient-space geometry of slice stacks (viewer.dicom.catalog.geometry), checked the way a
clinician
would check a volume: which way the slices run, how far apart, where the first voxel is, and
whether index (i, j, k) lands on the true Image Position (Patient) of every slice.

SimpleITK's ImageSeriesReader (GDCM ordering) is the oracle for generated axial, oblique and
sagittal series, for real scanner CT series (pydicom's dicomdirtests) and for the demo study's
CT and sagittal MR: file order, origin, spacing, direction and the voxels themselves. It is a
benchmark-only dependency, so those tests skip without it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from tests import factories
from viewer import demo
from viewer.dicom.catalog import geometry
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.volume import load_volume

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


# ---------------------------------------------------------------------------------------------
# SimpleITK (GDCM) as the oracle on real multi-slice series: pydicom's bundled dicomdirtests
# (scanner CT series, pixel data cut down to 16 x 16) and the demo study's CT and sagittal MR.

#: Geometry must agree this closely (mm) with ITK.
ITK_TOLERANCE_MM = 1e-3


def dicomdirtests(*parts: str) -> Path:
    anchor = get_testdata_file("CT_small.dcm")
    assert anchor is not None
    return Path(anchor).parent.joinpath("dicomdirtests", *parts)


def positioned_stacks(folder: Path) -> list[tuple[str, Stack]]:
    """(series UID, stack) of every stack with more than one slice and a geometry."""
    catalog = index_paths([folder])
    return [
        (series.uid, stack)
        for series in catalog.all_series()
        for stack in series.stacks
        if stack.frames > 1 and stack.affine() is not None
    ]


def itk_series(stack: Stack, series_uid: str) -> tuple[list[str], Any]:
    """GDCM's file order for the series in the stack's folder, and ITK's image of it."""
    sitk = pytest.importorskip("SimpleITK")
    reader = sitk.ImageSeriesReader()
    folder = str(Path(stack.sources[0][0]).parent)
    names = list(reader.GetGDCMSeriesFileNames(folder, series_uid))
    reader.SetFileNames(names)
    sitk.ProcessObject.SetGlobalWarningDisplay(False)  # "missing slices" goes to stderr
    try:
        return names, reader.Execute()
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(True)


def assert_same_grid_as_itk(stack: Stack, image: Any, slice_spacing: bool = True) -> None:
    assert image.GetSize() == (stack.columns, stack.rows, stack.frames)
    assert stack.origin == pytest.approx(image.GetOrigin(), abs=ITK_TOLERANCE_MM)
    assert stack.spacing is not None
    checked = 3 if slice_spacing else 2
    assert stack.spacing[:checked] == pytest.approx(image.GetSpacing()[:checked], abs=1e-3)
    # ITK's direction matrix holds the axes as columns; ours lists them as rows.
    itk_direction = np.array(image.GetDirection()).reshape(3, 3)
    assert np.array(stack.direction) == pytest.approx(itk_direction.T, abs=1e-6)


def assert_same_voxels_as_itk(stack: Stack, image: Any) -> None:
    """Slice k of both is the same picture: ITK's array holds modality values (rescaled)."""
    sitk = pytest.importorskip("SimpleITK")
    volume = load_volume(stack)
    expected = sitk.GetArrayFromImage(image)
    assert expected.shape == volume.voxels.shape
    np.testing.assert_array_equal(volume.modality(volume.voxels), expected)


def true_positions(paths: list[str]) -> np.ndarray:
    """Image Position (Patient) as each file states it, read independently of the indexer."""
    return np.array([[float(v) for v in dcmread(p).ImagePositionPatient] for p in paths])


@pytest.mark.parametrize(
    "folder",
    [
        ("98892001", "CT5N"),  # 5 axial CT slices, Instance Numbers run against the position
        ("77654033", "CT2"),  # 4 slices of a 1.25 mm CT: one, a 202.5 mm gap, then three
    ],
    ids=lambda parts: "/".join(parts),
)
def test_real_ct_series_matches_simpleitk(folder: tuple[str, str]) -> None:
    [(series_uid, stack)] = positioned_stacks(dicomdirtests(*folder))
    names, image = itk_series(stack, series_uid)
    assert [path for path, _ in stack.sources] == names  # same slice order
    assert stack.orientation is not None
    distances = true_positions(names) @ np.array(geometry.slice_normal(stack.orientation))
    assert np.all(np.diff(distances) > 0)  # and it is ascending along row x column
    regular = not stack.warnings
    assert_same_grid_as_itk(stack, image, slice_spacing=regular)
    assert_same_voxels_as_itk(stack, image)


def test_real_ct_with_missing_slices_keeps_the_true_slice_step() -> None:
    # ITK and we differ here; the positions say who is right. The four files (Instance Numbers
    # 18, 180, 181, 182 of a 1.25 mm CT) sit at z = -99.48, 103.02, 104.27, 105.52: one
    # slice, 161 missing, then three. No regular grid holds them. ITK spreads the 205 mm
    # evenly, (last - first) / 3 = 68.33 mm, a step no two slices have, and warns "Non
    # uniform sampling or missing slices". We keep the acquisition's 1.25 mm step (the
    # Slice Thickness, and the step of the contiguous run, so those slices keep their true
    # aspect), keep every slice's true position, and say where and how many are missing.
    [(series_uid, stack)] = positioned_stacks(dicomdirtests("77654033", "CT2"))
    names, image = itk_series(stack, series_uid)
    positions = true_positions(names)
    gaps = np.diff(positions[:, 2])
    assert gaps == pytest.approx([202.5, 1.25, 1.25], abs=ITK_TOLERANCE_MM)
    assert image.GetSpacing()[2] == pytest.approx(gaps.sum() / 3, abs=ITK_TOLERANCE_MM)
    assert stack.spacing is not None
    assert stack.spacing[2] == pytest.approx(1.25, abs=ITK_TOLERANCE_MM)
    assert stack.warnings == ("161 missing slice(s) (after slice 1); spacing 1.25 mm assumed",)
    assert np.array(stack.positions) == pytest.approx(positions, abs=ITK_TOLERANCE_MM)


@pytest.fixture(scope="module")
def demo_stacks(demo_study: Path) -> list[tuple[str, Stack]]:
    return positioned_stacks(demo_study)


@pytest.mark.parametrize(
    "frames", [demo.CT_SLICES, demo.MR_SLICES], ids=["axial CT", "sagittal MR"]
)
def test_demo_volumes_match_simpleitk(demo_stacks: list[tuple[str, Stack]], frames: int) -> None:
    [(series_uid, stack)] = [pair for pair in demo_stacks if pair[1].frames == frames]
    names, image = itk_series(stack, series_uid)
    assert [path for path, _ in stack.sources] == names
    assert stack.warnings == ()
    assert_same_grid_as_itk(stack, image)
    affine = stack.affine()
    assert affine is not None
    last = (stack.columns - 1, stack.rows - 1, frames - 1)
    corner = image.TransformIndexToPhysicalPoint(last)
    assert voxel_to_lps(affine, *last) == pytest.approx(corner, abs=ITK_TOLERANCE_MM)
    assert_same_voxels_as_itk(stack, image)
