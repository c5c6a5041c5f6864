"""The 3D view driven as a user would (drags, wheel, keys, the preset box) and headless
``screenshot --layout 3d`` of real files: a synthetic CT with a bright block at a known patient
position (left, anterior, superior) and the demo CT. CPU ray caster (no GPU on this machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests import factories
from tests.gui_driving import module_main_window, wait_for
from viewer.model.mpr import MprVolume
from viewer.model.volume3d.scene import BlendMode, StandardView, nearest_standard_view
from viewer.model.window_level import Voi
from viewer.qt import volume_view
from viewer.qt.main_window import MainWindow
from viewer.qt.settings import ViewerSettings
from viewer.qt.volume_view import VolumeView3D

pytest.importorskip("vtkmodules.vtkRenderingVolume", reason="VTK (the [3d] extra) is missing")

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier
AIR_STORED = 24  # -1000 HU with the factory's intercept -1024
BLOCK_STORED = 2024  # +1000 HU


def phantom_volume() -> MprVolume:
    voxels = np.full((24, 48, 40), -1000, np.int16)
    voxels[16:23, 6:15, 28:37] = 1000
    voxels[:, 20:28, 16:24] = 300
    affine = np.diag([0.8, 0.6, 2.0, 1.0])
    affine[:3, 3] = (-16.0, -14.0, -20.0)
    return MprVolume.from_arrays(voxels, affine)


@pytest.fixture
def view(qtbot: object) -> Iterator[VolumeView3D]:
    widget = VolumeView3D(modality="CT", voi=Voi(-200, 1200))
    widget.resize(900, 420)
    widget.show()
    QApplication.processEvents()  # the final size before the first frame
    widget.set_volume(phantom_volume())
    wait_for(lambda: widget.was_painted, 60)
    yield widget
    widget.shutdown()
    widget.close()


def settle(view: VolumeView3D) -> np.ndarray:
    """Wait for the full-quality frame of the current request; return the canvas picture."""
    wait_for(lambda: view.shown_id == view._latest and not view.shown_interactive, 60)
    assert view.canvas.pixels is not None
    return view.canvas.pixels.copy()


def mouse(widget: VolumeView3D, kind: QMouseEvent.Type, point: QPointF,
          buttons: Qt.MouseButton, button: Qt.MouseButton = LEFT) -> None:  # fmt: skip
    target = widget.canvas
    event = QMouseEvent(kind, point, target.mapToGlobal(point), button, buttons, NONE)
    QApplication.sendEvent(target, event)


def drag(widget: VolumeView3D, start: QPointF, end: QPointF, steps: int = 6,
         button: Qt.MouseButton = LEFT) -> None:  # fmt: skip
    mouse(widget, QMouseEvent.Type.MouseButtonPress, start, button, button)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        mouse(widget, QMouseEvent.Type.MouseMove, point, button, button)
        QApplication.processEvents()
    mouse(widget, QMouseEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton, button)


def test_the_first_frame_is_drawn_and_not_blank(view: VolumeView3D) -> None:
    picture = settle(view)
    assert picture.shape[2] == 3
    assert len(np.unique(picture.sum(axis=2))) > 20
    assert "ms" in view.readout.text()
    assert "ray cast" in view.readout.toolTip()


def test_dragging_rotates_with_coarse_frames_then_a_full_one(view: VolumeView3D) -> None:
    settle(view)
    before = view.camera
    timed: list[bool] = []
    view.frame_timed.connect(lambda _ms, interactive: timed.append(interactive))
    drag(view, QPointF(100, 150), QPointF(100 + 90 / volume_view.DEGREES_PER_PIXEL, 150), steps=8)
    after = settle(view)
    assert view.camera is not None and before is not None
    assert nearest_standard_view(view.camera) is StandardView.RIGHT  # 90° to the right
    assert timed[-1] is False  # the last frame is full quality
    assert len(np.unique(after.sum(axis=2))) > 20


def test_wheel_zooms_and_keys_pick_standard_views(view: VolumeView3D) -> None:
    settle(view)
    assert view.camera is not None
    height = view.camera.height_mm
    centre = QPointF(view.canvas.width() / 2, view.canvas.height() / 2)
    event = QWheelEvent(
        centre, view.canvas.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, NONE, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(view.canvas, event)
    assert view.camera.height_mm == pytest.approx(height / volume_view.WHEEL_ZOOM**2)
    for key, expected in ((Qt.Key.Key_L, StandardView.LEFT), (Qt.Key.Key_S, StandardView.SUPERIOR)):
        QTest.keyClick(view, key)
        assert nearest_standard_view(view.camera) is expected
    QTest.keyClick(view, Qt.Key.Key_0)
    assert nearest_standard_view(view.camera) is StandardView.ANTERIOR
    assert view.camera.height_mm == pytest.approx(height)


def test_presets_and_blend_modes_change_the_picture(view: VolumeView3D) -> None:
    pictures = {"bone": settle(view).astype(int)}
    view.preset_box.setCurrentIndex(view.preset_box.findText("CT Soft tissue"))
    pictures["soft"] = settle(view).astype(int)
    view.blend_box.setCurrentIndex(view.blend_box.findText(BlendMode.MIP.value))
    pictures["mip"] = settle(view).astype(int)
    assert view.scene.blend_mode is BlendMode.MIP
    names = list(pictures)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            lit = (pictures[first].sum(axis=2) + pictures[second].sum(axis=2)) > 0
            difference = np.abs(pictures[first] - pictures[second])[lit].mean()
            assert difference > 3.0, (first, second, difference)


def test_without_vtk_the_view_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, qtbot: object
) -> None:
    reason = "3D needs VTK, which is not installed (pip install 'dicom-viewer[3d]'): test"
    monkeypatch.setattr(volume_view, "vtk_problem", lambda: reason)
    widget = VolumeView3D(modality="CT")
    failures: list[str] = []
    widget.failed.connect(failures.append)
    widget.stack = object()  # type: ignore[assignment]
    widget.start()
    assert failures == [reason]
    assert widget.canvas.message == reason
    widget.set_volume(phantom_volume())  # ignored: nothing to draw with
    assert widget.worker is None
    widget.close()


# --- the main window ------------------------------------------------------------------------------
def write_block_ct(folder: Path) -> factories.SeriesTruth:
    """24 axial slices of air (0.6 x 0.8 mm pixels, 2 mm apart) with a 1000 HU block at the
    patient's left (columns 28-36), anterior (rows 6-14) and superior (slices 16-22) side."""
    truth = factories.write_series(folder, slices=24, rows=48, columns=40, spacing=2.0)
    for k, path in enumerate(truth.paths):
        frame = np.full((1, 48, 40), AIR_STORED, np.uint16)
        if 16 <= k <= 22:
            frame[0, 6:15, 28:37] = BLOCK_STORED
        ds = dcmread(path)
        factories.set_pixels(ds, frame)
        ds.save_as(path)
    return truth


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MainWindow]:
    folder = tmp_path_factory.mktemp("block-ct")
    write_block_ct(folder)
    yield from module_main_window([str(folder)], size=(1100, 750))


def test_key_d_shows_the_stack_in_3d_and_again_returns(window: MainWindow) -> None:
    wait_for(lambda: window.current_series is not None, 60)
    QTest.keyClick(window, Qt.Key.Key_D)
    view = window.vr_view
    assert view is not None
    wait_for(lambda: view.was_painted, 120)
    assert not window.viewports.isVisible()
    picture = view.canvas.pixels
    assert picture is not None
    assert len(np.unique(picture.sum(axis=2))) > 10
    QTest.keyClick(window, Qt.Key.Key_D)
    assert window.vr_view is None and window.viewports.isVisible()


def test_keys_on_the_window_work_after_every_layout_change(window: MainWindow) -> None:
    """D twice (3D on, off), then M must open the MPR (#19's note); and after each layout
    change (3D, MPR, 3D straight to MPR, the toolbar's layouts) the image keys reach the
    active viewport. Every key is a QTest key click on the window, as a user types."""
    wait_for(lambda: window.current_series is not None, 60)

    def type_key(key: Qt.Key) -> None:
        QTest.keyClick(window, key)
        QApplication.processEvents()

    def image_keys_work() -> None:
        assert window.viewports.isVisible() and QApplication.focusWidget() is window.viewport
        inverted, index = window.state.invert, window.state.index
        type_key(Qt.Key.Key_I)
        assert window.state.invert is not inverted
        type_key(Qt.Key.Key_I)
        type_key(Qt.Key.Key_Down if index == 0 else Qt.Key.Key_Up)
        assert window.state.index != index

    type_key(Qt.Key.Key_D)  # 3D on
    assert window.vr_view is not None
    wait_for(lambda: window.vr_view is not None and window.vr_view.was_painted, 120)
    type_key(Qt.Key.Key_D)  # ...and off
    assert window.vr_view is None
    image_keys_work()
    type_key(Qt.Key.Key_M)  # the MPR opens after 3D was closed
    assert window.mpr_view is not None and window.mpr_action.isChecked()
    type_key(Qt.Key.Key_M)
    assert window.mpr_view is None
    image_keys_work()
    type_key(Qt.Key.Key_D)  # 3D, then M straight from it: the MPR replaces the 3D view
    assert window.vr_view is not None
    type_key(Qt.Key.Key_M)
    assert window.mpr_view is not None and window.vr_view is None
    assert not window.vr_action.isChecked()
    type_key(Qt.Key.Key_D)  # and D from the MPR: 3D replaces it
    assert window.vr_view is not None and window.mpr_view is None
    type_key(Qt.Key.Key_D)
    image_keys_work()
    controls = window.view_controls
    for name in ("2x2", "1x2", "1x1"):  # the toolbar's layout buttons, then keys
        button = controls.toolbar.widgetForAction(controls.layout_actions[name])
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()
        assert window.viewports.layout_name == name
        image_keys_work()
        shown = window.viewports.visible_viewports()
        for _ in shown:  # Tab: the next viewport takes the keys, all the way round
            before = window.viewport
            type_key(Qt.Key.Key_Tab)
            assert window.viewport is shown[(shown.index(before) + 1) % len(shown)]
            assert QApplication.focusWidget() is window.viewport
        image_keys_work()
        type_key(Qt.Key.Key_M)
        assert window.mpr_view is not None
        type_key(Qt.Key.Key_M)
        assert window.mpr_view is None
        image_keys_work()


# --- headless screenshots -------------------------------------------------------------------------
def screenshot(folder: Path, out: Path, *options: str) -> np.ndarray:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)  # as in CI: VTK must render without a display server
    command = [sys.executable, "-m", "viewer", "screenshot", str(out), "--layout", "3d"]
    command += ["--size", "900x600", *options, str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def canvas_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the 3D canvas: the only pure black area of the window."""
    rows, columns = np.nonzero(image.sum(axis=2) == 0)
    return int(columns.min()), int(rows.min()), int(columns.max()), int(rows.max())


#: Where the block (left, anterior, superior of the centre) must appear: (screen x sign,
#: screen y sign) from the canvas centre, y down.
BLOCK_SIDE = {
    "A": (+1, -1),  # the patient's left on the screen's right, superior up
    "L": (-1, -1),  # from the left: anterior on the screen's left
    "S": (-1, -1),  # from above, anterior up: the patient's left on the screen's left
}


@pytest.mark.parametrize("letter", list(BLOCK_SIDE))
def test_screenshot_3d_puts_the_block_where_it_is_in_the_patient(
    tmp_path: Path, letter: str
) -> None:
    folder = tmp_path / "ct"
    write_block_ct(folder)
    image = screenshot(folder, tmp_path / f"{letter}.png", "--view", letter, "--blend", "mip")
    left, top, right, bottom = canvas_box(image)
    canvas = image[top : bottom + 1, left : right + 1]
    grey = canvas.sum(axis=2) / 3
    grey[-int(0.2 * grey.shape[0]) :, : int(0.2 * grey.shape[0])] = 0  # the orientation cube
    rows, columns = np.nonzero(grey > 150)
    assert rows.size > 20, "the block is not drawn"
    x_sign, y_sign = BLOCK_SIDE[letter]
    centre_x, centre_y = (canvas.shape[1] - 1) / 2, (canvas.shape[0] - 1) / 2
    assert np.sign(columns.mean() - centre_x) == x_sign
    assert np.sign(rows.mean() - centre_y) == y_sign


def test_screenshot_3d_of_the_demo_ct_from_the_left_shows_the_spine_behind(
    demo_study: Path, tmp_path: Path
) -> None:
    ct = next(p for p in demo_study.rglob("*") if p.is_dir() and len(list(p.iterdir())) > 100)
    image = screenshot(ct, tmp_path / "demo-L.png", "--view", "L", "--preset", "CT Bone")
    left, top, right, bottom = canvas_box(image)
    canvas = image[top : bottom + 1, left : right + 1]
    red, green, blue = canvas[..., 0], canvas[..., 1], canvas[..., 2]
    bone = (red > 150) & (green > 120) & (red > blue + 40)
    assert bone.sum() > 2000, "no bone drawn"
    # From the patient's left, posterior is on the screen's right: the vertebral column (the
    # densest bone) lies in the right half, the sternum (thin) in the left.
    densest = int(np.argmax(bone.sum(axis=0)))
    assert densest > canvas.shape[1] / 2


# --- step 2: the preset editor, the Rendering setting, the MPR's fourth quadrant -----------------
def test_ctrl_drag_edits_the_preset_and_save_keeps_it_in_the_settings(
    tmp_path: Path, qtbot: object
) -> None:
    store = ViewerSettings(tmp_path / "settings.ini")
    widget = VolumeView3D(modality="CT", voi=Voi(-200, 1200), store=store)
    widget.resize(900, 420)
    widget.show()
    QApplication.processEvents()  # the final size before the first frame
    widget.set_volume(phantom_volume())
    try:
        wait_for(lambda: widget.was_painted, 60)
        before = settle(widget).astype(int)
        bone = widget.scene.preset.transfer
        start, end = QPointF(150, 150), QPointF(150, 90)  # Ctrl + drag up
        target = widget.canvas
        press = QMouseEvent(QMouseEvent.Type.MouseButtonPress, start, target.mapToGlobal(start),
                            LEFT, LEFT, Qt.KeyboardModifier.ControlModifier)  # fmt: skip
        QApplication.sendEvent(target, press)
        move = QMouseEvent(QMouseEvent.Type.MouseMove, end, target.mapToGlobal(end), LEFT, LEFT,
                           Qt.KeyboardModifier.ControlModifier)  # fmt: skip
        QApplication.sendEvent(target, move)
        QApplication.sendEvent(
            target,
            QMouseEvent(QMouseEvent.Type.MouseButtonRelease, end, target.mapToGlobal(end), LEFT,
                        Qt.MouseButton.NoButton, NONE),
        )  # fmt: skip
        assert widget.scene.preset.name == "CT Bone (edited)"
        assert widget.edit_shift > 0  # dragging up moves the ramp to higher values
        moved = widget.scene.preset.transfer
        assert moved.visible_range()[0] > bone.visible_range()[0]  # type: ignore[index]
        after = settle(widget).astype(int)
        lit = (after.sum(axis=2) + before.sum(axis=2)) > 0
        assert np.abs(after - before)[lit].mean() > 3.0
        widget.save_preset("My bone")
        assert widget.preset_box.currentText() == "My bone"
        saved = ViewerSettings(tmp_path / "settings.ini").vr_presets()
        assert [p.name for p in saved] == ["My bone"]
        assert saved[0].transfer == moved
    finally:
        widget.shutdown()
        widget.close()
    again = VolumeView3D(modality="CT", store=ViewerSettings(tmp_path / "settings.ini"))
    assert "My bone" in [again.preset_box.itemText(i) for i in range(again.preset_box.count())]
    again.close()


def test_the_rendering_setting_switches_between_the_cpu_and_gpu_ray_casters(
    view: VolumeView3D,
) -> None:
    settle(view)
    assert view.worker is not None and view.worker.gpu is False  # offscreen Qt: software
    assert "CPU fixed-point" in view.readout.toolTip()
    view.set_rendering(True)  # OpenGL: VTK's GPU ray caster (on Mesa here)
    assert view.worker is not None and view.worker.gpu is True
    wait_for(lambda: "GPU ray cast" in view.readout.toolTip(), 60)
    assert len(np.unique(settle(view).sum(axis=2))) > 20
    view.set_rendering(False)
    wait_for(lambda: "CPU fixed-point" in view.readout.toolTip(), 60)


def test_mpr_shows_the_volume_in_3d_with_its_crosshair_and_cuts(window: MainWindow) -> None:
    wait_for(lambda: window.current_series is not None, 60)
    window.mpr_action.trigger()  # the toolbar's MPR button
    mpr_view = window.mpr_view
    assert mpr_view is not None
    wait_for(lambda: mpr_view.volume_3d is not None and mpr_view.volume_3d.was_painted, 120)
    quadrant, state = mpr_view.volume_3d, mpr_view.state
    assert quadrant is not None and state is not None
    assert quadrant.volume is state.volume  # one copy, shared
    point = state.volume.center() + np.array([3.0, -2.0, 4.0])
    state.set_point(point)
    assert quadrant.scene.crosshair == pytest.approx(tuple(state.point))
    mpr_view.clip_box.setCurrentIndex(mpr_view.clip_box.findText("3D: above axial"))
    ((origin, normal),) = quadrant.scene.clip_planes
    assert origin == pytest.approx(tuple(state.point)) and normal == pytest.approx((0, 0, 1))
    state.set_voi(Voi(0, 500))
    assert quadrant.scene.voi == Voi(0, 500)
    window.mpr_action.trigger()
    assert window.mpr_view is None


def test_the_clip_box_sliders_cut_the_volume(view: VolumeView3D) -> None:
    """Box shows six sliders; moving R-L's low end to 3/4 keeps the patient's leftmost
    quarter (the block, not the rod at the middle), which the A view shows on the right."""
    whole = settle(view).astype(int).sum(axis=2)
    assert not view.clip_panel.isVisible()
    view.box_button.click()
    assert view.clip_panel.isVisible()
    view.set_clip_fractions(0, 0.75, 1.0)
    assert view.bounds is not None and view.camera is not None
    low, high = view.bounds
    cut_x = float(low[0] + 0.75 * (high[0] - low[0]))
    assert view.scene.clip_box is not None
    box_low, box_high = view.scene.clip_box
    assert box_low == pytest.approx((cut_x, low[1], low[2])) and box_high == pytest.approx(high)
    cut = settle(view).astype(int).sum(axis=2)
    cube = int(0.2 * cut.shape[0])
    cut[-cube:, :cube] = whole[-cube:, :cube] = 0  # the orientation cube
    edge = round(view.camera.to_screen((cut_x, 0.0, 0.0), (cut.shape[1], cut.shape[0]))[0])
    assert whole[:, : edge - 3].max() > 100  # the rod left of the cut (on screen)...
    assert cut[:, : edge - 3].max() < 30  # ... is gone; the block right of it stays
    assert cut[:, edge + 3 :].max() > 100
    view.clip_sliders[(0, 1)].setValue(0)  # the high end pushes the low end along
    assert view.clip_sliders[(0, 0)].value() == 0
    view.reset_clip_box()
    assert view.scene.clip_box is None


def test_a_click_picks_the_first_opaque_voxel_under_the_mouse(view: VolumeView3D) -> None:
    settle(view)
    picked: list[np.ndarray] = []
    view.picked.connect(picked.append)
    volume = view.volume
    assert volume is not None and view.camera is not None
    block = volume.to_patient((32.0, 10.0, 19.0))  # the block's centre (column, row, frame)
    x, y = view.camera.to_screen(block, view.canvas.render_size())
    ratio = view.canvas.width() / view.canvas.render_size()[0]
    at = QPointF((x + 0.5) * ratio, (y + 0.5) * ratio)
    mouse(view, QMouseEvent.Type.MouseButtonPress, at, LEFT, LEFT)
    mouse(view, QMouseEvent.Type.MouseButtonRelease, at, Qt.MouseButton.NoButton, LEFT)
    assert len(picked) == 1
    front = volume.to_patient((32.0, 6.0, 19.0))  # the block's anterior face (row 6)
    assert picked[0][0] == pytest.approx(block[0], abs=1.0)
    assert picked[0][2] == pytest.approx(block[2], abs=2.0)
    assert picked[0][1] == pytest.approx(front[1], abs=1.0)
    assert view.camera is not None and nearest_standard_view(view.camera) is StandardView.ANTERIOR


def test_a_click_in_the_mpr_quadrant_moves_the_crosshair(window: MainWindow) -> None:
    wait_for(lambda: window.current_series is not None, 60)
    window.mpr_action.trigger()
    mpr_view = window.mpr_view
    assert mpr_view is not None
    wait_for(lambda: mpr_view.volume_3d is not None and mpr_view.volume_3d.was_painted, 120)
    quadrant, state = mpr_view.volume_3d, mpr_view.state
    assert quadrant is not None and state is not None and quadrant.camera is not None
    quadrant.blend_box.setCurrentIndex(quadrant.blend_box.findText(BlendMode.MIP.value))
    frames, rows, columns = np.nonzero(state.volume.voxels > BLOCK_STORED // 2)
    truth = state.volume.to_patient((columns.mean(), rows.mean(), frames.mean()))
    x, y = quadrant.camera.to_screen(truth, quadrant.canvas.render_size())
    ratio = quadrant.canvas.width() / quadrant.canvas.render_size()[0]
    at = QPointF((x + 0.5) * ratio, (y + 0.5) * ratio)
    mouse(quadrant, QMouseEvent.Type.MouseButtonPress, at, LEFT, LEFT)
    mouse(quadrant, QMouseEvent.Type.MouseButtonRelease, at, Qt.MouseButton.NoButton, LEFT)
    spacing = state.volume.spacing
    # The MIP's brightest voxel along the ray is in the block: across the ray exact, along it
    # within the block's half depth.
    assert abs(state.point[0] - truth[0]) <= 2 * spacing[0]
    assert abs(state.point[2] - truth[2]) <= 2 * spacing[2]
    assert abs(state.point[1] - truth[1]) <= (rows.max() - rows.min()) / 2 * spacing[1] + 1
    assert quadrant.scene.crosshair == pytest.approx(tuple(state.point))
    window.mpr_action.trigger()


def test_screenshot_3d_shows_the_series_asked_for(tmp_path: Path) -> None:
    """Two volumes in one folder: --series picks which one the 3D layout shows (before, it
    always took the first volume in catalog order)."""
    folder = tmp_path / "two"
    block = write_block_ct(folder / "block")
    air = factories.write_series(folder / "air", slices=24, rows=48, columns=40, spacing=2.0,
                                 study_uid=block.study_uid, series_number=2)  # fmt: skip
    for path in air.paths:
        ds = dcmread(path)
        factories.set_pixels(ds, np.full((1, 48, 40), AIR_STORED, np.uint16))
        ds.save_as(path)
    for uid, lit in ((air.series_uid, False), (block.series_uid, True)):
        image = screenshot(folder, tmp_path / f"{lit}.png", "--series", uid, "--blend", "mip")
        black = image.sum(axis=2) == 0  # the canvas: the rows and columns mostly black
        rows, columns = (
            np.nonzero(black.mean(axis=1) > 0.5)[0],
            np.nonzero(black.mean(axis=0) > 0.5)[0],
        )
        grey = image[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1].sum(axis=2) / 3
        upper = grey[: grey.shape[0] // 2]  # the block is superior; the cube is at the bottom
        assert bool((upper > 150).sum() > 20) == lit, uid


def test_a_large_volume_shows_a_coarse_first_frame_then_full_quality(
    qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.model.volume3d import engine as engine_module

    volume = phantom_volume()
    monkeypatch.setattr(engine_module, "LOD_MIN_VOXELS", volume.voxels.size // 2)
    widget = VolumeView3D(modality="CT", voi=Voi(-200, 1200))
    widget.resize(600, 420)
    widget.show()
    QApplication.processEvents()
    frames: list[bool] = []
    widget.frame_timed.connect(lambda _ms, coarse: frames.append(coarse))
    readouts: list[str] = []
    widget.frame_timed.connect(lambda *_: readouts.append(widget.readout.text()))
    painted: list[bool] = []
    widget.painted.connect(lambda: painted.append(bool(frames)))
    try:
        widget.set_volume(volume)
        wait_for(lambda: widget.was_painted, 60)
        assert frames[0] is True  # the coarse copy's frame came first...
        assert frames[-1] is False and painted == [True]  # ... then full quality, painted
        assert 0 < widget.first_frame_ms <= widget.final_frame_ms
        assert "full resolution follows" in readouts[0]
        assert "follows" not in widget.readout.text()
    finally:
        widget.shutdown()
        widget.close()
