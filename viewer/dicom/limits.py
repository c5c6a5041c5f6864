"""Named bounds on what one file may make the viewer allocate, inflate or wait for (issue 7).

A header is a claim, not a fact: Rows x Columns x Number of Frames, a value length or a
deflated stream can declare gigabytes in a 1 KB file. Everything here checks the claim against
the file's size and a memory budget *before* anything is allocated, and says why it refused in
one readable line (:class:`Refused`, a ValueError).

- Reading within these bounds (a reader that never reads past the file, deflate bombs and
  a frame's declared size refused) is :mod:`viewer.dicom.io.bounded`, which walks headers
  and so sits in io, above this module.
- :func:`memory_budget`: a fraction of physical memory (settable), for caches and volumes;
  worker processes get the setting with every task (:mod:`viewer.dicom.supervised_pool`).
  Going over it raises :class:`OverBudget`.
- :func:`time_boxed`: run a call with a deadline (the call is abandoned, not stopped).
- DECODE_DEADLINE_S, HEADER_DEADLINE_S and :func:`deadline_scale`: how long a worker process
  may spend on one frame or one header before it is killed and replaced
  (:mod:`viewer.dicom.supervised_pool`).

No Qt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from viewer.dicom.catalog.frame_ref import local_path
from viewer.dicom.catalog.records import InstanceRecord, ScannedFile, Skipped

T = TypeVar("T")

# --- the bounds ------------------------------------------------------------------------------
#: The share of physical memory decoded pixels may use (frame cache, volumes, one frame).
MEMORY_BUDGET_FRACTION = 0.5
#: The budget when physical memory cannot be read.
FALLBACK_MEMORY_BYTES = 4 * 1024**3
#: A decoded frame (or inflated data set) this small is never refused for its file's size.
SMALL_BYTES = 64 * 1024**2
#: Compressed pixel data is refused if one frame would expand more than this (RLE tops out
#: near 64:1 and JPEG near 100:1; JPEG 2000 of a blank image can go further, but only frames
#: over SMALL_BYTES are held to it).
MAX_FRAME_EXPANSION = 1000
#: A deflated data set may inflate to this many times its compressed size (or SMALL_BYTES).
#: Deflate itself tops out near 1032:1, which is what a bomb uses; real images stay far below.
MAX_INFLATION_RATIO = 100
#: Reads larger than this are clipped to the bytes left in the file.
LARGE_READ = 64 * 1024
#: Reads this small are pydicom's element headers (PS3.5 7.1); this many in a row that hold
#: only zero bytes (8 KiB of zeros where elements should be) end the read.
SMALL_READ = 16
MAX_ZERO_READS = 1024
ZEROS_REASON = "unreadable: zero bytes where data elements should be (a zero-filled file?)"
#: Inflation is checked in pieces of this many output bytes.
INFLATE_STEP = 4 * 1024**2
#: The File Meta Information is looked for in this many first bytes.
META_BYTES = 8192
#: Seconds a worker process may spend decoding one frame of up to DEADLINE_FRAME_BYTES before
#: it is killed and the frame reported ("decode timed out"). Decoding a 512 x 512 slice takes
#: milliseconds and a 4096 x 4096 JPEG 2000 frame about a second, so only a decoder that is
#: stuck (a loop on corrupt data) gets near this, even on a machine busy with other work.
DECODE_DEADLINE_S = 20.0
#: Larger frames get proportionally more time (see :func:`deadline_scale`).
DEADLINE_FRAME_BYTES = 32 * 1024**2
#: Seconds an index worker may spend on one file's header (reading it takes well under a
#: millisecond; a slow CD drive spinning up takes seconds).
HEADER_DEADLINE_S = 20.0

DEFLATED_SYNTAX = "1.2.840.10008.1.2.1.99"
NATIVE_SYNTAXES = frozenset(
    ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", DEFLATED_SYNTAX]
)


class Refused(ValueError):
    """A file was not read further because it asks for too much or cannot be read safely.

    ``str(error)`` is one readable line saying why.
    """


# --- memory budget ---------------------------------------------------------------------------
_budget_override: int | None = None


@functools.cache
def physical_memory() -> int | None:
    """Bytes of physical memory: /proc/meminfo's MemTotal, else sysconf; None if unknown."""
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_budget() -> int:
    """Bytes decoded pixels may use: the setting, else :func:`default_memory_budget`."""
    return _budget_override if _budget_override is not None else default_memory_budget()


def default_memory_budget() -> int:
    """MEMORY_BUDGET_FRACTION of physical memory (FALLBACK_MEMORY_BYTES if it is unknown)."""
    physical = physical_memory()
    if physical is None:
        return FALLBACK_MEMORY_BYTES
    return int(physical * MEMORY_BUDGET_FRACTION)


def set_memory_budget(budget: int | None) -> None:
    """Set the budget in bytes (a user setting); None goes back to the default."""
    global _budget_override
    _budget_override = None if budget is None else max(0, int(budget))


def memory_budget_setting() -> int | None:
    """The budget set with :func:`set_memory_budget`, or None for the default: what a worker
    process is given so its checks use the same budget as this process."""
    return _budget_override


class OverBudget(Refused):
    """Refused because decoded pixels would need more than :func:`memory_budget`."""


# --- sizes in messages -----------------------------------------------------------------------
_UNITS = ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))


def readable_size(size: float, decimals: int = 1) -> str:
    """``size`` bytes in the largest unit it reaches: "512 bytes", "128.1 KiB", "24.0 MiB"."""
    for unit, name in _UNITS:
        if size >= unit:
            return f"{size / unit:.{decimals}f} {name}"
    return f"{size:.0f} bytes"


def readable_sizes(first: float, second: float) -> tuple[str, str]:
    """Two sizes for one message, with enough decimals that they read differently whenever
    they differ (down to the exact byte counts)."""
    for decimals in (1, 2, 3):
        texts = readable_size(first, decimals), readable_size(second, decimals)
        if texts[0] != texts[1] or first == second:
            return texts
    return f"{first:,.0f} bytes", f"{second:,.0f} bytes"


# --- deflate --------------------------------------------------------------------------------
def max_inflated_bytes(compressed: int) -> int:
    """The most a deflated data set of ``compressed`` bytes may inflate to."""
    return min(memory_budget(), max(SMALL_BYTES, compressed * MAX_INFLATION_RATIO))


# --- frame counts and volumes ------------------------------------------------------------------
def most_frames(size: int, record: InstanceRecord) -> int:
    """The most frames a file of ``size`` bytes can hold, whatever Number of Frames says.

    Native: whole frames of its Rows x Columns at Bits Allocated (packed bits at least);
    deflated: of what it may inflate to; encapsulated: one 8-byte item header per frame at
    least (PS3.5 A.4).
    """
    syntax = record.transfer_syntax
    frame = record.rows * record.columns * max(1, record.bits_allocated) // 8
    if syntax and syntax not in NATIVE_SYNTAXES:
        return size // 8
    if frame <= 0:
        return size // 8
    if syntax == DEFLATED_SYNTAX:
        return max_inflated_bytes(size) // frame
    return size // frame


def plausible_frames(item: ScannedFile | Skipped) -> ScannedFile | Skipped:
    """``item`` with Number of Frames cut to what its file can hold (at least 1).

    A 1 KB header may claim 2**31 frames; the stack would then list 2**31 sources.
    """
    if not isinstance(item, ScannedFile) or item.instance.frames <= 1:
        return item
    record = item.instance
    try:
        most = max(1, most_frames(os.stat(record.path).st_size, record))
    except OSError:
        return item
    if record.frames <= most:
        return item
    clipped = dataclasses.replace(
        record,
        frames=most,
        frame_info=record.frame_info[:most] if record.frame_info else record.frame_info,
        frame_offsets=record.frame_offsets[:most] if record.frame_offsets else None,
    )
    return dataclasses.replace(item, instance=clipped)


def check_volume_allocation(
    shape: tuple[int, ...], itemsize: int, sources: Iterable[tuple[str, int]]
) -> None:
    """Refuse a volume of ``shape`` that exceeds the memory budget, or that its files cannot
    hold (more than MAX_FRAME_EXPANSION times their size, beyond SMALL_BYTES; checked when
    every source is a local file)."""
    needed = math.prod(shape) * itemsize
    budget = memory_budget()
    if needed > budget:
        needs, allowed = readable_sizes(needed, budget)
        raise OverBudget(f"the volume needs {needs}, more than the memory budget of {allowed}")
    if needed <= SMALL_BYTES:
        return
    stored = 0
    for uri in {uri for uri, _ in sources}:
        path = local_path(uri)
        if path is None:
            return  # a database's or a PACS's instance: its size is not known before reading
        with contextlib.suppress(OSError):
            stored += os.stat(path).st_size
    if needed > stored * MAX_FRAME_EXPANSION:
        raise Refused(
            f"the volume would need {readable_size(needed)} from files of "
            f"{readable_size(stored)} in all: "
            f"more than {MAX_FRAME_EXPANSION}:1, so the headers are not believed"
        )


# --- decoder crashes -------------------------------------------------------------------------
class DecoderCrashed(Refused):
    """A decoder written in Rust panicked on the data (pyo3's PanicException)."""


def decoder_failure(error: BaseException) -> Exception:
    """``error`` as an ordinary exception, for a decoding fault boundary.

    Decoders written in Rust (pylibjpeg-rle, ...) report corrupt data with pyo3's
    ``PanicException``, a BaseException that ``except Exception`` lets through; it becomes a
    :class:`DecoderCrashed`. KeyboardInterrupt, SystemExit and the like are raised again.
    """
    if isinstance(error, Exception):
        return error
    if type(error).__name__ == "PanicException":
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "panic"
        return DecoderCrashed(f"the decoder crashed on corrupt data ({first_line})")
    raise error


# --- time box --------------------------------------------------------------------------------
def deadline_scale(frame_bytes: int) -> float:
    """How many DECODE_DEADLINE_S a decoded frame of ``frame_bytes`` may take (at least 1)."""
    return max(1.0, frame_bytes / DEADLINE_FRAME_BYTES)


class TimedOut(Refused):
    """A time-boxed call did not finish in time (it is abandoned, still running)."""


def time_boxed(function: Callable[..., T], seconds: float, *args: Any, **kw: Any) -> T:
    """``function(*args, **kw)``, or :class:`TimedOut` after ``seconds``.

    The call runs in a daemon thread; Python cannot stop it, so on time-out it is abandoned
    and runs on (use it where a hang must be reported, not where work must be stopped).
    Exceptions from ``function`` are raised here.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function(*args, **kw)
        except BaseException as error:  # handed to the caller
            outcome["error"] = error

    worker = threading.Thread(target=run, name="time-boxed", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimedOut(f"{getattr(function, '__name__', 'call')} did not finish in {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
