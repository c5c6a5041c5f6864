"""MPR reformats (viewer.model.mpr) checked against known geometry, as a radiologist would.

The demo CT (axial) and MR (sagittal) have analytic voxel centres (viewer.demo); synthetic
volumes here have analytic contents (a linear ramp, a rod, a bright point) on oblique, tilted
and gappy grids, so every expected pixel and value is computed, never read back.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from tests import factories
from viewer import demo
from viewer.dicom.catalog import geometry
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.volume import Volume, load_volume
from viewer.model import mpr
from viewer.model.mpr import MprState, MprVolume, Plane, SlabMode, View
from viewer.model.window_level import Voi


def only_stack(folder: Path, modality: str | None = None) -> Stack:
    series = [s for s in index_paths([folder]).all_series() if modality in (None, s.info.modality)]
    return series[0].stacks[0]


@pytest.fixture(scope="module")
def ct(demo_study: Path) -> MprVolume:
    return mpr.mpr_volume(load_volume(only_stack(demo_study, "CT")))


@pytest.fixture(scope="module")
def mr(demo_study: Path) -> MprVolume:
    return mpr.mpr_volume(load_volume(only_stack(demo_study, "MR")))


def modality_at(volume: MprVolume, image: np.ndarray, column: int, row: int) -> float:
    """Mean modality value of the 5 x 5 ROI around a pixel (the demo's landmark convention)."""
    roi = image[row - 2 : row + 3, column - 2 : column + 3].astype(np.float64)
    return float(roi.mean()) * volume.rescale_slope + volume.rescale_intercept


def in_memory_volume(
    positions: list[tuple[float, float, float]],
    orientation: tuple[float, ...],
    pixel_spacing: tuple[float, float],
    voxels: np.ndarray,
) -> Volume:
    """A Volume placed by the real geometry code from true slice positions (ascending)."""
    geo = geometry.stack_geometry(positions, orientation, pixel_spacing)  # type: ignore[arg-type]
    stack = Stack(
        sources=tuple(("memory", k) for k in range(len(positions))),
        rows=voxels.shape[1],
        columns=voxels.shape[2],
        pixel_spacing=pixel_spacing,
        orientation=orientation,  # type: ignore[arg-type]
        spacing=geo.spacing,
        origin=geo.origin,
        direction=geo.direction,
        positions=tuple(positions),
        warnings=geo.warnings,
    )
    return Volume(stack, voxels, geo.affine())


# --- the demo CT: axial acquisition -----------------------------------------------------------
def test_ct_landmarks_at_their_pixels_with_their_hu_in_all_three_views(ct: MprVolume) -> None:
    last = demo.CT_SLICES - 1
    for name, (point, hu) in demo.CT_LANDMARKS.items():
        column = round((point[0] - demo.CT_ORIGIN[0]) / demo.CT_PIXEL_SPACING[1])
        row = round((point[1] - demo.CT_ORIGIN[1]) / demo.CT_PIXEL_SPACING[0])
        k = round((point[2] - demo.CT_ORIGIN[2]) / demo.CT_SLICE_SPACING)
        assert demo.ct_voxel_center(column, row, k) == point
        # Axial: as acquired. Coronal: patient right on the left, head (last slice) on top.
        # Sagittal: anterior (row 0) on the left, head on top.
        expected = {View.AXIAL: (column, row), View.CORONAL: (column, last - k)}
        expected[View.SAGITTAL] = (row, last - k)
        for view, plane in mpr.standard_planes(ct, point).items():
            image = mpr.reformat(ct, plane)
            assert image.dtype == ct.voxels.dtype, "orthogonal views are copies, not interpolated"
            pixel = plane.pixel_of(point)
            assert pixel == pytest.approx((*expected[view], 0.0), abs=1e-6), (name, view)
            assert modality_at(ct, image, *expected[view]) == pytest.approx(hu, abs=10), (
                name,
                view,
            )


def test_ct_coronal_and_sagittal_equal_the_voxels(ct: MprVolume) -> None:
    point = demo.CT_LANDMARKS["aorta"][0]
    column, row = 135, 132
    planes = mpr.standard_planes(ct, point)
    coronal = mpr.reformat(ct, planes[View.CORONAL])
    sagittal = mpr.reformat(ct, planes[View.SAGITTAL])
    np.testing.assert_array_equal(coronal, ct.voxels[::-1, row, :])
    np.testing.assert_array_equal(sagittal, ct.voxels[::-1, :, column])
    assert planes[View.CORONAL].pixel_mm == pytest.approx((1.4, 1.25))  # aspect from spacing


# --- the demo MR: sagittal acquisition gives axial and coronal views ---------------------------
def test_sagittal_mr_gives_axial_and_coronal_views(mr: MprVolume) -> None:
    k, row, column = 11, 91, 122  # the ventricle landmark: slice 11, x = 52 - 44 = 8 mm
    point, signal = demo.MR_LANDMARKS["ventricle_csf"]
    assert demo.mr_voxel_center(column, row, k) == point
    planes = mpr.standard_planes(mr, point)
    last = demo.MR_SLICES - 1
    # x decreases with k (MR_NORMAL is -x), so patient right (small x) is the last slice and
    # sits on the screen's left in axial and coronal views.
    expected = {
        View.AXIAL: (last - k, column),  # down = posterior = along the MR row
        View.CORONAL: (last - k, row),  # down = feet = down the MR column
        View.SAGITTAL: (column, row),  # as acquired
    }
    for view, plane in planes.items():
        assert plane.pixel_of(point) == pytest.approx((*expected[view], 0.0), abs=1e-6), view
    axial = mpr.reformat(mr, planes[View.AXIAL])
    coronal = mpr.reformat(mr, planes[View.CORONAL])
    sagittal = mpr.reformat(mr, planes[View.SAGITTAL])
    np.testing.assert_array_equal(axial, mr.voxels[::-1, row, :].T)
    np.testing.assert_array_equal(coronal, mr.voxels[::-1, :, column].T)
    np.testing.assert_array_equal(sagittal, mr.voxels[k])
    assert planes[View.AXIAL].pixel_mm == pytest.approx((4.0, 0.9))  # 4 mm slices, 0.9 mm rows
    assert modality_at(mr, sagittal, column, row) == pytest.approx(signal, rel=0.15)


# --- an oblique acquisition: trilinear is exact on a linear ramp ----------------------------------
def ramp(points: np.ndarray) -> np.ndarray:
    """A linear function of LPS mm: trilinear interpolation reproduces it exactly."""
    return 1000.0 + 2.0 * points[..., 0] - 3.0 * points[..., 1] + 5.0 * points[..., 2]


def oblique_ramp_volume() -> MprVolume:
    rotation = mpr.rotation_matrix((0, 0, 1), math.radians(20)) @ mpr.rotation_matrix(
        (1, 0, 0), math.radians(30)
    )
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([0.8, 0.6, 2.5])
    affine[:3, 3] = (-10.0, 5.0, 3.0)
    k, j, i = np.mgrid[0:12, 0:40, 0:36].astype(float)
    points = np.stack([i, j, k], axis=-1) @ affine[:3, :3].T + affine[:3, 3]
    # Stored as int16, like CT: each voxel is the ramp rounded, so samples are within 0.5.
    return MprVolume.from_arrays(np.rint(ramp(points)).astype(np.int16), affine)


def test_oblique_acquisition_reformats_to_the_analytic_values() -> None:
    volume = oblique_ramp_volume()
    for view, plane in mpr.standard_planes(volume).items():
        image = mpr.reformat(volume, plane)
        rows, columns = np.mgrid[0 : plane.size[1], 0 : plane.size[0]]
        points = np.asarray(plane.origin) + (
            columns[..., None] * plane.pixel_mm[0] * np.asarray(plane.right)
            + rows[..., None] * plane.pixel_mm[1] * np.asarray(plane.down)
        )
        index = (points - volume.affine[:3, 3]) @ np.linalg.inv(volume.affine[:3, :3]).T
        inside = np.all((index >= 0) & (index <= volume.index_extent - 1), axis=-1)
        assert inside.sum() > 50, view
        np.testing.assert_allclose(image[inside], ramp(points)[inside], atol=0.51)
        outside = np.any((index < -0.5) | (index > volume.index_extent - 0.5), axis=-1)
        assert outside.any() and np.all(image[outside] == volume.fill)


def test_a_point_appears_where_expected_in_all_three_views_of_an_oblique_volume() -> None:
    volume = oblique_ramp_volume()
    voxels = np.zeros(volume.shape, np.int16)
    voxels[6, 20, 18] = 1000
    bright = MprVolume.from_arrays(voxels, volume.affine)
    point = bright.to_patient((18, 20, 6))
    for view, plane in mpr.standard_planes(bright, point).items():
        image = mpr.reformat(bright, plane)
        column, row, depth = plane.pixel_of(point)
        assert depth == pytest.approx(0.0, abs=1e-9)
        peak = np.unravel_index(int(np.argmax(image)), image.shape)
        assert abs(peak[1] - column) <= 0.5 and abs(peak[0] - row) <= 0.5, view
        assert image.max() > 200  # trilinear near the peak, not blurred away


def test_trilinear_kernel_matches_scipy_map_coordinates() -> None:
    rng = np.random.default_rng(1)
    voxels = rng.integers(0, 4000, size=(20, 30, 25), dtype=np.uint16)
    volume = MprVolume.from_arrays(voxels, np.diag([0.7, 0.7, 1.5, 1.0]))
    rotation = mpr.rotation_matrix((1, 1, 0), math.radians(35))
    plane = mpr.plane_for(volume, rotation @ (1, 0, 0), rotation @ (0, 0, -1), volume.center())
    image = mpr.reformat(volume, plane)
    grid = mpr.index_grid(volume, plane)
    rows, columns = np.mgrid[0 : plane.size[1], 0 : plane.size[0]].astype(float)
    index = grid.origin[:, None, None] + grid.column[:, None, None] * columns
    index = index + grid.row[:, None, None] * rows
    expected = ndimage.map_coordinates(voxels, index[::-1], order=1, output=np.float32)
    inside = np.all((index >= 0) & (index <= (volume.index_extent - 1)[:, None, None]), axis=0)
    assert inside.sum() > 100
    np.testing.assert_allclose(image[inside], expected[inside], atol=0.05)  # no uint16 wrap


# --- geometry done right: tilt, gaps ------------------------------------------------------------
def test_tilted_gantry_rod_stays_straight() -> None:
    """A rod along the patient's z axis scanned with a 20° tilt is vertical in the sagittal view."""
    tilt, spacing, rows, columns, slices = 20.0, 2.0, 48, 40, 24
    shear = math.tan(math.radians(tilt))
    positions = [(0.0, k * spacing * shear, k * spacing) for k in range(slices)]
    rod_y, rod_x = 40.0, 16.0  # patient mm; pixel spacing 1 mm
    voxels = np.zeros((slices, rows, columns), np.int16)
    for k, (_, y0, _) in enumerate(positions):
        voxels[k, round(rod_y - y0), round(rod_x)] = 1000  # the rod where it is in each slice
    volume = mpr.mpr_volume(in_memory_volume(positions, factories.AXIAL, (1.0, 1.0), voxels))
    assert any("tilt 20.0°" in w for w in volume.warnings)
    point = (rod_x, rod_y, 20.0)
    sagittal = mpr.standard_planes(volume, point)[View.SAGITTAL]
    image = mpr.reformat(volume, sagittal)
    rod_rows = [r for r in range(image.shape[0]) if image[r].max() > 500]
    assert len(rod_rows) >= (slices - 2) * spacing / sagittal.pixel_mm[1] - 1
    peaks = [int(np.argmax(image[r])) for r in rod_rows]
    expected_column = sagittal.pixel_of(point)[0]
    assert max(abs(p - expected_column) for p in peaks) <= 0.5  # straight and in place


def test_missing_slice_is_interpolated_from_true_positions(tmp_path: Path) -> None:
    truth = factories.write_series(tmp_path, offsets=[0.0, 2.5, 5.0, 10.0, 12.5], rows=8, columns=8)
    loaded = load_volume(only_stack(tmp_path))
    assert loaded.shape[0] == 5
    volume = mpr.mpr_volume(loaded)
    assert volume.shape[0] == 6  # 0, 2.5, 5, 7.5 (missing), 10, 12.5
    assert any("regular grid" in w and "1 interpolated" in w for w in volume.warnings)
    np.testing.assert_array_equal(volume.voxels[[0, 1, 2, 4, 5]], loaded.voxels)
    # Factories fill slice k with pattern + 100 k: the gap is halfway between slices 2 and 3.
    np.testing.assert_array_equal(volume.voxels[3], (loaded.voxels[2] + loaded.voxels[3]) // 2)
    # The coronal view puts every slice at its true height: the z of each row is its position.
    point = truth.positions[0]
    coronal = mpr.standard_planes(volume, point)[View.CORONAL]
    heights = [float(coronal.point(0, r)[2]) for r in range(coronal.size[1])]
    top = truth.positions[-1][2]
    assert heights == pytest.approx([top - 2.5 * r for r in range(6)])


def test_irregular_spacing_resamples_linearly() -> None:
    z = [0.0, 1.0, 2.0, 3.3, 4.0, 5.0, 6.0]  # one slice 0.3 mm out of place
    voxels = np.stack([np.full((4, 4), 100 * value, np.int16) for value in z])
    volume = mpr.mpr_volume(
        in_memory_volume([(0, 0, v) for v in z], factories.AXIAL, (1, 1), voxels)
    )
    assert volume.shape[0] == 7
    assert [int(s[0, 0]) for s in volume.voxels] == [0, 100, 200, 300, 400, 500, 600]


def test_enhanced_multiframe_volume(tmp_path: Path) -> None:
    frames = factories.enhanced_frames(slices=6, stacks=(("1", factories.SAGITTAL),))
    factories.write_enhanced(tmp_path / "enh.dcm", frames)
    volume = mpr.mpr_volume(load_volume(only_stack(tmp_path)))
    planes = mpr.standard_planes(volume)
    assert planes[View.SAGITTAL].size == (16, 16)
    assert planes[View.AXIAL].size == (6, 16)  # the 6 sagittal slices across
    sagittal = mpr.standard_planes(volume, volume.to_patient((0, 0, 3)))[View.SAGITTAL]
    np.testing.assert_array_equal(mpr.reformat(volume, sagittal), volume.voxels[3])


# --- thick slabs ----------------------------------------------------------------------------------
def bright_point_volume(radius: int = 0) -> tuple[MprVolume, np.ndarray]:
    """A black volume with a bright voxel (or cube of 2 radius + 1 voxels) at index (10, 12, 20)."""
    voxels = np.zeros((40, 30, 32), np.int16)
    voxels[20 - radius : 21 + radius, 12 - radius : 13 + radius, 10 - radius : 11 + radius] = 1000
    affine = np.diag([0.8, 0.8, 1.25, 1.0])
    volume = MprVolume.from_arrays(voxels, affine)
    return volume, volume.to_patient((10, 12, 20))


def test_orthogonal_mip_finds_a_bright_point_within_half_the_thickness() -> None:
    volume, point = bright_point_volume()
    for view, plane in mpr.standard_planes(volume, np.add(point, 4.0)).items():
        column, row, depth = plane.pixel_of(point)
        assert abs(depth) == pytest.approx(4.0, abs=0.7), view  # the plane misses the point
        assert mpr.reformat(volume, plane).max() == 0
        mip = mpr.slab(volume, plane, 10.0, SlabMode.MIP)
        assert mip[round(row), round(column)] == 1000, view
        assert np.count_nonzero(mip) == 1
        assert mpr.slab(volume, plane, 4.0, SlabMode.MIP).max() == 0  # too thin to reach it
        assert mpr.slab(volume, plane, 10.0, SlabMode.MINIP).max() == 0
        mean = mpr.slab(volume, plane, 10.0, SlabMode.MEAN)
        assert 0 < mean[round(row), round(column)] < 1000


def test_orthogonal_slabs_equal_numpy_reductions() -> None:
    rng = np.random.default_rng(5)
    voxels = rng.integers(-1000, 1000, size=(30, 20, 24), dtype=np.int16)
    volume = MprVolume.from_arrays(voxels, np.diag([1.0, 1.0, 2.0, 1.0]))
    planes = mpr.standard_planes(volume, volume.to_patient((11, 9, 14)))
    sagittal = mpr.slab(volume, planes[View.SAGITTAL], 4.0, SlabMode.MIP)  # columns 9..13
    np.testing.assert_array_equal(sagittal, voxels[::-1, :, 9:14].max(axis=2))
    axial = mpr.slab(volume, planes[View.AXIAL], 4.0, SlabMode.MEAN)  # slices 13..15
    np.testing.assert_allclose(axial, voxels[13:16].mean(axis=0), atol=1e-3)
    coronal = mpr.slab(volume, planes[View.CORONAL], 2.0, SlabMode.MINIP)  # rows 8..10
    np.testing.assert_array_equal(coronal, voxels[::-1, 8:11, :].min(axis=1))


def test_oblique_mip_finds_a_bright_point_and_preview_covers_the_same_area() -> None:
    volume, point = bright_point_volume(radius=1)  # a 3-voxel cube: some sample is all inside
    rotation = mpr.rotation_matrix((0, 0, 1), math.radians(30))
    right, down = rotation @ (1.0, 0.0, 0.0), rotation @ (0.0, 0.0, -1.0)
    plane = mpr.plane_for(volume, right, down, point + 3.0 * np.cross(right, down))
    column, row, _ = plane.pixel_of(point)
    assert mpr.reformat(volume, plane).max() == 0  # 3 mm away: the thin plane misses it
    mip = mpr.slab(volume, plane, 10.0, SlabMode.MIP)
    assert mip[round(row), round(column)] == pytest.approx(1000)
    assert np.all(mip[np.hypot(*np.indices(mip.shape) - np.c_[[row, column]][:, :, None]) > 4] == 0)
    assert mpr.slab(volume, plane, 1.0, SlabMode.MIP).max() == 0  # reaches 2.5 mm only
    preview = mpr.slab(volume, plane, 10.0, SlabMode.MIP, preview=True)
    coarse = plane.coarser(mpr.PREVIEW_FACTOR)
    assert preview.shape == coarse.shape and preview.max() > 0
    assert coarse.pixel_of(point)[:2] == pytest.approx(((column - 0.5) / 2, (row - 0.5) / 2))


# --- the shared state ---------------------------------------------------------------------------
def test_state_rotation_tilts_the_other_planes_and_reset_restores() -> None:
    volume = oblique_ramp_volume()
    state = MprState(volume, Voi(0, 100))
    events: list[str] = []
    state.changed.connect(events.append)
    state.rotate(View.AXIAL, math.radians(30))
    assert events == ["axes"] and state.oblique
    assert state.normal(View.AXIAL) == pytest.approx((0, 0, 1))  # the rotated view keeps its plane
    assert state.normal(View.CORONAL) @ np.array([0.0, 1.0, 0.0]) == pytest.approx(
        math.cos(math.radians(30))
    )
    normals = np.array([state.normal(view) for view in View])
    np.testing.assert_allclose(normals @ normals.T, np.eye(3), atol=1e-12)  # still perpendicular
    lines = {line.view: line for line in state.cut_lines(View.AXIAL)}
    angle = math.degrees(
        math.atan2(lines[View.CORONAL].direction[1], lines[View.CORONAL].direction[0])
    )
    assert angle % 180 == pytest.approx(30.0)  # the coronal line turned clockwise on screen
    state.reset()
    assert not state.oblique and events == ["axes", "axes"]


def test_state_point_moves_clamps_and_maps_to_views(ct: MprVolume) -> None:
    state = MprState(ct)
    point, _ = demo.CT_LANDMARKS["liver"]
    state.set_point(np.add(point, (0.3, -0.2, 0.4)))  # snapped to the voxel centre
    assert state.point == pytest.approx(point)
    state.move(View.AXIAL, 2)
    assert state.point == pytest.approx(np.add(point, (0, 0, 2 * demo.CT_SLICE_SPACING)))
    state.set_point((0.0, 0.0, 1e6))  # far above the head: the top slice
    assert state.point[2] == pytest.approx(demo.ct_slice_position(demo.CT_SLICES - 1)[2])
    x, y = state.to_view(View.CORONAL, state.point)
    assert state.from_view(View.CORONAL, x, y) == pytest.approx(state.point)


def test_display_folds_rescale_into_the_window() -> None:
    image = np.array([[0, 1024, 1064, 1324]], np.int16)  # HU -1024, 0, 40, 300
    shown = mpr.to_display(image, Voi.from_center_width(40, 400), 1.0, -1024.0, invert=False)
    assert shown[0, 0] == 0 and shown[0, 3] == 255 and 120 <= shown[0, 2] <= 135
    inverted = mpr.to_display(image, Voi.from_center_width(40, 400), 1.0, -1024.0, invert=True)
    assert inverted[0, 0] == 255


def test_plane_helpers_round_trip() -> None:
    plane = Plane((1.0, 2.0, 3.0), (0.0, 1.0, 0.0), (0.0, 0.0, -1.0), (0.5, 2.0), (10, 20))
    point = plane.point(3.0, 4.0)
    assert plane.pixel_of(point) == pytest.approx((3.0, 4.0, 0.0))
    assert plane.through(point + 5 * plane.normal).pixel_of(point)[2] == pytest.approx(-5.0)
