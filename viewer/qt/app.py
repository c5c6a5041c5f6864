"""Start the GUI: the QApplication, the main window, and the screenshot verb."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from viewer.cli.errors import EXIT_FAILED, EXIT_OK, report
from viewer.qt.main_window import MainWindow

#: How long ``screenshot`` waits for indexing and the first frame before giving up (seconds).
SCREENSHOT_TIMEOUT_S = 120


def make_application() -> QApplication:
    """The one QApplication, with pyqtgraph configured before any item exists."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("dicom-viewer")
    app.setOrganizationName("dicom-viewer")
    return app


def demo_paths() -> list[str]:
    """Write the demo study to the user cache once and return its folder (worker thread)."""
    from viewer.demo import ensure_demo_study

    return [str(ensure_demo_study())]


def open_in_window(window: MainWindow, paths: Sequence[str]) -> None:
    if paths:
        window.open_paths(list(paths))
    else:
        window.open_paths([], prepare=demo_paths)


def run_gui(paths: Sequence[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = make_application()
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    open_in_window(window, paths)
    status = app.exec()
    window.shutdown()
    return status


def take_screenshot(output: str, paths: Sequence[str], layout: str, size: tuple[int, int]) -> int:
    """Open ``paths`` (or the demo) as a user would, wait for the first frame, save the window."""
    app = make_application()
    window = MainWindow()
    window.resize(*size)
    window.show()
    outcome: dict[str, bool] = {"shown": False}

    def finish(success: bool) -> None:
        outcome["shown"] = success
        app.quit()

    def after_index() -> None:
        if window.current_series is None:
            report("nothing displayable was found")
            finish(False)

    window.viewport.frame_shown.connect(lambda: QTimer.singleShot(300, lambda: finish(True)))
    window.indexing_finished.connect(after_index)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_S * 1000, lambda: _timeout(finish))
    open_in_window(window, paths)
    app.exec()
    if outcome["shown"] and not window.grab().save(output):
        report(f"cannot write {output}")
        outcome["shown"] = False
    window.shutdown()
    window.close()
    return EXIT_OK if outcome["shown"] else EXIT_FAILED


def _timeout(finish: Callable[[bool], None]) -> None:
    report(f"no image was shown within {SCREENSHOT_TIMEOUT_S} s")
    finish(False)
