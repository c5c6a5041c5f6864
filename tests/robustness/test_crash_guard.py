"""Crash safety: an exception in a slot or a worker thread is logged and shown, never fatal."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from viewer.qt import app as app_module
from viewer.qt.app import make_application
from viewer.qt.crash_guard import CrashGuard

#: What an exception message may carry: a patient name (must not reach the log), a path and a
#: UID (should).
PATIENT = "DOE^JANE"
PATH = "/media/cdrom/DICOM/IM000017"
UID = "1.2.826.0.1.3680043.8.498.1"


def boom() -> None:
    raise ValueError(f"cannot show {PATH} (SOP {UID}) of {PATIENT}")


@pytest.fixture
def guard(qtbot) -> Iterator[CrashGuard]:  # type: ignore[no-untyped-def]
    make_application()
    installed = CrashGuard()
    installed.install()
    yield installed
    installed.uninstall()
    if installed.box is not None:
        installed.box.close()


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "viewer.crash")


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_logged_and_shown(
    guard: CrashGuard,
    qtbot,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    with caplog.at_level(logging.CRITICAL, "viewer.crash"), qtbot.waitSignal(guard.reported):
        QTimer.singleShot(0, boom)
    text = logged(caplog)
    assert "Traceback" in text and "in boom" in text
    assert PATH in text and UID in text and PATIENT not in text
    assert guard.box is not None and guard.box.isVisible() and not guard.box.isModal()
    assert "ValueError" in guard.box.informativeText()
    assert PATIENT not in guard.box.informativeText()
    # The application lives on: events are still processed.
    ticked: list[bool] = []
    QTimer.singleShot(0, lambda: ticked.append(True))
    qtbot.waitUntil(lambda: bool(ticked))


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_worker_thread_is_shown_on_the_gui_thread(
    guard: CrashGuard,
    qtbot,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    shown_on: list[threading.Thread] = []
    guard.reported.connect(lambda _summary: shown_on.append(threading.current_thread()))
    with caplog.at_level(logging.CRITICAL, "viewer.crash"), qtbot.waitSignal(guard.reported):
        worker = threading.Thread(target=boom, name="decode-worker")
        worker.start()
    worker.join()
    assert shown_on == [threading.main_thread()]
    assert "thread decode-worker" in logged(caplog)
    assert guard.box is not None and "decode-worker" in guard.box.text()


@pytest.mark.qt_no_exception_capture
def test_more_errors_update_the_one_box(guard: CrashGuard, qtbot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        with qtbot.waitSignal(guard.reported):
            QTimer.singleShot(0, boom)
    boxes = [w for w in QApplication.topLevelWidgets() if w is guard.box]
    assert len(boxes) == 1 and guard.count == 3
    assert "3 errors so far" in guard.box.text()  # type: ignore[union-attr]


def test_ctrl_c_goes_to_the_previous_hook(guard: CrashGuard) -> None:
    seen: list[type[BaseException]] = []
    guard._previous_hook = lambda kind, error, trace: seen.append(kind)
    guard._on_exception(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert seen == [KeyboardInterrupt] and guard.box is None


def test_run_gui_installs_the_guard(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """run_gui takes both hooks before the window opens (the event loop is not entered)."""
    make_application()
    hooks = (sys.excepthook, threading.excepthook)
    root_handlers = list(logging.getLogger().handlers)
    monkeypatch.setattr(app_module, "call_after_first_paint", lambda window, action: None)
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    monkeypatch.setattr(app_module.MainWindow, "shutdown", lambda self: None)
    try:
        assert app_module.run_gui([]) == 0
        guard = app_module.install_crash_guard()
        assert sys.excepthook == guard._on_exception
        assert threading.excepthook == guard._on_thread_exception
    finally:
        app_module.install_crash_guard().uninstall()
        sys.excepthook, threading.excepthook = hooks
        for handler in [h for h in logging.getLogger().handlers if h not in root_handlers]:
            logging.getLogger().removeHandler(handler)
            handler.close()
        for window in QApplication.topLevelWidgets():
            window.close()
