"""Child processes that end with the process they work for (issue 13, item 7).

A decode or index worker started with ``forkserver`` is a child of the fork server, not of
the viewer: when the viewer is killed (SIGKILL, a crash, SIGTERM before its handlers run),
nothing tells the worker, and the worker keeps the fork server and the resource tracker
alive too (both wait until every process that holds their pipes has gone), so all of them
would outlive the viewer with parent PID 1, holding /dev/shm segments.

:func:`exit_with` makes the calling process exit as soon as the process ``owner`` ends:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (through ctypes) ends it when its *direct*
  parent dies (the fork server, or the viewer itself for ``spawn`` and plain subprocesses);
- everywhere: a daemon thread watches ``owner`` itself (a pidfd where the system has one, so a
  recycled pid cannot fool it; else a poll of the pid and of the parent pid every
  POLL_INTERVAL_S) and calls ``os._exit`` when it is gone.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading

#: How often the watch looks at the owner when the system has no pidfd (seconds).
POLL_INTERVAL_S = 0.5
#: The exit status of a process that ended because its owner did.
ORPHANED_EXIT = 3
_PR_SET_PDEATHSIG = 1


def exit_with(owner: int) -> None:
    """End this process (``os._exit``) once the process ``owner`` has ended."""
    _die_with_parent()
    if owner == os.getpid():
        return
    watch = threading.Thread(target=_watch, args=(owner, os.getppid()), name="lifeline")
    watch.daemon = True
    watch.start()


def owner_alive(owner: int) -> bool:
    """Whether the process ``owner`` still exists (a zombie counts as gone where we can tell)."""
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open(f"/proc/{owner}/stat", encoding="ascii", errors="replace") as stat,
    ):
        return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    return True


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL to this process when its parent thread exits."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _watch(owner: int, parent: int) -> None:
    """Block until ``owner`` ends, then exit at once (no atexit: the owner cleans up)."""
    pidfd = _pidfd(owner)
    if pidfd is not None:
        with contextlib.suppress(OSError):
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            while not poller.poll(None):
                pass
        os._exit(ORPHANED_EXIT)
    stop = threading.Event()
    while owner_alive(owner) and os.getppid() == parent:
        stop.wait(POLL_INTERVAL_S)
    os._exit(ORPHANED_EXIT)


def _pidfd(owner: int) -> int | None:
    """A pidfd of ``owner`` (readable once it ends); None where there is none. Exits at once
    when ``owner`` is already gone."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(owner))
    except ProcessLookupError:
        os._exit(ORPHANED_EXIT)
    except OSError:  # an old kernel (before 5.3), or a sandbox that forbids it
        return None
