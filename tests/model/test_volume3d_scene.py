"""The 3D scene description without an engine: transfer functions, presets, placement of the
voxel grid in patient space, the memory plan and the camera (no VTK, no Qt)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from viewer.model.orientation import direction_letters
from viewer.model.volume3d.scene import (
    PRESETS,
    PRESETS_BY_NAME,
    SHADING_BYTES_PER_VOXEL,
    BlendMode,
    Scene,
    StandardView,
    TransferFunction,
    VrPreset,
    decimated,
    decimation,
    edited,
    nearest_standard_view,
    patient_bounds,
    placement,
    preset_from_json,
    preset_from_voi,
    preset_to_json,
    presets_for,
    ramp,
    standard_camera,
)
from viewer.model.window_level import Voi

RNG_SEED = 20261207


def random_affine(rng: np.random.Generator, shear: bool) -> np.ndarray:
    """An index -> LPS affine with random orientation, anisotropic spacing and maybe a tilt."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    spacing = rng.uniform(0.3, 5.0, size=3)
    linear = q * spacing
    if shear:  # gantry tilt: the slice step leans along the column direction
        linear[:, 2] += math.tan(math.radians(rng.uniform(-30, 30))) * spacing[2] * q[:, 1]
    affine = np.eye(4)
    affine[:3, :3] = linear
    affine[:3, 3] = rng.uniform(-300, 300, size=3)
    return affine


# --- transfer functions ------------------------------------------------------------------------
@pytest.mark.parametrize("slope", [1.0, 0.5, 2.5, -1.0, -0.25])
@pytest.mark.parametrize("intercept", [-1024.0, 0.0, 3.5])
def test_transfer_in_stored_values_gives_the_same_colour_and_opacity(
    slope: float, intercept: float
) -> None:
    modality = PRESETS_BY_NAME["CT Bone"].transfer
    stored = modality.in_stored(slope, intercept)
    for value in np.linspace(-1200, 3000, 57):
        s = (value - intercept) / slope  # the stored value whose modality value is ``value``
        assert stored.opacity_at(s) == pytest.approx(modality.opacity_at(value), abs=1e-9)
        assert stored.colour_at(s) == pytest.approx(modality.colour_at(value), abs=1e-9)


def test_transfer_points_must_ascend() -> None:
    with pytest.raises(ValueError):
        TransferFunction(((0, (0, 0, 0)),), ((10, 0.0), (5, 1.0)))


def test_every_preset_is_well_formed_and_they_differ() -> None:
    names = [p.name for p in PRESETS]
    assert {"CT Bone", "CT Soft tissue", "CT Lung", "CT Angio", "CT Skin"} <= set(names)
    assert {"MR Default", "MR Angio"} <= set(names)
    assert len(set(names)) == len(names)
    voi = Voi(0, 1000)
    transfers = [p.transfer_for(voi) for p in PRESETS]
    for transfer in transfers:
        assert transfer.visible_range() is not None
        assert all(0 <= a <= 1 for _, a in transfer.opacity)
        assert all(0 <= c <= 1 for _, rgb in transfer.colour for c in rgb)
    # Each pair differs somewhere on the CT range.
    probe = np.linspace(-1000, 2000, 301)
    for i, first in enumerate(transfers):
        for second in transfers[i + 1 :]:
            assert any(abs(first.opacity_at(v) - second.opacity_at(v)) > 0.02 for v in probe)


def test_bone_preset_hides_soft_tissue_and_shows_bone() -> None:
    bone = PRESETS_BY_NAME["CT Bone"].transfer
    assert bone.opacity_at(-1000) == 0 and bone.opacity_at(60) == 0  # air, soft tissue
    assert bone.opacity_at(700) > 0.5  # cortical/cancellous bone
    lung = PRESETS_BY_NAME["CT Lung"].transfer
    assert lung.opacity_at(-820) > 0 and lung.opacity_at(60) == 0


def test_relative_presets_follow_the_window() -> None:
    preset = PRESETS_BY_NAME["MR Default"]
    low = preset.transfer_for(Voi(0, 100)).visible_range()
    high = preset.transfer_for(Voi(1000, 3000)).visible_range()
    assert low is not None and high is not None
    assert 0 <= low[0] < low[1] <= 100
    assert 1000 <= high[0] < high[1] <= 3000
    with pytest.raises(ValueError):
        preset.transfer_for(None)
    assert presets_for("MR")[0] is preset
    assert presets_for("CT")[0].name == "CT Bone"
    assert all(p.modality == "MR" for p in presets_for("PT"))


def test_preset_from_the_window_starts_transparent_below_it() -> None:
    transfer = preset_from_voi(Voi(100, 300)).transfer
    assert transfer.opacity_at(99) == 0
    assert transfer.opacity_at(300) == pytest.approx(0.8)


def test_mip_uses_a_grey_ramp_over_the_window() -> None:
    scene = Scene(PRESETS_BY_NAME["CT Bone"], Voi(-100, 300), BlendMode.MIP)
    assert scene.blend_mode is BlendMode.MIP
    assert scene.transfer() == ramp(Voi(-100, 300))
    assert Scene(PRESETS_BY_NAME["CT Bone"], Voi(0, 1)).blend_mode is BlendMode.COMPOSITE
    with pytest.raises(ValueError):
        Scene(PRESETS_BY_NAME["CT Bone"], None, BlendMode.MINIP).transfer()


# --- geometry ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shear", [False, True])
def test_placement_reproduces_the_affine(shear: bool) -> None:
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(50):
        affine = random_affine(rng, shear)
        place = placement(affine)
        scaled = place.matrix.copy()
        scaled[:3, :3] = place.matrix[:3, :3] * np.asarray(place.spacing)
        np.testing.assert_allclose(scaled, affine, atol=1e-9)
        index = rng.uniform(0, 200, size=3)
        lps = place.matrix @ np.append(index * np.asarray(place.spacing), 1.0)
        np.testing.assert_allclose(lps, affine @ np.append(index, 1.0), atol=1e-9)
        if not shear:  # an orthogonal stack is placed by a rotation (normals stay normals)
            linear = place.matrix[:3, :3]
            np.testing.assert_allclose(linear.T @ linear, np.eye(3), atol=1e-9)


def test_patient_bounds_cover_the_voxel_centres() -> None:
    affine = np.diag([0.7, 0.7, 2.5, 1.0])
    affine[:3, 3] = (-100, -50, 20)
    low, high = patient_bounds(affine, (11, 21, 31))  # frames, rows, columns
    np.testing.assert_allclose(low, (-100, -50, 20))
    np.testing.assert_allclose(high, (-100 + 30 * 0.7, -50 + 20 * 0.7, 20 + 10 * 2.5))


# --- memory --------------------------------------------------------------------------------------
def test_a_volume_that_fits_is_shared_not_copied() -> None:
    voxels = np.zeros((30, 40, 50), np.int16)
    plan = decimation(voxels.shape, 2, budget_bytes=voxels.size * SHADING_BYTES_PER_VOXEL)
    assert plan.identity and plan.notice == ""
    shown, affine = decimated(voxels, np.eye(4), plan)
    assert shown is voxels and shown.dtype == np.int16
    np.testing.assert_array_equal(affine, np.eye(4))


@pytest.mark.parametrize(
    ("shape", "itemsize"),
    [((2000, 512, 512), 2), ((300, 512, 512), 2), ((64, 1024, 1024), 1), ((2000, 512, 512), 4)],
)
@pytest.mark.parametrize("budget_mib", [64, 256, 1024, 4096])
def test_downsampling_keeps_within_the_budget(
    shape: tuple[int, int, int], itemsize: int, budget_mib: int
) -> None:
    budget = budget_mib * 2**20
    plan = decimation(shape, itemsize, budget)
    shown = [math.ceil(n / s) for n, s in zip(shape, plan.step, strict=True)]
    count = math.prod(shown)
    need = count * SHADING_BYTES_PER_VOXEL + (0 if plan.identity else count * itemsize)
    assert need <= budget
    if not plan.identity:
        assert "downsampled" in plan.notice and "memory budget" in plan.notice
        # Not coarser than needed: halving one step less would not fit.
        assert all(s & (s - 1) == 0 for s in plan.step)


def test_decimated_volume_keeps_its_patient_geometry() -> None:
    voxels = np.arange(8 * 10 * 12, dtype=np.uint16).reshape(8, 10, 12)
    affine = np.diag([0.5, 0.6, 3.0, 1.0])
    affine[:3, 3] = (5, 6, 7)
    plan = decimation(voxels.shape, 2, budget_bytes=400)
    small, scaled = decimated(voxels, affine, plan)
    assert small.dtype == np.uint16 and small.flags.c_contiguous
    fs, rs, cs = plan.step
    # Voxel (c, r, k) of the small grid is voxel (c*cs, r*rs, k*fs) of the full one, same place.
    for k, r, c in [(0, 0, 0), (small.shape[0] - 1, 1, small.shape[2] - 1)]:
        assert small[k, r, c] == voxels[k * fs, r * rs, c * cs]
        np.testing.assert_allclose(
            scaled @ (c, r, k, 1), affine @ (c * cs, r * rs, k * fs, 1), atol=1e-12
        )


# --- camera --------------------------------------------------------------------------------------
#: What the screen's right and up show in each standard view (patient directions).
EXPECTED_SCREEN = {
    StandardView.ANTERIOR: ("L", "H"),  # facing the patient: their left on our right
    StandardView.POSTERIOR: ("R", "H"),
    StandardView.LEFT: ("P", "H"),
    StandardView.RIGHT: ("A", "H"),
    StandardView.SUPERIOR: ("R", "A"),  # from above, anterior up (3D Slicer's S view)
    StandardView.INFERIOR: ("L", "A"),  # from below: the radiological axial convention
}

BOX = np.array([[-100.0, -80.0, -200.0], [120.0, 90.0, 50.0]])


@pytest.mark.parametrize("view", list(StandardView))
def test_standard_views_put_the_patient_where_a_radiologist_expects(view: StandardView) -> None:
    camera = standard_camera(view, BOX)
    right, up = EXPECTED_SCREEN[view]
    assert direction_letters(camera.right) == right
    assert direction_letters(camera.up) == up
    assert nearest_standard_view(camera) is view
    # The camera sits on the named side of the patient.
    letter = {"A": "A", "P": "P", "L": "L", "R": "R", "S": "H", "I": "F"}[view.value]
    assert direction_letters(-np.asarray(camera.direction)) == letter


@pytest.mark.parametrize("view", list(StandardView))
def test_standard_views_frame_the_whole_volume(view: StandardView) -> None:
    size = (400, 300)
    camera = standard_camera(view, BOX, aspect=size[0] / size[1])
    corners = [(x, y, z) for x in BOX[:, 0] for y in BOX[:, 1] for z in BOX[:, 2]]
    for corner in corners:
        column, row = camera.to_screen(corner, size)
        assert -0.5 <= column <= size[0] - 0.5 and -0.5 <= row <= size[1] - 0.5


def test_turning_the_camera_four_quarter_turns_comes_back() -> None:
    camera = standard_camera(StandardView.ANTERIOR, BOX)
    turned = camera
    for _ in range(4):
        turned = turned.rotated(90, 0)
    np.testing.assert_allclose(turned.direction, camera.direction, atol=1e-9)
    np.testing.assert_allclose(turned.up, camera.up, atol=1e-9)


def test_dragging_right_from_the_front_shows_the_patients_right_side() -> None:
    camera = standard_camera(StandardView.ANTERIOR, BOX).rotated(90, 0)
    assert nearest_standard_view(camera) is StandardView.RIGHT
    over = standard_camera(StandardView.ANTERIOR, BOX).rotated(0, -90)
    assert nearest_standard_view(over) is StandardView.SUPERIOR  # drag down: look from above


def test_rotation_keeps_an_orthonormal_frame() -> None:
    rng = np.random.default_rng(RNG_SEED)
    camera = standard_camera(StandardView.LEFT, BOX)
    for _ in range(200):
        camera = camera.rotated(*rng.uniform(-40, 40, size=2))
        camera = camera.rolled(float(rng.uniform(-10, 10)))
    direction, up = np.asarray(camera.direction), np.asarray(camera.up)
    assert np.linalg.norm(direction) == pytest.approx(1)
    assert np.linalg.norm(up) == pytest.approx(1)
    assert float(direction @ up) == pytest.approx(0, abs=1e-9)


def test_zoom_and_pan_move_points_on_screen_as_asked() -> None:
    size = (200, 200)
    camera = standard_camera(StandardView.ANTERIOR, BOX)
    point = (30.0, 0.0, 10.0)
    x0, y0 = camera.to_screen(point, size)
    zoomed = camera.zoomed(2.0)
    x1, y1 = zoomed.to_screen(point, size)
    assert (x1 - 99.5) == pytest.approx(2 * (x0 - 99.5))
    assert (y1 - 99.5) == pytest.approx(2 * (y0 - 99.5))
    mm = camera.height_mm / size[1]
    x2, y2 = camera.panned(10 * mm, -5 * mm).to_screen(point, size)
    assert (x2 - x0, y2 - y0) == pytest.approx((10, 5))


# --- the preset editor and saved presets ---------------------------------------------------------
def test_editing_moves_and_widens_the_transfer_function() -> None:
    bone = PRESETS_BY_NAME["CT Bone"].transfer
    shown = bone.visible_range()
    assert shown is not None
    centre = (shown[0] + shown[1]) / 2
    moved = edited(bone, 100.0, 1.0)
    for value in np.linspace(-1000, 3000, 41):
        assert moved.opacity_at(value + 100.0) == pytest.approx(bone.opacity_at(value))
    wider = edited(bone, 0.0, 2.0)
    for value in np.linspace(-1000, 3000, 41):
        assert wider.opacity_at(centre + 2 * (value - centre)) == pytest.approx(
            bone.opacity_at(value)
        )
    assert edited(bone, 0.0, 1.0) == bone


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_presets_round_trip_through_json(preset: VrPreset) -> None:
    data = json.loads(json.dumps(preset_to_json(preset)))
    assert preset_from_json(data) == preset


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("opacity"),
        lambda d: d.__setitem__("blend", "X-ray"),
        lambda d: d.__setitem__("opacity", [[0, 2.0]]),
        lambda d: d.__setitem__("colour", [[5, 0, 0, 0], [1, 1, 1, 1]]),
        lambda d: d.__setitem__("shading", [True]),
        lambda d: d.__setitem__("colour", "red"),
    ],
)
def test_a_damaged_stored_preset_is_refused_with_a_reason(damage: Any) -> None:
    data = preset_to_json(PRESETS_BY_NAME["CT Bone"])
    damage(data)
    with pytest.raises(ValueError, match="not a 3D preset"):
        preset_from_json(data)
