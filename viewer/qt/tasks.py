"""Background work for the GUI: indexing and frame decoding, never on the GUI thread.

Workers are plain Python threads/pools; their results reach the GUI through QObjects created
on (and owned by) the GUI thread, whose signals Qt queues across threads. Every request is a
small frozen value with an id; the view keeps only the newest (stale results are dropped).
Call :meth:`shutdown` before the window closes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from viewer.dicom.decode import DecodedFrame, DecodeError, read_frame
from viewer.dicom.frame_cache import FrameCache
from viewer.dicom.records import ScannedFile, Skipped
from viewer.dicom.scan import scan

log = logging.getLogger(__name__)

#: Index results are handed to the GUI in batches at most this often (seconds) ...
BATCH_INTERVAL_S = 0.1
#: ... or when this many have piled up.
BATCH_SIZE = 500


class IndexBridge(QObject):
    """Carries indexing results from the worker thread to the GUI thread."""

    batch = Signal(object)  # list[ScannedFile | Skipped]
    progress = Signal(int, float)  # files looked at, files per second
    message = Signal(str)
    finished = Signal(bool)  # True when cancelled


class IndexTask:
    """Index paths in a worker thread; results arrive in batches on the GUI thread.

    ``prepare`` (optional) runs first in the worker and returns more paths (used to write the
    demo study without blocking the window).
    """

    def __init__(
        self,
        paths: Sequence[str],
        prepare: Callable[[], list[str]] | None = None,
    ) -> None:
        self.bridge = IndexBridge()
        self._paths = list(paths)
        self._prepare = prepare
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            paths = list(self._paths)
            if self._prepare is not None:
                self.bridge.message.emit("Preparing the demo study…")
                paths.extend(self._prepare())
            self._index(paths)
        except Exception:  # the worker must never die silently
            log.exception("indexing failed")
            self.bridge.message.emit("Indexing failed; see the log")
        finally:
            self.bridge.finished.emit(self._cancel.is_set())

    def _index(self, paths: list[str]) -> None:
        pending: list[ScannedFile | Skipped] = []
        started = last = time.monotonic()
        count = 0
        for item in scan(paths, self._cancel.is_set):
            pending.append(item)
            count += 1
            now = time.monotonic()
            if len(pending) >= BATCH_SIZE or now - last >= BATCH_INTERVAL_S:
                self.bridge.batch.emit(pending)
                self.bridge.progress.emit(count, count / max(now - started, 1e-6))
                pending, last = [], now
        if pending:
            self.bridge.batch.emit(pending)
        self.bridge.progress.emit(count, count / max(time.monotonic() - started, 1e-6))


@dataclass(frozen=True, slots=True)
class FrameRequest:
    """One frame wanted by one viewport; ``request_id`` grows, the newest wins."""

    request_id: int
    path: str
    frame: int


class FrameBridge(QObject):
    loaded = Signal(object, object)  # FrameRequest, DecodedFrame
    failed = Signal(object, str)  # FrameRequest, reason


class FrameLoader:
    """Decode frames in a small pool with a shared byte-capped cache."""

    def __init__(self, cache: FrameCache[DecodedFrame] | None = None, workers: int = 2) -> None:
        self.bridge = FrameBridge()
        self.cache: FrameCache[DecodedFrame] = cache if cache is not None else FrameCache()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")
        self._next_id = 0
        self._closed = False

    def request(self, path: str, frame: int) -> FrameRequest:
        """Ask for a frame; the answer comes through ``bridge`` (at once if cached)."""
        self._next_id += 1
        request = FrameRequest(self._next_id, path, frame)
        cached = self.cache.get((path, frame))
        if cached is not None:
            self.bridge.loaded.emit(request, cached)
        elif not self._closed:
            self._pool.submit(self._decode, request)
        return request

    def prefetch(self, keys: Sequence[tuple[str, int]]) -> None:
        """Warm the cache with frames likely to be wanted next (results are not signalled)."""
        for path, frame in keys:
            if self.cache.get((path, frame)) is None and not self._closed:
                self._pool.submit(self._warm, path, frame)

    def _decode(self, request: FrameRequest) -> None:
        try:
            decoded = self._load(request.path, request.frame)
        except DecodeError as error:
            self.bridge.failed.emit(request, str(error))
            return
        except Exception as error:  # fault boundary around every file
            log.exception("decoding %s frame %d failed", request.path, request.frame)
            self.bridge.failed.emit(request, f"{type(error).__name__}: {error}")
            return
        self.bridge.loaded.emit(request, decoded)

    def _warm(self, path: str, frame: int) -> None:
        with contextlib.suppress(Exception):  # the real request reports it
            self._load(path, frame)

    def _load(self, path: str, frame: int) -> DecodedFrame:
        cached = self.cache.get((path, frame))
        if cached is not None:
            return cached
        decoded = read_frame(path, frame)
        self.cache.put((path, frame), decoded)
        return decoded

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
