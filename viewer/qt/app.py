"""Start the GUI: the QApplication, the main window, and the screenshot verb."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import (
    QMessageLogContext,
    QSocketNotifier,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from viewer.core import quit_signals
from viewer.core.app_logging import configure_logging
from viewer.core.display import platform_failure
from viewer.core.errors import EXIT_FAILED, EXIT_OK, report
from viewer.model.series_choice import best_stack, first_to_show
from viewer.qt.crash_guard import install_crash_guard
from viewer.qt.first_paint import call_after_first_paint, report_first_paint_if_asked
from viewer.qt.main_window import MainWindow

#: How long ``screenshot`` waits for indexing and the first frame before giving up (seconds).
SCREENSHOT_TIMEOUT_S = 120
#: How long ``screenshot`` lets the window settle (paint, overlays) after the slice is up (ms).
SETTLE_MS = 300
#: Polling for the tree's thumbnails before a screenshot, and time for the last to be drawn.
THUMBNAIL_SETTLE_MS = 50
#: ... for this long at most (seconds): a thumbnail still being made is left out.
THUMBNAIL_WAIT_S = 10.0


def make_application() -> QApplication:
    """The one QApplication, with pyqtgraph configured before any item exists."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = _new_application()
    app.setApplicationName("dicom-viewer")
    app.setOrganizationName("dicom-viewer")
    app.setDesktopFileName("dicom-viewer")  # packaging/linux/dicom-viewer.desktop
    return app


def _new_application() -> QApplication:
    """Construct the QApplication; if Qt cannot start its platform plugin (it would abort with
    exit 134 and several lines of its own), say why in one line and exit 1."""
    said: list[str] = []

    def hold(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            report(platform_failure("\n".join([*said, message])))
            sys.stderr.flush()
            os._exit(EXIT_FAILED)
        said.append(message)

    previous = qInstallMessageHandler(hold)
    try:
        app = QApplication(sys.argv[:1])
    finally:
        qInstallMessageHandler(previous)
    for message in said:  # what Qt said while starting, kept for the log
        logging.getLogger("viewer.qt").info("Qt: %s", message)
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


def run_gui(paths: Sequence[str], database: str | None = None, study_uid: str = "") -> int:
    """The viewer on ``paths`` (none: the demo), or on ``study_uid`` reopened from the study
    database (its rows, no header read); ``database``: that file instead of the user's."""
    configure_logging()
    app = make_application()
    install_crash_guard()  # an exception in a slot or thread: logged and shown, never fatal
    window = MainWindow(database=database)
    report_first_paint_if_asked(window)
    window.resize(1400, 900)
    window.window_settings.restore_layout()
    window.show()
    if study_uid:
        call_after_first_paint(window, lambda: window.open_study(study_uid))
    else:
        call_after_first_paint(window, lambda: open_in_window(window, paths))  # window first
    with quit_signals.notify_on_signals(lambda reader: _quit_on_signal(app, window, reader)):
        status = app.exec()
    stop_workers(window)
    return status


def _quit_on_signal(app: QApplication, window: MainWindow, reader: Any) -> Callable[[], None]:
    """SIGTERM, SIGHUP or SIGINT (written to ``reader`` by Python's wake-up fd): stop the
    workers, close the window (its layout is saved) and leave the event loop. Returns what
    stops watching ``reader``."""
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def quit_now() -> None:
        signum = quit_signals.read_signal(reader)
        if signum is None:
            return
        notifier.setEnabled(False)
        name = signal.Signals(signum).name
        logging.getLogger("viewer.qt").info("%s received: stopping the workers and quitting", name)
        stop_workers(window)
        window.close()
        app.quit()

    notifier.activated.connect(quit_now)
    return lambda: notifier.setEnabled(False)  # the closure keeps the notifier alive till then


def stop_workers(window: MainWindow) -> None:
    """Stop the window's tasks and views, then the process-wide decode and index workers
    (at once after a quit signal; else once their running tasks are done)."""
    from viewer.dicom.io.indexer import shutdown_index_pool
    from viewer.dicom.pixels.decode_pool import shutdown_shared_pool

    window.shutdown()
    shutdown_shared_pool()
    shutdown_index_pool()


#: What ``screenshot`` shows: (Series Instance UID, stack, frame); None: what opens first.
Target = tuple[str | None, int | None, int | None]


@dataclass(frozen=True)
class ThreeDOptions:
    """``screenshot --layout 3d``: the standard view (A/P/L/R/S/I), preset name and blend mode
    ("composite", "mip", "minip"); empty: the defaults."""

    view: str = "A"
    preset: str = ""
    blend: str = ""


def take_screenshot(
    output: str,
    paths: Sequence[str],
    layout: str,
    size: tuple[int, int],
    target: Target = (None, None, None),
    options: ThreeDOptions | None = None,
) -> int:
    """Open ``paths`` (or the demo) as a user would, wait for the first slice (its image, or the
    placeholder that says it cannot be decoded), save the window. ``target`` names a series,
    a stack of it and a frame of that stack to show instead of what opens first."""
    app = make_application()
    window = MainWindow()
    window.resize(*size)
    window.show()
    outcome: dict[str, bool] = {"shown": False}
    chosen = any(part is not None for part in target)
    if chosen:
        window.auto_select = False  # the target is shown once indexing has finished

    def finish(success: bool) -> None:
        outcome["shown"] = success
        app.quit()

    def after_index() -> None:
        if chosen:
            problem = show_target(window, target)
            if problem:
                report(problem)
                finish(False)
                return
        if window.current_series is None:
            report("nothing displayable was found")
            finish(False)

    window.indexing_finished.connect(after_index)
    # After after_index: with --series/--stack the layout opens on the stack it showed.
    if layout == "mpr":
        window.indexing_finished.connect(lambda: _show_mpr(window, finish, chosen))
    elif layout == "3d":
        window.indexing_finished.connect(
            lambda: _show_3d(window, finish, options or ThreeDOptions(), chosen)
        )
    else:
        _finish_once_the_first_slice_is_up(window, finish)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_S * 1000, lambda: _timeout(finish))
    open_in_window(window, paths)
    with quit_signals.notify_on_signals(lambda reader: _quit_on_signal(app, window, reader)):
        app.exec()
    if quit_signals.received() is not None:
        return EXIT_FAILED
    if outcome["shown"] and not window.grab().save(output):
        report(f"cannot write {output}")
        outcome["shown"] = False
    window.shutdown()
    window.close()
    return EXIT_OK if outcome["shown"] else EXIT_FAILED


def show_target(window: MainWindow, target: Target) -> str:
    """Show ``target`` (series, stack, frame; None parts: what the window opens on, its
    chosen stack, the middle frame); "" when shown, else why not in one line."""
    uid, stack, frame = target
    if uid is None:
        choice = first_to_show(window.catalog)
        if choice is None:
            return "nothing displayable was found"
        series, best = choice
    else:
        found = window.catalog.series(uid)
        if found is None:
            return f"no series {uid} in what was opened (see: dicom-viewer inspect)"
        series, best = found, best_stack(found) or 0
    stacks = series.stacks
    if not stacks:
        return f"series {series.uid} has no images to show"
    number = best if stack is None else stack
    if number >= len(stacks):
        count = len(stacks)
        return f"series {series.uid} has {count} stack(s) (0 to {count - 1}); no stack {number}"
    frames = stacks[number].frames
    if frame is not None and frame >= frames:
        return f"stack {number} has {frames} frame(s) (0 to {frames - 1}); no frame {frame}"
    window.select_series(series.uid, number)
    if frame is not None:
        window.state.set_index(frame)
    window.viewport.setFocus()
    return ""


def _finish_once_the_first_slice_is_up(window: MainWindow, finish: Callable[[bool], None]) -> None:
    """Finish once the viewport shows its slice: the image, or, when that slice cannot be
    decoded, the placeholder and its notice (the reason goes to stderr as well)."""
    viewport = window.viewport

    deadline: list[float] = []

    def when_thumbnails_are_up() -> None:  # they are made after the first image is shown
        deadline[:] = deadline or [time.monotonic() + THUMBNAIL_WAIT_S]
        if window.thumbnails_settled or time.monotonic() > deadline[0]:
            QTimer.singleShot(THUMBNAIL_SETTLE_MS, lambda: finish(True))
        else:
            QTimer.singleShot(THUMBNAIL_SETTLE_MS, when_thumbnails_are_up)

    viewport.frame_shown.connect(lambda: QTimer.singleShot(SETTLE_MS, when_thumbnails_are_up))

    reported: list[str] = []

    def after_failure() -> None:
        failure = viewport.failure  # None: the failure was another slice's (a prefetch)
        if failure is not None and viewport.frame is None and not reported:
            reported.append(failure)
            report(failure)
            finish(True)

    # Connected after the viewport's own slot, so by now it has shown the placeholder or not.
    viewport.loader.bridge.failed.connect(lambda *_: QTimer.singleShot(SETTLE_MS, after_failure))


def _timeout(finish: Callable[[bool], None]) -> None:
    report(f"no image was shown within {SCREENSHOT_TIMEOUT_S} s")
    finish(False)


def _show_mpr(window: MainWindow, finish: Callable[[bool], None], chosen: bool = False) -> None:
    """Switch to MPR on the first volume (``chosen``: on the stack shown, as --series and
    --stack picked it); finish once its three views and its 3D quadrant's first
    full-quality frame have painted."""
    if window.current_series is None or window.mpr_view is not None:
        return  # nothing displayable (already reported), or MPR already on its way
    view = window.open_mpr_on_first_volume(keep_shown=chosen)
    if view is None:
        report("no series is a volume (positioned slices), so there is no MPR to show")
        finish(False)
        return

    def after_planes() -> None:
        quadrant = view.volume_3d
        if quadrant is None or quadrant.was_painted or quadrant.problem:
            QTimer.singleShot(SETTLE_MS, lambda: finish(True))
            return
        quadrant.painted.connect(lambda: QTimer.singleShot(SETTLE_MS, lambda: finish(True)))
        quadrant.failed.connect(lambda reason: _fail(reason, finish))

    view.painted.connect(after_planes)
    view.failed.connect(lambda reason: _fail(reason, finish))


def _show_3d(
    window: MainWindow, finish: Callable[[bool], None], options: ThreeDOptions, chosen: bool = False
) -> None:
    """Switch to 3D on the first volume (``chosen``: on the stack shown); finish once its
    first full-quality frame is up."""
    if window.current_series is None or window.vr_view is not None:
        return
    view = window.open_3d_on_first_volume(keep_shown=chosen)
    if view is None:
        report("no series is a volume (positioned slices), so there is nothing to show in 3D")
        finish(False)
        return
    if view.problem:
        _fail(view.problem, finish)
        return
    view.configure(options.view, options.preset, options.blend)
    view.painted.connect(lambda: QTimer.singleShot(SETTLE_MS, lambda: finish(True)))
    view.failed.connect(lambda reason: _fail(reason, finish))


def _fail(reason: str, finish: Callable[[bool], None]) -> None:
    report(reason)
    finish(False)
