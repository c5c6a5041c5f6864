"""Reading a file within the bounds of :mod:`viewer.dicom.limits`: never more than it holds.

- :func:`open_bounded`: the file as a reader whose ``read(n)`` never asks for more than the
  bytes left (CPython allocates ``n`` bytes before reading, so a forged 4 GiB length would
  cost 4 GiB), which refuses pipes and devices, and refuses a deflated data set (PS3.5 A.5)
  that inflates past :func:`viewer.dicom.limits.max_inflated_bytes` or is corrupt, before
  pydicom inflates it whole.
- :func:`check_frame_allocation`: a frame's declared size (:func:`declared_pixels`, from the
  one header walker, :mod:`viewer.dicom.io.header_parser`) against the file and the budget.

The bounds themselves (budget, ratios, reasons) are :mod:`viewer.dicom.limits`; this module
reads headers, so it sits in io, above limits. No Qt.
"""

from __future__ import annotations

import errno
import io
import math
import os
import stat
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from viewer.dicom import decoding_stack, limits
from viewer.dicom.io import header_parser as hp

T = TypeVar("T")

# Image Pixel module (PS3.3 C.7.6.3) and Multi-frame (C.7.6.6) tags.
_SAMPLES, _FRAMES, _ROWS, _COLUMNS, _BITS_ALLOCATED = (
    0x00280002,
    0x00280008,
    0x00280010,
    0x00280011,
    0x00280100,
)
_PIXEL_TAGS = frozenset([_SAMPLES, _FRAMES, _ROWS, _COLUMNS, _BITS_ALLOCATED])


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
        if size is not None and size > limits.LARGE_READ:
            size = max(0, min(size, self.size - self.tell()))
        data = super().read(size)
        # pydicom reads each element's tag, VR and length in reads of 4 to 12 bytes; zero
        # bytes parse as endless empty (0000,0000) elements, so a file of zeros (or DICM then
        # zeros) would be read to its end, 8 bytes at a time. A run of them is refused.
        if 0 < len(data) <= limits.SMALL_READ and not data.strip(b"\x00"):
            self._zero_reads += 1
            if self._zero_reads > limits.MAX_ZERO_READS:
                raise limits.Refused(limits.ZEROS_REASON)
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

    Raises :class:`limits.Refused` for pipes, devices and folders (opening a pipe would block), and
    for a deflated data set that is corrupt or inflates past :func:`limits.max_inflated_bytes`;
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
        raise limits.Refused("not a regular file (a device, pipe or socket)")
    reader = BoundedReader(source)
    try:
        key = (os.fspath(source), info.st_mtime_ns, info.st_size, limits.memory_budget())
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
#: (path, mtime, size, memory budget): the cap on inflation depends on the budget.
_InflationKey = tuple[str, int, int, int]
_inflation_verdicts: OrderedDict[_InflationKey, str] = OrderedDict()
_verdicts_lock = threading.Lock()
_VERDICTS_KEPT = 64


def _check_inflation(reader: BoundedReader | MemoryReader, key: _InflationKey | None) -> None:
    """Refuse a deflated data set that is corrupt or a bomb (remembered per file version;
    ``key`` None: not remembered)."""
    head = reader.peek(limits.META_BYTES)[: limits.META_BYTES]
    if limits.DEFLATED_SYNTAX.encode() not in head:
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
        raise limits.Refused(verdict)


def _inflation_verdict(reader: BoundedReader | MemoryReader, head: bytes) -> str:
    """ "" when the deflated data set is sound and small enough, else the reason."""
    meta = hp.meta_transfer_syntax(head)
    if meta is None:
        return "deflated data set with unreadable File Meta Information"
    syntax, start = meta
    if syntax != limits.DEFLATED_SYNTAX:
        return ""
    compressed = reader.size - start
    cap = limits.max_inflated_bytes(compressed)
    reader.seek(start)
    try:
        inflated, complete = _inflated_size(reader, cap)
    except zlib.error as error:
        return f"corrupt deflated data set ({error})"
    if inflated > cap:
        return (
            f"the deflated data set inflates past {limits.readable_size(cap)} from "
            f"{limits.readable_size(compressed)} "
            f"(more than {limits.MAX_INFLATION_RATIO}:1, a deflate bomb?)"
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
        total += len(inflater.decompress(pending, limits.INFLATE_STEP))
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
        return bool(self.transfer_syntax) and self.transfer_syntax not in limits.NATIVE_SYNTAXES


def check_frame_allocation(source: Source, frame: int = 0) -> None:
    """Refuse to decode ``frame`` when what its header declares cannot be or must not be.

    Checked before any pixel is allocated: the file itself (pipes, devices, deflate bombs:
    see :func:`open_bounded`); the decoded frame against the memory budget; native data
    against the file's size (frame ``frame`` must fit in it); compressed data against
    MAX_FRAME_EXPANSION times the file's size, for frames over SMALL_BYTES (both in
    :mod:`viewer.dicom.limits`). A header that cannot be read here is left for the decoder.
    """
    declared = declared_pixels(source)
    if declared is None or min(declared.rows, declared.columns) <= 0:
        return
    size = declared.file_size
    shape = f"{declared.rows} x {declared.columns}"
    budget = limits.memory_budget()
    if declared.frame_bytes > budget:
        needs, allowed = limits.readable_sizes(declared.frame_bytes, budget)
        raise limits.OverBudget(
            f"a {shape} frame ({declared.samples} sample(s) of {declared.bits_allocated} bits) "
            f"needs {needs}, more than the memory budget of {allowed}"
        )
    if declared.transfer_syntax == limits.DEFLATED_SYNTAX:
        return  # the inflated size is bounded by open_bounded; pydicom checks the length
    if not declared.encapsulated:
        needed = (frame + 1) * declared.native_bytes
        if frame < declared.frames and needed > size:  # past the last frame: the decoder says
            needs, holds = limits.readable_sizes(needed, size)
            raise limits.Refused(
                f"pixel data truncated: frame {frame} of {shape} at {declared.bits_allocated} "
                f"bits needs {needs} but the file holds {holds}"
            )
        return
    if declared.frame_bytes > max(limits.SMALL_BYTES, size * limits.MAX_FRAME_EXPANSION):
        raise limits.Refused(
            f"a {shape} frame would decode to {limits.readable_size(declared.frame_bytes)} "
            f"from a file of {limits.readable_size(size)}: more than "
            f"{limits.MAX_FRAME_EXPANSION}:1, so the header is not believed"
        )


#: Opening never waits on a pipe or device (they are refused after a look at fstat).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def declared_pixels(source: Source) -> DeclaredPixels | None:
    """Rows, Columns, Samples, Bits Allocated, Frames and syntax, or None if unreadable.

    The lean header walker first (tens of microseconds, reads bounded by the file's size);
    pydicom through :func:`open_bounded` for what it is unsure of (deflated data sets too).
    Raises :class:`limits.Refused` (and OSError) as :func:`open_bounded` does. An instance in memory
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
            raise limits.Refused("not a regular file (a device, pipe or socket)")
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
    if syntax == limits.DEFLATED_SYNTAX:
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
