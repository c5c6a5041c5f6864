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
process would (:func:`viewer.dicom.limits.check_frame_allocation`).

The pool is created on first use, kept warm for the next load and shut down at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import multiprocessing
import os
import signal
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.pixels import get_decoder
from pydicom.uid import UID

from viewer.dicom import limits
from viewer.dicom.catalog.frame_ref import local_path
from viewer.dicom.io import frame_sources
from viewer.dicom.pixels.decode import (
    DecodedFrame,
    DecodeError,
    chosen_plugins,
    read_frame,
    read_frame_cached,
)
from viewer.dicom.pixels.frame_store import FrameStore, default_store
from viewer.dicom.supervised_pool import (
    DeadlineExceeded,
    SupervisedPool,
    WorkerLost,
    attach_unowned,
    beat,
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
#: Plugins tried first when decoding for a volume (see :func:`volume_plugins`).
VOLUME_PREFERRED_PLUGINS: dict[str, str] = {"1.2.840.10008.1.2.4.90": "pylibjpeg"}

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


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    """What filling one frame of a volume gave: its rescale (PS3.3 C.11.1.1.2) or an error."""

    index: int
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    has_modality_lut: bool = False
    error: str = ""
    warnings: tuple[str, ...] = ()


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


# --- native little endian: the frame's bytes straight from the file --------------------------
_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_LE = "1.2.840.10008.1.2.1"
#: Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2, table 7.1-1).
_LONG_VRS = frozenset(
    [b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"]
)
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_PIXEL_DATA = 0x7FE00010
_HEADER_CHUNK = 16 * 1024
_MAX_HEADER_BYTES = 8 * 1024**2
#: Header elements the fast path needs (PS3.3 C.7.6.3 Image Pixel, C.7.6.6 Multi-frame,
#: C.11.1 Modality LUT).
_SAMPLES, _PHOTOMETRIC, _FRAMES = 0x00280002, 0x00280004, 0x00280008
_ROWS, _COLUMNS = 0x00280010, 0x00280011
_BITS_ALLOCATED, _BITS_STORED, _PIXEL_REPRESENTATION = 0x00280100, 0x00280101, 0x00280103
_INTERCEPT, _SLOPE = 0x00281052, 0x00281053
_WANTED = frozenset(
    [
        _SAMPLES,
        _PHOTOMETRIC,
        _FRAMES,
        _ROWS,
        _COLUMNS,
        _BITS_ALLOCATED,
        _BITS_STORED,
        _PIXEL_REPRESENTATION,
        _INTERCEPT,
        _SLOPE,
    ]
)
#: Present -> not the fast path: a Modality LUT Sequence (C.11.1) or functional groups (a
#: per-frame rescale, PS3.3 C.7.6.16.2.9), which read_frame applies.
_REFUSED = frozenset([0x00283000, 0x52009229, 0x52009230])


class _Unusual(Exception):
    """The header is not what the fast path handles; read_frame will."""


@dataclass(frozen=True, slots=True)
class PixelLayout:
    """Where a file's pixel data is and how to read a frame of it (PS3.5 8.1.1, A.4).

    Native: ``frames`` frames of ``frame_bytes`` from ``pixel_offset``. Encapsulated (single
    frame only): ``pixel_length`` bytes from ``pixel_offset`` hold the items (Basic Offset
    Table, fragments) of the Pixel Data value.
    """

    transfer_syntax: str
    pixel_offset: int
    pixel_length: int
    rows: int
    columns: int
    frames: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    rescale_slope: float
    rescale_intercept: float

    @property
    def encapsulated(self) -> bool:
        return self.transfer_syntax not in (_IMPLICIT_LE, _EXPLICIT_LE)

    @property
    def dtype(self) -> np.dtype[Any]:
        kind = "i" if self.pixel_representation == 1 else "u"
        return np.dtype(f"<{kind}{self.bits_allocated // 8}")

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.columns * (self.bits_allocated // 8)

    def decoder_options(self) -> dict[str, Any]:
        """The pixel description pydicom's decoders need for a bare buffer."""
        return {
            "rows": self.rows,
            "columns": self.columns,
            "samples_per_pixel": 1,
            "bits_allocated": self.bits_allocated,
            "bits_stored": self.bits_stored,
            "pixel_representation": self.pixel_representation,
            "photometric_interpretation": self.photometric,
            "number_of_frames": self.frames,
        }


_ELEMENT_HEAD = struct.Struct("<HH2sHI")  # group, element, VR, 2-byte length, 4-byte length
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


class _HeaderBytes:
    """The start of a file, read further on demand (up to _MAX_HEADER_BYTES)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.data = b""

    def ensure(self, end: int) -> None:
        if len(self.data) < end:
            self._grow(end)

    def _grow(self, end: int) -> None:
        if end > _MAX_HEADER_BYTES:  # never read (or allocate) what a forged length claims
            raise _Unusual("header too long")
        while len(self.data) < end:
            more = self.handle.read(max(_HEADER_CHUNK, end - len(self.data)))
            if not more:
                raise _Unusual("file ends inside the header")
            self.data += more

    def u16(self, at: int) -> int:
        self.ensure(at + 2)
        return int(_U16.unpack_from(self.data, at)[0])

    def u32(self, at: int) -> int:
        self.ensure(at + 4)
        return int(_U32.unpack_from(self.data, at)[0])

    def tag(self, at: int) -> int:
        return (self.u16(at) << 16) | self.u16(at + 2)

    def value(self, at: int, length: int) -> bytes:
        self.ensure(at + length)
        return self.data[at : at + length]


def _element(header: _HeaderBytes, at: int, implicit: bool) -> tuple[int, bytes, int, int]:
    """(tag, VR or b"", value length, value offset) of the element at ``at`` (PS3.5 7.1)."""
    header.ensure(at + 8)
    if len(header.data) < at + 12:  # the last few bytes of a file: the slow, checked way
        return _element_checked(header, at, implicit)
    group, element, vr, short, long = _ELEMENT_HEAD.unpack_from(header.data, at)
    tag = group << 16 | element
    if implicit or group == 0xFFFE:  # items and delimiters never carry a VR (PS3.5 7.5)
        return tag, b"", _U32.unpack_from(header.data, at + 4)[0], at + 8
    if vr in _LONG_VRS:
        return tag, vr, long, at + 12
    return tag, vr, short, at + 8


def _element_checked(header: _HeaderBytes, at: int, implicit: bool) -> tuple[int, bytes, int, int]:
    tag = header.tag(at)
    if implicit or tag >> 16 == 0xFFFE:
        return tag, b"", header.u32(at + 4), at + 8
    vr = header.value(at + 4, 2)
    if vr in _LONG_VRS:
        return tag, vr, header.u32(at + 8), at + 12
    return tag, vr, header.u16(at + 6), at + 8


def _skip_sequence(header: _HeaderBytes, at: int, implicit: bool) -> int:
    """Offset after a sequence of undefined length whose first item starts at ``at``."""
    while True:
        tag, length = header.tag(at), header.u32(at + 4)
        at += 8
        if tag == _SEQUENCE_END:
            return at
        if tag != _ITEM:
            raise _Unusual("malformed sequence")
        at = _skip_item(header, at, implicit) if length == _UNDEFINED else at + length


def _skip_item(header: _HeaderBytes, at: int, implicit: bool) -> int:
    """Offset after an item of undefined length (its data set then the Item Delimiter)."""
    while True:
        tag, vr, length, value_at = _element(header, at, implicit)
        if tag == _ITEM_END:
            return value_at
        if length == _UNDEFINED:
            at = _skip_sequence(header, value_at, implicit or vr == b"UN")
        else:
            at = value_at + length


def _meta_transfer_syntax(header: _HeaderBytes) -> tuple[str, int]:
    """Transfer Syntax UID from the File Meta Information and where the data set starts."""
    header.ensure(132)
    if header.data[128:132] != b"DICM":
        raise _Unusual("no DICM preamble")
    at, syntax = 132, ""
    while header.u16(at) == 0x0002:
        tag, _vr, length, value_at = _element(header, at, implicit=False)
        if length == _UNDEFINED:
            raise _Unusual("undefined length in the File Meta Information")
        if tag == 0x00020010:
            syntax = header.value(value_at, length).rstrip(b"\x00 ").decode("ascii", "replace")
        at = value_at + length
    return syntax, at


def _walk_to_pixel_data(
    header: _HeaderBytes, at: int, implicit: bool
) -> tuple[dict[int, bytes], bytes, int, int]:
    """Wanted values, and the Pixel Data element's VR, length and value offset."""
    values: dict[int, bytes] = {}
    while True:
        tag, vr, length, value_at = _element(header, at, implicit)
        if tag == _PIXEL_DATA:
            return values, vr, length, value_at
        if tag > _PIXEL_DATA or tag in _REFUSED or (tag >> 16 == 0x7FE0 and tag & 0xFFFF):
            raise _Unusual("no plain Pixel Data, or per-frame values read_frame must apply")
        if length == _UNDEFINED:
            at = _skip_sequence(header, value_at, implicit or vr == b"UN")
            continue
        if tag in _WANTED:
            values[tag] = header.value(value_at, length)
        at = value_at + length


def _us(values: dict[int, bytes], tag: int, default: int | None = None) -> int:
    raw = values.get(tag)
    if raw is None or len(raw) != 2:
        if default is None:
            raise _Unusual(f"missing {tag:08X}")
        return default
    return int(struct.unpack("<H", raw)[0])


def _number(values: dict[int, bytes], tag: int, default: float) -> float:
    """A DS/IS value's first number; its default when absent or empty (PS3.5 6.2)."""
    raw = values.get(tag)
    if raw is None:
        return default
    text = raw.decode("ascii", "replace").strip(" \x00").split("\\")[0].strip()
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        raise _Unusual(f"unreadable {tag:08X}") from None
    if not math.isfinite(number):
        raise _Unusual(f"non-finite {tag:08X}")
    return number


def pixel_layout(path: str) -> PixelLayout | None:
    """The pixel layout of a plain monochrome integer image, else None.

    Native little endian (any number of frames) or a single encapsulated frame in a transfer
    syntax pydicom can decode here. None means "use read_frame": another transfer syntax,
    colour, 1-bit or float samples, a Modality LUT or functional groups, a zero slope, Pixel
    Data shorter than the header declares or than the file, or any header the walk does not
    understand.
    """
    if sys.byteorder != "little":
        return None
    try:
        with open(path, "rb") as handle:
            return _layout_of(_HeaderBytes(handle), os.fstat(handle.fileno()).st_size)
    except (OSError, _Unusual, struct.error, UnicodeError):
        return None


def _layout_of(header: _HeaderBytes, file_size: int) -> PixelLayout:
    syntax, at = _meta_transfer_syntax(header)
    native = syntax in (_IMPLICIT_LE, _EXPLICIT_LE)
    if not native and not _decodable_encapsulated(syntax):
        raise _Unusual(f"transfer syntax {syntax}")
    values, vr, length, value_at = _walk_to_pixel_data(header, at, syntax == _IMPLICIT_LE)
    layout = PixelLayout(
        transfer_syntax=syntax,
        pixel_offset=value_at,
        pixel_length=length if native else file_size - value_at,
        rows=_us(values, _ROWS),
        columns=_us(values, _COLUMNS),
        frames=int(_number(values, _FRAMES, 1.0)),
        bits_allocated=_us(values, _BITS_ALLOCATED),
        bits_stored=_us(values, _BITS_STORED),
        pixel_representation=_us(values, _PIXEL_REPRESENTATION, 0),
        photometric=values.get(_PHOTOMETRIC, b"").decode("ascii", "replace").strip(" \x00"),
        rescale_slope=_number(values, _SLOPE, 1.0),
        rescale_intercept=_number(values, _INTERCEPT, 0.0),
    )
    if (
        _us(values, _SAMPLES, 1) != 1
        or layout.photometric not in ("MONOCHROME1", "MONOCHROME2")
        or layout.bits_allocated not in (8, 16, 32)
        or not 1 <= layout.bits_stored <= layout.bits_allocated
        or layout.pixel_representation not in (0, 1)
        or min(layout.rows, layout.columns, layout.frames) < 1
        or layout.rescale_slope == 0.0
    ):
        raise _Unusual("not a plain monochrome integer image")
    if native:
        _check_native(layout, vr, length, file_size)
    elif layout.frames != 1 or length != _UNDEFINED or layout.pixel_length < 16:
        raise _Unusual("not a single encapsulated frame")
    elif layout.pixel_length > MAX_ENCAPSULATED_FACTOR * layout.frame_bytes + 2**20:
        raise _Unusual("encapsulated data far larger than the frame")
    return layout


def _check_native(layout: PixelLayout, vr: bytes, length: int, file_size: int) -> None:
    needed = layout.frames * layout.frame_bytes
    if (
        vr not in (b"", b"OB", b"OW")
        or length == _UNDEFINED
        or length < needed
        or layout.pixel_offset + needed > file_size
    ):
        raise _Unusual("native Pixel Data shorter than the header declares")


#: Plugins that report corrupt data with an exception, never by aborting the process: the
#: only ones tried in the main process for a syntax GDCM can abort on (limits.abort_prone).
NEVER_ABORTING_PLUGINS = frozenset(["pylibjpeg"])


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
    if limits.abort_prone(syntax):
        return [plugin for plugin in plugins if plugin in NEVER_ABORTING_PLUGINS]
    return plugins


def volume_plugins(syntax: str) -> list[str]:
    """Decoding plugins to try in a worker, best first, then pydicom's own order ("").

    In a pool every core is busy, so what counts is CPU time per frame, not wall time: GDCM
    decodes JPEG 2000 lossless on two threads (faster alone, 54 ms CPU for a 512 x 512 CT
    frame) but pylibjpeg-openjpeg uses less CPU (47 ms), so it goes first here. Otherwise
    :data:`viewer.dicom.pixels.decode.PREFERRED_PLUGINS`.
    """
    available = get_decoder(UID(syntax)).available_plugins
    volume_choice = VOLUME_PREFERRED_PLUGINS.get(syntax)
    if volume_choice in available:
        return [volume_choice, ""]
    return [*chosen_plugins(syntax, available), ""]


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
    if target.dtype != layout.dtype.newbyteorder("="):
        return None
    return layout if _read_native(path, frame, layout, target) else None


def _read_native(path: str, frame: int, layout: PixelLayout, target: NDArray[Any]) -> bool:
    try:
        with open(path, "rb", buffering=0) as handle:
            handle.seek(layout.pixel_offset + frame * layout.frame_bytes)
            sink = memoryview(target).cast("B")  # type: ignore[arg-type]
            if handle.readinto(sink) != layout.frame_bytes:
                return False
    except OSError:
        return False
    unused = layout.bits_allocated - layout.bits_stored
    if unused:
        np.left_shift(target, unused, out=target)
        np.right_shift(target, unused, out=target)
    return True


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
    """Worker start: Ctrl+C belongs to the parent; the parent's frame-source readers
    (:func:`viewer.dicom.io.frame_sources.registered`); load the decoders once, not per frame;
    then ``setup`` (see :class:`DecodePool`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def fill_frame(target: NDArray[Any], index: int, path: str, frame: int) -> FrameOutcome:
    """Decode one frame into ``target``; never raises (the error is in the outcome)."""
    try:
        layout = read_frame_into(path, frame, target)
        if layout is not None:
            return FrameOutcome(index, layout.rescale_slope, layout.rescale_intercept)
        decoded = read_frame(path, frame)
        store_frame(target, decoded.stored)
    except DecodeError as error:
        return FrameOutcome(index, error=error.reason)
    except Exception as error:  # fault boundary: one bad file must not stop the volume
        return FrameOutcome(index, error=f"{type(error).__name__}: {error}")
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
        declared = limits.declared_pixels(source)
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
            return read_frame_cached(source, frame, FrameStore(Path(store[0]), store[1]))
        return read_frame(source, frame, name=name)
    except DecodeError as error:
        return error.reason
    except Exception as error:  # fault boundary
        return f"{type(error).__name__}: {error}"


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


def _context() -> Any:
    """forkserver where available (its server starts from a clean interpreter), else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported pydicom and numpy.
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


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
        self._pool = SupervisedPool(
            self.workers,
            _context(),
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

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

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
        pool.shutdown()
