"""The real main window, offscreen: open the demo study, see the CT, scroll, window/level."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from tests import gui_driving
from tests.gui_driving import shown_main_window, wheel_down
from viewer import demo
from viewer.qt.main_window import MainWindow


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def open_and_wait(qtbot, window: MainWindow, paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Open, wait for indexing, then for the first frame on screen."""
    gui_driving.open_and_wait(qtbot, window, paths)
    qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=30_000)


def series_by_modality(window: MainWindow, modality: str) -> str:
    return next(s.uid for s in window.catalog.all_series() if s.info.modality == modality)


def show_and_wait(qtbot, window: MainWindow, uid: str) -> None:  # type: ignore[no-untyped-def]
    window.select_series(uid)
    qtbot.waitUntil(
        lambda: window.viewport.frame is not None and window.current_series is not None,
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=30_000)


def left_drag(window: MainWindow, dx: int, dy: int) -> None:
    view = window.viewport.viewport()
    start = QPointF(view.width() / 2, view.height() / 2)
    left = Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier

    def send(kind: QMouseEvent.Type, point: QPointF, buttons: Qt.MouseButton) -> None:
        global_point = view.mapToGlobal(point)
        QApplication.sendEvent(view, QMouseEvent(kind, point, global_point, left, buttons, none))

    send(QMouseEvent.Type.MouseButtonPress, start, left)
    for step in range(1, 11):
        point = start + QPointF(dx * step / 10, dy * step / 10)
        send(QMouseEvent.Type.MouseMove, point, left)
    send(QMouseEvent.Type.MouseButtonRelease, start + QPointF(dx, dy), Qt.MouseButton.NoButton)


def test_demo_opens_with_tree_and_ct_in_order(qtbot, window: MainWindow, demo_study: Path) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, [str(demo_study)])
    modalities = {s.info.modality for s in window.catalog.all_series()}
    assert {"CT", "MR", "US"} <= modalities
    assert window.tree_model.rowCount() == 1  # one patient
    # A clean CD: its DICOMDIR (read as the index) is no skipped file and no problem.
    assert window.progress_label.text().endswith("; 0 file(s) skipped")
    assert window.catalog.skipped == [] and window.problems.total == 0
    show_and_wait(qtbot, window, series_by_modality(window, "CT"))
    stack = window.state.stack
    assert stack is not None and stack.frames >= 160
    z = [p[2] for p in stack.positions or []]
    assert np.allclose(np.diff(z), 1.25)  # ascending along the normal, 1.25 mm apart
    voi = window.state.voi
    assert voi is not None and (voi.center, voi.width) == pytest.approx((40, 400))  # 1st window


def test_wheel_scrolls_and_drag_windows(qtbot, window: MainWindow, demo_study: Path) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, [str(demo_study)])
    show_and_wait(qtbot, window, series_by_modality(window, "CT"))
    start = window.state.index
    wheel_down(window, 3)
    assert window.state.index == start + 3
    before = window.state.voi
    assert before is not None
    left_drag(window, dx=0, dy=80)  # down: lower level, brighter image
    after = window.state.voi
    assert after is not None and after.center < before.center
    assert after.width == pytest.approx(before.width)
    # A second press at the same spot within the double-click interval is a double click,
    # which starts no drag: wait it out, as a person would.
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    left_drag(window, dx=100, dy=0)  # right: wider window
    wider = window.state.voi
    assert wider is not None and wider.width > after.width


def test_ct_pixels_after_windowing(qtbot, window: MainWindow, demo_study: Path) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, [str(demo_study)])
    show_and_wait(qtbot, window, series_by_modality(window, "CT"))
    qtbot.waitUntil(lambda: window.viewport.image_item.image is not None, timeout=10_000)
    shown = window.viewport.image_item.image
    assert shown.dtype == np.uint8
    frame = window.viewport.frame
    assert frame is not None
    hu = frame.stored.astype(np.float64) * frame.transform.rescale_slope
    hu += frame.transform.rescale_intercept
    # In the soft-tissue window (W 400 / L 40) air is black and bone white.
    assert np.all(shown[hu < -200] == 0)
    assert np.all(shown[hu > 300] == 255)


def test_junk_files_are_skipped_and_good_series_opens(
    qtbot, window: MainWindow, demo_study: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "README.txt").write_text("not dicom")
    (tmp_path / "empty.dcm").write_bytes(b"")
    open_and_wait(qtbot, window, [str(demo_study), str(tmp_path)])
    reasons = {Path(s.path).name: s.reason for s in window.catalog.skipped}
    assert "README.txt" in reasons and "empty.dcm" in reasons
    assert window.current_series is not None


def test_dropping_a_folder_opens_it(qtbot, window: MainWindow, demo_study: Path) -> None:  # type: ignore[no-untyped-def]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(demo_study))])
    drop = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.indexing_finished, timeout=60_000):
        window.dropEvent(drop)
    assert window.catalog.instance_count == sum(s.instances for s in demo.DEMO_SERIES)


def test_problems_dock_lists_bad_files_with_reasons(
    qtbot, window: MainWindow, demo_study: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    truncated = tmp_path / "truncated.dcm"
    ct_file = next(p for p in demo_study.rglob("*") if p.is_file() and p.stat().st_size > 100_000)
    truncated.write_bytes(ct_file.read_bytes()[:200])
    (tmp_path / "notes.txt").write_text("not dicom")
    open_and_wait(qtbot, window, [str(demo_study), str(tmp_path)])
    rows = {Path(path).name: reason for path, _where, reason in window.problems.rows()}
    assert set(rows) == {"truncated.dcm", "notes.txt"}  # the DICOMDIR is no problem
    assert all(reason for reason in rows.values())
    assert window.problems.isVisible()
    assert window.current_series is not None  # the good study still opens
