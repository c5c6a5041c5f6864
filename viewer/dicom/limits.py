"""Named bounds on what one file may make the viewer allocate, inflate or wait for (issue 7).

A header is a claim, not a fact: Rows x Columns x Number of Frames, a value length or a
deflated stream can declare gigabytes in a 1 KB file. Everything here checks the claim against
the file's size and a memory budget *before* anything is allocated, and says why it refused in
one readable line (:class:`Refused`, a ValueError).

- :func:`open_bounded`: the file as a reader whose ``read(n)`` never asks for more than the
  bytes left (CPython allocates ``n`` bytes before reading, so a forged 4 GiB length would
  cost 4 GiB), which refuses pipes and devices, and refuses a deflated data set (PS3.5 A.5)
  that inflates past :func:`max_inflated_bytes` or is corrupt, before pydicom inflates it
  whole.
- :func:`check_frame_allocation`: a frame's declared size against the file and the budget.
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
import errno
import functools
import io
import math
import os
import stat
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from viewer.dicom import decoding_stack
from viewer.dicom.catalog.frame_ref import local_path
from viewer.dicom.catalog.records import InstanceRecord, ScannedFile, Skipped
from viewer.dicom.io import header_parser as hp

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
_LONG_VRS = frozenset(
    [b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"]
)
# Image Pixel module (PS3.3 C.7.6.3) and Multi-frame (C.7.6.6) tags.
_SAMPLES, _FRAMES, _ROWS, _COLUMNS, _BITS_ALLOCATED = (
    0x00280002,
    0x00280008,
    0x00280010,
    0x00280011,
    0x00280100,
)
_PIXEL_TAGS = frozenset([_SAMPLES, _FRAMES, _ROWS, _COLUMNS, _BITS_ALLOCATED])


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


# --- bounded reading -------------------------------------------------------------------------
class BoundedReader(io.BufferedReader):
    """A regular file whose ``read(n)`` never asks for more than the bytes left.

    pydicom reads each value with ``read(length)``; CPython allocates ``length`` bytes before
    reading, so a forged length would allocate gigabytes for a small file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self.size = os.fstat(self.fileno()).st_size
        self._zero_reads = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size > LARGE_READ:
            size = max(0, min(size, self.size - self.tell()))
        data = super().read(size)
        # pydicom reads each element's tag, VR and length in reads of 4 to 12 bytes; zero
        # bytes parse as endless empty (0000,0000) elements, so a file of zeros (or DICM then
        # zeros) would be read to its end, 8 bytes at a time. A run of them is refused.
        if 0 < len(data) <= SMALL_READ and not data.strip(b"\x00"):
            self._zero_reads += 1
            if self._zero_reads > MAX_ZERO_READS:
                raise Refused(ZEROS_REASON)
        else:
            self._zero_reads = 0
        return data


class MemoryReader(io.BytesIO):
    """An instance already in memory (a frame source's bytes), read like a BoundedReader.

    BytesIO never allocates more than it holds, so ``read(n)`` is bounded already; ``size``
    and ``peek`` are what the deflate check uses.
    """

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        super().__init__(data)
        self.size = len(self.getbuffer())

    def peek(self, size: int = 0) -> bytes:
        at = self.tell()
        head = self.read(max(size, 1))
        self.seek(at)
        return head


#: What the bounded readers open: a local file's path, or an instance's bytes.
Source = str | os.PathLike[str] | bytes | bytearray | memoryview


def open_bounded(source: Source) -> BoundedReader | MemoryReader:
    """Open a regular file (or an instance's bytes) for pydicom: reads clipped to the data,
    deflate bombs refused.

    Raises :class:`Refused` for pipes, devices and folders (opening a pipe would block), and
    for a deflated data set that is corrupt or inflates past :func:`max_inflated_bytes`;
    OSError when the file cannot be opened.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        memory = MemoryReader(source)
        _check_inflation(memory, None)
        return memory
    info = os.stat(source)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(source))
    if not stat.S_ISREG(info.st_mode):
        raise Refused("not a regular file (a device, pipe or socket)")
    reader = BoundedReader(source)
    try:
        key = (os.fspath(source), info.st_mtime_ns, info.st_size, memory_budget())
        _check_inflation(reader, key)
    except BaseException:
        reader.close()
        raise
    return reader


def bounded(function: Callable[..., T], source: Source, *args: Any, **kw: Any) -> T:
    """``function(reader, *args, **kw)`` on :func:`open_bounded` ``(source)``, closed after."""
    with open_bounded(source) as reader:
        return function(reader, *args, **kw)


def read_file_meta(source: Source) -> Any:
    """pydicom's ``read_file_meta_info`` through :func:`open_bounded` (which takes no handle).

    Raises pydicom's InvalidDicomError without the preamble's ``DICM``, as it does.
    """
    decoding_stack.load()
    from pydicom.filereader import _read_file_meta_info, read_preamble

    with open_bounded(source) as reader:
        read_preamble(reader, False)
        return _read_file_meta_info(reader)


# --- deflate ---------------------------------------------------------------------------------
def max_inflated_bytes(compressed: int) -> int:
    """The most a deflated data set of ``compressed`` bytes may inflate to."""
    return min(memory_budget(), max(SMALL_BYTES, compressed * MAX_INFLATION_RATIO))


#: (path, mtime, size, memory budget): the cap on inflation depends on the budget.
_InflationKey = tuple[str, int, int, int]
_inflation_verdicts: OrderedDict[_InflationKey, str] = OrderedDict()
_verdicts_lock = threading.Lock()
_VERDICTS_KEPT = 64


def _check_inflation(reader: BoundedReader | MemoryReader, key: _InflationKey | None) -> None:
    """Refuse a deflated data set that is corrupt or a bomb (remembered per file version;
    ``key`` None: not remembered)."""
    head = reader.peek(META_BYTES)[:META_BYTES]
    if DEFLATED_SYNTAX.encode() not in head:
        return
    with _verdicts_lock:
        verdict = _inflation_verdicts.get(key) if key is not None else None
    if verdict is None:
        verdict = _inflation_verdict(reader, head)
        reader.seek(0)
        if key is not None:
            with _verdicts_lock:
                _inflation_verdicts[key] = verdict
                while len(_inflation_verdicts) > _VERDICTS_KEPT:
                    _inflation_verdicts.popitem(last=False)
    if verdict:
        raise Refused(verdict)


def _inflation_verdict(reader: BoundedReader | MemoryReader, head: bytes) -> str:
    """ "" when the deflated data set is sound and small enough, else the reason."""
    meta = hp.meta_transfer_syntax(head)
    if meta is None:
        return "deflated data set with unreadable File Meta Information"
    syntax, start = meta
    if syntax != DEFLATED_SYNTAX:
        return ""
    compressed = reader.size - start
    cap = max_inflated_bytes(compressed)
    reader.seek(start)
    try:
        inflated, complete = _inflated_size(reader, cap)
    except zlib.error as error:
        return f"corrupt deflated data set ({error})"
    if inflated > cap:
        return (
            f"the deflated data set inflates past {readable_size(cap)} from "
            f"{readable_size(compressed)} "
            f"(more than {MAX_INFLATION_RATIO}:1, a deflate bomb?)"
        )
    if not complete:
        return "deflated data set truncated (the stream ends early)"
    return ""


def _inflated_size(reader: BoundedReader | MemoryReader, cap: int) -> tuple[int, bool]:
    """(bytes inflated, whether the stream ended), stopping once more than ``cap``."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    while total <= cap and not inflater.eof:
        pending = inflater.unconsumed_tail or reader.read(1024**2)
        if not pending:
            break
        total += len(inflater.decompress(pending, INFLATE_STEP))
    return total, inflater.eof


# --- frame size ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeclaredPixels:
    """What a header says one frame is (Image Pixel module, PS3.3 C.7.6.3)."""

    rows: int
    columns: int
    samples: int
    bits_allocated: int
    frames: int
    transfer_syntax: str
    file_size: int

    @property
    def frame_bytes(self) -> int:
        """Bytes of one decoded frame (whole bytes per sample, as decoders allocate)."""
        return self.rows * self.columns * self.samples * max(1, math.ceil(self.bits_allocated / 8))

    @property
    def native_bytes(self) -> int:
        """The fewest bytes one frame can occupy in native encoding (1 sample, packed bits)."""
        return self.rows * self.columns * self.bits_allocated // 8

    @property
    def encapsulated(self) -> bool:
        return bool(self.transfer_syntax) and self.transfer_syntax not in NATIVE_SYNTAXES


def check_frame_allocation(source: Source, frame: int = 0) -> None:
    """Refuse to decode ``frame`` when what its header declares cannot be or must not be.

    Checked before any pixel is allocated: the file itself (pipes, devices, deflate bombs:
    see :func:`open_bounded`); the decoded frame against :func:`memory_budget`; native data
    against the file's size (frame ``frame`` must fit in it); compressed data against
    MAX_FRAME_EXPANSION times the file's size, for frames over SMALL_BYTES. A header that
    cannot be read here is left for the decoder to report.
    """
    declared = declared_pixels(source)
    if declared is None or min(declared.rows, declared.columns) <= 0:
        return
    size = declared.file_size
    shape = f"{declared.rows} x {declared.columns}"
    budget = memory_budget()
    if declared.frame_bytes > budget:
        needs, allowed = readable_sizes(declared.frame_bytes, budget)
        raise OverBudget(
            f"a {shape} frame ({declared.samples} sample(s) of {declared.bits_allocated} bits) "
            f"needs {needs}, more than the memory budget of {allowed}"
        )
    if declared.transfer_syntax == DEFLATED_SYNTAX:
        return  # the inflated size is bounded by open_bounded; pydicom checks the length
    if not declared.encapsulated:
        needed = (frame + 1) * declared.native_bytes
        if frame < declared.frames and needed > size:  # past the last frame: the decoder says
            needs, holds = readable_sizes(needed, size)
            raise Refused(
                f"pixel data truncated: frame {frame} of {shape} at {declared.bits_allocated} "
                f"bits needs {needs} but the file holds {holds}"
            )
        return
    if declared.frame_bytes > max(SMALL_BYTES, size * MAX_FRAME_EXPANSION):
        raise Refused(
            f"a {shape} frame would decode to {readable_size(declared.frame_bytes)} from a "
            f"file of {readable_size(size)}: more than {MAX_FRAME_EXPANSION}:1, so the header "
            "is not believed"
        )


#: Opening never waits on a pipe or device (they are refused after a look at fstat).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def declared_pixels(source: Source) -> DeclaredPixels | None:
    """Rows, Columns, Samples, Bits Allocated, Frames and syntax, or None if unreadable.

    The lean header walker first (tens of microseconds, reads bounded by the file's size);
    pydicom through :func:`open_bounded` for what it is unsure of (deflated data sets too).
    Raises :class:`Refused` (and OSError) as :func:`open_bounded` does. An instance in memory
    (bytes) is read by pydicom.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _declared_by_pydicom(source)
    path = source
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(path))
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file (a device, pipe or socket)")
        try:
            return _declared_fast(fd, info.st_size)
        except (hp.Unusual, struct.error, UnicodeDecodeError, ValueError, KeyError):
            pass
    finally:
        os.close(fd)
    return _declared_by_pydicom(path)


def _declared_fast(fd: int, size: int) -> DeclaredPixels:
    source, meta, pos = hp.open_part10_fd(fd, size)
    syntax = meta[0x00020010][1].decode("ascii").strip("\x00 ")
    explicit, little = hp.encoding_of(syntax)
    if syntax == DEFLATED_SYNTAX:
        raise hp.Unusual("deflated")  # pydicom reads it, after the inflation check
    elements = hp.read_dataset(source, pos, explicit, little, _PIXEL_TAGS, _BITS_ALLOCATED)
    order = "<" if little else ">"

    def number(tag: int, default: int) -> int:
        value = elements.get(tag, (b"", b""))[1]
        if not value:
            return default
        if tag == _FRAMES:
            return int(float(value.decode("ascii").strip("\x00 ").split("\\")[0]))
        if len(value) != 2:
            raise hp.Unusual("unexpected value length")
        return int(struct.unpack(order + "H", value)[0])

    if _ROWS not in elements or _COLUMNS not in elements:
        raise hp.Unusual("no Rows/Columns in the lean walk")
    return DeclaredPixels(
        rows=number(_ROWS, 0),
        columns=number(_COLUMNS, 0),
        samples=number(_SAMPLES, 1),
        bits_allocated=number(_BITS_ALLOCATED, 16),
        frames=number(_FRAMES, 1),
        transfer_syntax=syntax,
        file_size=size,
    )


def _declared_by_pydicom(source: Source) -> DeclaredPixels | None:
    import warnings

    decoding_stack.load()
    from pydicom import dcmread

    tags = [*_PIXEL_TAGS, 0x00020010]
    with open_bounded(source) as reader:  # a deflate bomb or a corrupt stream is refused here
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = dcmread(reader, stop_before_pixels=True, force=True, specific_tags=tags)
                meta = getattr(ds, "file_meta", None)
                return DeclaredPixels(
                    rows=_whole(ds.get("Rows"), 0),
                    columns=_whole(ds.get("Columns"), 0),
                    samples=_whole(ds.get("SamplesPerPixel"), 1),
                    bits_allocated=_whole(ds.get("BitsAllocated"), 16),
                    frames=_whole(ds.get("NumberOfFrames"), 1),
                    transfer_syntax=str(meta.get("TransferSyntaxUID", "")) if meta else "",
                    file_size=reader.size,
                )
        except Exception:  # unreadable here: the decoder will say why
            return None


def _whole(value: Any, default: int) -> int:
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return int(float(value)) if value not in (None, "") else default
    except (TypeError, ValueError, OverflowError):
        return default


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
