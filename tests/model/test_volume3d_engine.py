"""VTK's ray casters drawing synthetic volumes offscreen (EGL, no display): known objects at
known patient positions must appear where the camera maths says, for each standard view, with
anisotropic, oblique and gantry-tilted stacks; presets, MIP/MinIP and clipping change the
picture as they should. CPU fixed-point ray caster (no GPU here)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("vtkmodules.vtkRenderingVolume", reason="VTK (the [3d] extra) is missing")

from viewer.model.volume3d.engine import VolumeEngine, vtk_problem
from viewer.model.volume3d.scene import (
    PRESETS_BY_NAME,
    BlendMode,
    Scene,
    StandardView,
    patient_bounds,
    standard_camera,
)
from viewer.model.window_level import Voi

SIZE = (160, 160)
AIR = -1000
BRIGHT = 1500
#: The orientation cube's corner (bottom left) is left out of the measurements.
CUBE_PX = 32


def bone_scene(blend: BlendMode | None = None) -> Scene:
    return Scene(PRESETS_BY_NAME["CT Bone"], Voi(-200, 1200), blend)


def bright_pixels(image: np.ndarray, threshold: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """(columns, rows) of the lit pixels outside the orientation cube's corner."""
    grey = image.astype(int).sum(axis=2) // 3
    grey[-CUBE_PX:, :CUBE_PX] = 0
    rows, columns = np.nonzero(grey > threshold)
    return columns, rows


def engine_for(voxels: np.ndarray, affine: np.ndarray, **kw: object) -> Iterator[VolumeEngine]:
    engine = VolumeEngine(voxels, affine, (1.0, 0.0), size=SIZE, **kw)  # type: ignore[arg-type]
    try:
        yield engine
    finally:
        engine.close()


def anisotropic() -> np.ndarray:
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    affine[:3, 3] = (-40.0, -30.0, -60.0)
    return affine


def oblique() -> np.ndarray:
    """Rows and columns turned 30° about the head-foot axis, then 20° about left-right."""
    a, b = math.radians(30), math.radians(20)
    turn = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    tilt = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    affine = np.eye(4)
    affine[:3, :3] = tilt @ turn @ np.diag([1.0, 1.2, 2.0])
    affine[:3, 3] = (-30.0, -25.0, -40.0)
    return affine


def tilted() -> np.ndarray:
    """A gantry tilt of 25°: each slice step also moves 2 mm * tan 25° along the rows (y)."""
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    affine[1, 2] = 2.0 * math.tan(math.radians(25))
    affine[:3, 3] = (-32.0, -40.0, -30.0)
    return affine


GEOMETRIES = {"anisotropic": anisotropic, "oblique": oblique, "tilted": tilted}


def volume_with_points(
    affine: np.ndarray, shape: tuple[int, int, int], points: np.ndarray
) -> np.ndarray:
    """Air with a 3x3x3 voxel bright cube around the voxel nearest each LPS point."""
    voxels = np.full(shape, AIR, np.int16)
    inverse = np.linalg.inv(affine)
    for point in points:
        c, r, k = np.rint(inverse[:3, :3] @ point + inverse[:3, 3]).astype(int)
        voxels[max(k - 1, 0) : k + 2, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2] = BRIGHT
    return voxels


def test_vtk_is_there() -> None:
    assert vtk_problem() is None


@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_mip_of_a_bright_point_projects_where_the_camera_says(geometry: str) -> None:
    affine = GEOMETRIES[geometry]()
    shape = (32, 64, 64)
    # A point off-centre along every axis (left, anterior, superior of the centre).
    centre = patient_bounds(affine, shape).mean(axis=0)
    point = centre + np.array([12.0, -9.0, 7.0])
    voxels = volume_with_points(affine, shape, point[None, :])
    inverse = np.linalg.inv(affine)
    # Where the 3x3x3 cube really is: the voxel nearest the point (the cube is centred on it).
    index = np.rint(inverse[:3, :3] @ point + inverse[:3, 3])
    where = affine[:3, :3] @ index + affine[:3, 3]
    for engine in engine_for(voxels, affine):
        bounds = engine.bounds()
        engine.set_scene(bone_scene(BlendMode.MIP))
        for view in StandardView:
            camera = standard_camera(view, bounds)
            engine.set_camera(camera)
            columns, rows = bright_pixels(engine.render())
            assert columns.size, f"{view}: nothing drawn"
            expected = camera.to_screen(where, SIZE)
            px_per_mm = SIZE[1] / camera.height_mm
            tolerance = 1.5 * float(np.linalg.norm(affine[:3, :3], axis=0).max()) * px_per_mm
            found = (float(columns.mean()), float(rows.mean()))
            assert found == pytest.approx(expected, abs=tolerance), (view, found, expected)


def test_a_straight_rod_in_a_tilted_stack_renders_straight() -> None:
    """A rod along the patient's head-foot axis, acquired with a 25° gantry tilt: in index
    space it leans across the rows; placed by the sheared affine it must stand upright."""
    affine = tilted()
    shape = (40, 64, 64)
    inverse = np.linalg.inv(affine)
    voxels = np.full(shape, AIR, np.int16)
    rod_x, rod_y = 0.0, 0.0
    for k in range(shape[0]):
        z = affine[2, 3] + k * affine[2, 2]
        c, r, _ = inverse[:3, :3] @ (rod_x, rod_y, z) + inverse[:3, 3]
        c, r = round(c), round(r)
        voxels[k, r - 1 : r + 2, c - 1 : c + 2] = BRIGHT
    assert np.ptp(np.nonzero(voxels[:, :, 32])[1]) > 10  # it does lean in index space
    for engine in engine_for(voxels, affine):
        engine.set_scene(bone_scene(BlendMode.MIP))
        for view in (StandardView.LEFT, StandardView.ANTERIOR):
            camera = standard_camera(view, engine.bounds())
            engine.set_camera(camera)
            image = engine.render()
            columns, rows = bright_pixels(image)
            expected_x, _ = camera.to_screen((rod_x, rod_y, 0.0), SIZE)
            # Every lit row has the rod at the same screen column: upright, not sheared.
            per_row = [columns[rows == row].mean() for row in np.unique(rows)]
            assert np.ptp(per_row) <= 2.0, view
            assert float(np.mean(per_row)) == pytest.approx(expected_x, abs=2.0)


def box_phantom(
    affine: np.ndarray, shape: tuple[int, int, int], low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Soft tissue (40 HU) everywhere inside, with a bone box (700 HU) between LPS low/high."""
    frames, rows, columns = shape
    k, r, c = np.meshgrid(np.arange(frames), np.arange(rows), np.arange(columns), indexing="ij")
    lps = (
        np.einsum("ij,jklm->iklm", affine[:3, :3], np.stack([c, r, k]))
        + affine[:3, 3, None, None, None]
    )
    inside = np.all((lps >= low[:, None, None, None]) & (lps <= high[:, None, None, None]), axis=0)
    voxels = np.full(shape, 40, np.int16)
    voxels[inside] = 700
    return voxels


@pytest.mark.parametrize("view", [StandardView.ANTERIOR, StandardView.LEFT, StandardView.SUPERIOR])
def test_bone_extent_on_screen_matches_the_geometry(view: StandardView) -> None:
    """The bone preset hides soft tissue; the bone box's silhouette measures its size in mm
    (parallel projection) within a voxel along each screen axis."""
    affine = anisotropic()
    shape = (40, 80, 80)
    low, high = np.array([-20.0, -10.0, -30.0]), np.array([8.0, 20.0, 15.0])
    voxels = box_phantom(affine, shape, low, high)
    for engine in engine_for(voxels, affine):
        engine.set_scene(bone_scene())
        camera = standard_camera(view, engine.bounds())
        engine.set_camera(camera)
        columns, rows = bright_pixels(engine.render(), threshold=30)
        mm_per_px = camera.height_mm / SIZE[1]
        width_mm = (np.ptp(columns) + 1) * mm_per_px
        height_mm = (np.ptp(rows) + 1) * mm_per_px
        extent = high - low
        right = float(np.abs(camera.right) @ extent)
        up = float(np.abs(np.asarray(camera.up)) @ extent)
        voxel = float(np.linalg.norm(affine[:3, :3], axis=0).max())
        assert width_mm == pytest.approx(right, abs=voxel + mm_per_px), view
        assert height_mm == pytest.approx(up, abs=voxel + mm_per_px), view


def layered_phantom() -> tuple[np.ndarray, np.ndarray]:
    """Air around a body (fat -100, muscle 40, a lung -800 in the middle slices, a bone rod
    700, a vessel 300), rods along the head-foot axis."""
    shape = (40, 96, 96)
    k, r, c = np.ogrid[: shape[0], : shape[1], : shape[2]]
    voxels = np.full(shape, AIR, np.int16)
    body = (c - 48) ** 2 + (r - 48) ** 2 < 40**2
    voxels[:, body[0]] = -100
    voxels[:, ((c - 48) ** 2 + (r - 48) ** 2 < 34**2)[0]] = 40
    voxels[10:30, ((c - 30) ** 2 + (r - 45) ** 2 < 12**2)[0]] = -800  # not all along z
    voxels[:, ((c - 48) ** 2 + (r - 75) ** 2 < 6**2)[0]] = 700
    voxels[:, ((c - 62) ** 2 + (r - 45) ** 2 < 5**2)[0]] = 300
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    affine[:3, 3] = (-48.0, -48.0, -40.0)
    del k
    return voxels, affine


def test_presets_and_blend_modes_draw_different_pictures() -> None:
    voxels, affine = layered_phantom()
    pictures: dict[str, np.ndarray] = {}
    for engine in engine_for(voxels, affine):
        engine.set_camera(standard_camera(StandardView.ANTERIOR, engine.bounds()).rotated(20, 15))
        for name in ("CT Bone", "CT Soft tissue", "CT Lung", "CT Angio", "CT Skin"):
            engine.set_scene(Scene(PRESETS_BY_NAME[name], Voi(-200, 800)))
            pictures[name] = engine.render().astype(int)
        for mode in (BlendMode.MIP, BlendMode.MINIP):
            engine.set_scene(Scene(PRESETS_BY_NAME["CT Bone"], Voi(-1000, 800), mode))
            pictures[mode.value] = engine.render().astype(int)
    for name, picture in pictures.items():
        # From an oblique angle most rays of a MinIP leave the body through air; the CPU
        # projection does not interpolate along rays, so few grey levels remain.
        levels = 4 if name == "MinIP" else 20
        assert len(np.unique(picture.sum(axis=2))) > levels, f"{name} looks blank"
    names = list(pictures)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            difference = np.abs(pictures[first] - pictures[second]).mean()
            assert difference > 2.0, (first, second, difference)


def test_mip_and_minip_show_the_extremes() -> None:
    voxels, affine = layered_phantom()
    for engine in engine_for(voxels, affine):
        camera = standard_camera(StandardView.SUPERIOR, engine.bounds())
        engine.set_camera(camera)
        engine.set_scene(Scene(PRESETS_BY_NAME["CT Bone"], Voi(-1000, 700), BlendMode.MIP))
        mip = engine.render()
        engine.set_scene(Scene(PRESETS_BY_NAME["CT Bone"], Voi(-1000, 700), BlendMode.MINIP))
        minip = engine.render()
    bone = camera.to_screen((0.0, 27.0, 0.0), SIZE)  # the bone rod (column 48, row 75)
    lung = camera.to_screen((-18.0, -3.0, 0.0), SIZE)  # the lung (column 30, row 45)
    x, y = (round(v) for v in bone)
    assert mip[y, x].mean() > 200  # white: the maximum along the ray is bone
    x, y = (round(v) for v in lung)
    assert minip[y, x].mean() < 60  # dark: the minimum along the ray is lung (-800)
    assert mip[y, x].mean() > minip[y, x].mean() + 80  # the muscle above and below it


def test_the_clip_box_removes_what_lies_outside() -> None:
    affine = anisotropic()
    shape = (32, 64, 64)
    centre = patient_bounds(affine, shape).mean(axis=0)
    shift = np.array([15.0, 0.0, 0.0])
    left, right = centre + shift, centre - shift
    voxels = volume_with_points(affine, shape, np.array([left, right]))
    for engine in engine_for(voxels, affine):
        camera = standard_camera(StandardView.ANTERIOR, engine.bounds())
        engine.set_camera(camera)
        engine.set_scene(bone_scene(BlendMode.MIP))
        both = bright_pixels(engine.render())[0]
        low, high = engine.bounds()
        keep_right = (tuple(low), (float(centre[0]), float(high[1]), float(high[2])))
        engine.set_scene(
            Scene(PRESETS_BY_NAME["CT Bone"], Voi(-200, 1200), BlendMode.MIP, keep_right)
        )
        clipped = bright_pixels(engine.render())[0]
    middle = SIZE[0] / 2
    assert (both > middle).any() and (both < middle).any()
    assert clipped.size and (clipped < middle).all()  # only the patient's right (screen left)


def test_interactive_frames_are_coarser_but_show_the_same_thing() -> None:
    voxels, affine = layered_phantom()
    for engine in engine_for(voxels, affine):
        engine.set_camera(standard_camera(StandardView.ANTERIOR, engine.bounds()))
        engine.set_scene(Scene(PRESETS_BY_NAME["CT Skin"], Voi(-200, 800)))
        full = engine.render().astype(int)
        engine.set_interactive(True)
        coarse = engine.render().astype(int)
    assert np.abs(full - coarse).mean() < 40  # shading differs with the sample step
    assert (full.sum(axis=2) > 60).mean() == pytest.approx(
        (coarse.sum(axis=2) > 60).mean(), abs=0.05
    )


def test_the_engine_shares_the_volume_memory() -> None:
    voxels, affine = layered_phantom()
    for engine in engine_for(voxels, affine):
        from vtkmodules.util import numpy_support

        scalars = engine._image.GetPointData().GetScalars()
        view = numpy_support.vtk_to_numpy(scalars)
        assert np.shares_memory(view, voxels)
        assert view.dtype == voxels.dtype == np.int16


def test_an_mpr_plane_cuts_the_volume_keeping_the_side_its_normal_points_to() -> None:
    affine = anisotropic()
    shape = (32, 64, 64)
    centre = patient_bounds(affine, shape).mean(axis=0)
    shift = np.array([0.0, 0.0, 12.0])
    above, below = centre + shift, centre - shift
    voxels = volume_with_points(affine, shape, np.array([above, below]))
    for engine in engine_for(voxels, affine):
        camera = standard_camera(StandardView.ANTERIOR, engine.bounds())
        engine.set_camera(camera)
        cut = ((float(centre[0]), float(centre[1]), float(centre[2])), (0.0, 0.0, 1.0))
        engine.set_scene(replace(bone_scene(BlendMode.MIP), clip_planes=(cut,)))
        rows = bright_pixels(engine.render())[1]
    assert rows.size and (rows < SIZE[1] / 2).all()  # only the upper (superior) point is left


def test_the_cpu_mip_matches_vtks_ray_caster() -> None:
    """MIP/MinIP are projected on the CPU (shear-warp); an oblique cut that removes nothing
    sends the same scene to VTK's ray caster: the two pictures agree."""
    voxels, affine = layered_phantom()
    far = ((0.0, 0.0, -500.0), (0.0, math.sin(0.3), math.cos(0.3)))  # keeps the whole volume
    for engine in engine_for(voxels, affine):
        engine.set_camera(standard_camera(StandardView.ANTERIOR, engine.bounds()).rotated(35, 20))
        for mode in (BlendMode.MIP, BlendMode.MINIP):
            scene = Scene(PRESETS_BY_NAME["CT Bone"], Voi(-1000, 800), mode)
            engine.set_scene(scene)
            cpu = engine.render().astype(int)
            assert engine.cpu_projection
            engine.set_scene(replace(scene, clip_planes=(far,)))
            ray_cast = engine.render().astype(int)
            assert not engine.cpu_projection
            assert np.abs(cpu - ray_cast).mean() < 6, mode


def test_a_large_volume_starts_from_its_coarse_copy_then_draws_full_resolution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Level of detail: above LOD_MIN_VOXELS the first frame (preview) and the frames while
    dragging come from every second voxel; the full-resolution frame shows the same thing."""
    from viewer.model.volume3d import engine as engine_module

    voxels, affine = layered_phantom()
    monkeypatch.setattr(engine_module, "LOD_MIN_VOXELS", voxels.size // 2)
    for engine in engine_for(voxels, affine):
        assert engine.has_preview and not engine.full_ready
        engine.set_camera(standard_camera(StandardView.ANTERIOR, engine.bounds()).rotated(20, 10))
        engine.set_scene(Scene(PRESETS_BY_NAME["CT Skin"], Voi(-200, 800)))
        flat = engine.render(preview=True, flat=True).astype(int)
        assert engine.preview and not engine.coarse_ready and not engine.full_ready
        preview = engine.render(preview=True).astype(int)
        assert engine.preview and engine.coarse_ready and not engine.full_ready
        full = engine.render().astype(int)
        assert not engine.preview and engine.full_ready
        engine.set_interactive(True)
        dragging = engine.render().astype(int)
        engine.set_scene(bone_scene(BlendMode.MIP))
        mip_dragging = engine.render().astype(int)
        engine.set_interactive(False)
        mip = engine.render().astype(int)
    lit = [(p.sum(axis=2) > 60).mean() for p in (preview, full, dragging)]
    assert lit[0] == pytest.approx(lit[1], abs=0.05) and lit[2] == pytest.approx(lit[1], abs=0.05)
    assert np.abs(preview - full).mean() < 40
    assert (flat.sum(axis=2) > 60).mean() == pytest.approx(lit[1], abs=0.08)  # unshaded
    assert np.abs(mip_dragging - mip).mean() < 15
