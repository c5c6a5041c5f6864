"""Decoding in worker processes: a warm pool that fills shared-memory volumes and decodes frames.

Every decoder holds the GIL (see :mod:`viewer.dicom.pixels.decode`), so threads cannot use a second
core; worker *processes* can. The pool's processes come from the ``forkserver`` start method
(``spawn`` where there is none), never ``fork``: the GUI process runs Qt threads, and a forked
child would inherit their locks mid-flight.

A volume is filled in place: the parent allocates one :class:`SharedBlock` (a
:mod:`multiprocessing.shared_memory` segment viewed as a numpy array in the stored dtype),
workers attach to it by name and decode chunks of frames straight into their slices, and the
parent never copies. One byte after the voxels is a stop flag the workers check before each
frame, so a cancelled load ends within one frame per worker.

Plain monochrome frames skip most of pydicom: :func:`pixel_layout` walks the header once to
the Pixel Data element (PS3.5 7.1, 7.5: element by element, sequences of undefined length
included); native little-endian bytes are then read straight into the volume, and a single
encapsulated frame goes to pydicom's decoder as a bare buffer (no Dataset, no display
transform: 1.7 instead of 4.6 ms for an RLE CT slice). Strict checks (transfer syntax, one
integer sample, lengths against the file size) send anything else, or any surprise, to
:func:`viewer.dicom.pixels.decode.read_frame`.

Every frame has a deadline (:data:`viewer.dicom.limits.DECODE_DEADLINE_S`, more for frames
over DEADLINE_FRAME_BYTES): the pool is a :class:`~viewer.dicom.supervised_pool.SupervisedPool`,
so a worker stuck on one frame (a decoder looping on corrupt data) is killed and replaced, that
frame is reported ("decode timed out after 20 s") and the others are decoded. Each task also
carries the memory budget the user set, so a worker refuses a frame over it just as the GUI's
process would (:func:`viewer.dicom.bounded.check_frame_allocation`).

The pool is created on first use, kept warm for the next load and shut down at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.pixels import get_decoder
from pydicom.uid import UID

from viewer.core import quit_signals
from viewer.dicom import limits, reasons
from viewer.dicom.catalog.frame_ref import local_path
from viewer.dicom.codecs import policy
from viewer.dicom.io import bounded, frame_sources
from viewer.dicom.pixels.decode import (
    DecodedFrame,
    DecodeError,
    FrameSource,
    read_frame,
    read_frame_cached,
)
from viewer.dicom.pixels.frame_store import FrameStore, default_store
from viewer.dicom.pixels.layout import FrameOutcome, PixelLayout, fits, read_native_into
from viewer.dicom.pixels.layout import pixel_layout as plain_layout
from viewer.dicom.supervised_pool import (
    DeadlineExceeded,
    WorkerLost,
    attach_unowned,
    beat,
    start_helpers,
    worker_pool,
)

#: At most this many frames per task: small enough for progress and a fair share between
#: workers, large enough that the per-task overhead (~0.3 ms) stays negligible.
MAX_CHUNK_FRAMES = 16
#: At most this many native (undecoded) frames per task: a read each, ~0.5 ms.
CHEAP_CHUNK_FRAMES = 64
#: Aim for this many tasks per worker, so the last tasks finish close together.
TASKS_PER_WORKER = 8
#: How often (seconds) a waiting load checks ``cancel``.
POLL_INTERVAL_S = 0.05
#: Worker processes at most (each holds pydicom, numpy and the decoders: ~60 MB).
MAX_WORKERS = 8
#: An encapsulated frame larger than this many times its decoded size (plus 1 MiB) is left
#: to read_frame (a file with junk after the pixel data, say).
MAX_ENCAPSULATED_FACTOR = 4

#: What a frame whose worker was killed at its deadline reports (followed by "after N s").
TIMED_OUT = "decode timed out"
#: What a frame whose worker crashed twice reports.
CRASHED = "the decoder crashed on this frame"

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
#: One frame to decode: (index in the volume, path, frame in that file).
FrameJob = tuple[int, str, int]
#: Run in each new worker process after the decoders are loaded (a module-level function).
WorkerSetup = Callable[[], None]


class LoadCancelled(Exception):
    """The caller's ``cancel`` returned True while a volume was being filled."""


# --- shared memory ---------------------------------------------------------------------------
class _SharedArrayBase:
    """Exposes a shared-memory segment to numpy and keeps it mapped while any view lives."""

    def __init__(self, memory: SharedMemory, shape: tuple[int, ...], dtype: np.dtype[Any]):
        self.memory = memory
        buffer = memory.buf
        assert buffer is not None
        probe = np.frombuffer(buffer, dtype=np.uint8, count=1)
        address = int(probe.ctypes.data)
        del probe, buffer  # no buffer export may outlive this call, or SharedMemory.close() fails
        self.__array_interface__ = {
            "shape": shape,
            "typestr": dtype.str,
            "data": (address, False),
            "version": 3,
        }


class SharedBlock:
    """A (frames, rows, columns) array in shared memory plus a one-byte stop flag.

    ``array`` stays valid after :meth:`release` for as long as it (or any view of it) is
    referenced; the segment's name is gone then, so nothing leaks if the process dies.
    """

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype[Any] | type) -> None:
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.nbytes = math.prod(self.shape) * self.dtype.itemsize
        _check_shared_memory_room(self.nbytes + 1)
        start_helpers()  # the resource tracker, immune to a hangup of the process group
        self._memory = SharedMemory(create=True, size=max(self.nbytes, 1) + 1)
        self.name = self._memory.name
        base = _SharedArrayBase(self._memory, (self.nbytes + 1,), np.dtype(np.uint8))
        raw = np.asarray(base)
        self.array: NDArray[Any] = raw[: self.nbytes].view(self.dtype).reshape(self.shape)
        self._stop = raw[self.nbytes :]
        self._stop[0] = 0
        self._released = False

    def request_stop(self) -> None:
        """Ask the workers to stop before their next frame."""
        self._stop[0] = 1

    def release(self) -> None:
        """Remove the segment's name (the memory lives on while ``array`` is referenced)."""
        if not self._released:
            self._released = True
            with contextlib.suppress(FileNotFoundError):
                self._memory.unlink()
            self._memory = None  # type: ignore[assignment]  # ``array`` keeps the mapping


def _check_shared_memory_room(nbytes: int, folder: str = "/dev/shm") -> None:
    """Raise OSError when POSIX shared memory (a tmpfs) has less room than ``nbytes``.

    The segment is created sparse: running out later would kill whoever touches the missing
    page with SIGBUS (containers often give /dev/shm 64 MiB), so the caller decodes in its
    own memory instead.
    """
    try:
        stats = os.statvfs(folder)
    except (AttributeError, OSError):
        return  # no /dev/shm to check (Windows, macOS): the OS backs segments with swap
    room = stats.f_bavail * stats.f_frsize
    if room < nbytes:
        raise OSError(f"shared memory has {room} bytes free, the volume needs {nbytes}")


_attach = attach_unowned


# --- plain monochrome files: the frame's bytes straight from the file ----------------------
def pixel_layout(path: str) -> PixelLayout | None:
    """:func:`viewer.dicom.pixels.layout.pixel_layout` (the one header walker), for a native
    file or a single encapsulated frame that pydicom can decode here; else None."""
    layout = plain_layout(path, MAX_ENCAPSULATED_FACTOR)
    if layout is not None and layout.encapsulated:
        return layout if _decodable_encapsulated(layout.transfer_syntax) else None
    return layout


def _decodable_encapsulated(syntax: str) -> bool:
    uid = UID(syntax)
    if not uid.is_encapsulated:
        return False
    try:
        return bool(get_decoder(uid).available_plugins) and bool(_plugins_here(syntax))
    except NotImplementedError:
        return False


def _plugins_here(syntax: str) -> list[str]:
    """:func:`volume_plugins`, without those that could abort this process (in the main
    process, for an abort-prone syntax; read_frame then sends a failure to a worker)."""
    plugins = volume_plugins(syntax)
    if policy.abort_prone(syntax):
        return [plugin for plugin in plugins if plugin in policy.NEVER_ABORTING_PLUGINS]
    return plugins


def volume_plugins(syntax: str) -> list[str]:
    """Decoding plugins to try in a worker, best first, then pydicom's own order ("").

    In a pool every core is busy, so what counts is CPU time per frame, not wall time: the
    policy's ``volume_plugins`` where it has them (:mod:`viewer.dicom.codecs.policy`).
    """
    available = get_decoder(UID(syntax)).available_plugins
    return [*policy.chosen_plugins(syntax, available, volume=True), ""]


def read_frame_into(path: str, frame: int, target: NDArray[Any]) -> PixelLayout | None:
    """Decode frame ``frame`` of a plain monochrome file into ``target``; None if unsuited.

    Native frames are read straight into ``target``; a single encapsulated frame goes through
    pydicom's decoder for its transfer syntax, without building a Dataset. Values come out
    exactly as read_frame gives them (bits above Bits Stored dropped and the sign extended,
    PS3.5 8.1.1; JPEG sign corrections by pydicom).
    """
    layout = pixel_layout(path)
    if (
        layout is None
        or not 0 <= frame < layout.frames
        or target.shape != (layout.rows, layout.columns)
        or not target.flags.c_contiguous
    ):
        return None
    if layout.encapsulated:
        return layout if _decode_encapsulated(path, layout, target) else None
    if not fits(layout, frame, target):
        return None
    return layout if read_native_into(path, frame, layout, target) else None


def _decode_encapsulated(path: str, layout: PixelLayout, target: NDArray[Any]) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(layout.pixel_offset)
            data = handle.read(layout.pixel_length)
    except OSError:
        return False
    decoder = get_decoder(UID(layout.transfer_syntax))
    for plugin in _plugins_here(layout.transfer_syntax):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                pixels, _ = decoder.as_array(
                    data, index=0, decoding_plugin=plugin, **layout.decoder_options()
                )
            if caught:
                return False  # anything odd: read_frame decodes it and says what
            store_frame(target, pixels)
        except BaseException as error:  # Rust decoders panic with a BaseException
            limits.decoder_failure(error)  # (KeyboardInterrupt and the like go on up)
            continue
        return True
    return False


# --- work done inside the worker processes -----------------------------------------------------
def _init_worker(
    setup: WorkerSetup | None = None, sources: Mapping[str, str] | None = None
) -> None:
    """Worker start (after :func:`viewer.dicom.supervised_pool.worker_pool`'s): the parent's
    frame-source readers (:func:`viewer.dicom.io.frame_sources.registered`); load the decoders
    once, not per frame; then ``setup`` (see :class:`DecodePool`)."""
    if sources:
        frame_sources.install(sources)
    for module in ("gdcm", "openjpeg", "rle", "jpeg_ls", "PIL.Image", "imagecodecs._jpeg8"):
        with contextlib.suppress(ImportError):
            __import__(module)
    if setup is not None:
        setup()


def _ping() -> int:
    return os.getpid()


def fill_chunk(
    block_name: str, shape: tuple[int, ...], dtype: str, jobs: Sequence[FrameJob]
) -> list[FrameOutcome]:
    """Decode ``jobs`` into the shared block ``block_name`` (runs in a worker)."""
    memory = _attach(block_name)
    try:
        return _fill_frames(memory, shape, np.dtype(dtype), jobs)
    finally:
        with contextlib.suppress(BufferError):
            memory.close()


def _fill_frames(
    memory: SharedMemory, shape: tuple[int, ...], dtype: np.dtype[Any], jobs: Sequence[FrameJob]
) -> list[FrameOutcome]:
    volume = np.ndarray(shape, dtype=dtype, buffer=memory.buf)
    stop = np.ndarray((1,), dtype=np.uint8, buffer=memory.buf, offset=volume.nbytes)
    outcomes = []
    try:
        for index, path, frame in jobs:
            if stop[0]:
                break
            beat(index, limits.deadline_scale(volume[index].nbytes))  # the deadline restarts
            outcomes.append(fill_frame(volume[index], index, path, frame))
    finally:
        del volume, stop
    return outcomes


def isolated_decode(source: str | bytes, frame: int, name: str = "") -> DecodedFrame:
    """read_frame in the shared pool's worker: an abort costs the worker, not this process.

    ``source``: a path, or an instance's bytes named ``name`` (its URI) in errors.
    Returns the DecodedFrame; raises DecodeError (and nothing else), as read_frame does.
    """
    path = name or (source if isinstance(source, str) else "")
    pool = shared_pool()
    try:
        outcome = pool.decode(source, frame, path).result()
    except BrokenProcessPool:
        pool.restart()
        raise DecodeError(path, "the decoder crashed on this frame (corrupt data?)") from None
    except limits.TimedOut as error:  # the worker was stuck and has been replaced
        raise DecodeError(path, f"decode {error}") from None
    except Exception as error:  # no worker could be started, or the result did not arrive
        why = reasons.explain(error, path)
        raise DecodeError(path, f"cannot decode in a worker process: {why}") from error
    if isinstance(outcome, str):
        raise DecodeError(path, outcome)
    return outcome


def read_isolated(source: FrameSource, frame: int = 0, *, name: str = "") -> DecodedFrame:
    """:func:`viewer.dicom.pixels.decode.read_frame`, with frames whose decoder could abort
    this process decoded in a worker (:func:`isolated_decode`)."""
    return read_frame(source, frame, name=name, isolate=isolated_decode)


def fill_frame(target: NDArray[Any], index: int, path: str, frame: int) -> FrameOutcome:
    """Decode one frame into ``target``; never raises (the error is in the outcome)."""
    try:
        layout = read_frame_into(path, frame, target)
        if layout is not None:
            return FrameOutcome(index, layout.rescale_slope, layout.rescale_intercept)
        decoded = read_isolated(path, frame)
        store_frame(target, decoded.stored)
    except DecodeError as error:
        return FrameOutcome(index, error=error.reason)
    except Exception as error:  # fault boundary: one bad file must not stop the volume
        return FrameOutcome(index, error=reasons.explain(error, f"{path} frame {frame}"))
    transform = decoded.transform
    return FrameOutcome(
        index,
        transform.rescale_slope,
        transform.rescale_intercept,
        transform.modality_lut is not None,
        warnings=decoded.warnings,
    )


def store_frame(target: NDArray[Any], values: NDArray[Any]) -> None:
    """Copy a decoded frame into the volume, refusing shapes or values that do not fit."""
    if values.shape != target.shape:
        raise ValueError(
            f"frame is {_shape_text(values.shape)}, the stack {_shape_text(target.shape)}"
        )
    if values.dtype != target.dtype and not np.can_cast(values.dtype, target.dtype, "safe"):
        info = np.iinfo(target.dtype) if target.dtype.kind in "iu" else None
        if info is None or (values.size and (values.min() < info.min or values.max() > info.max)):
            raise ValueError(f"{values.dtype} values do not fit the stack's {target.dtype}")
    np.copyto(target, values, casting="unsafe")


def _declared_frame_bytes(source: str | bytes) -> int:
    """What the header says one decoded frame takes (0 if it cannot be read, or is not in a
    local file or in memory: the decoder says why)."""
    if isinstance(source, str) and local_path(source) is None:
        return 0
    try:
        declared = bounded.declared_pixels(source)
    except (OSError, ValueError):
        return 0
    return declared.frame_bytes if declared is not None else 0


def _shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(str(n) for n in shape)


def decode_frame(
    source: str | bytes, frame: int, name: str = "", store: StoreSpec | None = None
) -> DecodedFrame | str:
    """read_frame in a worker (of a path or URI, or of an instance's bytes named ``name``):
    the frame, or the one-line reason it failed. ``store`` (the decoded-frame cache's folder
    and bound, :func:`store_spec`): a path's compressed frame comes from there when cached,
    and is written there when decoded (:func:`viewer.dicom.pixels.decode.read_frame_cached`)."""
    beat(frame, limits.deadline_scale(_declared_frame_bytes(source)))
    try:
        if store is not None and isinstance(source, str):
            cache = FrameStore(Path(store[0]), store[1])
            return read_frame_cached(source, frame, cache, isolate=isolated_decode)
        return read_isolated(source, frame, name=name)
    except DecodeError as error:
        return error.reason
    except Exception as error:  # fault boundary
        return reasons.explain(error, f"frame {frame}")


#: The decoded-frame cache as a worker is told of it: (folder, bound in bytes).
StoreSpec = tuple[str, int]


def store_spec() -> StoreSpec | None:
    """This process's decoded-frame cache (the user's setting) for :func:`decode_frame` in a
    worker, or None when it is off."""
    store = default_store()
    return (str(store.root), store.limit) if store is not None else None


# --- the pool --------------------------------------------------------------------------------
def default_workers() -> int:
    """Worker processes: one per usable core (at least 1, at most MAX_WORKERS)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def chunked(jobs: Sequence[FrameJob], workers: int, cheap: bool = False) -> list[list[FrameJob]]:
    """Consecutive jobs in chunks sized for the work per frame.

    Decoded frames (``cheap`` False): chunks shrink towards the end (guided scheduling), each
    1/(workers x TASKS_PER_WORKER) of the jobs still unassigned and at most MAX_CHUNK_FRAMES,
    so the last are single frames and the workers finish together; with equal chunks one
    worker could still be decoding a whole chunk (16 JPEG 2000 frames, 0.6 s) while the other
    idles. Native frames (``cheap``: a read, ~0.5 ms): two equal chunks per worker, since
    every task costs ~0.4 ms of its own (measured: 56 guided chunks made a 300-slice load
    10 % slower than 4).
    """
    if cheap:
        size = max(1, min(CHEAP_CHUNK_FRAMES, math.ceil(len(jobs) / (workers * 2))))
        return [list(jobs[start : start + size]) for start in range(0, len(jobs), size)]
    chunks: list[list[FrameJob]] = []
    start = 0
    while start < len(jobs):
        remaining = len(jobs) - start
        size = max(1, min(MAX_CHUNK_FRAMES, math.ceil(remaining / (workers * TASKS_PER_WORKER))))
        chunks.append(list(jobs[start : start + size]))
        start += size
    return chunks


class DecodePool:
    """A warm process pool for decoding, with a deadline per frame (see the module docstring).

    ``frame_deadline``: seconds a worker may spend on one frame (scaled up for large frames
    by :func:`viewer.dicom.limits.deadline_scale`). ``worker_setup``: a module-level function
    each new worker runs once after loading the decoders (tests register a decoding plugin
    with it; a picklable function, not a path or an environment variable). Workers read the
    frame sources registered when the pool was made (register schemes at start-up).
    """

    def __init__(
        self,
        workers: int | None = None,
        frame_deadline: float = limits.DECODE_DEADLINE_S,
        worker_setup: WorkerSetup | None = None,
    ) -> None:
        self.workers = workers or default_workers()
        self.frame_deadline = frame_deadline
        # Workers fork from a server that has already imported pydicom and numpy (this module).
        self._pool = worker_pool(
            self.workers,
            [__name__],
            initializer=_init_worker,
            initargs=(worker_setup, frame_sources.registered()),
        )

    def submit(
        self, function: Callable[..., Any], *args: Any, deadline: float | None = None
    ) -> Future[Any]:
        """Run ``function(*args)`` in a worker (a module-level function, picklable args).

        ``deadline`` as in :meth:`SupervisedPool.submit`. Raises RuntimeError after
        :meth:`shutdown`, OSError when no worker process can start.
        """
        return self._pool.submit(function, *args, deadline=deadline)

    def decode(
        self, source: str | bytes, frame: int, name: str = "", store: StoreSpec | None = None
    ) -> Future[DecodedFrame | str]:
        """:func:`decode_frame` in a worker, under the frame deadline: the Future holds the
        frame or the reason it failed, or raises DeadlineExceeded or BrokenProcessPool."""
        return self.submit(decode_frame, source, frame, name, store, deadline=self.frame_deadline)

    def warm(self) -> None:
        """Start every worker now (so the first load does not pay for it)."""
        self._pool.warm()

    def restart(self) -> None:
        """After a worker crashed: the next submit starts fresh workers."""
        self._pool.restart()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers; ``wait`` False: at once, running tasks or not (a quit signal)."""
        if wait:
            self._pool.shutdown(wait=True)
        else:
            self._pool.stop_now()

    def fill(
        self,
        block: SharedBlock,
        jobs: Sequence[FrameJob],
        progress: Progress | None = None,
        cancel: Cancel = lambda: False,
        cheap: bool = False,
    ) -> list[FrameOutcome]:
        """Decode ``jobs`` into ``block`` with every worker; one outcome per job.

        ``cheap``: the frames are native (read, not decoded): fewer, bigger tasks.

        Raises :class:`LoadCancelled` when ``cancel`` says so (the workers stop within a
        frame). A frame still decoding at its deadline costs its worker, and is reported as
        timed out; the rest of its chunk is decoded again. When a worker crashes (a decoder
        abort), the frames the workers were on are suspects: once everything else is done,
        each is decoded again alone, so the one that crashes is known and reported.
        """
        chunks = chunked(jobs, self.workers, cheap)
        return _Filling(self, block, len(jobs), progress, cancel).run(chunks)

    def _fill_chunk(self, block: SharedBlock, chunk: list[FrameJob]) -> Future[Any]:
        return self.submit(
            fill_chunk,
            block.name,
            block.shape,
            block.dtype.str,
            chunk,
            deadline=self.frame_deadline,
        )


class _Filling:
    """One :meth:`DecodePool.fill`: chunks in flight, outcomes so far, crash suspects."""

    def __init__(
        self,
        pool: DecodePool,
        block: SharedBlock,
        total: int,
        progress: Progress | None,
        cancel: Cancel,
    ) -> None:
        self.pool = pool
        self.block = block
        self.total = total
        self.progress = progress
        self.cancel = cancel
        self.outcomes: list[FrameOutcome] = []
        self.in_flight: dict[Future[Any], list[FrameJob]] = {}
        self.suspects: list[FrameJob] = []
        self.isolating = False

    def run(self, chunks: list[list[FrameJob]]) -> list[FrameOutcome]:
        try:
            for chunk in chunks:
                self._submit(chunk)
            self._drain()
            self.isolating = True  # now one suspect at a time: a crash names its frame
            for job in self.suspects:
                self._submit([job])
                self._drain()
        except BaseException:
            self.block.request_stop()
            for future in self.in_flight:
                future.cancel()
            wait(self.in_flight)
            raise
        return self.outcomes

    def _drain(self) -> None:
        while self.in_flight:
            done, _ = wait(self.in_flight, timeout=POLL_INTERVAL_S, return_when=FIRST_COMPLETED)
            for future in done:
                self._settle(future, self.in_flight.pop(future))
            if done and self.progress is not None:
                self.progress(len(self.outcomes), self.total)
            if self.cancel():
                raise LoadCancelled

    def _submit(self, chunk: list[FrameJob]) -> None:
        self.in_flight[self.pool._fill_chunk(self.block, chunk)] = chunk

    def _settle(self, future: Future[Any], chunk: list[FrameJob]) -> None:
        try:
            self.outcomes.extend(future.result())
        except DeadlineExceeded as error:
            stuck = [job for job in chunk if job[0] == error.item] or chunk[:1]
            reason = f"{TIMED_OUT} after {error.seconds:g} s"
            self.outcomes.extend(FrameOutcome(index, error=reason) for index, _, _ in stuck)
            self._resubmit([job for job in chunk if job not in stuck])
        except BrokenProcessPool as error:  # a decoder crashed a worker
            self.pool.restart()
            if self.isolating:
                self.outcomes.extend(FrameOutcome(index, error=CRASHED) for index, _, _ in chunk)
                return
            item = error.item if isinstance(error, WorkerLost) else -1
            suspects = [job for job in chunk if job[0] == item] or chunk
            self.suspects.extend(suspects)
            self._resubmit([job for job in chunk if job not in suspects])

    def _resubmit(self, rest: list[FrameJob]) -> None:
        """Decode again the frames of a chunk whose worker died (its results died with it)."""
        if rest:
            self._submit(rest)


_shared: DecodePool | None = None
_shared_lock = threading.Lock()
_exit_hook_registered = False


def shared_pool() -> DecodePool:
    """The process-wide pool (created on first use, shut down at exit)."""
    global _shared, _exit_hook_registered
    with _shared_lock:
        if _shared is None:
            _shared = DecodePool()
            if not _exit_hook_registered:
                atexit.register(shutdown_shared_pool)
                _exit_hook_registered = True
        return _shared


def shutdown_shared_pool() -> None:
    """Stop the process-wide pool's workers (a later :func:`shared_pool` starts a new one)."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.shutdown(wait=quit_signals.received() is None)
