"""Driving the real main window in tests: one window per test or per module, real wheel
events, waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsView

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


def module_main_window(
    paths: Sequence[str], size: tuple[int, int] = (1200, 800)
) -> Iterator[MainWindow]:
    """A shown MainWindow with ``paths`` indexed and a first frame shown, shared by a module's
    tests (a module-scoped fixture yields from it; its settings go to the module's user
    folders, see tests/conftest.py); workers stopped and the window deleted afterwards."""
    make_application()
    main = MainWindow()
    main.resize(*size)
    main.show()
    done: list[bool] = []
    main.indexing_finished.connect(lambda: done.append(True))
    main.open_paths(list(paths))
    wait_for(lambda: done and main.viewport.frame is not None, 60)
    yield main
    main.shutdown()
    main.close()
    main.deleteLater()
    QApplication.processEvents()


def show_modality(window: MainWindow, modality: str) -> str:
    """Show the first series of ``modality`` in the active viewport, wait for its frame; its
    Series Instance UID."""
    uid = next(s.uid for s in window.catalog.all_series() if s.info.modality == modality)
    window.show_series(uid)
    wait_for(lambda: window.viewport.frame is not None and window.state.series_uid == uid)
    return uid


def focus_viewport(window: MainWindow) -> None:
    """Activate the main window (key shortcuts need it) and focus its active viewport."""
    window.activateWindow()
    wait_for(lambda: QApplication.activeWindow() is window, 5)
    window.viewport.setFocus()
    QApplication.processEvents()


def drag(
    view: QGraphicsView,
    button: Qt.MouseButton,
    delta: QPointF,
    start: QPointF | None = None,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    steps: int = 10,
) -> None:
    """A real mouse drag over ``view``: press ``button`` at ``start`` (the centre by default),
    move by ``delta`` in ``steps`` moves 11 ms apart (pyqtgraph drops moves closer than 10 ms),
    release."""
    widget = view.viewport()
    if start is None:
        start = QPointF(widget.width() / 2, widget.height() / 2)

    def send(kind: QMouseEvent.Type, point: QPointF, buttons: Qt.MouseButton) -> None:
        global_point = widget.mapToGlobal(point)
        event = QMouseEvent(kind, point, global_point, button, buttons, modifiers)
        QApplication.sendEvent(widget, event)

    send(QMouseEvent.Type.MouseButtonPress, start, button)
    for step in range(1, steps + 1):
        time.sleep(0.011)
        send(QMouseEvent.Type.MouseMove, start + delta * (step / steps), button)
    send(QMouseEvent.Type.MouseButtonRelease, start + delta, Qt.MouseButton.NoButton)
    QApplication.processEvents()


def wait_for(predicate: Callable[[], object], timeout_s: float = 30.0) -> None:
    """Run the event loop until ``predicate`` holds (a timeout, not a speed assertion)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        QApplication.processEvents()
        time.sleep(0.002)


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
