"""Reports the main window's first paint when :data:`FIRST_PAINT_ENV` asks (see
:mod:`viewer.core.startup_timing`): prints ``first-paint-at <epoch seconds>`` and, for "exit",
quits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from viewer.core.startup_timing import FIRST_PAINT_ENV, FIRST_PAINT_PREFIX


class FirstPaintReporter(QObject):
    """Event filter on one window: stamps its first Paint event."""

    def __init__(self, window: QWidget, quit_after: bool) -> None:
        super().__init__(window)
        self._quit_after = quit_after
        self.painted_at: float | None = None
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.painted_at is None:
            self.painted_at = time.time()
            cpu = time.process_time()
            print(f"{FIRST_PAINT_PREFIX}{self.painted_at:.6f} cpu {cpu:.3f}", flush=True)
            watched.removeEventFilter(self)
            if self._quit_after:
                QTimer.singleShot(0, QCoreApplication.quit)
        return False


def report_first_paint_if_asked(window: QWidget) -> FirstPaintReporter | None:
    """Install the reporter on ``window`` when the environment asks for it (before show)."""
    mode = os.environ.get(FIRST_PAINT_ENV, "")
    if mode not in ("exit", "report"):
        return None
    return FirstPaintReporter(window, quit_after=mode == "exit")


class _AfterFirstPaint(QObject):
    def __init__(self, window: QWidget, callback: Callable[[], None], fallback_ms: int) -> None:
        super().__init__(window)
        self._callback: Callable[[], None] | None = callback
        window.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self._run)  # a window that is never painted still works

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._run)  # after this paint has reached the screen
        return False

    def _run(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            callback()


def call_after_first_paint(
    window: QWidget, callback: Callable[[], None], fallback_ms: int = 1000
) -> None:
    """Run ``callback`` once ``window`` has been painted (or after ``fallback_ms``).

    Background work started before the first paint competes with it for the GIL: start
    indexing here so the window appears first.
    """
    _AfterFirstPaint(window, callback, fallback_ms)
