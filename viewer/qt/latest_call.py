"""Run work in a worker thread and hand only the newest result back to the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal


class LatestCall(QObject):
    """Run a function in one worker thread; deliver only the newest call's result on the GUI
    thread, through :attr:`result` (emitted by this GUI-owned QObject, so Qt queues it)."""

    result = Signal(object)
    _finished = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="header")
        self._latest = 0
        self._closed = False
        self._finished.connect(self._deliver)

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        if self._closed:
            return
        self._latest += 1
        self._pool.submit(self._run, self._latest, function, args)

    def _run(self, call_id: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if call_id != self._latest or self._closed:
            return  # a newer call is queued: skip the work
        try:
            value = function(*args)
        except Exception as error:  # the worker must never die silently
            value = error
        if not self._closed:
            self._finished.emit(call_id, value)

    def _deliver(self, call_id: int, value: object) -> None:
        if call_id == self._latest and not self._closed:
            self.result.emit(value)

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
