"""The image view as a radiologist drives it: real widgets, real mouse and key events, the demo.

One main window (with the demo study) serves the whole module; each test picks its series and
starts from a reset view.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.factories import write_series
from tests.gui_driving import drag, focus_viewport, show_modality, wait_for
from viewer.qt.help_keys import KEY_BINDINGS, keyboard_help_html
from viewer.qt.main_window import MainWindow

MODIFIERS = {
    "Ctrl": Qt.KeyboardModifier.ControlModifier,
    "Shift": Qt.KeyboardModifier.ShiftModifier,
}


def show(window: MainWindow, modality: str) -> None:
    """Show the demo series of ``modality`` in the active viewport, focused."""
    show_modality(window, modality)
    focus_viewport(window)


def press(window: MainWindow, key_text: str) -> None:
    """Type a key sequence written as in the help page ("Shift+PgDown", "]", "Ctrl++")."""
    *mods, key = key_text.split("+") if key_text != "Ctrl++" else ["Ctrl", "+"]
    modifiers = Qt.KeyboardModifier.NoModifier
    for mod in mods:
        modifiers |= MODIFIERS[mod]
    names = {"PgUp": "PageUp", "PgDown": "PageDown", "]": "BracketRight", "[": "BracketLeft",
             "+": "Plus", "=": "Equal", "-": "Minus", "Del": "Delete", "Esc": "Escape"}  # fmt: skip
    code = getattr(Qt.Key, f"Key_{names.get(key, key)}")
    QTest.keyClick(window.viewport, code, modifiers)
    QApplication.processEvents()


def mouse_drag(
    window: MainWindow,
    button: Qt.MouseButton,
    start: QPointF,
    delta: QPointF,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    drag(window.viewport, button, delta, start, modifiers)


def centre(window: MainWindow) -> QPointF:
    view = window.viewport.viewport()
    return QPointF(view.width() / 2, view.height() / 2)


def ctrl_wheel(window: MainWindow, at: QPointF, notches: int) -> None:
    view = window.viewport.viewport()
    event = QWheelEvent(
        at, view.mapToGlobal(at), QPoint(0, 0), QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(view, event)
    QApplication.processEvents()


def pixel_under(window: MainWindow, at: QPointF) -> QPointF:
    viewport = window.viewport
    scene_point = viewport.mapToScene(at.toPoint())
    return viewport.view_to_pixel(viewport.view_box.mapSceneToView(scene_point))


# --- mouse -------------------------------------------------------------------------------------
def test_left_drag_windows_with_live_readout(window: MainWindow) -> None:
    show(window, "CT")
    before = window.state.voi
    assert before is not None
    mouse_drag(window, Qt.MouseButton.LeftButton, centre(window), QPointF(0, 60))
    after = window.state.voi
    assert after is not None and after.center < before.center  # down: lower level, brighter
    assert window.viewport.overlay.readout == f"W {after.width:.0f}  L {after.center:.0f}"
    mouse_drag(window, Qt.MouseButton.LeftButton, centre(window), QPointF(-80, 0))
    narrower = window.state.voi
    assert narrower is not None and narrower.width < after.width  # left: narrower window


def test_ctrl_drag_rectangle_windows_to_its_values(window: MainWindow) -> None:
    show(window, "CT")
    viewport = window.viewport
    # A rectangle in the air above the patient: the window must hug air's values.
    top_left = viewport.mapFromScene(
        viewport.view_box.mapViewToScene(viewport.pixel_to_view(QPointF(8, 8)))
    )
    mouse_drag(
        window, Qt.MouseButton.LeftButton, QPointF(top_left), QPointF(40, 30),
        Qt.KeyboardModifier.ControlModifier,
    )  # fmt: skip
    voi = window.state.voi
    assert voi is not None
    assert -1100 < voi.lower < voi.upper < -850  # air is about -1000 HU
    assert not viewport.view_box.rubber_band.isVisible()


def test_middle_drag_pans_and_right_drag_zooms(window: MainWindow) -> None:
    show(window, "CT")
    at = centre(window)
    under = pixel_under(window, at)
    mouse_drag(window, Qt.MouseButton.MiddleButton, at, QPointF(50, 0))
    moved = pixel_under(window, at)
    assert moved.x() < under.x() - 5  # the image followed the mouse to the right
    assert moved.y() == pytest.approx(under.y(), abs=0.5)
    zoom = window.viewport.zoom_factor()
    mouse_drag(window, Qt.MouseButton.RightButton, at, QPointF(0, -200))  # up enlarges
    assert window.viewport.zoom_factor() == pytest.approx(zoom * 2, rel=0.02)  # 2x / 200 px


def test_ctrl_wheel_zooms_at_the_cursor(window: MainWindow) -> None:
    show(window, "CT")
    at = centre(window) + QPointF(80, -60)
    under = pixel_under(window, at)
    zoom = window.viewport.zoom_factor()
    ctrl_wheel(window, at, 2)
    assert window.viewport.zoom_factor() == pytest.approx(zoom * 1.25**2, rel=0.02)
    after = pixel_under(window, at)
    assert (after.x(), after.y()) == pytest.approx((under.x(), under.y()), abs=0.5)
    index = window.state.index
    assert window.state.index == index  # Ctrl+wheel zooms; it does not scroll


# --- keys ----------------------------------------------------------------------------------------
def _key_checks(window: MainWindow) -> dict[str, Callable[[dict[str, object]], bool]]:
    """What each command must have done, given the state before the key."""
    s, v = window.state, window.viewport

    def window_is(width: float, level: float) -> Callable[[dict[str, object]], bool]:
        return lambda _b: (
            s.voi is not None and (s.voi.width, s.voi.center) == pytest.approx((width, level))
        )

    return {
        "previous_slice": lambda b: s.index == b["index"] - 1,
        "next_slice": lambda b: s.index == b["index"] + 1,
        "back_10_slices": lambda b: s.index == b["index"] - 10,
        "forward_10_slices": lambda b: s.index == b["index"] + 10,
        "first_slice": lambda b: s.index == 0,
        "last_slice": lambda b: s.index == s.frame_count - 1,
        "previous_series": lambda b: s.series_uid != b["series"],
        "next_series": lambda b: s.series_uid != b["series"],
        "auto_window": lambda b: s.voi is not None and s.voi.lower < -900 and s.voi.upper > 200,
        "file_window_1": window_is(400, 40),
        "file_window_2": window_is(1500, -600),
        "preset_3": window_is(80, 40),
        "preset_4": window_is(200, 75),
        "preset_5": window_is(40, 40),
        "preset_6": window_is(1500, -600),
        "preset_7": window_is(350, 40),
        "preset_8": window_is(400, 50),
        "preset_9": window_is(2000, 300),
        "invert": lambda b: s.invert and v.image_item.image[2, 2] == 255,  # air shows white
        "reset": lambda b: s.voi == b["default_voi"] and v.zoom_factor() == b["zoom"],
        "fit": lambda b: v.zoom_factor() == pytest.approx(b["zoom"]),
        "zoom_in": lambda b: v.zoom_factor() == pytest.approx(b["zoom"] * 1.25),
        "zoom_out": lambda b: v.zoom_factor() == pytest.approx(b["zoom"] / 1.25),
        "actual_size": lambda b: v.zoom_factor() == pytest.approx(1.0),
        "rotate_clockwise": lambda b: v.overlay.letters["right"] == "A",
        "rotate_counterclockwise": lambda b: v.overlay.letters["right"] == "P",
        "flip_horizontal": lambda b: v.overlay.letters["left"] == "L",
        "flip_vertical": lambda b: v.overlay.letters["top"] == "P",
        "corner_text": lambda b: v.overlay.show_text is not b["text"],
        "overlay_planes": lambda b: v.overlay_planes.visible is not b["planes"],
        "cine": lambda b: v.cine.playing,
        # The demo CT has one phase: the phase keys say so (tests/qt/test_reading.py steps
        # through a 4D series).
        "previous_phase": lambda b: "one phase" in window.statusBar().currentMessage(),
        "next_phase": lambda b: "one phase" in window.statusBar().currentMessage(),
        "phase_cine": lambda b: "one phase" in window.statusBar().currentMessage(),
        "find_series": lambda b: QApplication.focusWidget() is window.tree_filter,
        "cine_faster": lambda b: v.cine.rate_fps > b["rate"],
        "cine_slower": lambda b: v.cine.rate_fps < b["rate"],
        "next_viewport": lambda b: window.viewport is not b["viewport"],
        "copy_view": lambda b: not QApplication.clipboard().image().isNull(),
        "save_view": lambda b: Path(str(b["saved"])).exists(),
        "save_image": lambda b: Path(str(b["saved"])).exists(),
        "tag_browser": lambda b: window.view_controls.tag_browser.isVisible() is not b["tags"],
        "full_screen": lambda b: window.isFullScreen() is not b["full"],
        "keyboard_help": lambda b: (
            window.view_controls._help is not None and window.view_controls._help.isVisible()
        ),
        **_measure_checks(window),
    }


def _measure_checks(window: MainWindow) -> dict[str, Callable[[dict[str, object]], bool]]:
    """The Measure group: tools take the left button; edits act on the session's store."""
    grid, store = window.viewports, window.viewports.annotations
    panel = window.view_controls.measure.panel
    tools = {
        "tool_default": "", "tool_edit": "edit", "tool_length": "length", "tool_angle": "angle",
        "tool_ellipse": "ellipse_roi", "tool_rectangle": "rectangle_roi", "tool_probe": "probe",
        "tool_arrow": "arrow", "tool_text": "text", "tool_cobb": "cobb",
        "tool_bidirectional": "bidirectional", "tool_polygon": "polygon_roi",
        "tool_freehand": "freehand_roi",
    }  # fmt: skip
    checks: dict[str, Callable[[dict[str, object]], bool]] = {
        command: (lambda _b, name=name: grid.active_tool == name and (
            window.viewport.active_tool == name))
        for command, name in tools.items()
    }  # fmt: skip
    checks.update({
        "delete_annotation": lambda b: len(store) == 0,
        "undo": lambda b: len(store) == 0,
        "redo": lambda b: len(store) == 1,
        "copy_measurement": lambda b: QApplication.clipboard().text().endswith("mm"),
        "toggle_annotations": lambda b: grid.annotations_visible is not b["annotations"],
        "measurements_panel": lambda b: panel is not None and panel.isVisible() is not b["panel"],
        "key_image": lambda b: window.viewport.current_image().key in store.key_images,  # type: ignore[union-attr]
    })  # fmt: skip
    return checks


def _prepare_measure(window: MainWindow, command: str) -> None:
    """An annotation to delete, copy, undo or redo, selected."""
    if command not in ("delete_annotation", "copy_measurement", "undo", "redo"):
        return
    from viewer.model.annotations.shapes import Annotation

    viewport, store = window.viewport, window.viewports.annotations
    image = viewport.current_image()
    assert image is not None
    line = Annotation("length", ((10.0, 10.0), (40.0, 50.0)), image)
    store.add(line)
    store.selected = line.id
    if command == "redo":
        store.undo()
    viewport.refresh_annotations()


def _before(window: MainWindow, saved: Path) -> dict[str, object]:
    viewport = window.viewport
    return {
        "index": window.state.index,
        "series": window.state.series_uid,
        "zoom": viewport.zoom_factor(),
        "default_voi": window.state.voi,
        "text": viewport.overlay.show_text,
        "planes": viewport.overlay_planes.visible,
        "rate": viewport.cine.rate_fps,
        "viewport": viewport,
        "saved": saved,
        "tags": window.view_controls.tag_browser.isVisible(),
        "full": window.isFullScreen(),
        "annotations": window.viewports.annotations_visible,
        "panel": window.view_controls.measure.panel.isVisible(),  # type: ignore[union-attr]
    }


def _undo(window: MainWindow) -> None:
    controls = window.view_controls
    window.viewport.cine.stop()
    controls.set_layout("1x1")
    controls.tag_browser.hide()
    if controls._help is not None:
        controls._help.hide()
    if window.isFullScreen():
        window.showNormal()
    window.viewports.set_text_visible(True)
    window.viewport.overlay_planes.set_visible(True)
    window.viewports.set_active_tool("")
    window.viewports.set_annotations_visible(True)
    store = window.viewports.annotations
    store.key_images.clear()
    for annotation in list(store):
        store.remove(annotation.id)
    if controls.measure.panel is not None:
        controls.measure.panel.hide()


def test_every_key_on_the_help_page_does_what_it_says(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "view.png"
    monkeypatch.setattr(
        "viewer.qt.view_controls.QFileDialog.getSaveFileName",
        lambda *args, **kwargs: (str(saved), "PNG (*.png)"),
    )
    checks = _key_checks(window)
    page = keyboard_help_html()
    assert {b.command for b in KEY_BINDINGS} == set(checks)
    for binding in KEY_BINDINGS:
        assert binding.text.replace("'", "&#x27;") in page
        for key in binding.keys:
            _undo(window)
            show(window, "CT")
            if binding.command == "next_viewport":
                window.view_controls.set_layout("1x2")
                window.viewport.setFocus()
            if binding.command == "zoom_out":
                press(window, "Ctrl+=")
            _prepare_measure(window, binding.command)
            before = _before(window, saved)
            if binding.command == "reset":
                press(window, "6")
                press(window, "Ctrl+=")
            press(window, key)
            wait_for(lambda: window.viewports.viewports[0].frame is not None)
            assert checks[binding.command](before), f"{key} should: {binding.text}"
            saved.unlink(missing_ok=True)
    _undo(window)


def test_presets_apply_only_where_defined(window: MainWindow) -> None:
    show(window, "MR")
    voi = window.state.voi
    press(window, "6")
    assert window.state.voi == voi  # no CT lung window on an MR
    assert "No window preset 6 for MR" in window.statusBar().currentMessage()


# --- overlays, rotation, letters -------------------------------------------------------------
def test_rotate_and_flip_move_the_orientation_letters(window: MainWindow) -> None:
    show(window, "CT")
    letters = window.viewport.overlay.letters
    assert (letters["left"], letters["right"], letters["top"], letters["bottom"]) == (
        "R", "L", "A", "P",
    )  # fmt: skip
    window.state.rotate(clockwise=True)
    letters = window.viewport.overlay.letters
    assert (letters["left"], letters["right"], letters["top"], letters["bottom"]) == (
        "P", "A", "R", "L",
    )  # fmt: skip
    window.state.flip(horizontal=True)  # mirrors what is on screen now
    letters = window.viewport.overlay.letters
    assert (letters["left"], letters["right"]) == ("A", "P")
    # The pixel under a screen point follows the rotation: what was at the right edge
    # (patient left) is now at the bottom.
    image = window.viewport.image_bounds()
    assert image.width() == pytest.approx(image.height())  # square CT stays square
    window.state.reset()
    assert window.viewport.overlay.letters["left"] == "R"


def test_corner_text_of_the_ct(window: MainWindow) -> None:
    show(window, "CT")
    corners = window.viewport.overlay.corners
    assert corners["tl"][:2] == ["DEMO, Anna", "DEMO-0001"]
    assert corners["tl"][2] == "1971-03-14 F"
    assert corners["tr"][0] == "CT Thorax/Abdomen mit KM"
    assert any(line.startswith("Se: 2") for line in corners["tr"])
    assert corners["bl"][0] == f"Im: {window.state.index + 1}/{window.state.frame_count}"
    assert "Thk: 1.25 mm" in corners["bl"]
    assert "W: 400 L: 40" in corners["br"]
    assert any(line.startswith("Zoom: ") for line in corners["br"])
    assert window.viewport.overlay.pixels_per_mm is not None  # calibrated: scale bar drawn


def test_radiograph_letters_from_patient_orientation_and_reduced_display(
    window: MainWindow,
) -> None:
    show(window, "CR")
    viewport = window.viewport
    wait_for(lambda: viewport.overlay.letters)
    letters = viewport.overlay.letters
    assert (letters["left"], letters["right"], letters["top"], letters["bottom"]) == (
        "R", "L", "H", "F",
    )  # fmt: skip
    frame = viewport.frame
    assert frame is not None and frame.transform.shows_inverted  # MONOCHROME1
    shown = viewport.image_item.image
    assert shown.size < frame.stored.size / 2  # converted at about screen resolution
    # Collimated edge (unexposed: low values) shows white on MONOCHROME1; lungs darker.
    assert shown[1, shown.shape[1] // 2] > 200
    # The cursor readout still reads the full-resolution stored frame.
    text = viewport.cursor_text(100, 200)
    assert f"stored {frame.stored[200, 100]}" in text


def test_export_with_and_without_overlays(window: MainWindow, tmp_path: Path) -> None:
    show(window, "CT")
    controls = window.view_controls
    with_text, without = tmp_path / "with.png", tmp_path / "without.png"
    assert controls.save_view(True, str(with_text))
    assert controls.save_view(False, str(without))
    a, b = QImage(str(with_text)), QImage(str(without))
    assert a.size() == b.size() == window.viewport.size()
    assert a != b  # the corner text is only in the first
    assert window.viewport.overlay.isVisible()  # overlays come back after the export


# --- cine ----------------------------------------------------------------------------------------
def test_cine_plays_the_us_loop_at_its_frame_rate(window: MainWindow) -> None:
    show(window, "US")
    cine = window.viewport.cine
    assert cine.rate_fps == pytest.approx(1000 / 33.3, rel=0.01)  # from Frame Time
    start = window.state.index
    press(window, "C")
    assert cine.playing
    clock = cine.clock
    assert clock is not None
    wait_for(lambda: cine.meter.shown >= 12)
    press(window, "C")
    stopped = time.monotonic()
    assert not cine.playing
    # The frame on screen is the one the clock says is due (give or take a pending tick), so
    # playback kept to Frame Time however the ticks fell; frames were really shown.
    due = clock.frame_at(stopped)
    assert min((window.state.index - due) % 48, (due - window.state.index) % 48) <= 2
    assert clock.position(stopped) - start >= 12
    assert cine.meter.shown >= 12


# --- tag browser ---------------------------------------------------------------------------------
def test_tag_browser_lists_the_current_file(window: MainWindow) -> None:
    show(window, "CT")
    browser = window.view_controls.tag_browser
    window.view_controls.toggle_tag_browser()
    wait_for(lambda: browser.model.rowCount() > 10)
    path, _ = window.state.stack.sources[window.state.index]  # type: ignore[union-attr]
    assert browser.shown == (path, 0)
    browser.filter.setText("0010,0010")
    proxy = browser.proxy
    assert proxy.rowCount() == 1
    row = [proxy.index(0, c).data() for c in range(5)]
    assert row == ["(0010,0010)", "PatientName", "PN", "1", "DEMO^Anna"]
    browser.filter.setText("patientbirth")
    assert proxy.index(0, 4).data() == "19710314"
    browser.filter.clear()
    press(window, "Down")  # the next slice is another file
    wait_for(lambda: browser.shown is not None and browser.shown[0] != path)
    browser.hide()


# --- layouts ---------------------------------------------------------------------------------
def test_layout_drop_and_active_outline(window: MainWindow) -> None:
    show(window, "CT")
    controls = window.view_controls
    controls.set_layout("2x2")
    grid = window.viewports
    assert len(grid.visible_viewports()) == 4
    second = grid.visible_viewports()[1]
    QTest.mouseClick(second.viewport(), Qt.MouseButton.LeftButton)
    assert window.viewport is second
    assert "3d8ee8" in second.styleSheet()
    mr = next(s.uid for s in window.catalog.all_series() if s.info.modality == "MR")
    second.series_dropped.emit(mr, 0)
    wait_for(lambda: second.frame is not None)
    assert second.state.modality == "MR" and grid.viewports[0].state.modality == "CT"
    controls.set_layout("1x1")
    assert window.viewport is grid.viewports[0] is second  # 1x1 keeps the active one's MR
    assert "transparent" in grid.viewports[0].styleSheet()


def test_linked_viewports_scroll_together_and_show_reference_lines(
    window: MainWindow, tmp_path: Path
) -> None:
    frame_of_reference = "1.2.826.0.1.3680043.8.498.777"
    same = {"FrameOfReferenceUID": frame_of_reference}
    study = "1.2.826.0.1.3680043.8.498.778"
    thin = write_series(tmp_path / "thin", slices=40, spacing=1.0, rows=32, columns=32,
                        pixel_spacing=(2.0, 2.0), origin=(-32.0, -32.0, 0.0), study_uid=study,
                        series_number=11, extra=same)  # fmt: skip
    thick = write_series(tmp_path / "thick", slices=8, spacing=5.0, rows=32, columns=32,
                         pixel_spacing=(2.0, 2.0), origin=(-32.0, -32.0, 0.0), study_uid=study,
                         series_number=12, extra=same)  # fmt: skip
    sagittal = write_series(tmp_path / "sag", slices=5, spacing=4.0, rows=32, columns=32,
                            orientation="sagittal", pixel_spacing=(2.0, 2.0),
                            origin=(-8.0, -32.0, 40.0), study_uid=study, series_number=13,
                            extra=same)  # fmt: skip
    done: list[bool] = []
    window.indexing_finished.connect(lambda: done.append(True))
    window.open_paths([str(tmp_path)])
    wait_for(lambda: done)
    controls, grid = window.view_controls, window.viewports
    controls.set_layout("1x2")
    first, second = grid.visible_viewports()
    grid.set_active(second)
    window.show_series(thick.series_uid)
    grid.set_active(first)
    window.show_series(thin.series_uid)
    wait_for(lambda: first.frame is not None and second.frame is not None)
    first.state.set_index(22)  # z = 22 mm: the thick stack's nearest slice is z = 20
    assert second.state.index == 4
    first.state.set_index(38)
    assert second.state.index == 7  # z = 35, its last slice
    controls.sync_action.setChecked(False)
    first.state.set_index(0)
    assert second.state.index == 7  # not linked any more
    controls.sync_action.setChecked(True)
    # A sagittal view of the same Frame of Reference shows where the axial slice cuts it.
    grid.set_active(second)
    window.show_series(sagittal.series_uid)
    wait_for(lambda: second.frame is not None)
    grid.set_active(first)
    first.state.set_index(20)  # z = 20 mm: 10 rows (of 2 mm) below the sagittal top z = 40
    line = second.reference_line
    assert line.isVisible()
    start = second.view_to_pixel(line.line().p1())
    end = second.view_to_pixel(line.line().p2())
    assert start.y() == pytest.approx(10.5) and end.y() == pytest.approx(10.5)
    assert not first.reference_line.isVisible()  # the active view shows no line of itself
    controls.set_layout("1x1")


def test_pixel_aspect_ratio_shapes_an_uncalibrated_image(
    window: MainWindow, tmp_path: Path
) -> None:
    def uncalibrated(_k: int, ds: object) -> None:
        del ds.PixelSpacing  # type: ignore[attr-defined]
        ds.PixelAspectRatio = [2, 1]  # type: ignore[attr-defined]  # pixels twice as tall

    series = write_series(tmp_path / "aspect", slices=1, rows=20, columns=30, series_number=21,
                          per_slice=uncalibrated)  # fmt: skip
    done: list[bool] = []
    window.indexing_finished.connect(lambda: done.append(True))
    window.open_paths([str(tmp_path)])
    wait_for(lambda: done)
    window.show_series(series.series_uid)
    viewport = window.viewport
    wait_for(lambda: viewport.facts.pixel_aspect_ratio is not None and viewport.frame is not None)
    bounds = viewport.image_bounds()
    assert bounds.height() / bounds.width() == pytest.approx(40 / 30)  # 20 rows x 2 : 30
    assert viewport.overlay.pixels_per_mm is None  # no mm scale bar without Pixel Spacing
