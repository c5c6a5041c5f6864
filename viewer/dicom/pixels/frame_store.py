"""The decoded-frame cache on disk: a compressed series' frames as decoded, for reopening.

Decoding a 512 x 512 JPEG 2000 slice costs about 50 ms of CPU; reading it back decoded costs
a memory copy. When a volume of compressed frames is loaded (:func:`viewer.dicom.pixels.volume.
load_volume`: MPR, 3D, the ``volume`` verb), each frame decoded is written here, and the next
load of the same files reads them back instead of decoding. Native (uncompressed) frames are
never cached: reading the file is already that copy.

One file per frame, ``frames/XX/KEY.frame`` in the user cache folder
(:func:`viewer.core.user_dirs.cache_dir`): KEY hashes the file's absolute path, size and
modification time, the frame number, and the decoded shape and dtype, so a changed file is
never answered from an old entry. Each entry is a 32-byte header (magic, Rescale Slope and
Intercept of that frame, PS3.3 C.11.1.1.2, byte count) and the stored values. Entries are
written whole (a temporary name, then renamed) and their modification time is set on each
read, so :meth:`FrameStore.trim` removes the least recently used first once the total passes
the size setting (:func:`set_max_bytes`; 0, the default here, turns the cache off; the GUI
sets it from its preferences).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.core.user_dirs import cache_dir

_MAGIC = b"DVFRAME1"
_HEADER = struct.Struct("<8sddQ")  # magic, slope, intercept, byte count
_SUFFIX = ".frame"

_max_bytes = 0
_root: Path | None = None
_lock = threading.Lock()


def set_max_bytes(limit: int, root: Path | None = None) -> None:
    """The cache's size bound in bytes (a user setting); 0 turns it off. ``root``: another
    folder than the user cache's ``frames`` (the bench keeps its own)."""
    global _max_bytes, _root
    _max_bytes = max(0, int(limit))
    _root = root


def max_bytes() -> int:
    return _max_bytes


def default_store() -> FrameStore | None:
    """The user's cache with the configured bound, or None when it is off."""
    if _max_bytes <= 0:
        return None
    return FrameStore(_root if _root is not None else cache_dir() / "frames", _max_bytes)


@dataclass(frozen=True, slots=True)
class CachedFrame:
    """What a hit gives back beside the values written into the target."""

    rescale_slope: float
    rescale_intercept: float


class FrameStore:
    """Decoded frames below ``root``, at most ``limit`` bytes (after :meth:`trim`)."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit

    def key(self, path: str, frame: int, shape: tuple[int, ...], dtype: np.dtype[Any]) -> str:
        """The entry name for ``frame`` of ``path`` as it is now ('' if it cannot be read)."""
        try:
            info = os.stat(path)
        except OSError:
            return ""
        text = f"{os.path.abspath(path)}\0{info.st_size}\0{info.st_mtime_ns}\0{frame}"
        text += f"\0{shape}\0{np.dtype(dtype).str}"
        return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=20).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / (key + _SUFFIX)

    def read_into(self, key: str, target: NDArray[Any]) -> CachedFrame | None:
        """Fill ``target`` (C-contiguous) from the entry ``key``; None on a miss (or an entry
        that does not fit, which is then removed)."""
        if not key or not target.flags.c_contiguous:
            return None
        entry = self._path(key)
        try:
            with open(entry, "rb", buffering=0) as handle:
                header = handle.read(_HEADER.size)
                if len(header) != _HEADER.size:
                    raise ValueError("short header")
                magic, slope, intercept, count = _HEADER.unpack(header)
                if magic != _MAGIC or count != target.nbytes:
                    raise ValueError("not this frame")
                sink = memoryview(target).cast("B")  # type: ignore[arg-type]
                if handle.readinto(sink) != count:
                    raise ValueError("short entry")
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                entry.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(entry)  # most recently used
        return CachedFrame(slope, intercept)

    def put(self, key: str, values: NDArray[Any], slope: float, intercept: float) -> bool:
        """Write an entry (whole or not at all); False when it could not be written (a full
        disk, a read-only cache: the viewer decodes next time, nothing else changes)."""
        if not key or self.limit <= 0 or values.nbytes > self.limit:
            return False
        entry = self._path(key)
        partial = entry.with_name(f"{entry.name}.{os.getpid()}.{threading.get_ident()}.partial")
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as handle:
                handle.write(_HEADER.pack(_MAGIC, slope, intercept, values.nbytes))
                handle.write(memoryview(np.ascontiguousarray(values)).cast("B"))  # type: ignore[arg-type]
            os.replace(partial, entry)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()
            return False
        return True

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last used, bytes, path) of every entry."""
        found = []
        with contextlib.suppress(OSError):  # no cache yet, or none possible
            for folder in os.scandir(self.root):
                if not folder.is_dir():
                    continue
                for item in os.scandir(folder.path):
                    if item.name.endswith(_SUFFIX):
                        with contextlib.suppress(OSError):
                            info = item.stat()
                            found.append((info.st_mtime, info.st_size, Path(item.path)))
        return found

    def total_bytes(self) -> int:
        return sum(size for _, size, _ in self.entries())

    def trim(self) -> int:
        """Remove the least recently used entries until the total fits the bound; how many
        were removed."""
        with _lock:
            entries = sorted(self.entries())
            total = sum(size for _, size, _ in entries)
            removed = 0
            for _, size, path in entries:
                if total <= self.limit:
                    break
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
                total -= size
            return removed
