"""Crash safety: an exception nobody caught, in a slot or a thread, is logged and shown.

PySide6 hands an exception raised in a slot to ``sys.excepthook`` and carries on; a Python
thread hands its own to ``threading.excepthook``. :class:`CrashGuard` takes both hooks: it
writes the traceback to the log (the rotating file of :mod:`viewer.core.app_logging`), with patient
names removed (file paths and UIDs stay), and shows a non-modal message box on the GUI thread,
so the application keeps running. Further errors while the box is open update it instead of
stacking boxes. Ctrl+C and SystemExit go to the hooks that were there before.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("viewer.crash")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def redact(text: str) -> str:
    """``text`` without patient names (viewer.core.app_logging's filter), if that module exists."""
    try:
        from viewer.core.app_logging import PATIENT_NAMES
    except ImportError:
        return text
    return PATIENT_NAMES.redact(text)


def log_file_hint() -> str:
    try:
        from viewer.core.app_logging import log_file_path
    except ImportError:
        return "the log"
    return f"the log file {log_file_path()}"


def summary_of(error: BaseException) -> str:
    """One line naming the exception: ``ValueError: the first line of its message``."""
    lines = str(error).strip().splitlines()
    return redact(f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__)


class CrashGuard(QObject):
    """Installs the exception hooks; logs each uncaught exception and shows it, non-modally.

    ``reported`` is emitted on the GUI thread with each error's one-line summary, after the
    message box shows it (tests wait for it instead of clicking a dialog).
    """

    reported = Signal(str)
    _arrived = Signal(str, str)  # summary, where: from any thread to the GUI thread

    def __init__(self, parent: QObject | None = None, show_dialog: bool = True) -> None:
        super().__init__(parent)
        self.show_dialog = show_dialog
        self.count = 0
        self.box: QMessageBox | None = None
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self._installed = False
        self._arrived.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        if not self._installed:
            self._previous_hook = sys.excepthook
            self._previous_thread_hook = threading.excepthook
            sys.excepthook = self._on_exception
            threading.excepthook = self._on_thread_exception
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            sys.excepthook = self._previous_hook
            threading.excepthook = self._previous_thread_hook
            self._installed = False

    # --- the hooks (any thread) ---------------------------------------------------------------
    def _on_exception(
        self, kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        if not issubclass(kind, Exception):  # KeyboardInterrupt, SystemExit...
            self._previous_hook(kind, error, trace)
            return
        thread = threading.current_thread()
        where = "the GUI" if thread is threading.main_thread() else f"thread {thread.name}"
        self.handle((kind, error, trace), where)

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or not issubclass(args.exc_type, Exception):
            self._previous_thread_hook(args)
            return
        where = f"thread {args.thread.name}" if args.thread is not None else "a thread"
        self.handle((args.exc_type, args.exc_value, args.exc_traceback), where)

    def handle(self, exc_info: ExcInfo, where: str) -> None:
        """Log ``exc_info`` with its traceback and queue the message box (never raises)."""
        try:
            trace = redact("".join(traceback.format_exception(*exc_info)).rstrip())
            log.critical("uncaught exception in %s\n%s", where, trace)
            self._arrived.emit(summary_of(exc_info[1]), where)
        except Exception:  # the guard must not be the crash
            sys.__excepthook__(*exc_info)

    # --- the GUI thread ------------------------------------------------------------------------
    def _show(self, summary: str, where: str) -> None:
        self.count += 1
        try:
            if self.show_dialog:
                self._update_box(summary, where)
        except Exception:  # never loop back into the hook from here
            log.exception("cannot show the error dialog")
        self.reported.emit(summary)

    def _update_box(self, summary: str, where: str) -> None:
        if self.box is None:
            self.box = QMessageBox(
                QMessageBox.Icon.Critical, "Unexpected error", "", QMessageBox.StandardButton.Ok
            )
            self.box.setWindowModality(Qt.WindowModality.NonModal)
            self.box.finished.connect(self._box_closed)
        more = f" ({self.count} errors so far)" if self.count > 1 else ""
        self.box.setText(f"Something went wrong in {where}{more}; the viewer keeps running.")
        self.box.setInformativeText(f"{summary}\n\nThe details are in {log_file_hint()}.")
        self.box.show()

    def _box_closed(self) -> None:
        if self.box is not None:
            self.box.deleteLater()
        self.box = None
        self.count = 0


_guard: CrashGuard | None = None


def install_crash_guard(parent: QWidget | None = None) -> CrashGuard:
    """Take ``sys.excepthook`` and ``threading.excepthook`` for the GUI (after the QApplication
    exists); the one guard is kept alive here."""
    global _guard
    if _guard is None:
        _guard = CrashGuard(parent)
    _guard.install()
    return _guard
