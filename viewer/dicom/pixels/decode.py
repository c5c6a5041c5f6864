"""One frame of a DICOM file -> its stored values and the header facts the display needs.

:func:`read_frame` decodes only the requested frame (pydicom 3's ``pixel_array(path,
index=...)`` seeks to it, native or encapsulated, without reading other frames) and answers a
:class:`DecodedFrame`: ``stored`` in its stored type for monochrome and palette images,
8-bit RGB for colour, and a :class:`PixelTransform` with everything PS3.3 C.11 needs
(rescale or Modality LUT, windows or VOI LUTs, presentation shape, padding, palette), with no
pydicom Dataset kept. Every failure is one :class:`DecodeError` with a readable reason.

Decoders are pydicom's plugins; which one is tried first per transfer syntax is decided in
:mod:`viewer.dicom.codecs.policy` (measured, see there), pydicom's own order the fallback.
pylibjpeg-libjpeg (GPL) is not used: JPEG lossless and 12-bit JPEG go to GDCM (BSD).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import multiprocessing
import os
import stat
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

import numpy as np
from numpy.typing import NDArray
from pydicom import dcmread
from pydicom import uid as dicom_uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_color_lut, pixel_array
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import UID

from viewer.core import lazy
from viewer.dicom import limits, reasons
from viewer.dicom.catalog.frame_ref import local_path
from viewer.dicom.codecs import policy
from viewer.dicom.io import bounded, frame_sources, header_parser
from viewer.dicom.pixels import display, lut
from viewer.dicom.pixels.frame_store import FrameStore
from viewer.dicom.pixels.frames import (
    DecodedFrame,
    DecodeError,
    LookupTable,
    PixelTransform,
    Window,
)

# --- decoder choice -------------------------------------------------------------------------
# Which plugin is tried first per transfer syntax, measured: viewer.dicom.codecs.policy.
# No plugin releases the GIL enough for two threads to beat one (measured: 0.7-1.2x), which
# is why decoding is serialised (see :func:`read_frame`); GDCM's own J2K threads then have
# both cores.
#: The decoder label when pydicom's default plugin order decided.
DEFAULT_ORDER = "pydicom default order"

#: Transfer syntaxes whose data is lossy whatever the header says (DCT or video codecs).
_ALWAYS_LOSSY = frozenset(
    [dicom_uid.JPEGBaseline8Bit, dicom_uid.JPEGExtended12Bit, *dicom_uid.MPEGTransferSyntaxes]
)
#: Transfer syntaxes that may carry lossy data: lossy unless Lossy Image Compression is "00".
_MAYBE_LOSSY = frozenset(
    [
        dicom_uid.JPEGLSNearLossless,
        dicom_uid.JPEG2000,
        dicom_uid.JPEG2000MC,
        dicom_uid.HTJ2K,
        dicom_uid.JPIPHTJ2KReferenced,
        dicom_uid.JPIPHTJ2KReferencedDeflate,
    ]
)

#: Header elements outside group 0028 that read_frame needs (group 0028 always comes along).
_HEADER_TAGS = [
    0x00080016,  # SOP Class UID
    0x00080060,  # Modality
    0x20500020,  # Presentation LUT Shape
    0x52009229,  # Shared Functional Groups Sequence
    0x52009230,  # Per-frame Functional Groups Sequence
]

_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


# --- results --------------------------------------------------------------------------------
# DecodedFrame, PixelTransform, LookupTable, Window and DecodeError are defined in
# viewer.dicom.pixels.frames (no pydicom there) and imported above, so they can be imported from
# here.


class TransferSyntaxSupport(NamedTuple):
    """One row of :func:`decodable_transfer_syntaxes`."""

    uid: str
    name: str
    available: bool
    detail: str  # the plugin used first, or why it cannot be decoded


def _register_plugin(syntaxes: Iterable[str], label: str, module: str, function: str) -> None:
    """Add ``module.function`` to pydicom's decoders for ``syntaxes`` under ``label`` (once)."""
    for syntax in syntaxes:
        decoder = get_decoder(UID(syntax))
        if label in decoder.available_plugins:
            continue
        with contextlib.suppress(ValueError):  # already registered, as unavailable
            decoder.add_plugin(label, (module, function))


def _register_codec(label: str, module: str) -> None:
    """Hand one of our codecs (:data:`viewer.dicom.codecs.policy.CODECS`) to pydicom."""
    dependencies = lazy.load(f"{module}:DECODER_DEPENDENCIES")
    _register_plugin(dependencies, label, module, "decode_frame")


for _label_, _module_ in policy.CODECS.items():
    _register_codec(_label_, _module_)
policy.on_register(_register_codec)


# --- reading --------------------------------------------------------------------------------
# Python < 3.14 records warnings process-wide; the lock keeps two decoding threads from
# swapping each other's warning filters. It costs no throughput: no decoder releases the GIL.
_DECODE_LOCK = threading.Lock()


#: What :func:`read_frame` decodes: a local path or a frame source's URI
#: (:mod:`viewer.dicom.io.frame_sources`), or the instance itself as bytes or a binary file-like.
FrameSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

#: How an instance given as bytes is named in errors when no ``name`` is given.
IN_MEMORY = "<in memory>"


#: Decodes (source, frame, name) where an abort costs another process, not this one.
Isolate = Callable[[str | bytes, int, str], DecodedFrame]


def read_frame(
    source: FrameSource, frame: int = 0, *, name: str = "", isolate: Isolate | None = None
) -> DecodedFrame:
    """Decode frame ``frame`` (0-based) of the DICOM instance ``source``.

    ``source`` is a local path (decoded from the file, which is opened, never read whole), a
    URI of a registered frame source (:mod:`viewer.dicom.io.frame_sources`: its reader gives
    the instance's bytes), or the instance's bytes or a binary file-like (a Part 10 file,
    PS3.10 7, or a bare data set); ``name`` then stands for it in errors and in the result
    (default: the URI or path, else ``"<in memory>"``).

    Only that frame is decoded. Raises :class:`DecodeError` (and nothing else) when the
    instance cannot be read, has no pixel data, the frame does not exist, no decoder can
    decode it, or the data is corrupt or truncated.

    ``isolate``: how a frame whose decoder could abort this process (an abort-prone syntax,
    :mod:`viewer.dicom.codecs.policy`, in the main process) is decoded instead; None decodes
    it here. Callers use :func:`viewer.dicom.pixels.reading.read_frame`, which passes the
    decode pool's worker.
    """
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        path = local_path(text)
        if path is None:
            return _read_frame_from_source(text, frame, name or text, isolate)
        return _read_frame(path, frame, name or path, isolate)
    data = _instance_bytes(source, name or IN_MEMORY)
    return _read_frame(data, frame, name or IN_MEMORY, isolate)


def _read_frame_from_source(
    uri: str, frame: int, name: str, isolate: Isolate | None
) -> DecodedFrame:
    """A frame of a non-file source: its reader gives the bytes, decoded from memory."""
    if frame < 0:
        raise DecodeError(name, f"frame {frame} does not exist (frames count from 0)")
    try:
        data = frame_sources.read(uri)
    except DecodeError:
        raise
    except frame_sources.UnknownScheme as error:
        raise DecodeError(name, str(error)) from error
    except Exception as error:  # a reader's failure, one readable line
        raise DecodeError(name, _reason(error)) from error
    return _read_frame(_instance_bytes(data, name), frame, name, isolate)


def _instance_bytes(data: bytes | bytearray | memoryview | BinaryIO, name: str) -> bytes:
    """A reader's or caller's instance as bytes (a file-like is read from its start)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    try:
        if data.seekable():
            data.seek(0)
        return data.read()
    except Exception as error:
        raise DecodeError(name, _reason(error)) from error


def _read_frame(
    source: str | bytes, frame: int, name: str, isolate: Isolate | None
) -> DecodedFrame:
    """Decode one frame of a local file (``source`` its path) or of an instance in memory."""
    if frame < 0:
        raise DecodeError(name, f"frame {frame} does not exist (frames count from 0)")
    if isolate is not None and decode_in_worker(source):  # GDCM can abort on corrupt data
        return isolate(source, frame, name)
    with _DECODE_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            header, pixels, decoder = _decode_pixels(source, name, frame)
            key = _file_key(source) if isinstance(source, str) else None
            transform = _transform(header, frame, key)
            stored = _display_samples(pixels, transform)
        except DecodeError:
            raise
        except Exception as error:  # the fault boundary: one exception type for callers
            raise DecodeError(name, _reason(error)) from error
    messages = tuple(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    return DecodedFrame(stored, transform, name, frame, decoder, messages)


def decode_in_worker(source: str | bytes) -> bool:
    """True when ``source``'s frames (a path's, or an instance's bytes) must be decoded in a
    worker process (:func:`viewer.dicom.codecs.policy.abort_prone`)."""
    if multiprocessing.parent_process() is not None:
        return False
    if isinstance(source, bytes):
        head = source[: limits.META_BYTES]
    else:
        try:
            fd = os.open(source, _OPEN_FLAGS)
            try:
                head = os.read(fd, limits.META_BYTES) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
            finally:
                os.close(fd)
        except OSError:
            return False
    meta = header_parser.meta_transfer_syntax(head)
    return meta is not None and policy.abort_prone(meta[0])


#: Opening never waits on a pipe or device (they are refused after a look at fstat).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


#: Frames written into the decoded-frame cache by this process between two trims of it.
_PUTS_PER_TRIM = 64
_puts_since_trim = 0


def read_frame_cached(
    path: str, frame: int, store: FrameStore, isolate: Isolate | None = None
) -> DecodedFrame:
    """:func:`read_frame` through the decoded-frame cache (:mod:`viewer.dicom.pixels.frame_store`),
    for the 2D viewport: a compressed monochrome frame found there costs a header read (its
    :class:`PixelTransform`, built as :func:`read_frame` builds it) and a memory copy, not a
    decode (``decoder`` is then ``"frame cache"``); one decoded here is written there (the
    same entries the volume loader writes and reads). Anything else is read as usual;
    ``isolate`` as for :func:`read_frame`."""
    local = local_path(path)
    header = _cacheable_header(local) if local is not None else None
    if local is None or header is None:
        return read_frame(path, frame, isolate=isolate)
    rows, columns = _int(header.get("Rows"), 0), _int(header.get("Columns"), 0)
    signed = _int(header.get("PixelRepresentation"), 0) == 1
    width = max(1, _int(header.get("BitsAllocated"), 16) // 8)
    dtype = np.dtype(f"{'i' if signed else 'u'}{width}")
    key = store.key(local, frame, (rows, columns), dtype) if rows and columns else ""
    if key:
        target = np.empty((rows, columns), dtype=dtype)
        if store.read_into(key, target) is not None:
            try:
                transform = _transform(header, frame, _file_key(local))
            except Exception as error:
                raise DecodeError(path, _reason(error)) from error
            return DecodedFrame(target, transform, path, frame, "frame cache")
    decoded = read_frame(path, frame, isolate=isolate)
    if (
        key
        and decoded.stored.shape == (rows, columns)
        and decoded.stored.dtype == dtype
        and decoded.decoder != "numpy"
        and decoded.transform.modality_lut is None
        and not decoded.warnings
    ):
        transform = decoded.transform
        if store.put(key, decoded.stored, transform.rescale_slope, transform.rescale_intercept):
            global _puts_since_trim
            _puts_since_trim += 1
            if _puts_since_trim >= _PUTS_PER_TRIM:
                _puts_since_trim = 0
                store.trim()
    return decoded


def _cacheable_header(path: str) -> Dataset | None:
    """The header of a compressed single-sample (monochrome) image, or None: such frames are
    cached; native ones are not (reading the file is already the copy), nor colour."""
    try:  # the file meta first: a native frame is read at once, its header once
        syntax = str(bounded.read_file_meta(path).get("TransferSyntaxUID", ""))
        if not syntax or not UID(syntax).is_compressed:
            return None
        header = bounded.bounded(dcmread, path, stop_before_pixels=True, force=True)
    except Exception:
        return None
    photometric = str(header.get("PhotometricInterpretation", "") or "").strip().upper()
    if not syntax or syntax == dicom_uid.DeflatedExplicitVRLittleEndian:
        return None
    if not UID(syntax).is_compressed or _int(header.get("SamplesPerPixel"), 1) != 1:
        return None
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        return None
    if "ModalityLUTSequence" in header:
        return None
    return header


def render_frame(
    path: str | os.PathLike[str], frame: int = 0, window: tuple[float, float] | None = None
) -> NDArray[np.uint8]:
    """The 8-bit image the viewer shows at 1:1 (see
    :func:`viewer.dicom.pixels.display.render_frame`)."""
    return display.render_frame(path, frame, window)


def _decode_pixels(source: str | bytes, name: str, frame: int) -> tuple[Dataset, NDArray[Any], str]:
    """(header, pixels of one frame, decoder label), streaming from the file when possible."""
    bounded.check_frame_allocation(source, frame)  # before pydicom allocates what it declares
    try:
        syntax = bounded.read_file_meta(source).get("TransferSyntaxUID")
        has_meta = True
    except (InvalidDicomError, EOFError, ValueError, KeyError, TypeError):
        syntax, has_meta = None, False  # no File Meta Information: maybe a bare data set
    if not syntax or UID(syntax) == dicom_uid.DeflatedExplicitVRLittleEndian:
        return _decode_in_memory(source, name, frame, has_meta)
    syntax = UID(syntax)
    _check_supported(name, syntax)
    try:
        return _decode_streaming(source, frame, syntax)
    except Exception as error:
        if _decoders_failed(error):
            raise  # the data itself: reading the file another way would not help
        if "no 'Pixel Data'" in str(error):
            raise DecodeError(name, _no_pixel_data_reason(_header_only(source))) from error
        _check_frame_exists(source, name, frame)
        if _is_truncated(error):
            raise DecodeError(name, f"pixel data truncated: frame {frame} is incomplete") from error
        # Odd encodings (e.g. a wrong VR in the meta) that only a full read gets right.
        return _decode_in_memory(source, name, frame, has_meta)


def _is_truncated(error: Exception) -> bool:
    """True for pydicom's complaints about a native frame shorter than the header says."""
    text = str(error)
    return "cannot reshape array" in text or "insufficient pixel data" in text


def _decoders_failed(error: Exception) -> bool:
    """True when pydicom read the frame but every decoding plugin rejected it."""
    return "exceptions were raised by all available plugins" in str(error)


def _plugin_attempts(syntax: UID) -> list[str]:
    """Plugins to try in turn: the preferred one (if installed), then pydicom's order ("")."""
    if not syntax.is_compressed:
        return [""]
    available = get_decoder(syntax).available_plugins
    attempts = chosen_plugins(syntax, available)
    if not attempts or len(available) > len(attempts):
        attempts.append("")
    return attempts


def chosen_plugins(syntax: str, available: Sequence[str]) -> list[str]:
    """The policy's choices for ``syntax`` (:mod:`viewer.dicom.codecs.policy`) that are
    installed, best first."""
    return policy.chosen_plugins(syntax, available)


def _label(syntax: UID, plugin: str) -> str:
    if not syntax.is_compressed:
        return "numpy"
    return plugin or DEFAULT_ORDER


def _decode_streaming(
    source: str | bytes, frame: int, syntax: UID
) -> tuple[Dataset, NDArray[Any], str]:
    """Read the header and one frame in a single pass over the file (or the bytes)."""
    last_error: Exception | None = None
    for plugin in _plugin_attempts(syntax):
        header = Dataset()
        try:
            pixels = bounded.bounded(
                pixel_array,
                source,
                index=frame,
                ds_out=header,
                specific_tags=_HEADER_TAGS,
                decoding_plugin=plugin,
            )
        except BaseException as error:  # Rust decoders panic with a BaseException
            last_error = limits.decoder_failure(error)
            continue
        return header, pixels, _label(syntax, plugin)
    assert last_error is not None
    raise last_error


def _decode_in_memory(
    source: str | bytes, name: str, frame: int, has_meta: bool
) -> tuple[Dataset, NDArray[Any], str]:
    """Read the whole file (deflated, bare data sets, odd encodings) and decode one frame."""
    path = name
    try:
        dataset = bounded.bounded(dcmread, source, force=True)
    except Exception as error:
        if has_meta and not isinstance(error, (InvalidDicomError, EOFError)):
            raise
        raise DecodeError(path, "not a DICOM file") from error
    if not has_meta and not _looks_like_dicom(dataset):
        raise DecodeError(path, "not a DICOM file")
    if not any(keyword in dataset for keyword in _PIXEL_KEYWORDS):
        raise DecodeError(path, _no_pixel_data_reason(dataset))
    syntax = _transfer_syntax_of(path, dataset)
    _check_supported(path, syntax)
    _check_frame_count(path, frame, dataset)
    last_error: Exception | None = None
    for plugin in _plugin_attempts(syntax):
        try:
            pixels = pixel_array(dataset, index=frame, decoding_plugin=plugin)
        except BaseException as error:  # Rust decoders panic with a BaseException
            last_error = limits.decoder_failure(error)
            continue
        return dataset, pixels, _label(syntax, plugin)
    assert last_error is not None
    raise last_error


def _looks_like_dicom(dataset: Dataset) -> bool:
    """A forced read of a file without File Meta: did it find DICOM groups or garbage?"""
    tags = dataset.keys()  # tags only: iterating the data set would convert every value
    return any(0x0008 <= tag.group <= 0x0028 for tag in tags)


def _transfer_syntax_of(path: str, dataset: Dataset) -> UID:
    """The file's transfer syntax, inferred from how it was read if the meta lacks it."""
    meta = dataset.get("file_meta") or Dataset()
    syntax = meta.get("TransferSyntaxUID")
    if syntax:
        return UID(syntax)
    implicit, little = dataset.original_encoding
    if "PixelData" in dataset and dataset["PixelData"].is_undefined_length:
        raise DecodeError(path, "encapsulated pixel data without a Transfer Syntax UID")
    if implicit:
        inferred = dicom_uid.ImplicitVRLittleEndian
    elif little is False:
        inferred = dicom_uid.ExplicitVRBigEndian
    else:
        inferred = dicom_uid.ExplicitVRLittleEndian
    if not hasattr(dataset, "file_meta"):
        dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = inferred
    warnings.warn(f"no Transfer Syntax UID; read as {inferred.name}", stacklevel=2)
    return inferred


def _check_supported(path: str, syntax: UID) -> None:
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError as error:
        raise DecodeError(
            path, f"transfer syntax {_syntax_name(syntax)} is not supported"
        ) from error
    if syntax.is_compressed and not decoder.available_plugins:
        missing = "; ".join(decoder.missing_dependencies) or "no plugin"
        raise DecodeError(path, f"no decoder installed for {_syntax_name(syntax)} ({missing})")


def _header_only(source: str | bytes) -> Dataset:
    """The header up to the pixel data (for error messages; empty if unreadable)."""
    try:
        return bounded.bounded(dcmread, source, stop_before_pixels=True, force=True)
    except Exception:
        return Dataset()


def _check_frame_exists(source: str | bytes, name: str, frame: int) -> None:
    """After a failed streaming read: say so plainly if the frame is out of range."""
    if frame > 0:
        _check_frame_count(name, frame, _header_only(source))


def _check_frame_count(path: str, frame: int, dataset: Dataset) -> None:
    value = dataset.get("NumberOfFrames")
    count = _optional_int(value)
    if value not in (None, "") and count is None:
        raise DecodeError(path, f"Number of Frames {value!r} is not a number")
    count = count or 1
    if frame >= count:
        raise DecodeError(path, f"frame {frame} does not exist: the file has {count} frame(s)")


def _no_pixel_data_reason(dataset: Dataset) -> str:
    sop_class = dataset.get("SOPClassUID") or dataset.get("file_meta", Dataset()).get(
        "MediaStorageSOPClassUID"
    )
    if sop_class:
        return f"no pixel data ({UID(sop_class).name})"
    if "DirectoryRecordSequence" in dataset:
        return "no pixel data (DICOMDIR)"
    return "no pixel data"


def _syntax_name(syntax: UID) -> str:
    name = syntax.name
    return f"{name} ({syntax})" if name != str(syntax) else str(syntax)


def _reason(error: BaseException) -> str:
    """A readable one-line reason for an exception raised while decoding."""
    text = " ".join(str(error).split())
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, OSError):
        return f"cannot read the file: {error.strerror or text}"
    if isinstance(error, limits.Refused):
        return text
    if isinstance(error, MemoryError):
        return "not enough memory to decode the frame"
    if isinstance(error, InvalidDicomError):
        return "not a DICOM file"
    if "exceptions were raised by all available plugins" in text:
        return reasons.decoders_failed(str(error))
    if "missing dependencies" in text:
        return f"no decoder installed: {text}"
    if "no 'Pixel Data'" in text:
        return "no pixel data"
    if "less than expected" in text:
        return f"pixel data truncated: {text}"
    if isinstance(error, (KeyError, AttributeError)) and "Missing required element" in text:
        return text.replace("Missing required element:", "missing required element").strip()
    return reasons.explain(error, "decoding")


# --- header -> PixelTransform ---------------------------------------------------------------
class _FrameGroups(NamedTuple):
    """A frame's functional-group overrides (PS3.3 C.7.6.16.2); None where absent."""

    rescale: tuple[float, float, str] | None = None
    modality_lut: LookupTable | None = None
    windows: tuple[Window, ...] | None = None
    voi_function: str | None = None
    voi_luts: tuple[LookupTable, ...] | None = None


_FileKey = tuple[str, int, int]


@dataclass
class _FileGroups:
    """A file's functional groups, converted once; each frame's overrides parsed on demand.

    pydicom converts a Per-frame Functional Groups Sequence as a whole (~85 us per frame, 43 ms
    for 500 frames) and its items' values when read (~0.5 ms per frame), so both are kept
    per file instead of being redone for every frame of an enhanced multi-frame image.
    """

    per_frame: Sequence[Dataset]
    shared: Dataset | None
    parsed: dict[int, _FrameGroups]


_GROUPS_CACHE: OrderedDict[_FileKey, _FileGroups] = OrderedDict()
_GROUPS_CACHE_FILES = 4


def _file_key(path: str) -> _FileKey | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return path, status.st_mtime_ns, status.st_size


def _transform(header: Dataset, frame: int, key: _FileKey | None) -> PixelTransform:
    """Build the frame's :class:`PixelTransform` from its header."""
    pixel_representation = _int(header.get("PixelRepresentation"), 0)
    bits_allocated = _int(header.get("BitsAllocated"), 16)
    little_endian = _is_little_endian(header)
    groups = _frame_groups(header, frame, key, pixel_representation, little_endian)
    slope, intercept, rescale_type = groups.rescale or _rescale(header)
    modality_lut = groups.modality_lut or _first_lut(
        header.get("ModalityLUTSequence"), pixel_representation, little_endian
    )
    photometric = str(header.get("PhotometricInterpretation", "") or "").strip().upper()
    windows = groups.windows if groups.windows is not None else _windows(header)
    voi_luts = groups.voi_luts
    if voi_luts is None:
        voi_luts = _luts(header.get("VOILUTSequence"), pixel_representation, little_endian)
    if modality_lut is None and intercept < 0:
        voi_luts = tuple(_as_signed_input(table) for table in voi_luts)
    syntax = str(header.get("file_meta", Dataset()).get("TransferSyntaxUID", ""))
    return PixelTransform(
        photometric=photometric or "MONOCHROME2",
        samples=_int(header.get("SamplesPerPixel"), 1),
        bits_allocated=bits_allocated,
        bits_stored=_int(header.get("BitsStored"), bits_allocated),
        pixel_representation=pixel_representation,
        rescale_slope=slope,
        rescale_intercept=intercept,
        rescale_type=rescale_type,
        modality_lut=modality_lut,
        windows=windows,
        voi_function=groups.voi_function or _voi_function(header),
        voi_luts=voi_luts,
        presentation_lut_shape=_text(header.get("PresentationLUTShape")).upper(),
        padding_value=_padding(header.get("PixelPaddingValue"), pixel_representation),
        padding_range_limit=_padding(header.get("PixelPaddingRangeLimit"), pixel_representation),
        palette=_palette(header) if photometric == "PALETTE COLOR" else None,
        is_lossy=_is_lossy(header, syntax),
        transfer_syntax=syntax,
    )


def _frame_groups(
    header: Dataset,
    frame: int,
    key: _FileKey | None,
    pixel_representation: int,
    little_endian: bool,
) -> _FrameGroups:
    """Overrides from the Shared and Per-frame Functional Groups (PS3.3 C.7.6.16)."""
    if (
        "PerFrameFunctionalGroupsSequence" not in header
        and "SharedFunctionalGroupsSequence" not in header
    ):
        return _FrameGroups()
    groups = _GROUPS_CACHE.get(key) if key is not None else None
    if groups is None:
        groups = _FileGroups(
            per_frame=header.get("PerFrameFunctionalGroupsSequence") or [],
            shared=_first_item(header.get("SharedFunctionalGroupsSequence")),
            parsed={},
        )
        if key is not None:
            _GROUPS_CACHE[key] = groups
            while len(_GROUPS_CACHE) > _GROUPS_CACHE_FILES:
                _GROUPS_CACHE.popitem(last=False)
    elif key is not None:
        _GROUPS_CACHE.move_to_end(key)
    parsed = groups.parsed.get(frame)
    if parsed is None:
        item = groups.per_frame[frame] if frame < len(groups.per_frame) else None
        if not isinstance(item, Dataset):
            item = None
        parsed = _groups_of(item, groups.shared, pixel_representation, little_endian)
        groups.parsed[frame] = parsed
    return parsed


def _groups_of(
    item: Dataset | None, shared: Dataset | None, pixel_representation: int, little_endian: bool
) -> _FrameGroups:
    """One frame's overrides: each attribute from its per-frame item, else the shared one.

    PS3.3 C.7.6.16 puts a macro either in the shared or in the per-frame groups; reading
    attribute by attribute also copes with writers that split one between them.
    """
    transformation = _macro_items(item, shared, "PixelValueTransformationSequence")
    voi = _macro_items(item, shared, "FrameVOILUTSequence")
    rescale_source = _having(transformation, "RescaleSlope", "RescaleIntercept")
    modality_source = _having(transformation, "ModalityLUTSequence")
    windows_source = _having(voi, "WindowCenter")
    function_source = _having(voi, "VOILUTFunction")
    voi_lut_source = _having(voi, "VOILUTSequence")
    return _FrameGroups(
        rescale=_rescale(rescale_source) if rescale_source is not None else None,
        modality_lut=_first_lut(
            modality_source.get("ModalityLUTSequence"), pixel_representation, little_endian
        )
        if modality_source is not None
        else None,
        windows=_windows(windows_source) if windows_source is not None else None,
        voi_function=_voi_function(function_source) if function_source is not None else None,
        voi_luts=_luts(voi_lut_source.get("VOILUTSequence"), pixel_representation, little_endian)
        if voi_lut_source is not None
        else None,
    )


def _macro_items(item: Dataset | None, shared: Dataset | None, keyword: str) -> list[Dataset]:
    """The functional group macro's item in the per-frame and the shared groups, in order."""
    found = []
    for source in (item, shared):
        if source is not None and keyword in source:
            macro = _first_item(source.get(keyword))
            if macro is not None:
                found.append(macro)
    return found


def _having(items: list[Dataset], *keywords: str) -> Dataset | None:
    """The first of ``items`` holding any of ``keywords``."""
    return next((item for item in items if any(k in item for k in keywords)), None)


def _first_item(sequence: Any) -> Dataset | None:
    if not sequence:
        return None
    first = sequence[0]
    return first if isinstance(first, Dataset) else None


def _rescale(source: Dataset) -> tuple[float, float, str]:
    """Rescale Slope, Intercept and Type (PS3.3 C.11.1.1.2); defaults 1, 0."""
    slope = _float(source.get("RescaleSlope"), 1.0)
    intercept = _float(source.get("RescaleIntercept"), 0.0)
    if slope == 0.0 or not math.isfinite(slope):
        warnings.warn(f"Rescale Slope {slope} ignored", stacklevel=2)
        slope = 1.0
    if not math.isfinite(intercept):
        intercept = 0.0
    return slope, intercept, _text(source.get("RescaleType"))


def _windows(source: Dataset) -> tuple[Window, ...]:
    """Window Center/Width/Explanation pairs (PS3.3 C.11.2.1.2), skipping unusable ones."""
    centers = _floats(source.get("WindowCenter"))
    widths = _floats(source.get("WindowWidth"))
    explanations = _texts(source.get("WindowCenterWidthExplanation"))
    windows = []
    for index, (center, width) in enumerate(zip(centers, widths, strict=False)):
        if center is None or width is None or not (math.isfinite(center) and math.isfinite(width)):
            continue
        explanation = explanations[index] if index < len(explanations) else ""
        windows.append(Window(center, width, explanation))
    return tuple(windows)


def _voi_function(source: Dataset) -> str:
    """VOI LUT Function (0028,1056); LINEAR when absent or unknown (PS3.3 C.11.2.1.3)."""
    function = _text(source.get("VOILUTFunction")).upper()
    return function if function in lut.VOI_FUNCTIONS else "LINEAR"


def _luts(sequence: Any, pixel_representation: int, little_endian: bool) -> tuple[LookupTable, ...]:
    tables = (_lut(item, pixel_representation, little_endian) for item in sequence or ())
    return tuple(table for table in tables if table is not None)


def _first_lut(sequence: Any, pixel_representation: int, little_endian: bool) -> LookupTable | None:
    tables = _luts(sequence, pixel_representation, little_endian)
    return tables[0] if tables else None


def _lut(item: Dataset, pixel_representation: int, little_endian: bool) -> LookupTable | None:
    """A Modality or VOI LUT Sequence item (PS3.3 C.11.1.1.1, C.11.2.1.1) as a table."""
    descriptor = item.get("LUTDescriptor")
    if not isinstance(item, Dataset) or not descriptor or "LUTData" not in item:
        return None
    values = [int(v) for v in descriptor]
    if len(values) != 3:
        return None
    entries = values[0] or 65536
    first_mapped = values[1]
    # The 2nd value is US or SS (C.11.1.1.1); a US read of a negative SS wraps.
    if pixel_representation == 1 and first_mapped >= 32768:
        first_mapped -= 65536
    bits = values[2]
    raw = item["LUTData"].value
    if isinstance(raw, (bytes, bytearray)):
        item_size = 1 if len(raw) == entries and bits <= 8 else 2
        dtype = np.dtype("u1" if item_size == 1 else ("<u2" if little_endian else ">u2"))
        data = np.frombuffer(raw, dtype=dtype, count=min(entries, len(raw) // item_size))
    else:
        data = np.asarray(list(raw) if isinstance(raw, Iterable) else [raw], dtype=np.int64)
    if data.size == 0:
        return None
    data = np.clip(data, 0, 65535).astype(np.uint16)
    data.setflags(write=False)
    explanation = _text(item.get("LUTExplanation"))
    return LookupTable(first_mapped, bits, data, explanation)


def _as_signed_input(table: LookupTable) -> LookupTable:
    """A VOI LUT whose input (the rescaled values) can be negative: its first mapped value
    is SS, though stored unsigned pixels made pydicom read it as US (PS3.3 C.11.2.1.1)."""
    if table.first_mapped < 32768:
        return table
    return dataclasses.replace(table, first_mapped=table.first_mapped - 65536)


def _palette(header: Dataset) -> LookupTable | None:
    """The Palette Color LUT (PS3.3 C.7.6.3.1.5, segmented C.7.9.2) as (entries, 3).

    pydicom's ``apply_color_lut`` reads (and expands) the tables; we ask it for every entry.
    """
    descriptor = header.get("RedPaletteColorLookupTableDescriptor")
    if not descriptor or len(descriptor) != 3:
        warnings.warn("PALETTE COLOR without a usable palette; shown as grayscale", stacklevel=2)
        return None
    entries = int(descriptor[0]) or 65536
    first_mapped = int(descriptor[1])
    if _int(header.get("PixelRepresentation"), 0) == 1 and first_mapped >= 32768:
        first_mapped -= 65536
    bits = int(descriptor[2])
    try:
        source = header if _is_little_endian(header) else _palette_in_little_endian(header)
        table = apply_color_lut(np.arange(first_mapped, first_mapped + entries), source)
    except Exception as error:
        warnings.warn(f"unusable palette ({error}); shown as grayscale", stacklevel=2)
        return None
    rgb = np.asarray(table)[..., :3].astype(np.uint16)
    if bits == 8 and rgb.size and int(rgb.max()) > 255:
        rgb >>= 8  # 8-bit entries written in the high byte of 16-bit words
    rgb.setflags(write=False)
    return LookupTable(first_mapped, bits if bits in (8, 16) else 16, rgb)


_PALETTE_DATA = tuple(
    f"{colour}PaletteColorLookupTableData" for colour in ("Red", "Green", "Blue", "Alpha")
)


def _palette_in_little_endian(header: Dataset) -> Dataset:
    """The palette of a big-endian file with its OW tables byte-swapped (PS3.5 7.3).

    pydicom's ``apply_color_lut`` reads plain (non-segmented) 16-bit tables in the machine's
    byte order whatever the transfer syntax, so Explicit VR Big Endian palettes came out
    with their bytes swapped; segmented tables it reads in the file's order already.
    """
    swapped = Dataset()
    for element in header:
        if element.keyword.endswith("PaletteColorLookupTableDescriptor"):
            swapped.add(element)
    entries = int(header.RedPaletteColorLookupTableDescriptor[0]) or 65536
    for keyword in _PALETTE_DATA:
        raw = header.get(keyword)
        if isinstance(raw, (bytes, bytearray)) and len(raw) == 2 * entries:
            raw = np.frombuffer(raw, dtype=">u2").astype("<u2").tobytes()
        if raw is not None:
            setattr(swapped, keyword, raw)
    if not any(keyword in swapped for keyword in _PALETTE_DATA):
        return header  # segmented: pydicom honours the transfer syntax there
    return swapped


def _padding(value: Any, pixel_representation: int) -> int | None:
    """Pixel Padding Value / Range Limit as a stored value (US or SS, PS3.3 C.7.5.1.1.2)."""
    number = _optional_int(value)
    if number is None:
        return None
    if pixel_representation == 1 and number >= 32768:
        number -= 65536
    return number


def _is_lossy(header: Dataset, syntax: str) -> bool:
    """Lossy Image Compression (0028,2110) "01", or a transfer syntax that is lossy."""
    flag = _text(header.get("LossyImageCompression"))
    if flag == "01" or syntax in _ALWAYS_LOSSY:
        return True
    return syntax in _MAYBE_LOSSY and flag != "00"


def _is_little_endian(header: Dataset) -> bool:
    little = header.original_encoding[1]
    if little is not None:
        return bool(little)
    syntax = header.get("file_meta", Dataset()).get("TransferSyntaxUID")
    return syntax != dicom_uid.ExplicitVRBigEndian


# --- decoded samples -> what DecodedFrame.stored holds -------------------------------------
def _display_samples(pixels: NDArray[Any], transform: PixelTransform) -> NDArray[Any]:
    """Monochrome/palette in native byte order; colour as 8-bit RGB (PS3.3 C.7.6.3.1.2).

    pydicom already upsampled YBR_FULL_422, converted YBR_FULL(_422) to RGB, let the JPEG 2000
    decoders undo YBR_ICT/YBR_RCT, and returned planar configuration 1 as samples-last.
    """
    if pixels.ndim == 2:
        if not pixels.dtype.isnative:
            pixels = pixels.astype(pixels.dtype.newbyteorder("="))
        return pixels
    if pixels.ndim == 3 and pixels.shape[-1] == 3:
        if transform.photometric not in ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT"):
            raise ValueError(f"photometric interpretation {transform.photometric} is not supported")
        return lut.to_rgb(pixels, "RGB", transform.bits_stored)
    raise ValueError(
        f"{pixels.shape[-1] if pixels.ndim == 3 else pixels.ndim} samples per pixel "
        f"({transform.photometric}) are not supported"
    )


# --- small value readers --------------------------------------------------------------------
def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def _float(value: Any, default: float) -> float:
    numbers = _floats(value)
    first = numbers[0] if numbers else None
    return first if first is not None else default


def _floats(value: Any) -> list[float | None]:
    numbers: list[float | None] = []
    for item in _values(value):
        try:
            numbers.append(float(item))
        except (TypeError, ValueError):
            numbers.append(None)
    return numbers


def _int(value: Any, default: int) -> int:
    number = _optional_int(value)
    return default if number is None else number


def _optional_int(value: Any) -> int | None:
    items = _values(value)
    if not items:
        return None
    try:
        return int(float(items[0]))
    except (TypeError, ValueError, OverflowError):
        return None


def _text(value: Any) -> str:
    items = _values(value)
    return str(items[0]).strip() if items and items[0] is not None else ""


def _texts(value: Any) -> list[str]:
    return [str(item).strip() for item in _values(value)]


# --- diagnostics ----------------------------------------------------------------------------
def decodable_transfer_syntaxes() -> list[TransferSyntaxSupport]:
    """Every standard transfer syntax: can this install decode it, and with what first?

    For an About / diagnostics view. ``detail`` is the plugin tried first, or why not.
    """
    rows = []
    for syntax in dicom_uid.AllTransferSyntaxes:
        syntax = UID(syntax)
        try:
            decoder = get_decoder(syntax)
        except NotImplementedError:
            rows.append(TransferSyntaxSupport(syntax, syntax.name, False, "not supported"))
            continue
        if not syntax.is_compressed:
            rows.append(TransferSyntaxSupport(syntax, syntax.name, True, "numpy"))
            continue
        available = decoder.available_plugins
        if not available:
            missing = "; ".join(decoder.missing_dependencies) or "no plugin"
            rows.append(TransferSyntaxSupport(syntax, syntax.name, False, f"missing: {missing}"))
            continue
        preferred = policy.preferred_plugin(syntax)
        first = preferred if preferred in available else available[0]
        others = [name for name in available if name != first]
        detail = first + (f" (then {', '.join(others)})" if others else "")
        rows.append(TransferSyntaxSupport(syntax, syntax.name, True, detail))
    return rows
