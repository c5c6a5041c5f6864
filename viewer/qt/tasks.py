"""Background work for the GUI: indexing and frame decoding, never on the GUI thread.

Workers are plain Python threads/pools; their results reach the GUI through QObjects created
on (and owned by) the GUI thread, whose signals Qt queues across threads. Every request is a
small frozen value with an id; the view keeps only the newest (stale results are dropped).
Call :meth:`shutdown` before the window closes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from viewer.dicom import decoding_stack, reasons
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io.dicomdir import DirectoryPreview
from viewer.dicom.io.indexer import IndexProgress, index_stream
from viewer.dicom.pixels.frame_cache import FrameCache
from viewer.dicom.pixels.frames import DecodedFrame
from viewer.dicom.supervised_pool import DeadlineExceeded
from viewer.store.database import KnownFiles
from viewer.store.library import StudyLibrary

if TYPE_CHECKING:  # decode_pool loads pydicom and the decoders: imported in workers, on first use
    from viewer.dicom.pixels.decode_pool import DecodePool

log = logging.getLogger(__name__)

#: Index results are handed to the GUI in batches at most this often (seconds) ...
BATCH_INTERVAL_S = 0.1
#: ... or when this many have piled up.
BATCH_SIZE = 500


class IndexBridge(QObject):
    """Carries indexing results from the worker thread to the GUI thread."""

    batch = Signal(object)  # list[ScannedFile | Skipped]
    preview = Signal(object)  # DirectoryPreview: a DICOMDIR's tree, before its files are read
    progress = Signal(int, int, float)  # files found, results so far, results per second
    message = Signal(str)
    finished = Signal(bool)  # True when cancelled


class IndexTask:
    """Index paths in a worker thread; results arrive in batches on the GUI thread.

    ``prepare`` (optional) runs first in the worker and returns more paths (used to write the
    demo study without blocking the window). ``progress`` counts files found and indexed; the
    GUI may read it at any time (plain integers, written by the worker).

    ``library`` (optional, the study database): files it knows unchanged (size and mtime) are
    answered from its rows instead of being read again, and every file read is queued to be
    recorded (the library writes once the open is over). ``reopen`` (instead of paths): a
    study from the database; its records come from the rows, no header is read (issue 15).
    """

    def __init__(
        self,
        paths: Sequence[str],
        prepare: Callable[[], list[str]] | None = None,
        workers: int | None = None,
        library: StudyLibrary | None = None,
        reopen: str = "",
    ) -> None:
        self.bridge = IndexBridge()
        self.progress = IndexProgress()
        self._paths = list(paths)
        self._prepare = prepare
        self._workers = workers
        self._library = library
        self._reopen = reopen
        self._known: KnownFiles | None = None
        #: Why the task could not do its work (one line for the status bar), or "".
        self.failure = ""
        #: A reopened study's folders (a zip's members: the zip), set before its records
        #: arrive; empty for paths opened (those are the paths themselves).
        self.sources: list[str] = []
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
            if self._reopen and self._library is not None:
                self._from_rows(self._library, self._reopen)
                return
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

    def _from_rows(self, library: StudyLibrary, study_uid: str) -> None:
        """A study from the database: one batch of records built from its rows; a study in a
        zip is indexed again (its members are unpacked afresh)."""
        plan = library.reopen(study_uid)
        if plan.problem:
            self.failure = f"Cannot open the study: {plan.problem}"
        elif plan.paths:
            self.sources = list(plan.paths)
            self._index(plan.paths)
        else:
            folders = (os.path.dirname(item.instance.path) for item in plan.items)
            self.sources = list(dict.fromkeys(folders))
            self.progress.found = self.progress.indexed = len(plan.items)
            self._emit(list(plan.items), record=False)

    def _index(self, paths: list[str]) -> None:
        pending: list[ScannedFile | Skipped] = []
        last = time.monotonic()
        progress = self.progress
        progress.started = last
        known = self._library.known_files(paths) if self._library is not None else None
        self._known = known
        lookup = known.lookup if known is not None else None
        stream = index_stream(paths, self._cancel.is_set, progress, self._workers, known=lookup)
        for item in stream:
            if isinstance(item, DirectoryPreview):
                self._emit(pending)
                pending = []
                self.bridge.preview.emit(item)
                continue
            pending.append(item)
            now = time.monotonic()
            if len(pending) >= BATCH_SIZE or now - last >= BATCH_INTERVAL_S:
                self._emit(pending)
                pending, last = [], now
        self._emit(pending)

    def _emit(self, items: list[ScannedFile | Skipped], record: bool = True) -> None:
        if items and not self._cancel.is_set():
            self.bridge.batch.emit(items)
            if record and self._library is not None:
                self._library.record(self._fresh(items))
        progress = self.progress
        self.bridge.progress.emit(progress.found, progress.indexed, progress.rate)

    def _fresh(self, items: list[ScannedFile | Skipped]) -> list[ScannedFile]:
        """The files of ``items`` whose headers were read (not answered from the rows)."""
        given = self._known.given if self._known is not None else set()
        return [
            item
            for item in items
            if isinstance(item, ScannedFile) and item.instance.path not in given
        ]


@dataclass(frozen=True, slots=True)
class FrameRequest:
    """One frame wanted by one viewport; ``request_id`` grows, the newest wins."""

    request_id: int
    path: str
    frame: int


class FrameBridge(QObject):
    loaded = Signal(object, object)  # FrameRequest, DecodedFrame
    failed = Signal(object, str)  # FrameRequest, reason


#: Viewport requests kept waiting at most; older ones are dropped (their viewports moved on).
MAX_QUEUED_REQUESTS = 16
#: Prefetch keys kept waiting at most; the oldest batches are dropped first.
MAX_QUEUED_PREFETCH = 512
#: Seconds :meth:`FrameLoader.shutdown` waits for frames already being decoded.
SHUTDOWN_WAIT_S = 5.0

FrameKey = tuple[str, int]


class FrameLoader:
    """Decode frames in worker processes, newest request first, into a byte-capped cache.

    Decoders hold the GIL: in a thread they would stall the GUI thread and use one core, so
    frames are decoded by the process pool of :mod:`viewer.dicom.pixels.decode_pool` (every core)
    and arrive pickled; results reach the GUI through ``bridge``. Order: the newest request
    first, then prefetches (the newest batch first, each batch in the order given), with at
    most one frame per worker in flight, so a new request never waits behind a queue. While
    the pool starts (the app's first second), or if it cannot start, frames decode in one
    thread instead. A frame still decoding at its deadline costs its worker (killed and
    replaced) and fails with "decode timed out after N s"; the other frames go on.
    :meth:`shutdown` drops what waits and waits for what is in flight; the shared pool itself
    stops at exit.
    """

    def __init__(
        self,
        cache: FrameCache[DecodedFrame] | None = None,
        workers: int | None = None,
        pool: DecodePool | None = None,
    ) -> None:
        self.bridge = FrameBridge()
        self.cache: FrameCache[DecodedFrame] = cache if cache is not None else FrameCache()
        self._pool = pool
        self._workers = workers
        self._lock = threading.Lock()
        self._requests: list[FrameRequest] = []  # newest last
        self._prefetch: list[FrameKey] = []  # next first
        self._in_flight: dict[FrameKey, Future[DecodedFrame | str]] = {}
        self._waiting: dict[FrameKey, list[FrameRequest]] = {}
        self._crash_retried: set[FrameKey] = set()  # in flight again after a worker died
        self._next_id = 0
        self._closed = False
        self._pool_ready = False
        self._warming: threading.Thread | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode")

    def request(self, path: str, frame: int) -> FrameRequest:
        """Ask for a frame; the answer comes through ``bridge`` (at once if cached)."""
        self._next_id += 1
        request = FrameRequest(self._next_id, path, frame)
        cached = self.cache.get((path, frame))
        if cached is not None:
            self.bridge.loaded.emit(request, cached)
            return request
        with self._lock:
            if self._closed:
                return request
            self._requests.append(request)
            del self._requests[:-MAX_QUEUED_REQUESTS]
        self._pump()
        return request

    def prefetch(self, keys: Sequence[FrameKey]) -> None:
        """Warm the cache with frames likely to be wanted next (results are not signalled)."""
        fresh = [key for key in keys if self.cache.get(key) is None]
        with self._lock:
            if self._closed or not fresh:
                return
            self._prefetch[:0] = fresh
            del self._prefetch[MAX_QUEUED_PREFETCH:]
        self._pump()

    # --- scheduling ------------------------------------------------------------------------
    def _capacity(self) -> int:
        if not self._pool_ready or self._pool is None:
            return 1
        return self._workers or self._pool.workers

    def _next_item(self) -> tuple[FrameKey, FrameRequest | None] | None:
        if self._requests:
            request = self._requests.pop()
            return (request.path, request.frame), request
        if self._prefetch:
            return self._prefetch.pop(0), None
        return None

    def _pump(self) -> None:
        """Start decoding queued frames while a worker is free (any thread)."""
        ready: list[tuple[FrameRequest, DecodedFrame]] = []
        started: list[tuple[FrameKey, Future[DecodedFrame | str]]] = []
        with self._lock:
            while not self._closed and len(self._in_flight) < self._capacity():
                item = self._next_item()
                if item is None:
                    break
                key, request = item
                if key in self._in_flight:
                    if request is not None:
                        self._waiting[key].append(request)
                    continue
                cached = self.cache.get(key)
                if cached is not None:
                    if request is not None:
                        ready.append((request, cached))
                    continue
                future = self._submit(key)
                self._in_flight[key] = future
                self._waiting[key] = [request] if request is not None else []
                started.append((key, future))
        for request, decoded in ready:
            self._emit_loaded(request, decoded)
        for key, future in started:
            future.add_done_callback(functools.partial(self._done, key))

    def _submit(self, key: FrameKey) -> Future[DecodedFrame | str]:
        """Decode ``key`` in a worker; a compressed frame in the decoded-frame cache (the
        user's setting, see :mod:`viewer.dicom.pixels.frame_store`) comes from there."""
        if self._pool_ready and self._pool is not None:
            from viewer.dicom.pixels.decode_pool import store_spec

            return self._pool.decode(*key, store=store_spec())
        self._start_warming()
        return self._thread.submit(_decode_in_thread, *key)

    def warm_up(self, timeout: float | None = None) -> bool:
        """Start the worker processes now; True once frames decode there (not in a thread)."""
        with self._lock:
            self._start_warming()
        warming = self._warming
        if warming is not None:
            warming.join(timeout)
        return self._pool_ready

    def _start_warming(self) -> None:
        if self._warming is None:
            warming = threading.Thread(target=self._warm_pool, name="decode-pool", daemon=True)
            self._warming = warming
            warming.start()

    def _warm_pool(self) -> None:
        decoding_stack.load()
        from viewer.dicom.pixels.decode_pool import shared_pool

        try:
            pool = self._pool or shared_pool()
            pool.warm()
        except Exception:  # no worker processes here: keep decoding in the thread
            if not self._closed:  # (else the app is closing and the pool with it)
                log.warning("no decoding worker processes; decoding in a thread", exc_info=True)
            return
        with self._lock:
            self._pool = pool
            self._pool_ready = True
        self._pump()

    def _done(self, key: FrameKey, future: Future[DecodedFrame | str]) -> None:
        """A decode finished (runs in a pool thread): cache it, answer its requests."""
        result: DecodedFrame | str
        try:
            decoding_stack.load()
            from viewer.dicom.pixels.decode_pool import CRASHED, TIMED_OUT

            result = future.result()
        except CancelledError:
            result = "cancelled"
        except BrokenProcessPool:  # a crash, maybe of a decoder busy with another frame
            if self._pool is not None:
                self._pool.restart()
            if self._retry_after_crash(key):
                return
            result = CRASHED
        except DeadlineExceeded as error:  # its worker was stuck, and has been replaced
            log.warning("decoding %s frame %d %s", *key, error)
            result = f"{TIMED_OUT} after {error.seconds:g} s"
        except Exception as error:  # fault boundary around every file
            log.exception("decoding %s frame %d failed", *key)
            result = f"{reasons.explain(error)}"
        if isinstance(result, DecodedFrame):
            self.cache.put(key, result)
        with self._lock:
            self._crash_retried.discard(key)
            self._in_flight.pop(key, None)
            waiting = self._waiting.pop(key, [])
            closed = self._closed
        if not closed:
            for request in waiting:
                if isinstance(result, DecodedFrame):
                    self._emit_loaded(request, result)
                else:
                    self._emit_failed(request, result)
        self._pump()

    def _retry_after_crash(self, key: FrameKey) -> bool:
        """Decode ``key`` once more after its worker died (the crash may have been another
        frame's: every worker in flight dies with the pool); False if tried already."""
        with self._lock:
            if self._closed or key in self._crash_retried:
                return False
            try:
                future = self._submit(key)
            except (RuntimeError, OSError):
                return False
            self._crash_retried.add(key)
            self._in_flight[key] = future
        future.add_done_callback(functools.partial(self._done, key))
        return True

    def _emit_loaded(self, request: FrameRequest, decoded: DecodedFrame) -> None:
        with contextlib.suppress(RuntimeError):  # the bridge is gone: the window closed
            self.bridge.loaded.emit(request, decoded)

    def _emit_failed(self, request: FrameRequest, reason: str) -> None:
        with contextlib.suppress(RuntimeError):
            self.bridge.failed.emit(request, f"{request.path}: {reason}")

    def shutdown(self) -> None:
        """Drop waiting work, wait (bounded) for frames in flight; no signal comes after."""
        with self._lock:
            self._closed = True
            self._requests.clear()
            self._prefetch.clear()
            in_flight = list(self._in_flight.values())
        for future in in_flight:
            future.cancel()
        wait(in_flight, timeout=SHUTDOWN_WAIT_S)
        self._thread.shutdown(wait=True, cancel_futures=True)


def _decode_in_thread(path: str, frame: int) -> DecodedFrame | str:
    """Decode one frame in the loader's thread (see
    :func:`viewer.dicom.pixels.decode_pool.decode_frame`).

    The decoding modules, with pydicom and its decoders, are imported here on first use, so the
    window appears before they load.
    """
    decoding_stack.load()
    from viewer.dicom.pixels.decode_pool import decode_frame, store_spec

    return decode_frame(path, frame, store=store_spec())
