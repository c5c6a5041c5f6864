"""The MPR layout driven as a radiologist would: key M, real clicks, wheel and drags, the demo CT.

One main window with the demo CT serves the module; the MPR is switched on once and each test
starts from the orthogonal planes.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests import factories
from tests.gui_driving import module_main_window, wait_for
from viewer import demo
from viewer.model import mpr
from viewer.model.mpr import SlabMode, View
from viewer.model.window_level import Voi
from viewer.qt.main_window import MainWindow
from viewer.qt.mpr_view import MprView, PlaneView

NONE = Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton


def ct_folder(demo_study: Path) -> Path:
    return next(p for p in demo_study.rglob("*") if p.is_dir() and len(list(p.iterdir())) > 100)


@pytest.fixture(scope="module")
def window(demo_study: Path) -> Iterator[MainWindow]:
    yield from module_main_window([str(ct_folder(demo_study))], size=(1300, 850))


@pytest.fixture
def view(window: MainWindow) -> MprView:
    """The MPR of the demo CT, orthogonal, thin, all three views up to date."""
    if window.mpr_view is None:
        QTest.keyClick(window, Qt.Key.Key_M)
    mpr_view = window.mpr_view
    assert mpr_view is not None
    wait_for(lambda: mpr_view.ready, 60)
    state = mpr_view.state
    assert state is not None
    mpr_view.slab_box.setCurrentIndex(0)
    state.reset()
    settle(mpr_view)
    return mpr_view


def settle(view: MprView) -> None:
    """Wait until every view shows the full-quality image of its current plane."""
    state = view.state
    assert state is not None

    def current() -> bool:
        shown = [view._shown.get(v) for v in View]
        return all(
            s is not None
            and s.final
            and s.request.plane == state.plane(s.request.view)
            and s.request.slab_mode == state.slab_mode
            for s in shown
        )

    wait_for(current)


def device_point(widget: PlaneView, x_mm: float, y_mm: float) -> QPointF:
    return widget.view_box.mapViewToDevice(QPointF(x_mm, y_mm))


def mouse(widget: PlaneView, kind: QMouseEvent.Type, point: QPointF, buttons: Qt.MouseButton,
          modifiers: Qt.KeyboardModifier = NONE) -> None:  # fmt: skip
    target = widget.viewport()
    event = QMouseEvent(kind, point, target.mapToGlobal(point), LEFT, buttons, modifiers)
    QApplication.sendEvent(target, event)


def click(widget: PlaneView, point: QPointF) -> None:
    mouse(widget, QMouseEvent.Type.MouseButtonPress, point, LEFT)
    mouse(widget, QMouseEvent.Type.MouseButtonRelease, point, Qt.MouseButton.NoButton)


def drag(widget: PlaneView, path: list[QPointF], modifiers: Qt.KeyboardModifier = NONE) -> None:
    mouse(widget, QMouseEvent.Type.MouseButtonPress, path[0], LEFT, modifiers)
    for point in path[1:]:
        mouse(widget, QMouseEvent.Type.MouseMove, point, LEFT, modifiers)
        QApplication.processEvents()
    mouse(widget, QMouseEvent.Type.MouseButtonRelease, path[-1], Qt.MouseButton.NoButton, modifiers)


def wheel(widget: PlaneView, steps_down: int) -> None:
    target = widget.viewport()
    centre = QPointF(target.width() / 2, target.height() / 2)
    for _ in range(steps_down):
        event = QWheelEvent(
            centre, target.mapToGlobal(centre), QPoint(0, 0), QPoint(0, -120),
            Qt.MouseButton.NoButton, NONE, Qt.ScrollPhase.NoScrollPhase, False,
        )  # fmt: skip
        QApplication.sendEvent(target, event)


def hu_at(view: MprView, which: View, point: tuple[float, float, float]) -> float:
    """Mean HU of the 5 x 5 pixels around ``point`` in the image ``which`` shows."""
    state, shown = view.state, view._shown[which]
    assert state is not None
    column, row, depth = shown.plane.pixel_of(point)
    assert abs(depth) < 0.7  # the view's plane passes through the point
    c, r = round(column), round(row)
    roi = shown.image[r - 2 : r + 3, c - 2 : c + 3].astype(float)
    return float(roi.mean()) * state.volume.rescale_slope + state.volume.rescale_intercept


# --- tests -----------------------------------------------------------------------------------
def test_m_shows_axial_coronal_sagittal_with_letters_and_aspect(view: MprView) -> None:
    state = view.state
    assert state is not None
    letters = {v: view.views[v].overlay.letters for v in View}
    assert (letters[View.AXIAL]["left"], letters[View.AXIAL]["top"]) == ("R", "A")
    assert (letters[View.CORONAL]["left"], letters[View.CORONAL]["top"]) == ("R", "H")
    assert (letters[View.SAGITTAL]["left"], letters[View.SAGITTAL]["top"]) == ("A", "H")
    coronal = view.views[View.CORONAL].image_item
    rect = coronal.mapRectToParent(coronal.boundingRect())
    assert rect.width() == pytest.approx(demo.CT_COLUMNS * 1.4)  # mm, so the aspect is true
    assert rect.height() == pytest.approx(demo.CT_SLICES * demo.CT_SLICE_SPACING)
    for widget in view.views.values():
        assert widget.image_item.image is not None and widget.image_item.image.dtype == np.uint8
        assert widget.was_painted


def test_click_on_a_landmark_moves_the_other_planes_to_it(view: MprView) -> None:
    state = view.state
    assert state is not None
    point, hu = demo.CT_LANDMARKS["liver"]
    axial = view.views[View.AXIAL]
    state.move(View.AXIAL, round((point[2] - state.point[2]) / demo.CT_SLICE_SPACING))
    click(axial, device_point(axial, *state.to_view(View.AXIAL, point)))
    assert state.point == pytest.approx(point, abs=0.75)  # within half a voxel of the click
    state.set_point(point)
    settle(view)
    for which in View:
        assert hu_at(view, which, point) == pytest.approx(hu, abs=10), which
    lines = view.views[View.CORONAL].lines  # the axial and sagittal lines cross at the point
    expected = state.to_view(View.CORONAL, point)
    for line in lines.values():
        assert (line.pos().x(), line.pos().y()) == pytest.approx(expected)
    sagittal = view.views[View.SAGITTAL]
    here = device_point(sagittal, *state.to_view(View.SAGITTAL, point))
    mouse(sagittal, QMouseEvent.Type.MouseMove, here, Qt.MouseButton.NoButton)
    assert "value" in view.readout.text()
    value = float(view.readout.text().split("value ")[1].split()[0])
    assert value == pytest.approx(hu, abs=4 * demo.CT_NOISE_HU)
    words = view.readout.text().split()
    shown = [float(words[words.index(axis) + 1]) for axis in ("x", "y", "z")]
    assert shown == pytest.approx(point, abs=1.0)  # patient mm, within a screen pixel


def test_wheel_moves_only_that_views_plane(view: MprView) -> None:
    state = view.state
    assert state is not None
    before = state.point.copy()
    wheel(view.views[View.AXIAL], 2)
    assert state.point - before == pytest.approx((0, 0, 2 * demo.CT_SLICE_SPACING))
    wheel(view.views[View.SAGITTAL], 1)  # the sagittal normal is patient right (-x)
    assert state.point - before == pytest.approx((-1.4, 0, 2 * demo.CT_SLICE_SPACING))


def test_dragging_a_handle_tilts_the_other_planes_and_reset_restores(view: MprView) -> None:
    state = view.state
    assert state is not None
    axial = view.views[View.AXIAL]
    centre = state.to_view(View.AXIAL, state.point)
    handle = axial.handle_positions()[1]
    radius = math.hypot(handle.x() - centre[0], handle.y() - centre[1])
    start = math.atan2(handle.y() - centre[1], handle.x() - centre[0])
    path = [
        device_point(
            axial,
            centre[0] + radius * math.cos(start + math.radians(a)),
            centre[1] + radius * math.sin(start + math.radians(a)),
        )
        for a in range(0, 31, 3)
    ]
    drag(axial, path)
    assert state.oblique
    assert state.normal(View.AXIAL) == pytest.approx((0, 0, 1))
    turned = math.degrees(math.acos(float(state.normal(View.CORONAL) @ (0.0, 1.0, 0.0))))
    assert turned == pytest.approx(30, abs=2)
    settle(view)
    assert view.views[View.CORONAL].overlay.corners["tl"][0] == "Coronal (oblique)"
    assert view.views[View.AXIAL].overlay.corners["tl"][0] == "Axial"  # turned in, not tilted
    QTest.mouseClick(view.reset_button, LEFT)
    assert not state.oblique
    assert state.normal(View.CORONAL) == pytest.approx((0, 1, 0))


def test_shift_drag_windows_all_three_views_together(view: MprView, window: MainWindow) -> None:
    state = view.state
    assert state is not None and state.voi is not None
    before = state.voi
    images = {v: view.views[v].image_item.image.copy() for v in View}
    coronal = view.views[View.CORONAL]
    middle = QPointF(coronal.width() / 2, coronal.height() / 2)
    shift = Qt.KeyboardModifier.ShiftModifier
    drag(coronal, [middle + QPointF(0, 8 * i) for i in range(11)], shift)
    assert state.voi.center < before.center and state.voi.width == pytest.approx(before.width)
    assert state.point == pytest.approx(state.point)  # W/L drag does not move the crosshair
    for v in View:
        assert not np.array_equal(view.views[v].image_item.image, images[v]), v
    assert window.state.voi == state.voi  # the viewports get the same window back


def test_mip_slab_shows_the_bright_structures_of_the_slab(view: MprView) -> None:
    state = view.state
    assert state is not None
    view.thickness_box.setValue(20.0)
    view.slab_box.setCurrentIndex(1)  # MIP
    assert state.slab_mode is SlabMode.MIP and state.slab_mm == 20.0
    settle(view)
    plane = state.plane(View.CORONAL)
    expected = mpr.slab(state.volume, plane, 20.0, SlabMode.MIP)
    np.testing.assert_array_equal(view._shown[View.CORONAL].image, expected)
    thin = mpr.reformat(state.volume, plane)
    assert np.all(expected >= thin) and expected.sum() > thin.sum()
    assert view.views[View.AXIAL].overlay.corners["bl"] == ["MIP 20 mm"]


def test_keys_invert_presets_move_and_reset(view: MprView) -> None:
    state = view.state
    assert state is not None
    axial = view.views[View.AXIAL]
    QTest.keyClick(axial, Qt.Key.Key_I)
    assert state.invert and view.invert_box.isChecked()
    QTest.keyClick(axial, Qt.Key.Key_6)  # CT preset 4: lung 1500/-600
    assert state.voi is not None and (state.voi.width, state.voi.center) == (1500, -600)
    z = state.point[2]
    QTest.keyClick(axial, Qt.Key.Key_Down)  # next slice, as in the stack view
    assert state.point[2] == pytest.approx(z + demo.CT_SLICE_SPACING)
    QTest.keyClick(axial, Qt.Key.Key_R)
    assert not state.invert and state.voi == Voi.from_center_width(40, 400)  # the file's window


def test_each_view_names_patient_and_series_with_scale_bar_and_hu(
    view: MprView, window: MainWindow
) -> None:
    name = window.viewport.patient_text["name"]
    series = window.viewport.patient_text["series"]
    for which in View:
        widget = view.views[which]
        corners = widget.overlay.corners
        assert name in corners["tr"][0] and series in corners["tr"]
        scale = widget.overlay.pixels_per_mm
        assert scale is not None
        assert scale == pytest.approx(1 / widget.view_box.viewPixelSize()[0])
    axial = view.views[View.AXIAL]
    centre = QPointF(axial.viewport().width() / 2, axial.viewport().height() / 2)
    mouse(axial, QMouseEvent.Type.MouseMove, centre, Qt.MouseButton.NoButton)
    QApplication.processEvents()
    assert view.readout.text().endswith(" HU")  # the value has its unit
    # The fourth quadrant says what is shown; the status line never says "MPR: MPR:".
    assert series in view.info.text() and "voxels" in view.info.text()
    assert "MPR: MPR:" not in window.statusBar().currentMessage()


def test_m_again_returns_to_the_viewports(window: MainWindow, view: MprView) -> None:
    QTest.keyClick(window, Qt.Key.Key_M)
    assert window.mpr_view is None
    assert window.viewports.isVisible() and not view.isVisible()


def test_screenshot_layout_mpr_draws_three_views(tmp_path: Path) -> None:
    factories.write_series(tmp_path / "ct", slices=24, rows=48, columns=40, spacing=2.0)
    out = tmp_path / "mpr.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "viewer", "screenshot", str(out), "--layout", "mpr"]
    command += ["--size", "1000x700", str(tmp_path / "ct")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert image.shape == (700, 1000, 3)
    # Each view's colour marks its frame and its line in the other two: red, green, yellow.
    red = (image[..., 0] > 200) & (image[..., 1] < 120) & (image[..., 2] < 120)
    green = (image[..., 1] > 180) & (image[..., 0] < 140) & (image[..., 2] < 140)
    yellow = (image[..., 0] > 200) & (image[..., 1] > 170) & (image[..., 2] < 100)
    assert red.sum() > 200 and green.sum() > 200 and yellow.sum() > 200
    grey = (image[..., 0] == image[..., 1]) & (image[..., 1] == image[..., 2])
    assert len(np.unique(image[..., 0][grey])) > 20  # the slices are drawn, not blank panes


def test_measurement_tools_draw_on_a_plane_in_mm(window: MainWindow, view: MprView) -> None:
    """The toolbar's length tool draws in the coronal view: its length is the drag's length in
    mm in the plane; an ellipse in the axial view has the plane's HU inside it; an annotation
    shows only on its plane; Esc gives the left button back to the crosshair."""
    from viewer.model.annotations import shapes

    controls = window.view_controls.measure
    widget = view.views[View.CORONAL]
    start_mm, end_mm = (-40.0, -20.0), (30.0, 25.0)
    controls.choose("length")
    try:
        # A first press in the MPR may re-lay the views out (focus): a click first, which
        # draws nothing (no length), then the drag from points mapped afterwards.
        click(widget, device_point(widget, 0.0, 0.0))
        for _ in range(20):
            QApplication.processEvents()
        assert len(view.measure.store) == 0
        path = [device_point(widget, *start_mm)]
        path += [
            device_point(widget, start_mm[0] + 7 * k, start_mm[1] + 4.5 * k) for k in range(1, 11)
        ]
        drag(widget, path)
        QApplication.processEvents()
        (line,) = list(view.measure.store)
        assert line.kind == shapes.LENGTH
        pixel_mm = widget.view_box.viewRect().width() / widget.view_box.width()
        assert line.points[0] == pytest.approx(start_mm, abs=pixel_mm)  # within a screen pixel
        assert line.points[1] == pytest.approx(end_mm, abs=pixel_mm)
        value = view.measure.measurement(line, View.CORONAL).values["length"]
        expected = math.dist(line.points[0], line.points[1])
        assert value == pytest.approx(expected, rel=1e-9)
        assert view.measure.layers[View.CORONAL].labels == [[f"{expected:.1f} mm (in plane)"]]
        assert len(window.viewports.annotations) == 0  # not a 2D view's annotation

        controls.choose("ellipse_roi")
        axial = view.views[View.AXIAL]
        click(axial, device_point(axial, 0.0, 0.0))  # an ellipse of no size: nothing
        for _ in range(20):
            QApplication.processEvents()
        corner, other = (-30.0, -25.0), (20.0, 15.0)
        dx, dy = other[0] - corner[0], other[1] - corner[1]
        steps = [
            device_point(axial, corner[0] + dx * k / 10, corner[1] + dy * k / 10) for k in range(11)
        ]
        drag(axial, steps)
        QApplication.processEvents()
        roi = next(a for a in view.measure.store if a.kind == shapes.ELLIPSE)
        stats = view.measure.measurement(roi, View.AXIAL).stats
        shown, rect = view._shown[View.AXIAL], view.image_rect(View.AXIAL)
        assert stats is not None and rect is not None
        width, height = shown.plane.pixel_mm
        rows, columns = np.indices(shown.image.shape)
        x, y = rect.left() + (columns + 0.5) * width, rect.top() + (rows + 0.5) * height
        cx, cy, rx, ry = shapes.ellipse_axes(roi.points)
        inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
        state = view.state
        assert state is not None
        hu = shown.image[inside] * state.volume.rescale_slope + state.volume.rescale_intercept
        assert stats.count == inside.sum() > 100
        assert stats.mean == pytest.approx(hu.mean())

        wheel(axial, 3)  # another plane: the ellipse is not on it
        wait_for(lambda: view.measure.layers[View.AXIAL].labels == [])
        for _ in range(3):
            state.move(View.AXIAL, -1)
        wait_for(lambda: len(view.measure.layers[View.AXIAL].labels) == 1)
    finally:
        controls.choose("")
        for annotation in list(view.measure.store):
            view.measure.store.remove(annotation.id)
    assert view.measure.tool == ""
