"""File > Import and Copy…: a folder's studies copied into the viewer's managed store (issue 15,
item 2), for CDs and USB sticks that will be ejected.

The copy runs in a worker thread through :meth:`viewer.store.library.StudyLibrary.import_copied`
(the code of ``db import --copy``): files are indexed, copied into the managed store and the
copies recorded as ``copied``; the sources are only read. A progress dialog shows files found,
indexed and copied, and its Cancel stops between files (what was copied is kept and
recorded). The outcome is one line for the status bar (:attr:`ImportAndCopy.done`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from viewer.dicom import reasons
from viewer.dicom.io.indexer import IndexProgress
from viewer.store.importer import ImportSummary
from viewer.store.library import StudyLibrary

log = logging.getLogger(__name__)

#: How often the progress dialog reads the counts (ms).
PROGRESS_INTERVAL_MS = 100


class _Bridge(QObject):
    finished = Signal(str)  # "" when done, else why it failed


class ImportAndCopy(QObject):
    """One "Import and copy" run over ``paths``; ``done`` carries its outcome (one line)."""

    done = Signal(str)

    def __init__(self, library: StudyLibrary, paths: Sequence[str], parent: QWidget) -> None:
        super().__init__(parent)
        self.library = library
        self.paths = list(paths)
        self.progress = IndexProgress()
        self.summary = ImportSummary()
        self.cancelled = threading.Event()
        self.finished = False
        self._bridge = _Bridge()
        self._bridge.finished.connect(self._on_finished)
        self.dialog = QProgressDialog("Looking for DICOM files…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Import and copy")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_INTERVAL_MS)
        self._timer.timeout.connect(self._show_progress)
        self._thread = threading.Thread(target=self._run, name="import-copy", daemon=True)

    def start(self) -> None:
        self.dialog.show()
        self._timer.start()
        self._thread.start()

    def cancel(self) -> None:
        """Stop between files; the files copied so far stay (and are recorded)."""
        self.cancelled.set()
        self.dialog.setLabelText("Cancelling…")

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        failure = ""
        try:
            if not self.library.import_copied(
                self.paths, self.cancelled.is_set, self.progress, self.summary
            ):
                failure = self.library.problem or "the study database is not available"
        except OSError as error:  # a copy could not be written (full disk, no permission)
            failure = f"cannot copy into the viewer's store: {error.strerror or error}"
        except Exception as error:  # the worker must never die silently
            log.exception("import and copy failed")
            failure = f"import and copy failed: {reasons.explain(error)}"
        self._bridge.finished.emit(failure)

    def _show_progress(self) -> None:
        found, indexed, copied = self.progress.found, self.progress.indexed, self.summary.copied
        self.dialog.setMaximum(max(found, 1))
        self.dialog.setValue(min(copied, max(found, 1)))
        if not self.cancelled.is_set():
            self.dialog.setLabelText(
                f"Found {found:,} · indexed {indexed:,} · copied {copied:,} into the viewer's store"
            )

    def _on_finished(self, failure: str) -> None:
        self.finished = True
        self._timer.stop()
        self.dialog.reset()
        self.dialog.hide()
        summary = self.summary
        studies = len(summary.study_uids)
        if failure:
            text = f"Import and copy failed: {failure}"
        else:
            noun = "study" if studies == 1 else "studies"
            text = (
                f"{'Cancelled: copied' if self.cancelled.is_set() else 'Copied'} "
                f"{summary.copied:,} file(s) of {studies} {noun} into the viewer's store"
                + (f"; {len(summary.skipped)} skipped" if summary.skipped else "")
            )
        self.done.emit(text)
