"""Measurements live in the study database (issue 17, item 5): drawn with real mouse events in
one main window, closed, and there again, with the same value, when the study is opened in a
new window; nothing is written next to the source files. Real demo study, real SQLite file in
the test's user data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from tests.gui_driving import drag, focus_viewport, open_and_wait, show_modality, wait_for
from viewer.model.annotations import persist, shapes
from viewer.qt.app import make_application
from viewer.qt.main_window import MainWindow
from viewer.store.database import StudyDatabase, default_database_path

LEFT = Qt.MouseButton.LeftButton


def new_window(qtbot, demo_study: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    make_application()
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    open_and_wait(qtbot, window, [str(demo_study)])
    wait_for(lambda: window.viewport.frame is not None, 60)
    return window


def files_under(folder: Path) -> set[str]:
    return {os.path.join(root, name) for root, _, names in os.walk(folder) for name in names}


def test_a_measurement_drawn_is_there_after_closing_and_reopening(
    qtbot,  # type: ignore[no-untyped-def]
    demo_study: Path,
) -> None:
    before = files_under(demo_study)
    first = new_window(qtbot, demo_study)
    uid = show_modality(first, "CT")
    first.state.set_index(5)
    wait_for(lambda: first.viewport.frame is not None)
    focus_viewport(first)
    QTest.keyClick(first.viewport, Qt.Key.Key_L)
    view = first.viewport.viewport()
    start = QPointF(view.width() / 2 - 80, view.height() / 2)
    drag(first.viewport, LEFT, QPointF(160, 40), start)
    (line,) = list(first.viewports.annotations)
    value = first.viewport.measurement(line).values["length"]
    QTest.keyClick(first.viewport, Qt.Key.Key_K)  # and a key image
    first.close()  # saves what is pending, then closes the database

    with StudyDatabase(default_database_path()) as database:
        rows = database.viewer_objects()
    assert sorted(r.kind for r in rows) == [persist.KEY_IMAGE, shapes.LENGTH]
    series = first.catalog.series(uid)
    assert series is not None
    drawn_on = next(r.sop_instance_uid for r in series.instances if r.path == line.image.path)
    assert {r.sop_instance_uid for r in rows} == {drawn_on}

    second = new_window(qtbot, demo_study)
    wait_for(lambda: len(second.viewports.annotations) == 1, 30)
    (again,) = list(second.viewports.annotations)
    assert again.id == line.id and again.points == line.points
    assert again.image.key == line.image.key
    assert set(second.viewports.annotations.key_images) == {line.image.key}
    show_modality(second, "CT")
    second.state.set_index(5)
    wait_for(lambda: second.viewport.frame is not None)
    assert second.viewport.shown_annotations() == [again]
    assert second.viewport.measurement(again).values["length"] == pytest.approx(value)
    assert second.viewport.annotation_layer.labels == [[f"{value:.1f} mm"]]

    # An edit in the new window is saved too (debounced), and a delete removes the row.
    second.viewports.annotations.remove(again.id)
    with qtbot.waitSignal(second.annotations_db.saved, timeout=10_000):
        pass
    with StudyDatabase(default_database_path()) as database:
        assert [r.kind for r in database.viewer_objects()] == [persist.KEY_IMAGE]
    second.close()
    assert files_under(demo_study) == before  # never written next to the source files
