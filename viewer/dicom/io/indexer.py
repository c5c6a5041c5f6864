"""Index paths into a Catalog: the one indexer behind the GUI, ``inspect`` and ``volume``.

:func:`index_stream` walks the paths in the calling thread (:func:`viewer.dicom.io.scan.iter_files`)
and reads headers (:func:`viewer.dicom.io.scan.read_instance`): the first files at once, so the
first rows of a tree appear quickly, then, for a big folder on a machine with idle cores, in
a small pool of worker processes (header parsing is pure Python and holds the GIL, so only
processes use a second core). Results come back in the order files were found, in chunks,
and the walk keeps going while workers read, so "files found" runs ahead of "files indexed".

The pool's processes start with ``forkserver`` (``spawn`` where there is none), never
``fork``: the GUI process runs Qt threads. It is created on first use, kept for the next
folder and shut down at exit (or by :func:`shutdown_index_pool`). It is a
:class:`~viewer.dicom.supervised_pool.SupervisedPool`: a worker that spends more than
:data:`viewer.dicom.limits.HEADER_DEADLINE_S` on one file is killed and replaced, that file is
reported as skipped ("reading the header timed out after 20 s") and the rest of its chunk is
read again. (Files read in the calling thread have no deadline: a thread cannot be stopped.)
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from viewer.core import quit_signals
from viewer.dicom import limits
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io.dicomdir import DirectoryPreview
from viewer.dicom.io.scan import Cancel, iter_files, never_cancelled, read_chunk, read_instance
from viewer.dicom.supervised_pool import DeadlineExceeded, SupervisedPool, worker_pool

#: A walk that finds more files than this starts the worker processes (the files before, and
#: those found while the workers start, are read in the calling thread: first rows at once).
POOL_MIN_FILES = 768
#: Files per worker task: big enough that pickling and task overhead stay near 10% of the
#: reading (measured: 96 files cost 35% more CPU per file than 256), small enough to stream.
CHUNK_FILES = 256
#: Tasks queued per worker at most (bounds memory and keeps cancel quick).
TASKS_PER_WORKER = 3
#: Worker processes (the machine's cores, at most this many).
MAX_WORKERS = 4
#: How often (seconds) a wait for workers checks ``cancel``.
POLL_INTERVAL_S = 0.05

Indexed = ScannedFile | Skipped
StreamItem = ScannedFile | Skipped | DirectoryPreview
#: A file's records when they are known and still valid, else None (see index_stream).
KnownLookup = Callable[[str], ScannedFile | None]
#: Run in each new index worker process (a module-level function; see warm_index_pool).
WorkerSetup = Callable[[], None]


@dataclass
class IndexProgress:
    """Counters a progress bar reads: files found by the walk, results produced so far."""

    found: int = 0
    indexed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        """Results per second since the start."""
        return self.indexed / max(time.monotonic() - self.started, 1e-6)


def index_paths(
    paths: Iterable[str | os.PathLike[str]],
    catalog: Catalog | None = None,
    cancel: Cancel = never_cancelled,
    on_item: Callable[[ScannedFile | Skipped], None] | None = None,
    workers: int | None = None,
    known: KnownLookup | None = None,
) -> Catalog:
    """Scan ``paths`` into ``catalog`` (a new one by default) and return it.

    ``catalog.scanned`` counts every file looked at once: each record, each skipped path, and
    each DICOMDIR read as a media index (known by its preview; one with a problem is counted
    with its skip reason instead).
    """
    catalog = Catalog() if catalog is None else catalog
    dicomdirs: set[str] = set()
    for item in index_stream(paths, cancel, workers=workers, known=known):
        if isinstance(item, DirectoryPreview):
            dicomdirs.add(item.path)
            dicomdirs.update(item.nested)
            continue
        catalog.add(item)
        if on_item is not None:
            on_item(item)
    catalog.scanned += len(dicomdirs - {skipped.path for skipped in catalog.skipped})
    return catalog


def index_stream(
    paths: Iterable[str | os.PathLike[str]],
    cancel: Cancel = never_cancelled,
    progress: IndexProgress | None = None,
    workers: int | None = None,
    known: KnownLookup | None = None,
) -> Iterator[StreamItem]:
    """Previews, records and skip reasons for everything below ``paths``, as they come.

    ``workers``: worker processes for big folders (default: one per idle core, see
    :func:`default_workers`; 0 or 1 reads everything in the calling thread).
    ``known``: records of a file already indexed and unchanged (the study database's
    size and mtime check), or None: that file's header is read.
    """
    progress = progress if progress is not None else IndexProgress()
    count = default_workers() if workers is None else workers
    reader = _ChunkReader(count if count > 1 else 0, cancel)
    pending: list[str] = []
    try:
        for item in iter_files(paths, cancel):
            if not isinstance(item, str):
                progress.indexed += isinstance(item, Skipped)
                yield item
                continue
            progress.found += 1
            remembered = known(item) if known is not None else None
            if remembered is not None:
                progress.indexed += 1
                yield remembered
                continue
            if not reader.workers_ready(progress.found):
                progress.indexed += 1
                yield read_instance(item)
                continue
            pending.append(item)
            reader.submit_chunks(pending, whole_only=True)
            yield from _counted(reader.ready(), progress)
        if cancel():
            return
        reader.submit_chunks(pending, whole_only=False)
        yield from _counted(reader.rest(), progress)
    finally:
        reader.abandon()


def _counted(items: Iterable[Indexed], progress: IndexProgress) -> Iterator[Indexed]:
    for item in items:
        progress.indexed += 1
        yield item


class _ChunkReader:
    """Chunks of paths read by worker processes; results handed back in submission order."""

    def __init__(self, workers: int, cancel: Cancel) -> None:
        self.parallel = workers > 1
        self._workers = workers
        self._cancel = cancel
        self._queue: deque[tuple[Future[list[Indexed]], list[str]]] = deque()
        self._started: Future[int] | None = None

    def workers_ready(self, found: int) -> bool:
        """Whether files go to the workers now: a big folder, and the workers are up.

        Past POOL_MIN_FILES the pool is started (a first task that just answers); until it
        answers, files are still read in the calling thread, so rows keep coming meanwhile.
        """
        if not self.parallel or found <= POOL_MIN_FILES:
            return False
        if _warm_size == self._workers:
            return True
        if self._started is None:
            try:
                self._started = index_pool(self._workers).submit(os.getpid)
            except (BrokenProcessPool, RuntimeError, OSError):
                self.parallel = False
                return False
        if not self._started.done():
            return False
        if self._started.exception() is not None:
            self.parallel = False
            shutdown_index_pool()
            return False
        _mark_warm(self._workers)
        return True

    def submit_chunks(self, pending: list[str], whole_only: bool) -> None:
        """Send ``pending`` to the workers in CHUNK_FILES pieces (taken out of the list)."""
        while len(pending) >= CHUNK_FILES or (pending and not whole_only):
            chunk = pending[:CHUNK_FILES]
            del pending[:CHUNK_FILES]
            self._queue.append((self._submit(chunk), chunk))

    def _submit(self, chunk: list[str]) -> Future[list[Indexed]]:
        if self.parallel:
            try:
                pool = index_pool(self._workers)
                return pool.submit(read_chunk, chunk, deadline=limits.HEADER_DEADLINE_S)
            except (BrokenProcessPool, RuntimeError, OSError):  # no workers: read here
                self.parallel = False
                shutdown_index_pool()
        done: Future[list[Indexed]] = Future()
        done.set_result(read_chunk(chunk))
        return done

    def ready(self) -> Iterator[Indexed]:
        """Finished chunks at the head of the queue; waits only when too many are queued."""
        while (
            self._queue
            and not self._cancel()
            and (self._queue[0][0].done() or len(self._queue) > self._workers * TASKS_PER_WORKER)
        ):
            yield from self._take()

    def rest(self) -> Iterator[Indexed]:
        while self._queue and not self._cancel():
            yield from self._take()

    def _take(self) -> Iterator[Indexed]:
        future, paths = self._queue[0]
        results = self._results(future, paths)
        if results is None:
            return
        self._queue.popleft()
        yield from results

    def _results(self, future: Future[list[Indexed]], paths: list[str]) -> list[Indexed] | None:
        """A chunk's results in order (None once cancelled). A file whose worker was killed at
        its deadline is skipped with the reason; the rest of the chunk is read again."""
        reading = list(range(len(paths)))  # the positions in ``paths`` that ``future`` reads
        results: dict[int, Indexed] = {}
        while reading and not self._cancel():
            try:
                got = future.result(timeout=POLL_INTERVAL_S)
            except FutureTimeout:
                continue
            except DeadlineExceeded as error:
                stuck = reading[error.item] if 0 <= error.item < len(reading) else reading[0]
                results[stuck] = Skipped(paths[stuck], f"reading the header {error}")
                reading.remove(stuck)
                if reading:
                    future = self._submit([paths[position] for position in reading])
                continue
            except Exception:  # a dead worker: read its chunk here instead
                got = [read_instance(paths[position]) for position in reading]
            results.update(zip(reading, got, strict=True))
            reading = []
        if reading:
            return None
        return [results[position] for position in range(len(paths))]

    def abandon(self) -> None:
        """Cancel chunks not yet started (after cancel, or when the consumer stopped)."""
        for future, _ in self._queue:
            future.cancel()
        self._queue.clear()


# --- the worker pool -------------------------------------------------------------------------


def default_workers() -> int:
    """Worker processes for big folders: one per idle core beyond the caller's, at most
    MAX_WORKERS; 1 (read in the calling thread) when fewer than two cores are idle.

    Measured on a 2-core machine shared with other work, reading in the calling thread was
    faster (6,400 vs 2,900 files/s): the workers add pickling, and the executor's feeding
    thread waits for the GIL held by the walking thread, so they pay only with cores to spare.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return max(1, min(MAX_WORKERS, int(cores - busy - 1 + 0.5)))


_pool: SupervisedPool | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def index_pool(workers: int, worker_setup: WorkerSetup | None = None) -> SupervisedPool:
    """The process-wide pool of index workers (created on first use, kept warm).

    A pool of another size, or one asked for with a ``worker_setup``, replaces the last one.
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers or worker_setup is not None:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _mark_warm(0)
            _pool = worker_pool(workers, ["viewer.dicom.io.scan"], initializer=worker_setup)
            _pool_size = workers
        return _pool


_warm_size = 0


def _mark_warm(workers: int) -> None:
    global _warm_size
    _warm_size = workers


def warm_index_pool(workers: int, worker_setup: WorkerSetup | None = None) -> None:
    """Start the index workers now and wait until they answer (the next big folder uses them
    from its first chunk on). ``worker_setup``: a module-level function each new worker runs
    once (tests use it to make one file's header read hang)."""
    index_pool(workers, worker_setup).submit(os.getpid).result()
    _mark_warm(workers)


def shutdown_index_pool() -> None:
    """Stop the index workers (the next big folder starts new ones)."""
    global _pool
    _mark_warm(0)
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    if quit_signals.received() is None:
        pool.shutdown(wait=True)
    else:  # asked to quit: running reads are not waited for
        pool.stop_now()


atexit.register(shutdown_index_pool)


def index_rate_probe(folder: str | os.PathLike[str], workers: int | None = None) -> float:
    """Files indexed per second over ``folder`` (for the bench command; warm the cache first).

    Walks and reads exactly as the GUI and ``inspect`` do; counts every file looked at.
    """
    progress = IndexProgress()
    for _ in index_stream([folder], progress=progress, workers=workers):
        pass
    return progress.rate
