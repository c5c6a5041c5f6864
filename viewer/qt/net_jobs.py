"""Network work for the GUI (echo, query, retrieve, send), never on the GUI thread.

A :class:`NetJob` runs one call of :mod:`viewer.net` in a daemon thread; its outcome, and
anything the call reports on the way (instances arriving, per-series counts), reach the GUI
through a :class:`NetBridge` created on the GUI thread, whose signals Qt queues across
threads (as :mod:`viewer.qt.tasks` does for indexing). ``cancel()`` sets the flag the call
polls; what arrived before stays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from viewer.dicom import reasons

log = logging.getLogger(__name__)


class NetBridge(QObject):
    """Carries a network job's news to the GUI thread."""

    arrived = Signal(object)  # a ScannedFile, landed (and recorded)
    progress = Signal()  # counts changed: read them from the job's landing
    done = Signal(object)  # the call's return value
    failed = Signal(str)  # one line: why it failed (or "cancelled")
    sent = Signal(object)  # a SendResult: one file sent, or why not


class NetJob:
    """Run ``work(job)`` in a thread; its return value arrives as ``bridge.done``, a
    :class:`~viewer.net.errors.NetError` (or any failure) as ``bridge.failed`` with one line."""

    def __init__(self, name: str, work: Callable[[NetJob], Any]) -> None:
        self.bridge = NetBridge()
        self.name = name
        self._work = work
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"net-{name}", daemon=True)

    def start(self) -> NetJob:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        from viewer.net.errors import Cancelled, NetError

        try:
            result = self._work(self)
        except Cancelled:
            self.bridge.failed.emit("cancelled")
        except NetError as error:
            self.bridge.failed.emit(str(error))
        except Exception as error:  # fault boundary: a bug must not kill the thread silently
            log.exception("network job %s failed", self.name)
            self.bridge.failed.emit(f"{self.name} failed: {reasons.explain(error)}")
        else:
            self.bridge.done.emit(result)
