"""The measurement tools driven with real mouse and key events on the real main window (demo
study): each number is checked against the geometry of the pixels under the pointer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.foreign_objects import presentation_state
from tests.gui_driving import drag, focus_viewport, show_modality, wait_for
from viewer.model.annotations import shapes
from viewer.qt.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton


def start(window: MainWindow, key: Qt.Key, modality: str = "CT") -> None:
    """Show ``modality``'s series, clear earlier annotations, pick a tool by its key."""
    window.viewports.set_active_tool("")
    store = window.viewports.annotations
    for annotation in list(store):
        store.remove(annotation.id)
    show_modality(window, modality)
    window.viewport.reset()
    focus_viewport(window)
    QTest.keyClick(window.viewport, key)
    QApplication.processEvents()


def pixel_at(window: MainWindow, at: QPointF) -> tuple[float, float]:
    viewport = window.viewport
    scene = viewport.mapToScene(at.toPoint())
    pixel = viewport.view_to_pixel(viewport.view_box.mapSceneToView(scene))
    return (pixel.x(), pixel.y())


def centre(window: MainWindow) -> QPointF:
    view = window.viewport.viewport()
    return QPointF(view.width() / 2, view.height() / 2)


def click(window: MainWindow, at: QPointF) -> None:
    QTest.mouseClick(window.viewport.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, at.toPoint())
    QApplication.processEvents()


def only(window: MainWindow) -> shapes.Annotation:
    (annotation,) = list(window.viewports.annotations)
    return annotation


def test_length_tool_measures_the_drag_in_mm(window: MainWindow) -> None:
    start(window, Qt.Key.Key_L)
    a, delta = centre(window) - QPointF(80, 40), QPointF(160, 90)
    drag(window.viewport, LEFT, delta, a)
    line = only(window)
    assert line.kind == shapes.LENGTH
    (x0, y0), (x1, y1) = pixel_at(window, a), pixel_at(window, a + delta)
    assert line.points[0] == pytest.approx((x0, y0), abs=0.05)
    assert line.points[1] == pytest.approx((x1, y1), abs=0.05)
    row_mm, col_mm = window.state.stack.pixel_spacing  # type: ignore[union-attr]
    expected = math.hypot((x1 - x0) * col_mm, (y1 - y0) * row_mm)
    measured = window.viewport.measurement(line)
    assert measured.values["length"] == pytest.approx(expected, rel=1e-6)
    assert window.viewport.annotation_layer.labels == [[f"{expected:.1f} mm"]]
    assert window.state.voi == window.viewport.state.voi  # the left drag did not window


def test_ellipse_roi_statistics_are_the_hu_inside(window: MainWindow) -> None:
    start(window, Qt.Key.Key_E)
    a, delta = centre(window) - QPointF(60, 50), QPointF(120, 100)
    drag(window.viewport, LEFT, delta, a)
    roi = only(window)
    frame = window.viewport.frame
    assert frame is not None
    (cx, cy, rx, ry) = shapes.ellipse_axes(roi.points)
    rows, columns = np.indices(frame.stored.shape[:2])
    inside = ((columns + 0.5 - cx) / rx) ** 2 + ((rows + 0.5 - cy) / ry) ** 2 <= 1
    hu = frame.stored[inside] * frame.transform.rescale_slope + frame.transform.rescale_intercept
    stats = window.viewport.measurement(roi).stats
    assert stats is not None and stats.count == inside.sum() > 100
    assert stats.mean == pytest.approx(hu.mean())
    assert stats.sd == pytest.approx(hu.std())
    assert stats.median == pytest.approx(np.median(hu))
    (label,) = window.viewport.annotation_layer.labels
    assert label[0].startswith("Mean") and "HU" in label[0]
    assert "mm²" in label[-1]


def test_edit_move_undo_redo_delete(window: MainWindow) -> None:
    start(window, Qt.Key.Key_L)
    a, delta = centre(window) - QPointF(50, 0), QPointF(100, 0)
    drag(window.viewport, LEFT, delta, a)
    drawn = only(window)
    # Grab the line's end handle (the drawing tool edits what it is pressed on).
    drag(window.viewport, LEFT, QPointF(0, 60), a + delta)
    moved = only(window)
    assert moved.points[0] == drawn.points[0]
    assert moved.points[1][1] > drawn.points[1][1] + 5
    assert window.viewports.annotations.selected == drawn.id
    QTest.keyClick(window.viewport, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert only(window) == drawn
    QTest.keyClick(
        window.viewport,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert only(window) == moved
    # Move the whole line by its middle.
    middle = a + delta / 2 + QPointF(0, 30)
    drag(window.viewport, LEFT, QPointF(0, -40), middle)
    shifted = only(window)
    assert shifted.points[0][1] < moved.points[0][1] - 3
    QTest.keyClick(window.viewport, Qt.Key.Key_Delete)
    assert len(window.viewports.annotations) == 0
    QTest.keyClick(window.viewport, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert only(window) == shifted


def test_angle_takes_a_drag_then_a_click(window: MainWindow) -> None:
    start(window, Qt.Key.Key_A)
    vertex = centre(window)
    drag(window.viewport, LEFT, QPointF(100, 0), vertex - QPointF(100, 0))
    assert len(window.viewports.annotations) == 0  # one arm: waiting for the other
    click(window, vertex + QPointF(0, -100))
    angle = only(window)
    assert angle.kind == shapes.ANGLE and len(angle.points) == 3
    assert window.viewport.measurement(angle).values["angle"] == pytest.approx(90.0, abs=0.5)


def test_probe_and_rectangle(window: MainWindow) -> None:
    start(window, Qt.Key.Key_X)
    at = centre(window)
    click(window, at)
    probe = only(window)
    frame = window.viewport.frame
    assert frame is not None
    column, row = (math.floor(v) for v in pixel_at(window, at))
    expected = float(frame.stored[row, column]) * frame.transform.rescale_slope + (
        frame.transform.rescale_intercept
    )
    assert window.viewport.measurement(probe).values["value"] == expected
    QTest.keyClick(window.viewport, Qt.Key.Key_B)
    drag(window.viewport, LEFT, QPointF(80, 60), at + QPointF(20, 20))
    rectangle = next(a for a in window.viewports.annotations if a.kind == shapes.RECTANGLE)
    left, top, right, bottom = shapes.box(rectangle.points)
    row_mm, col_mm = window.state.stack.pixel_spacing  # type: ignore[union-attr]
    area = window.viewport.measurement(rectangle).values["area"]
    assert area == pytest.approx((right - left) * (bottom - top) * row_mm * col_mm)


def test_escape_gives_the_left_button_back_to_window_level(window: MainWindow) -> None:
    start(window, Qt.Key.Key_L)
    QTest.keyClick(window.viewport, Qt.Key.Key_Escape)
    before = window.state.voi
    drag(window.viewport, LEFT, QPointF(60, 30), centre(window))
    assert len(window.viewports.annotations) == 0
    assert window.state.voi != before


def test_measurements_panel_lists_and_jumps(window: MainWindow) -> None:
    start(window, Qt.Key.Key_L)
    drag(window.viewport, LEFT, QPointF(100, 0), centre(window))
    line = only(window)
    index = window.state.index
    controls = window.view_controls.measure
    QTest.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    wait_for(lambda: controls.panel is not None and controls.panel.isVisible(), 5)
    table = controls.table
    assert table is not None and table.rowCount() == 1
    assert table.item(0, 0).text() == "Length"
    assert table.item(0, 1).text().endswith("mm")
    assert table.item(0, 3).text() == str(index + 1)
    window.state.set_index(0)
    controls.jump_to(0)
    assert window.state.index == index
    assert window.viewports.annotations.selected == line.id
    controls.panel.hide()  # type: ignore[union-attr]


def test_key_image_and_save_as_dicom(window: MainWindow, tmp_path: Path) -> None:
    from viewer.model.annotations.dicom_objects import read_report

    start(window, Qt.Key.Key_E)
    drag(window.viewport, LEFT, QPointF(120, 80), centre(window) - QPointF(60, 40))
    roi = only(window)
    QTest.keyClick(window.viewport, Qt.Key.Key_K)
    assert "KEY IMAGE" in window.viewport.overlay.corners["bl"]
    controls = window.view_controls.measure
    controls.last_written = []
    controls.save_dicom(str(tmp_path))
    wait_for(lambda: controls.last_written, 60)
    reports = {r.kind: r for r in (read_report(pydicom.dcmread(p)) for p in controls.last_written)}
    assert set(reports) == {"SR", "PR", "KO"}
    mean = next(v for v in reports["SR"].values if v.derivation == "Mean")
    stats = window.viewport.measurement(roi).stats
    assert stats is not None and mean.value == pytest.approx(stats.mean)
    assert reports["KO"].references[0][0] == mean.sop_instance_uid
    window.viewports.annotations.key_images.clear()


def test_a_presentation_state_in_the_study_is_drawn(window: MainWindow, tmp_path: Path) -> None:
    """A GSPS written by another system (highdicom directly) on a demo CT slice, opened with
    the study: its circle and text appear on that slice."""
    import highdicom as hd

    start(window, Qt.Key.Key_Escape)
    path, frame = window.state.stack.sources[window.state.index]  # type: ignore[union-attr]
    source = pydicom.dcmread(path)
    graphic = hd.pr.GraphicObject("CIRCLE", np.array([[100.0, 100.0], [120.0, 100.0]]), "PIXEL")
    state = presentation_state(source, "PACS", [graphic], [("from PACS", (130.0, 100.0))])
    state.save_as(tmp_path / "pr.dcm")
    done: list[bool] = []
    window.indexing_finished.connect(lambda: done.append(True))
    window.open_paths([str(tmp_path)])
    wait_for(lambda: done, 60)
    wait_for(lambda: any(a.text == "from PACS" for a in window.viewports.annotations), 30)
    circle = next(a for a in window.viewports.annotations if a.kind == shapes.ELLIPSE)
    assert circle.points == ((80.0, 80.0), (120.0, 120.0))
    assert circle.image.key == (path, frame)
    window.viewport.refresh_annotations()
    assert ["from PACS"] in window.viewport.annotation_layer.labels
