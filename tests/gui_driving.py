"""Driving the real main window in tests: one window per test, real wheel events, waits."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from viewer.qt.app import make_application
from viewer.qt.main_window import MainWindow


def shown_main_window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """A shown 1200x800 MainWindow owned by ``qtbot``; workers stopped afterwards."""
    make_application()
    main = MainWindow()
    qtbot.addWidget(main)
    main.resize(1200, 800)
    main.show()
    yield main
    main.shutdown()


def open_and_wait(qtbot, window: MainWindow, paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Open ``paths`` and wait until indexing has finished."""
    with qtbot.waitSignal(window.indexing_finished, timeout=60_000):
        window.open_paths(paths)


def wheel_down(window: MainWindow, steps: int) -> None:
    """``steps`` real wheel notches down over the active viewport."""
    view = window.viewport
    centre = QPointF(view.width() / 2, view.height() / 2)
    for _ in range(steps):
        event = QWheelEvent(
            centre,
            view.mapToGlobal(centre),
            QPoint(0, 0),
            QPoint(0, -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view.viewport(), event)
