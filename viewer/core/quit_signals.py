"""SIGTERM, SIGHUP (logout) and SIGINT (Ctrl+C) end the viewer cleanly (issue 13, item 7).

Python's default for SIGTERM and SIGHUP is to die on the spot: no ``finally``, no atexit, so
the decode and index workers, the fork server, the resource tracker and shared-memory segments
were left behind. Instead:

- headless verbs (:func:`raise_on_signals`): the signal raises :class:`Terminated` (a
  KeyboardInterrupt) in the main thread, so every ``finally`` runs (a volume being filled is
  told to stop, its segment unlinked), and at exit the pools stop their workers at once
  (:func:`received` tells them not to wait for running tasks); the exit status is 128 + the
  signal's number, as a shell reports it;
- the GUI (:func:`notify_on_signals`): the signal only writes its number to a socket the Qt
  event loop watches (a C-level wake-up, so it works while Qt waits), and the loop calls back
  to close the window, stop the workers and quit.

A second signal while that cleanup runs ends the process at once (the workers still end on
their own: see :mod:`viewer.core.lifeline`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from types import FrameType

#: The signals that ask the viewer to quit, where the platform has them.
QUIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
)

_received: int | None = None


class Terminated(KeyboardInterrupt):
    """A quit signal arrived (``signum``); raised in the main thread of a headless verb."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"{signal.Signals(signum).name} received")
        self.signum = signum


def received() -> int | None:
    """The quit signal this process received (None: none), so exit paths can hurry."""
    return _received


def exit_status(signum: int) -> int:
    """128 + the signal number (143 for SIGTERM, 130 for SIGINT), as shells report it."""
    return 128 + int(signum)


def _note(signum: int) -> bool:
    """Remember ``signum``; on the second signal, exit at once. True for the first."""
    global _received
    if _received is not None:
        os._exit(exit_status(signum))
    _received = signum
    return True


def _raise(signum: int, _frame: FrameType | None) -> None:
    _note(signum)
    raise Terminated(signum)


@contextlib.contextmanager
def raise_on_signals() -> Iterator[None]:
    """While inside: a quit signal raises :class:`Terminated` in the main thread. The previous
    handlers come back afterwards. Does nothing outside the main thread."""
    with _handlers(_raise):
        yield


@contextlib.contextmanager
def notify_on_signals(install: Callable[[socket.socket], Callable[[], None]]) -> Iterator[None]:
    """While inside: a quit signal is written to a socket; ``install(socket)`` is called once
    with its reading end (the GUI watches it with a QSocketNotifier and reads the signal's
    number, one byte, from it) and returns what stops watching it, called on the way out
    before the socket closes. Outside the main thread, nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except (ValueError, OSError):
        reader.close()
        writer.close()
        yield
        return
    unwatch: Callable[[], None] | None = None
    try:
        unwatch = install(reader)
        with _handlers(lambda signum, _frame: _note(signum)):
            yield
    finally:
        if unwatch is not None:
            unwatch()
        signal.set_wakeup_fd(previous_fd)
        reader.close()
        writer.close()


def read_signal(reader: socket.socket) -> int | None:
    """The quit signal waiting on ``reader`` (see :func:`notify_on_signals`), or None."""
    try:
        data = reader.recv(64)
    except (BlockingIOError, OSError):
        data = b""
    numbers = [number for number in data if number in QUIT_SIGNALS]
    return numbers[0] if numbers else _received


@contextlib.contextmanager
def _handlers(handler: Callable[[int, FrameType | None], object]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for number in QUIT_SIGNALS:
        with contextlib.suppress(OSError, ValueError):
            previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(number, old)
