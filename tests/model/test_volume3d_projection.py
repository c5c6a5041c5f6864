"""The CPU MIP/MinIP (shear-warp) against a brute-force reduction and against VTK's ray caster;
the clip planes that become voxel ranges; picking the voxel a click in 3D points at."""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.model import mpr
from viewer.model.volume3d import projection
from viewer.model.volume3d.scene import (
    PRESETS_BY_NAME,
    BlendMode,
    Scene,
    StandardView,
    patient_bounds,
    ramp,
    standard_camera,
)
from viewer.model.window_level import Voi


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("minimum", [False, True])
def test_shear_reduce_is_the_max_of_the_shifted_slices(axis: int, minimum: bool) -> None:
    rng = np.random.default_rng(axis)
    block = rng.integers(-1000, 1000, (20, 17, 13)).astype(np.int16)
    depth = block.shape[axis]
    shift_a = np.arange(depth) // 3
    shift_b = (depth - 1 - np.arange(depth)) // 2
    others = [a for a in (0, 1, 2) if a != axis]
    shape = (
        block.shape[others[0]] + int(shift_a.max()),
        block.shape[others[1]] + int(shift_b.max()),
    )
    got = mpr.shear_reduce(block, axis, shift_a, shift_b, minimum, shape)
    empty = mpr.empty_value(block.dtype, minimum)
    want = np.full(shape, empty, block.dtype)
    combine = np.minimum if minimum else np.maximum
    for s in range(depth):
        plane = np.take(block, s, axis=axis)
        a, b = int(shift_a[s]), int(shift_b[s])
        region = want[a : a + plane.shape[0], b : b + plane.shape[1]]
        region[...] = combine(region, plane)
    np.testing.assert_array_equal(got, want)


def test_reduce_axis_matches_numpy() -> None:
    block = np.random.default_rng(3).integers(0, 4000, (9, 70, 11)).astype(np.uint16)
    for axis in (0, 1, 2):
        np.testing.assert_array_equal(mpr.reduce_axis(block, axis, False), block.max(axis=axis))
        np.testing.assert_array_equal(mpr.reduce_axis(block, axis, True), block.min(axis=axis))


def _point_volume() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    affine = np.diag([0.9, 0.9, 2.0, 1.0])
    affine[:3, 3] = (-30.0, -20.0, -25.0)
    voxels = np.full((30, 64, 64), -1000, np.int16)
    voxels[10:13, 40:43, 15:18] = 1500  # voxel centre (16, 41, 11)
    point = affine[:3, :3] @ np.array([16.0, 41.0, 11.0]) + affine[:3, 3]
    return voxels, affine, point


@pytest.mark.parametrize("turn", [(0.0, 0.0), (30.0, 10.0), (80.0, -40.0), (135.0, 60.0)])
def test_a_bright_point_projects_where_the_camera_says(turn: tuple[float, float]) -> None:
    voxels, affine, point = _point_volume()
    camera = standard_camera(StandardView.ANTERIOR, patient_bounds(affine, voxels.shape))
    camera = camera.rotated(*turn)
    size = (120, 100)
    shown = projection.project(voxels, affine, camera, size)
    rows, columns = np.nonzero(shown.values > 0)
    x, y = camera.to_screen(point, size)
    assert abs(columns.mean() - x) < 1.5 and abs(rows.mean() - y) < 1.5
    picked = projection.pick(
        voxels, affine, camera, size, (x + 0.5, y + 0.5), BlendMode.MIP, ramp(Voi(-200, 1200))
    )
    assert picked is not None and np.linalg.norm(picked - point) < 2.5


def test_minip_shows_the_darkest_and_nothing_outside_the_volume() -> None:
    voxels = np.full((20, 40, 40), 50, np.int16)
    voxels[5:15, 10:20, 10:20] = -800
    affine = np.eye(4)
    camera = standard_camera(StandardView.SUPERIOR, patient_bounds(affine, voxels.shape))
    shown = projection.project(voxels, affine, camera.rotated(25, 0), (80, 80), minimum=True)
    assert shown.values[shown.covered].min() == pytest.approx(-800, abs=1)
    assert not shown.covered.all() and shown.covered.any()
    picture = projection.coloured(shown, ramp(Voi(-1000, 200)))
    assert (picture[~shown.covered] == 0).all()


def test_aligned_cuts_become_voxel_ranges_and_oblique_ones_do_not() -> None:
    affine = np.diag([0.5, 0.5, 2.0, 1.0])
    shape = (40, 100, 100)
    preset = PRESETS_BY_NAME["CT Bone"]
    box = ((10.0, 0.0, 0.0), (30.0, 49.5, 78.0))  # columns 20..60, all rows, frames 0..39
    crop = projection.index_crop(Scene(preset, clip_box=box), affine, shape)
    assert crop == ((0, 40), (0, 100), (20, 61))
    below = (((0.0, 0.0, 20.0), (0.0, 0.0, -1.0)),)  # keep z <= 20 mm: frames 0..10
    assert projection.index_crop(Scene(preset, clip_planes=below), affine, shape) == (
        (0, 11),
        (0, 100),
        (0, 100),
    )
    a = math.radians(10)
    tilted = (((0.0, 0.0, 20.0), (0.0, math.sin(a), -math.cos(a))),)
    assert projection.index_crop(Scene(preset, clip_planes=tilted), affine, shape) is None


def test_pick_in_composite_takes_the_first_opaque_voxel_along_the_ray() -> None:
    voxels = np.full((40, 40, 40), -1000, np.int16)
    voxels[10:30, 25:35, 10:30] = 1000  # rows 25-34: a block at the back (posterior)
    affine = np.eye(4)
    camera = standard_camera(StandardView.ANTERIOR, patient_bounds(affine, voxels.shape))
    size = (100, 100)
    x, y = camera.to_screen((20.0, 30.0, 20.0), size)
    transfer = PRESETS_BY_NAME["CT Bone"].transfer
    picked = projection.pick(
        voxels, affine, camera, size, (x + 0.5, y + 0.5), BlendMode.COMPOSITE, transfer
    )
    assert picked is not None
    assert picked[1] == pytest.approx(25.0, abs=1.0)  # the block's front face (y = row 25)
    assert abs(picked[0] - 20.0) < 1 and abs(picked[2] - 20.0) < 1
    nothing = projection.pick(
        voxels, affine, camera, size, (2.0, 2.0), BlendMode.COMPOSITE, transfer
    )
    assert nothing is None
    cut = (((0.0, 30.0, 0.0), (0.0, 1.0, 0.0)),)  # keep y >= 30: the pick goes deeper
    deeper = projection.pick(
        voxels, affine, camera, size, (x + 0.5, y + 0.5), BlendMode.COMPOSITE, transfer, cut
    )
    assert deeper is not None and deeper[1] == pytest.approx(30.0, abs=1.0)
