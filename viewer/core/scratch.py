"""This process's private scratch folder in the user cache (no Qt).

What the viewer must write while it runs (the members of an opened zip) goes to
``<cache>/dicom-viewer/scratch/<pid>-<token>/`` (:func:`viewer.core.user_dirs.cache_dir`), never
next to what is read and never in the system's temporary folder. The folder is made on first
use (mode 0700: it holds patient data), held by an exclusive lock on its ``.owner.lock`` file
for the life of the process, and removed at exit. The first use also removes the folders of
processes that are gone (a crash or a kill skips the removal at exit), and so does the
GUI's start (:func:`remove_stale_folders_in_background`): a folder whose lock file nobody
holds is stale. A folder that was just made is never taken for stale (its owner
may be about to lock it).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from viewer.core.user_dirs import cache_dir

SCRATCH_FOLDER = "scratch"
LOCK_NAME = ".owner.lock"
#: A process's folder name: its pid and a random token.
FOLDER_NAME = re.compile(r"^\d+-[0-9a-f]{8}$")
#: A folder (or lock file) younger than this is never removed as stale (seconds).
STALE_AFTER_S = 10.0


def scratch_root() -> Path:
    """``<cache>/dicom-viewer/scratch``: every process's scratch folder is in here."""
    return cache_dir() / SCRATCH_FOLDER


def new_private_folder(prefix: str) -> str:
    """A new empty folder (mode 0700) inside this process's scratch folder; removed at exit."""
    return tempfile.mkdtemp(prefix=prefix, dir=process_folder())


@dataclass
class _Owned:
    """One scratch folder of this process and the open, locked file that says so."""

    folder: Path
    lock_fd: int
    pid: int


_owned: dict[Path, _Owned] = {}
_lock = threading.Lock()


def process_folder() -> Path:
    """This process's scratch folder under the current :func:`scratch_root` (made, locked and
    stale folders cleaned on first use)."""
    root = scratch_root()
    with _lock:
        owned = _owned.get(root)
        if owned is None or owned.pid != os.getpid() or not owned.folder.is_dir():
            remove_stale_folders(root)
            owned = _owned[root] = _make_owned(root)
        return owned.folder


def _make_owned(root: Path) -> _Owned:
    root.mkdir(parents=True, exist_ok=True)
    while True:
        folder = root / f"{os.getpid()}-{secrets.token_hex(4)}"
        try:
            folder.mkdir(mode=0o700)
            break
        except FileExistsError:
            continue
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    if not _try_lock(fd):  # cannot happen for a new file; keep the folder unowned-looking
        os.close(fd)
        raise OSError(f"cannot lock {folder / LOCK_NAME}")
    return _Owned(folder, fd, os.getpid())


def remove_stale_folders(root: Path) -> list[Path]:
    """Remove the scratch folders under ``root`` whose process is gone; return them.

    Only folders named like ours are touched; one whose lock file is held, or that is younger
    than :data:`STALE_AFTER_S`, stays.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    owned = {owned.folder for owned in _owned.values()}
    for entry in entries:
        folder = Path(entry.path)
        if folder in owned or not FOLDER_NAME.match(entry.name) or not entry.is_dir():
            continue
        if _is_stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def remove_stale_folders_in_background() -> threading.Thread:
    """:func:`remove_stale_folders` of the current root in a thread (at the app's start: a
    big leftover must not hold up the window)."""
    thread = threading.Thread(
        target=remove_stale_folders, args=(scratch_root(),), name="scratch-cleanup", daemon=True
    )
    thread.start()
    return thread


def _is_stale(folder: Path) -> bool:
    lock_file = folder / LOCK_NAME
    try:
        fd = os.open(lock_file, os.O_RDWR)
    except FileNotFoundError:
        return _older_than(folder, STALE_AFTER_S)
    except OSError:
        return False
    try:
        return _older_than(lock_file, STALE_AFTER_S) and _try_lock(fd)
    finally:
        os.close(fd)  # closing releases a lock taken here


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False when another process has it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def remove_own_folders() -> None:
    """Remove this process's scratch folders (at exit; a forked child leaves them alone)."""
    with _lock:
        mine = [owned for owned in _owned.values() if owned.pid == os.getpid()]
        _owned.clear()
    for owned in mine:
        with contextlib.suppress(OSError):
            os.close(owned.lock_fd)
        shutil.rmtree(owned.folder, ignore_errors=True)


atexit.register(remove_own_folders)
