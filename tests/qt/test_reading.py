"""Reading without friction (issue 14), driven through the real main window.

One synthetic study, written by the test factories as a scanner would: a scout (series 1), a
4D enhanced MR of 4 time points x 8 slices (series 2, frames shuffled in the file) and a
two-echo field map of classic single-frame files (series 3). Every stack and phase must be
reachable from the tree, the phase bar and the keys; a drag from the tree changes only the
viewport it is dropped on; the keys start with the image.
"""

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
from pydicom.uid import generate_uid
from PySide6.QtCore import QModelIndex, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QToolButton

from tests import factories
from tests.gui_driving import focus_viewport, module_main_window, wait_for, wheel_down
from viewer.qt.app import show_target
from viewer.qt.main_window import FIRST_COLUMN_MIN, MainWindow
from viewer.qt.study_tree import SERIES_MIME, read_payload

SLICES, PHASES = 8, 4


def _renumber(path: str, number: int, description: str) -> None:
    ds = dcmread(path)
    ds.SeriesNumber = number
    ds.SeriesDescription = description
    ds.save_as(path)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reading")
    study_uid = generate_uid()
    scout = factories.write_localizer(folder, study_uid=study_uid, series_uid=generate_uid())
    _renumber(scout, 1, "Scout")
    frames = factories.enhanced_frames(slices=SLICES, phases=PHASES)
    truth = factories.write_enhanced(folder / "fmri.dcm", frames, study_uid=study_uid)
    _renumber(truth.path, 2, "fMRI 4D")
    factories.write_phases(
        folder / "fieldmap",
        "EchoNumbers",
        [1, 2],
        slices=5,
        modality="MR",
        study_uid=study_uid,
        series_number=3,
        series_description="Field map",
    )
    return folder


@pytest.fixture(scope="module")
def window(study: Path) -> Iterator[MainWindow]:
    yield from module_main_window([str(study)])


def series_uid(window: MainWindow, description: str) -> str:
    return next(s.uid for s in window.catalog.all_series() if s.info.description == description)


def proxy_row(window: MainWindow, uid: str, stack: int | None = None) -> QModelIndex:
    """The tree's (proxy) index of a series row, or of stack ``stack`` under it."""
    model = window.tree_model
    item = model.series_item(uid) if stack is None else model.stack_item(uid, stack)
    assert item is not None
    return window.tree_proxy.mapFromSource(item.index())


def click_row(window: MainWindow, index: QModelIndex) -> None:
    """A real click (press and release) on a tree row."""
    window.tree.scrollTo(index)
    centre = window.tree.visualRect(index).center()
    QTest.mouseClick(window.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    QApplication.processEvents()


def wait_shown(window: MainWindow, uid: str, stack: int) -> None:
    state = window.state
    wait_for(lambda: state.series_uid == uid and state.stack_number == stack)
    wait_for(lambda: shown_source(window) == state.stack.sources[state.index])  # type: ignore[union-attr]


def shown_source(window: MainWindow) -> tuple[str, int] | None:
    """(path, frame) of the frame on screen in the active viewport."""
    frame = window.viewport.frame
    return None if frame is None else (frame.path, frame.frame)


def key(window: MainWindow, code: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    QTest.keyClick(window.viewport, code, modifiers)
    QApplication.processEvents()


def single_layout(window: MainWindow) -> None:
    window.view_controls.set_layout("1x1")
    focus_viewport(window)


# --- 7. what opens first ----------------------------------------------------------------------
def test_opens_on_the_largest_volume_not_the_scout(window: MainWindow) -> None:
    fmri = series_uid(window, "fMRI 4D")
    assert window.state.series_uid == fmri
    assert window.state.stack is not None and window.state.stack.frames == SLICES
    # ...and the tree says which series (and stack) is shown: bold, coloured.
    assert window.tree_model.shown() == (fmri, window.state.stack_number)
    shown = proxy_row(window, fmri)
    assert shown.data(Qt.ItemDataRole.FontRole).bold()
    scout = proxy_row(window, series_uid(window, "Scout"))
    font = scout.data(Qt.ItemDataRole.FontRole)
    assert font is None or not QFont(font).bold()


# --- 3. focus -----------------------------------------------------------------------------------
def test_keys_start_with_the_image_and_come_back_after_toolbar_clicks(window: MainWindow) -> None:
    window.activateWindow()
    wait_for(lambda: QApplication.activeWindow() is window, 5)
    assert QApplication.focusWidget() is window.viewport
    assert window.tree_filter.focusPolicy() == Qt.FocusPolicy.ClickFocus
    # A toolbar click (Invert), then a key: the key reaches the image, not the filter.
    invert = window.view_controls.actions["invert"]
    button = window.view_controls.toolbar.widgetForAction(invert)
    assert isinstance(button, QToolButton)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert window.state.invert
    assert QApplication.focusWidget() is window.viewport
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_I)  # invert back, by key
    assert not window.state.invert
    assert window.tree_filter.text() == ""
    # Ctrl+F puts the cursor in the filter; the typing filters the tree.
    QTest.keyClick(window.viewport, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.tree_filter
    QTest.keyClicks(window.tree_filter, "field")
    assert window.tree_filter.text() == "field"
    window.tree_filter.clear()
    focus_viewport(window)


# --- 1. every stack and phase reachable ---------------------------------------------------------
def test_every_stack_has_a_labelled_row_under_its_series(window: MainWindow) -> None:
    fmri, fieldmap = series_uid(window, "fMRI 4D"), series_uid(window, "Field map")
    series = proxy_row(window, fmri)
    labels = [window.tree_proxy.index(r, 0, series).data() for r in range(PHASES)]
    assert window.tree_proxy.rowCount(series) == PHASES
    assert labels == [f"phase {k} of {PHASES}" for k in range(1, PHASES + 1)]
    echoes = proxy_row(window, fieldmap)
    assert [window.tree_proxy.index(r, 0, echoes).data() for r in range(2)] == [
        "echo 1 (1 of 2)",
        "echo 2 (2 of 2)",
    ]
    counts = {window.tree_proxy.index(r, 3, series).data() for r in range(PHASES)}
    assert counts == {f"{SLICES} fr"}
    # Each stack row gets its own thumbnail.
    wait_for(lambda: all(window.tree_model.has_stack_thumbnail(fmri, k) for k in range(PHASES)))


def test_clicking_a_stack_row_shows_that_stack(window: MainWindow) -> None:
    single_layout(window)
    fieldmap = series_uid(window, "Field map")
    click_row(window, proxy_row(window, fieldmap, 1))
    wait_shown(window, fieldmap, 1)
    stack = window.state.stack
    assert stack is not None and stack.title == "echo 2 (2 of 2)"
    assert window.tree_model.shown() == (fieldmap, 1)
    assert proxy_row(window, fieldmap, 1).data(Qt.ItemDataRole.FontRole).bold()
    assert "echo 2 (2 of 2)" in window.viewport._corner_text()["tr"]
    assert QApplication.focusWidget() is window.viewport  # a click hands the keys to the image


def test_phase_keys_and_bar_keep_the_slice_position(window: MainWindow) -> None:
    single_layout(window)
    fmri = series_uid(window, "fMRI 4D")
    click_row(window, proxy_row(window, fmri, 0))
    wait_shown(window, fmri, 0)
    viewport, state = window.viewport, window.state
    state.set_index(2)
    position = state.stack.positions[2]  # type: ignore[union-attr]
    bar = viewport.phase_bar
    wait_for(bar.isVisible)
    assert "Phase 1/4" in viewport._corner_text()["bl"]
    reached = []
    ctrl = Qt.KeyboardModifier.ControlModifier
    for _ in range(PHASES - 1):
        key(window, Qt.Key.Key_Down, ctrl)
        wait_shown(window, fmri, state.stack_number)
        reached.append(state.phase)
        assert state.stack.positions[state.index] == position  # type: ignore[union-attr]
        # The pixels are those of the frame stored for this phase at this position.
        path, frame = state.stack.sources[state.index]  # type: ignore[union-attr]
        expected = dcmread(path).pixel_array[frame]
        assert viewport.frame is not None
        assert np.array_equal(viewport.frame.stored, expected)
    assert reached == [1, 2, 3]
    assert f"Phase {PHASES}/{PHASES}" in viewport._corner_text()["bl"]
    assert bar.slider.value() == PHASES - 1 and bar.text.text() == "phase 4 of 4"
    key(window, Qt.Key.Key_Up, ctrl)
    assert state.phase == 2
    # The bar: a click on the groove's left end pages back one phase.
    groove_left = QPoint(4, bar.slider.height() // 2)
    QTest.mouseClick(bar.slider, Qt.MouseButton.LeftButton, pos=groove_left)
    wait_for(lambda: state.phase == 1)
    assert state.index == 2 and window.tree_model.shown() == (fmri, state.stack_number)
    assert QApplication.focusWidget() is viewport  # the bar never takes the keys


def test_cine_over_phases_and_over_slices(window: MainWindow) -> None:
    single_layout(window)
    fmri = series_uid(window, "fMRI 4D")
    window.select_series(fmri, 0)
    wait_shown(window, fmri, 0)
    state, cine = window.state, window.viewport.cine
    index = state.index
    key(window, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    assert cine.playing and cine.over_phases
    seen: set[int] = set()
    wait_for(lambda: seen.add(state.phase) or len(seen) == PHASES, 20)
    assert state.index == index  # time moves, the slice stays
    assert "Cine over phases" in " ".join(window.viewport._corner_text()["bl"])
    key(window, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    assert not cine.playing
    key(window, Qt.Key.Key_C, Qt.KeyboardModifier.NoModifier)
    assert cine.playing and not cine.over_phases
    slices: set[int] = set()
    wait_for(lambda: slices.add(state.index) or len(slices) == SLICES, 20)
    key(window, Qt.Key.Key_C, Qt.KeyboardModifier.NoModifier)
    assert not cine.playing


def test_phase_keys_are_in_help_and_remappable(window: MainWindow) -> None:
    from viewer.qt.help_keys import default_shortcuts, keyboard_help_html

    shortcuts = default_shortcuts()
    assert shortcuts["previous_phase"] == ("Ctrl+Up",)
    assert shortcuts["next_phase"] == ("Ctrl+Down",)
    assert shortcuts["find_series"] == ("Ctrl+F",)
    page = keyboard_help_html()
    assert "Next phase" in page and "Cine over the phases" in page
    single_layout(window)
    fmri = series_uid(window, "fMRI 4D")
    window.select_series(fmri, 0)
    wait_shown(window, fmri, 0)
    window.view_controls.set_shortcuts({**shortcuts, "next_phase": ("Ctrl+J",)})
    try:
        key(window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
        assert window.state.phase == 1
    finally:
        window.view_controls.set_shortcuts(shortcuts)


# --- 2. drag only drops where released ----------------------------------------------------------
def test_pressing_and_moving_on_the_tree_leaves_the_active_viewport(window: MainWindow) -> None:
    single_layout(window)
    fmri, fieldmap = series_uid(window, "fMRI 4D"), series_uid(window, "Field map")
    window.select_series(fmri, 0)
    wait_shown(window, fmri, 0)
    tree = window.tree.viewport()
    start = QPointF(window.tree.visualRect(proxy_row(window, fieldmap)).center())
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    press = QMouseEvent(QMouseEvent.Type.MouseButtonPress, start, tree.mapToGlobal(start),
                        left, left, none)  # fmt: skip
    QApplication.sendEvent(tree, press)
    QApplication.processEvents()
    assert window.state.series_uid == fmri  # pressing alone shows nothing
    for step in (1, 2):  # below the drag distance: no QDrag starts (it would block)
        point = start + QPointF(step, 0)
        move = QMouseEvent(QMouseEvent.Type.MouseMove, point, tree.mapToGlobal(point),
                           Qt.MouseButton.NoButton, left, none)  # fmt: skip
        QApplication.sendEvent(tree, move)
        QApplication.processEvents()
    assert window.state.series_uid == fmri
    # The tree's payload for that row names the series (and its stack).
    data = window.tree_proxy.mimeData([proxy_row(window, fieldmap, 1)])
    assert data.hasFormat(SERIES_MIME) and read_payload(data) == (fieldmap, 1)
    release = QMouseEvent(QMouseEvent.Type.MouseButtonRelease, start, tree.mapToGlobal(start),
                          left, Qt.MouseButton.NoButton, none)  # fmt: skip
    QApplication.sendEvent(tree, release)
    wait_for(lambda: window.state.series_uid == fieldmap)  # the release (a click) shows it


def drop(window: MainWindow, target_index: int, row: QModelIndex) -> None:
    """Drag what the tree would drag for ``row`` onto viewport ``target_index`` and drop it:
    Qt's own enter and drop events, carrying the tree's own payload."""
    viewport = window.viewports.visible_viewports()[target_index]
    target = viewport.viewport()  # the widget under the pointer, as in a real drag
    data = window.tree_proxy.mimeData([row])
    centre = QPointF(target.width() / 2, target.height() / 2)
    copy, left = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(centre.toPoint(), copy, data, left, none)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    event = QDropEvent(centre, copy, data, left, none)
    QApplication.sendEvent(target, event)
    assert event.isAccepted()
    QApplication.processEvents()


def test_drops_fill_a_2x2_layout_each_where_released(window: MainWindow) -> None:
    single_layout(window)
    fmri, fieldmap = series_uid(window, "fMRI 4D"), series_uid(window, "Field map")
    scout = series_uid(window, "Scout")
    window.select_series(fmri, 0)
    wait_shown(window, fmri, 0)
    window.view_controls.set_layout("2x2")
    grid = window.viewports
    shown = grid.visible_viewports()
    assert [v.drop_hint.isVisible() for v in shown] == [False, True, True, True]
    drop(window, 1, proxy_row(window, fieldmap, 1))
    drop(window, 2, proxy_row(window, fmri, 3))
    drop(window, 3, proxy_row(window, scout))
    states = [(v.state.series_uid, v.state.stack_number) for v in shown]
    assert states == [(fmri, 0), (fieldmap, 1), (fmri, 3), (scout, 0)]
    assert not any(v.drop_hint.isVisible() for v in shown)
    wait_for(lambda: all(v.frame is not None for v in shown))
    assert grid.active is shown[3]  # the last drop's viewport is active
    # Back to 1x1: the active viewport's series stays.
    window.view_controls.set_layout("1x1")
    assert window.viewport.state.series_uid == scout
    assert QApplication.focusWidget() is window.viewport


# --- 5. the value under a still pointer follows the slice ---------------------------------------
def test_readout_follows_wheel_scrolling_without_mouse_move(window: MainWindow) -> None:
    single_layout(window)
    fmri = series_uid(window, "fMRI 4D")
    window.select_series(fmri, 0)
    wait_shown(window, fmri, 0)
    view = window.viewport
    inside = QPoint(view.viewport().width() // 2, view.viewport().height() // 2)
    QTest.mouseMove(view.viewport(), inside)
    QApplication.processEvents()
    wait_for(lambda: "mm" in window.statusBar().currentMessage())
    before = window.statusBar().currentMessage()
    index = window.state.index
    wheel_down(window, 1)
    wait_for(lambda: window.state.index != index)
    wait_for(lambda: window.statusBar().currentMessage() != before)
    after = window.statusBar().currentMessage()
    z_before, z_after = (float(t.split(",")[2].split(")")[0]) for t in (before, after))
    step = abs(z_after - z_before)
    assert step == pytest.approx(3.0)  # one slice on, the readout's z moved one spacing


# --- 13. headless reach: screenshot --series --stack --frame ------------------------------------
def test_screenshot_target_reaches_every_stack_and_frame(window: MainWindow) -> None:
    single_layout(window)
    fmri = series_uid(window, "fMRI 4D")
    for stack in range(PHASES):
        for frame in (0, SLICES - 1):
            assert show_target(window, (fmri, stack, frame)) == ""
            assert (window.state.stack_number, window.state.index) == (stack, frame)
            wait_shown(window, fmri, stack)
    assert show_target(window, (None, None, None)) == ""
    assert window.state.series_uid == fmri  # what the window opens on
    assert "has 4 stack(s) (0 to 3); no stack 4" in show_target(window, (fmri, 4, None))
    assert "no frame 8" in show_target(window, (fmri, 1, 8))
    assert "no series 1.2.3" in show_target(window, ("1.2.3", None, None))


def screenshot(study: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "viewer", "screenshot", str(out), "--size", "800x500"]
    return subprocess.run(
        [*command, *options, str(study)], capture_output=True, text=True, env=env, timeout=120
    )


def test_screenshot_verb_draws_the_phase_asked_for(study: Path, tmp_path: Path) -> None:
    uid = next(
        dcmread(path, stop_before_pixels=True).SeriesInstanceUID for path in study.glob("fmri.dcm")
    )
    shots = []
    for stack in ("0", "3"):
        out = tmp_path / f"stack{stack}.png"
        result = screenshot(study, out, "--series", uid, "--stack", stack, "--frame", "2")
        assert result.returncode == 0, result.stderr
        shots.append(np.asarray(Image.open(out).convert("L")))
    assert shots[0].shape == (500, 800)
    assert not np.array_equal(shots[0], shots[1])  # another phase (its corner text says so)
    bad = screenshot(study, tmp_path / "bad.png", "--series", uid, "--stack", "7")
    assert bad.returncode == 1 and "no stack 7" in bad.stderr
    assert not (tmp_path / "bad.png").exists()


# --- 6. nothing cut that has room: the tree, Problems, the tag browser --------------------------
def test_long_texts_elide_in_the_middle_wrap_or_get_room(window: MainWindow) -> None:
    single_layout(window)
    tree = window.tree
    assert tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    header = tree.header()
    # At the default dock width every column shows: column 0 takes the room the others leave.
    assert header.length() == tree.viewport().width()
    assert not tree.horizontalScrollBar().isVisible()
    for column in (2, 3):  # date and count whole
        assert header.sectionSize(column) >= tree.sizeHintForColumn(column)
    assert header.sectionSize(0) >= tree.sizeHintForColumn(0)  # this study's names have room
    assert [header.model().headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
            for c in (1, 3)] == ["Modality", "Images (frames)"]  # fmt: skip
    studies = next(d for d in window.findChildren(QDockWidget) if d.objectName() == "studies")
    dates = header.sectionSize(2)
    window.resizeDocks([studies], [300], Qt.Orientation.Horizontal)  # a narrow dock
    wait_for(lambda: tree.viewport().width() < 300, 5)
    QApplication.processEvents()
    assert header.sectionSize(2) == dates >= tree.sizeHintForColumn(2)  # the date is never cut
    assert header.sectionSize(0) < tree.sizeHintForColumn(0)  # descriptions elide instead
    others = sum(header.sectionSize(c) for c in (1, 2, 3))
    assert header.sectionSize(0) == max(FIRST_COLUMN_MIN, tree.viewport().width() - others)
    window.resizeDocks([studies], [470], Qt.Orientation.Horizontal)
    wait_for(lambda: header.length() == tree.viewport().width(), 5)
    row = proxy_row(window, series_uid(window, "fMRI 4D"))
    assert "fMRI 4D" in str(row.data(Qt.ItemDataRole.ToolTipRole))
    # Problems: the full path on hover, the reason wrapped onto more lines, not cut.
    dock = window.problems
    reason = "the decoder stopped: " + "a long reason that does not fit on one line " * 4
    dock.add("/data/cd/DICOM/ST000001/SE000002/IM000017", "frame 3", reason.strip())
    dock.show()
    dock.resize(420, 300)
    QApplication.processEvents()
    group = dock.table.topLevelItem(dock.table.topLevelItemCount() - 1)
    assert group is not None
    group.setExpanded(True)
    item = group.child(group.childCount() - 1)
    assert item is not None and item.toolTip(0) == "/data/cd/DICOM/ST000001/SE000002/IM000017"
    line = dock.table.fontMetrics().height()
    wait_for(lambda: dock.table.visualItemRect(item).height() > 2 * line, 5)
    dock.hide()
    # The tag browser opens wide enough to read the Value column.
    QTest.keyClick(window.viewport, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    browser = window.view_controls.tag_browser
    wait_for(browser.isVisible, 5)
    QApplication.processEvents()
    value_column = browser.tree.header().count() - 1
    wait_for(lambda: browser.tree.header().sectionSize(value_column) >= 180, 5)
    browser.hide()


# --- 10. one date format ------------------------------------------------------------------------
def test_tree_and_corner_text_write_the_study_date_alike(window: MainWindow) -> None:
    single_layout(window)
    fmri = series_uid(window, "fMRI 4D")
    window.select_series(fmri, 0)
    study_row = proxy_row(window, fmri).parent()
    tree_date = study_row.siblingAtColumn(2).data()
    assert tree_date == "2024-01-02 10:15"  # the C locale: ISO 8601
    assert tree_date in window.viewport._corner_text()["tr"]
    patient = study_row.parent().data()
    assert "1970-01-01" in patient and "1970-01-01 O" in window.viewport._corner_text()["tl"]
