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
    assert table.item(0, 2).text() == str(index + 1)
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


def pnpoly(points: tuple[tuple[float, float], ...], shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres are inside ``points`` (W. R. Franklin's PNPOLY, per pixel): an
    independent check of the viewer's scanline fill."""
    rows, columns = np.indices(shape)
    x, y = columns + 0.5, rows + 0.5
    inside = np.zeros(shape, dtype=bool)
    count = len(points)
    for i in range(count):
        (xi, yi), (xj, yj) = points[i], points[i - 1]
        crosses = ((yi > y) != (yj > y)) & (x < (xj - xi) * (y - yi) / (yj - yi + 1e-300) + xi)
        inside ^= crosses
    return inside


def hu_inside(window: MainWindow, inside: np.ndarray) -> np.ndarray:
    frame = window.viewport.frame
    assert frame is not None
    stored = frame.stored[inside].astype(np.float64)
    return stored * frame.transform.rescale_slope + frame.transform.rescale_intercept


def mm(window: MainWindow, a: tuple[float, float], b: tuple[float, float]) -> float:
    row_mm, col_mm = window.state.stack.pixel_spacing  # type: ignore[union-attr]
    return math.hypot((b[0] - a[0]) * col_mm, (b[1] - a[1]) * row_mm)


def test_cobb_angle_is_two_drags_along_the_endplates(window: MainWindow) -> None:
    start(window, Qt.Key.Key_L)
    QTest.keyClick(window.viewport, Qt.Key.Key_L, Qt.KeyboardModifier.ShiftModifier)
    assert window.viewports.active_tool == "cobb"
    top = centre(window) - QPointF(100, 80)
    drag(window.viewport, LEFT, QPointF(200, 0), top)
    assert len(window.viewports.annotations) == 0  # one endplate: waiting for the other
    bottom = centre(window) + QPointF(-100, 60)
    drag(window.viewport, LEFT, QPointF(200, -115.47), bottom)  # 30 degrees up
    cobb = only(window)
    assert cobb.kind == shapes.COBB and len(cobb.points) == 4
    a0, a1 = pixel_at(window, top), pixel_at(window, top + QPointF(200, 0))
    b0, b1 = pixel_at(window, bottom), pixel_at(window, bottom + QPointF(200, -115.47))
    row_mm, col_mm = window.state.stack.pixel_spacing  # type: ignore[union-attr]
    u = np.array([(a1[0] - a0[0]) * col_mm, (a1[1] - a0[1]) * row_mm])
    v = np.array([(b1[0] - b0[0]) * col_mm, (b1[1] - b0[1]) * row_mm])
    expected = math.degrees(math.acos(abs(u @ v) / np.hypot(*u) / np.hypot(*v)))
    value = window.viewport.measurement(cobb).values["angle"]
    assert value == pytest.approx(expected, abs=0.05) and value == pytest.approx(30, abs=1)
    assert window.viewport.annotation_layer.labels == [[f"Cobb {expected:.1f}°"]]


def test_bidirectional_keeps_its_axes_at_right_angles(window: MainWindow) -> None:
    start(window, Qt.Key.Key_Escape)
    QTest.keyClick(window.viewport, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    a, delta = centre(window) - QPointF(90, 30), QPointF(180, 60)
    drag(window.viewport, LEFT, delta, a)
    drawn = only(window)
    assert drawn.kind == shapes.BIDIRECTIONAL and len(drawn.points) == 4
    long_px = pixel_at(window, a), pixel_at(window, a + delta)
    values = window.viewport.measurement(drawn).values
    assert values["long"] == pytest.approx(mm(window, *long_px), rel=1e-4)
    assert values["short"] == pytest.approx(values["long"] / 2, rel=1e-4)
    # Drag the short axis's first end further out (its handle): it grows, stays square.
    viewport = window.viewport
    end = viewport.mapFromScene(
        viewport.view_box.mapViewToScene(viewport.pixel_to_view(QPointF(*drawn.points[2])))
    )
    drag(window.viewport, LEFT, QPointF(15, -45), QPointF(end))
    edited = only(window)
    (l0, l1, s0, s1) = (np.array(p) for p in edited.points)
    assert abs(float((l1 - l0) @ (s1 - s0))) < 1e-6 * np.hypot(*(l1 - l0)) * np.hypot(*(s1 - s0))
    assert window.viewport.measurement(edited).values["short"] > values["short"] + 5
    label = window.viewport.annotation_layer.labels[0][0]
    assert label.startswith("L ") and " S " in label and label.endswith("mm")


def test_polygon_roi_closes_on_its_first_vertex(window: MainWindow) -> None:
    start(window, Qt.Key.Key_P)
    c = centre(window)
    corners = [
        c + QPointF(-70, -50),
        c + QPointF(80, -40),
        c + QPointF(40, 70),
        c + QPointF(-60, 50),
    ]
    for corner in corners:
        click(window, corner)
    assert len(window.viewports.annotations) == 0  # open until closed
    click(window, corners[0] + QPointF(2, 1))
    polygon = only(window)
    assert polygon.kind == shapes.POLYGON and len(polygon.points) == 4
    expected = tuple(pixel_at(window, p) for p in corners)
    assert np.allclose(polygon.points, expected, atol=0.05)
    frame = window.viewport.frame
    assert frame is not None
    inside = pnpoly(polygon.points, frame.stored.shape[:2])
    hu = hu_inside(window, inside)
    stats = window.viewport.measurement(polygon).stats
    assert stats is not None and stats.count == inside.sum() > 100
    assert stats.mean == pytest.approx(hu.mean()) and stats.sd == pytest.approx(hu.std())
    assert stats.min == hu.min() and stats.max == hu.max()
    assert stats.median == pytest.approx(np.median(hu))


def test_polygon_roi_closes_on_a_double_click(window: MainWindow) -> None:
    """A double click places the last vertex and closes (the events a person's double click
    sends: press, release, double-click press, release)."""
    from PySide6.QtGui import QMouseEvent

    start(window, Qt.Key.Key_P)
    c = centre(window)
    for corner in (c + QPointF(-50, -50), c + QPointF(60, -30)):
        click(window, corner)
    widget, last = window.viewport.viewport(), c + QPointF(0, 60)
    for kind, buttons in (
        (QMouseEvent.Type.MouseButtonPress, LEFT),
        (QMouseEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
        (QMouseEvent.Type.MouseButtonDblClick, LEFT),
        (QMouseEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
    ):
        event = QMouseEvent(
            kind, last, widget.mapToGlobal(last), LEFT, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(widget, event)
    QApplication.processEvents()
    polygon = only(window)
    assert polygon.kind == shapes.POLYGON and len(polygon.points) == 3
    assert polygon.points[2] == pytest.approx(pixel_at(window, last), abs=0.05)


def test_freehand_roi_is_traced_in_one_drag(window: MainWindow) -> None:
    from PySide6.QtGui import QMouseEvent

    start(window, Qt.Key.Key_Escape)
    QTest.keyClick(window.viewport, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    widget = window.viewport.viewport()
    c = centre(window)
    trace = [
        c + QPointF(80 * math.cos(t), 60 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 40)
    ]

    def send(kind: QMouseEvent.Type, at: QPointF, buttons: Qt.MouseButton) -> None:
        event = QMouseEvent(
            kind, at, widget.mapToGlobal(at), LEFT, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(widget, event)

    import time

    send(QMouseEvent.Type.MouseButtonPress, trace[0], LEFT)
    for at in trace[1:]:
        time.sleep(0.011)
        send(QMouseEvent.Type.MouseMove, at, LEFT)
    send(QMouseEvent.Type.MouseButtonRelease, trace[-1], Qt.MouseButton.NoButton)
    QApplication.processEvents()
    roi = only(window)
    assert roi.kind == shapes.FREEHAND and len(roi.points) >= 30
    frame = window.viewport.frame
    assert frame is not None
    inside = pnpoly(roi.points, frame.stored.shape[:2])
    stats = window.viewport.measurement(roi).stats
    assert stats is not None and stats.count == inside.sum()
    assert stats.mean == pytest.approx(hu_inside(window, inside).mean())
    row_mm, col_mm = window.state.stack.pixel_spacing  # type: ignore[union-attr]
    xy = np.array(roi.points) * [col_mm, row_mm]
    shoelace = abs(xy[:, 0] @ np.roll(xy[:, 1], -1) - xy[:, 1] @ np.roll(xy[:, 0], -1)) / 2
    assert window.viewport.measurement(roi).values["area"] == pytest.approx(shoelace)


def test_labels_stay_inside_the_view_and_clear_of_each_other(window: MainWindow) -> None:
    """Three ROIs side by side at the right edge and a length under them: every label inside
    the view box, no two overlapping (the demo CT, the labels its statistics make)."""
    start(window, Qt.Key.Key_Escape)
    image = window.viewport.current_image()
    assert image is not None
    rows, columns = window.viewport.frame.stored.shape[:2]  # type: ignore[union-attr]

    def at(x: float, y: float) -> tuple[float, float]:
        return (x * columns, y * rows)

    store = window.viewports.annotations
    for box in ((0.80, 0.30, 0.97, 0.45), (0.78, 0.40, 0.99, 0.55), (0.70, 0.50, 0.95, 0.62)):
        store.add(shapes.Annotation(shapes.ELLIPSE, (at(*box[:2]), at(*box[2:])), image))
    store.add(shapes.Annotation(shapes.RECTANGLE, (at(0.75, 0.58), at(0.98, 0.70)), image))
    store.add(shapes.Annotation(shapes.LENGTH, (at(0.6, 0.9), at(0.99, 0.95)), image))
    QApplication.processEvents()
    layer = window.viewport.annotation_layer
    rects = list(layer.label_rects.values())
    assert len(rects) == 5
    bounds = window.viewport.view_box.sceneBoundingRect()
    for rect in rects:
        assert bounds.contains(rect), (rect, bounds)
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.intersects(b), (a, b)


def test_a_label_dragged_away_keeps_its_place_and_a_leader_line(window: MainWindow) -> None:
    from PySide6.QtWidgets import QGraphicsPathItem

    start(window, Qt.Key.Key_E)
    drag(window.viewport, LEFT, QPointF(80, 60), centre(window) - QPointF(40, 30))
    roi = only(window)
    layer = window.viewport.annotation_layer
    before = layer.label_rects[roi.id]
    paths = sum(isinstance(i, QGraphicsPathItem) for i in layer._items)
    grab = window.viewport.mapFromScene(before.center())
    drag(window.viewport, LEFT, QPointF(-60, 140), QPointF(grab))  # the label, not the shape
    moved = only(window)
    assert moved.points == roi.points and moved.label is not None
    after = layer.label_rects[roi.id]
    assert after.center().y() > before.center().y() + 100
    assert sum(isinstance(i, QGraphicsPathItem) for i in layer._items) == paths + 1  # leader
    QTest.keyClick(window.viewport, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert only(window).label is None  # one undo step


def test_an_arrow_is_labelled_with_its_text_only(window: MainWindow) -> None:
    start(
        window,
        Qt.Key.Key_A,
    )
    QTest.keyClick(window.viewport, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    drag(window.viewport, LEFT, QPointF(80, 60), centre(window))
    dialog = window.viewport.text_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("lesion")
    dialog.accept()
    QApplication.processEvents()
    arrow = only(window)
    assert arrow.kind == shapes.ARROW and arrow.text == "lesion"
    assert window.viewport.measurement(arrow).values == {}
    assert window.viewport.annotation_layer.labels == [["lesion"]]


def test_other_labels_keep_their_place_while_one_shape_is_dragged(window: MainWindow) -> None:
    start(window, Qt.Key.Key_E)
    c = centre(window)
    drag(window.viewport, LEFT, QPointF(60, 40), c - QPointF(120, 60))
    drag(window.viewport, LEFT, QPointF(60, 40), c + QPointF(40, 20))
    first, second = list(window.viewports.annotations)
    layer = window.viewport.annotation_layer
    before = layer.label_rects[first.id]
    # Move the second ellipse by its outline's right end (the edit a drawing tool does).
    viewport = window.viewport
    right = max(shapes.outline(second), key=lambda p: p[0])
    at = viewport.mapFromScene(
        viewport.view_box.mapViewToScene(viewport.pixel_to_view(QPointF(*right)))
    )
    drag(window.viewport, LEFT, QPointF(30, 50), QPointF(at))
    assert window.viewports.annotations.get(second.id) != second  # it moved
    assert layer.label_rects[first.id] == before
