"""Worker processes whose tasks have deadlines: a stuck worker is killed and replaced (issue 7).

A decoder caught in a loop on corrupt data (OpenJPEG has had such bugs), or a header that sends
a parser round in circles, would otherwise hold its worker, and whoever waits for it, forever.
Python cannot stop a call running in a thread, but it can kill a process. So every task of a
:class:`SupervisedPool` runs in a worker process under a deadline:

- The parent gives each task a slot on a *board*, a small table in shared memory. The worker
  writes its pid there when the task starts, and a *beat* (the item it is on, and the time)
  before each item: a frame of a volume chunk, a file of an index chunk (:func:`beat`). The
  deadline counts from the current item's beat, never from submission, so tasks waiting in
  the queue cannot time out, and a chunk of many items gets the allowance per item.
- A supervisor thread in the parent reads the board every SUPERVISE_INTERVAL_S. When an item
  has run longer than its allowance, the worker is killed (SIGKILL; TerminateProcess on
  Windows) and its task fails with :class:`DeadlineExceeded`, which names the item: the caller
  reports that one frame or file and resubmits the rest.
- Killing a worker breaks a :class:`~concurrent.futures.ProcessPoolExecutor`: every task in
  flight fails with BrokenProcessPool. The supervisor starts a new executor and resubmits the
  tasks that were only caught in the breakage (MAX_RESUBMITS times at most), so callers never
  see it. When a worker *crashes* on its own (a decoder abort), tasks that had not started are
  resubmitted the same way; those that were running fail with :class:`WorkerLost`, which
  names the item each was on: one of them caused the crash, and the caller decides how to
  find out which (decode them again one at a time, say) and what a crash costs.

Every task carries the parent's memory budget (:func:`viewer.dicom.limits.memory_budget_setting`),
set in the worker before the task runs: a worker refuses what the parent would, even after
the user changed the budget (no restart needed).

Workers come from the start method the caller gives (forkserver or spawn, never fork in a
process that runs Qt threads). :func:`worker_pool` is the one way the viewer's pools (the
decode pool, the index pool) are made: one start method, one forkserver preload list shared by
all of them, Ctrl+C left to the parent. Every worker ends when the process that made the pool
ends, even when that one was killed (:func:`viewer.core.lifeline.exit_with`), and
:meth:`SupervisedPool.stop_now` ends them at once (a signal asked the process to quit). No Qt.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.core import lifeline
from viewer.dicom import limits

#: How often (seconds) the supervisor looks at the board while supervised tasks run.
SUPERVISE_INTERVAL_S = 0.1
#: Supervised tasks in flight at most; beyond, tasks run without a deadline.
BOARD_SLOTS = 1024
#: A task caught in the breakage of another task's kill is resubmitted this often at most.
MAX_RESUBMITS = 3
#: Per slot: the task's token, the worker's pid, the current item, when that item started
#: (time.monotonic(), the same clock in every process) and the item's allowance in seconds.
_TOKEN, _PID, _ITEM, _STARTED, _ALLOWANCE = range(5)
_FIELDS = 5
_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # os.kill with SIGTERM terminates on Windows


class DeadlineExceeded(limits.TimedOut):
    """A supervised task's item ran past its allowance; its worker was killed.

    ``item`` is what the task last passed to :func:`beat` (-1 before its first beat).
    """

    def __init__(self, item: int, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.item = item
        self.seconds = seconds


class WorkerLost(BrokenProcessPool):
    """A worker died (a crash, or terminated because another one crashed) while running this
    task, on ``item`` (what the task last passed to :func:`beat`; -1 when unknown)."""

    def __init__(self, item: int) -> None:
        super().__init__(f"a worker process died on item {item}")
        self.item = item


# --- in the worker process -----------------------------------------------------------------------
@dataclass(slots=True)
class _Running:
    """The supervised task this worker runs now."""

    board: NDArray[np.float64]
    at: int
    allowance: float


_running: _Running | None = None
_boards: dict[str, tuple[SharedMemory, NDArray[np.float64]]] = {}


def beat(item: int, scale: float = 1.0) -> None:
    """Tell the supervisor the running task has moved on to ``item``; its clock restarts.

    ``scale`` (at least 1) stretches the task's allowance for this item (a frame far larger
    than usual). Does nothing outside a supervised task (in the calling process, say).
    """
    running = _running
    if running is None:
        return
    board, at = running.board, running.at
    board[at + _ITEM] = float(item)
    board[at + _ALLOWANCE] = running.allowance * max(1.0, scale)
    board[at + _STARTED] = time.monotonic()


def attach_unowned(name: str) -> SharedMemory:
    """Attach to the parent's segment without registering it with the resource tracker.

    Python < 3.13 registers every attachment, and the tracker would then unlink the parent's
    segment (and warn) when this worker exits; only the creator may own its cleanup.
    """
    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None
    try:
        return SharedMemory(name=name)
    finally:
        resource_tracker.register = register


def _board_view(name: str) -> NDArray[np.float64]:
    """The board's float64s (attached once per worker, kept for its lifetime)."""
    attached = _boards.get(name)
    if attached is None:
        memory = attach_unowned(name)
        attached = _boards[name] = (memory, _float64s(memory))
    return attached[1]


def _float64s(memory: SharedMemory) -> NDArray[np.float64]:
    return np.ndarray((BOARD_SLOTS * _FIELDS,), dtype=np.float64, buffer=memory.buf)


def _start_worker(
    owner: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    """A worker's first act: end with ``owner`` (the pool's process); then the caller's
    initializer."""
    lifeline.exit_with(owner)
    if initializer is not None:
        initializer(*initargs)


def _run_task(
    board_name: str,
    slot: int,
    token: float,
    allowance: float,
    memory_budget: int | None,
    function: Callable[..., Any],
    args: tuple[Any, ...],
) -> Any:
    """Run ``function(*args)``, announcing it on the board's ``slot`` (runs in the worker),
    under the parent's memory budget as it was when the task was submitted."""
    global _running
    limits.set_memory_budget(memory_budget)
    if slot < 0:
        return function(*args)
    board = _board_view(board_name)
    at = slot * _FIELDS
    board[at + _STARTED] = 0.0
    board[at + _PID] = float(os.getpid())
    board[at + _TOKEN] = token
    _running = _Running(board, at, allowance)
    beat(-1)
    try:
        return function(*args)
    finally:
        _running = None
        board[at + _STARTED] = 0.0


# --- in the parent process -----------------------------------------------------------------------
def start_helpers(context: Any = None) -> None:
    """Start multiprocessing's resource tracker (and, for a forkserver ``context``, the fork
    server) with SIGHUP blocked, so that they and the workers forked from the server inherit
    it blocked. A hangup reaches the whole process group (a closed terminal): the viewer
    handles it (it stops the workers itself), but the helpers would die of it on the spot,
    and the tracker's relaunch then fills stderr with KeyErrors. Cheap once they run."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None or not hasattr(signal, "pthread_sigmask"):
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {hangup})  # this thread only
    try:
        resource_tracker.ensure_running()
        if context is not None and context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@dataclass(eq=False)
class _Task:
    """One submitted call, across the executors it may be resubmitted to."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    allowance: float | None
    outer: Future[Any] = field(default_factory=Future)
    token: int = 0
    slot: int = -1
    generation: int = 0
    executor: ProcessPoolExecutor | None = None
    inner: Future[Any] | None = None
    resubmits: int = 0
    timed_out: DeadlineExceeded | None = None


class SupervisedPool:
    """A process pool whose tasks may have a deadline per item (see the module docstring).

    ``submit`` returns a Future of the pool's own: it holds the result, the task's exception,
    :class:`DeadlineExceeded`, or :class:`WorkerLost` (a BrokenProcessPool) when the task's
    worker died of a crash.
    """

    def __init__(
        self,
        workers: int,
        context: Any,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.workers = workers
        self._context = context
        self._initializer = initializer
        self._initargs = initargs
        self._lock = threading.RLock()
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self._broken: set[int] = set()
        self._killed: set[int] = set()
        self._in_flight: dict[int, _Task] = {}
        self._next_token = 1
        self._owners: list[_Task | None] = [None] * BOARD_SLOTS
        self._cursor = 0
        self._board: SharedMemory | None = None
        self._board_view: NDArray[np.float64] | None = None
        self._events: queue.SimpleQueue[tuple[_Task, Future[Any]] | None] = queue.SimpleQueue()
        self._supervisor: threading.Thread | None = None
        self._closed = False

    # --- submitting ----------------------------------------------------------------------------
    def submit(
        self, function: Callable[..., Any], *args: Any, deadline: float | None = None
    ) -> Future[Any]:
        """Run ``function(*args)`` in a worker (a module-level function, picklable args).

        ``deadline``: seconds each item of the task may take (see :func:`beat`); None for no
        limit. Raises RuntimeError after :meth:`shutdown`, OSError when no worker can start.
        """
        task = _Task(function, args, deadline)
        with self._lock:
            self._launch(task)
        task.outer.add_done_callback(functools.partial(self._outer_done, task))
        return task.outer

    def _launch(self, task: _Task) -> None:
        """Submit ``task`` to the live executor (a new one if the last broke); lock held."""
        if self._closed:
            raise RuntimeError("the worker pool is shut down")
        task.token, self._next_token = self._next_token, self._next_token + 1
        task.slot = self._claim_slot(task) if task.allowance is not None else -1
        board = self._board.name if self._board is not None and task.slot >= 0 else ""
        call = (
            board,
            task.slot,
            float(task.token),
            task.allowance or 0.0,
            limits.memory_budget_setting(),
            task.function,
            task.args,
        )
        try:
            try:
                executor = self._live_executor()
                inner = executor.submit(_run_task, *call)
            except BrokenProcessPool:
                self._broken.add(self._generation)
                executor = self._live_executor()
                inner = executor.submit(_run_task, *call)
        except BaseException:
            self._release_slot(task)
            raise
        task.generation, task.executor, task.inner = self._generation, executor, inner
        self._in_flight[task.token] = task
        self._ensure_supervisor()
        if task.slot >= 0:
            self._events.put(None)  # wake the supervisor: there is a deadline to watch
        inner.add_done_callback(functools.partial(self._inner_done, task))

    def _live_executor(self) -> ProcessPoolExecutor:
        executor = self._executor
        if executor is not None and (
            self._generation in self._broken or getattr(executor, "_broken", False)
        ):
            executor.shutdown(wait=False, cancel_futures=True)
            executor = self._executor = None
        if executor is None:
            start_helpers(self._context)
            executor = ProcessPoolExecutor(
                self.workers,
                mp_context=self._context,
                initializer=_start_worker,
                initargs=(os.getpid(), self._initializer, self._initargs),
            )
            self._executor = executor
            self._generation += 1
        return executor

    def _claim_slot(self, task: _Task) -> int:
        """A free board slot for ``task`` (round robin), or -1 when all are taken."""
        view = self._board_memory()
        if view is None:
            return -1
        for _ in range(BOARD_SLOTS):
            slot = self._cursor
            self._cursor = (slot + 1) % BOARD_SLOTS
            if self._owners[slot] is None:
                self._owners[slot] = task
                view[slot * _FIELDS + _TOKEN] = -1.0
                view[slot * _FIELDS + _STARTED] = 0.0
                return slot
        return -1

    def _release_slot(self, task: _Task) -> None:
        if task.slot >= 0 and self._owners[task.slot] is task:
            self._owners[task.slot] = None
        task.slot = -1

    def _board_memory(self) -> NDArray[np.float64] | None:
        if self._board_view is None:
            try:
                start_helpers()
                self._board = SharedMemory(create=True, size=BOARD_SLOTS * _FIELDS * 8)
            except OSError:  # no shared memory: tasks run without deadlines
                return None
            self._board_view = _float64s(self._board)
            self._board_view[:] = 0.0
        return self._board_view

    # --- settling --------------------------------------------------------------------------------
    def _inner_done(self, task: _Task, inner: Future[Any]) -> None:
        """An executor future finished (any thread): the supervisor settles it."""
        self._events.put((task, inner))

    def _outer_done(self, task: _Task, outer: Future[Any]) -> None:
        """Cancelled: wake whoever waits on it (concurrent.futures.wait counts a cancelled
        future as done only once notified) and stop the task if it has not started."""
        if outer.cancelled():
            outer.set_running_or_notify_cancel()
            if task.inner is not None:
                task.inner.cancel()

    def _settle(self, task: _Task, inner: Future[Any]) -> None:
        """Hand an executor future's outcome to the caller's future, or resubmit the task."""
        with self._lock:
            if task.inner is not inner:
                return  # an earlier attempt of a resubmitted task
            self._in_flight.pop(task.token, None)
            item = self._running_item(task)
            self._release_slot(task)
        outer = task.outer
        if outer.done():
            return
        if inner.cancelled():
            outer.cancel()
            return
        error = inner.exception()
        if error is None:
            _resolve(outer, inner.result())
            return
        if isinstance(error, BrokenProcessPool):
            error = self._after_breakage(task, item)
            if error is None:
                return
        _resolve(outer, error=error)

    def _running_item(self, task: _Task) -> int | None:
        """The item ``task`` is on in its worker; None if it never started; -1 if unknown (a
        task without a deadline has no slot). Lock held."""
        view = self._board_view
        if task.slot < 0 or view is None:
            return -1
        at = task.slot * _FIELDS
        if view[at + _TOKEN] != task.token or view[at + _STARTED] <= 0.0:
            return None
        return int(view[at + _ITEM])

    def _after_breakage(self, task: _Task, item: int | None) -> BaseException | None:
        """The exception for a task whose executor broke, or None once it is resubmitted."""
        with self._lock:
            self._broken.add(task.generation)
            if task.timed_out is not None:
                return task.timed_out
            innocent = task.generation in self._killed or item is None
            if not innocent or task.resubmits >= MAX_RESUBMITS:
                return WorkerLost(-1 if item is None else item)
            task.resubmits += 1
            try:
                self._launch(task)
            except Exception as launch_error:  # closed, or no worker could start
                return launch_error
        return None

    # --- supervising ---------------------------------------------------------------------------
    def _ensure_supervisor(self) -> None:
        if self._supervisor is None:
            self._supervisor = threading.Thread(
                target=self._supervise, name="pool-supervisor", daemon=True
            )
            self._supervisor.start()

    def _supervise(self) -> None:
        """Settle finished tasks and enforce deadlines until shut down with nothing in flight."""
        while True:
            with self._lock:
                if self._closed and not self._in_flight:
                    break
                watching = any(task.slot >= 0 for task in self._in_flight.values())
            try:
                event = self._events.get(timeout=SUPERVISE_INTERVAL_S if watching else None)
            except queue.Empty:
                event = None
            if event is not None:
                self._settle(*event)
            self._enforce_deadlines()
        self._release_board()

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        with self._lock:
            view = self._board_view
            if view is None:
                return
            overdue = []
            for task in self._in_flight.values():
                at = task.slot * _FIELDS
                if task.slot < 0 or task.timed_out is not None or view[at + _TOKEN] != task.token:
                    continue
                started, allowance = view[at + _STARTED], view[at + _ALLOWANCE]
                if started > 0.0 and now - started > allowance:
                    task.timed_out = DeadlineExceeded(int(view[at + _ITEM]), allowance)
                    overdue.append((task, int(view[at + _PID])))
        for task, pid in overdue:
            self._kill(task, pid)

    def _kill(self, task: _Task, pid: int) -> None:
        """Kill ``task``'s worker ``pid`` (checked to be one of its executor's workers)."""
        with self._lock:
            self._killed.add(task.generation)
        processes = getattr(task.executor, "_processes", {pid: None})  # private: a sanity check
        if processes is None or pid not in processes:
            return  # not (or no longer) one of that executor's workers
        with contextlib.suppress(OSError):
            os.kill(pid, _KILL)

    # --- life cycle ------------------------------------------------------------------------------
    def warm(self) -> None:
        """Start every worker now (so the first real task does not pay for it)."""
        wait([self.submit(os.getpid) for _ in range(self.workers)])

    def restart(self) -> None:
        """Drop the executor if a worker crashed; the next submit starts fresh workers."""
        with self._lock:
            executor = self._executor
            if executor is not None and (
                self._generation in self._broken or getattr(executor, "_broken", False)
            ):
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers: tasks not started are cancelled; with ``wait``, running tasks
        finish (a stuck one is killed at its deadline) before this returns."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            supervisor = self._supervisor
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)
        self._events.put(None)  # the supervisor ends (and frees the board) once all settled
        if wait and supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join()
        elif supervisor is None:
            self._release_board()

    def stop_now(self, grace: float = 1.0) -> None:
        """Shut down without waiting for running tasks: their workers are terminated (killed
        after ``grace`` seconds). For a process that was asked to quit (SIGTERM, SIGHUP, Ctrl+C).
        """
        with self._lock:
            executor = self._executor
            processes = dict(getattr(executor, "_processes", None) or {})  # private: see _kill
        _forget_cancelled(executor)  # before shutdown wakes its thread to walk that table
        self.shutdown(wait=False)
        for process in processes.values():
            with contextlib.suppress(OSError, ValueError, AttributeError):
                process.terminate()
        deadline = time.monotonic() + grace
        for process in processes.values():
            with contextlib.suppress(OSError, ValueError, AttributeError):
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.kill()
                    process.join(grace)
        if executor is not None:
            with contextlib.suppress(Exception):
                executor.shutdown(wait=True, cancel_futures=True)  # its threads end now
        self._events.put(None)

    def _release_board(self) -> None:
        with self._lock:
            view, self._board_view = self._board_view, None
            board, self._board = self._board, None
        del view  # no export of the buffer may remain, or close() fails
        if board is not None:
            with contextlib.suppress(OSError, BufferError):
                board.close()
            with contextlib.suppress(OSError):
                board.unlink()

    @property
    def closed(self) -> bool:
        return self._closed


def _forget_cancelled(executor: ProcessPoolExecutor | None) -> None:
    """Drop the executor's cancelled, not yet started work items (private state, as _kill reads
    its processes). Killing the workers next breaks the pool, and CPython 3.11's executor thread
    then sets BrokenProcessPool on every pending item's future: on one a caller had cancelled
    that raises InvalidStateError, and the thread dies with a traceback on stderr."""
    pending = getattr(executor, "_pending_work_items", None)
    if not isinstance(pending, dict):
        return
    for work_id, item in list(pending.items()):
        if item.future.cancelled():
            pending.pop(work_id, None)


def _resolve(future: Future[Any], result: Any = None, error: BaseException | None = None) -> None:
    """Set ``future``'s outcome unless the caller cancelled it meanwhile."""
    with contextlib.suppress(InvalidStateError):
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


# --- the one worker-pool factory -------------------------------------------------------------
#: Modules the forkserver imports once, before it forks any worker: the union of what every pool
#: asked for. A process has one forkserver, so one list (set before the server starts).
_preload: list[str] = []
_preload_lock = threading.Lock()


def worker_context(preload: Sequence[str] = ()) -> Any:
    """forkserver where available (its server starts from a clean interpreter, never a fork of
    a process running Qt threads), with ``preload`` added to the one preload list; else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    with _preload_lock:
        _preload.extend(module for module in preload if module not in _preload)
        context.set_forkserver_preload(list(_preload))
    return context


def worker_pool(
    workers: int,
    preload: Sequence[str] = (),
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> SupervisedPool:
    """A :class:`SupervisedPool` of ``workers`` from :func:`worker_context` (``preload``), whose
    workers leave Ctrl+C to the parent and then run ``initializer(*initargs)`` (module-level)."""
    start = functools.partial(_quiet_worker, initializer)
    return SupervisedPool(workers, worker_context(preload), initializer=start, initargs=initargs)


def _quiet_worker(initializer: Callable[..., None] | None, *args: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*args)
