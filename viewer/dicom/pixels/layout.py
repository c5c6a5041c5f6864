"""Where a plain monochrome file's pixels are, from the one header walker, without pydicom.

:func:`pixel_layout` walks a file's header once, with :mod:`viewer.dicom.io.header_parser`, to
the Pixel Data element (PS3.5 7.1, 7.5: sequences of undefined length included) and keeps the
few Image Pixel values (PS3.3 C.7.6.3) a volume needs. :func:`read_native_into` then reads a
native little-endian frame straight into its place in the volume: no Dataset, no decoder, no
copy. Anything the walk is not certain of (another transfer syntax, colour, 1-bit or float
samples, a Modality LUT or functional groups, lengths that do not fit the file) gives None:
the caller decodes that file with :func:`viewer.dicom.pixels.reading.read_frame`.

This module imports neither pydicom nor the decode pool, so that a ``volume`` of native frames
starts no worker and loads no decoder (issue 13 item 10).
"""

from __future__ import annotations

import math
import struct
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom.io import header_parser as walker

IMPLICIT_LE = walker.IMPLICIT_VR_LITTLE_ENDIAN
EXPLICIT_LE = walker.EXPLICIT_VR_LITTLE_ENDIAN
_TRANSFER_SYNTAX = 0x00020010
#: Header elements a volume needs (PS3.3 C.7.6.3 Image Pixel, C.7.6.6 Multi-frame,
#: C.11.1 Modality LUT).
SAMPLES, PHOTOMETRIC, FRAMES = 0x00280002, 0x00280004, 0x00280008
ROWS, COLUMNS = 0x00280010, 0x00280011
BITS_ALLOCATED, BITS_STORED, PIXEL_REPRESENTATION = 0x00280100, 0x00280101, 0x00280103
INTERCEPT, SLOPE = 0x00281052, 0x00281053
#: Present -> not plain: a Modality LUT Sequence (C.11.1) or functional groups (a per-frame
#: rescale, PS3.3 C.7.6.16.2.9), which read_frame applies; and any (7FE0,xxxx) before Pixel
#: Data (Extended Offset Table, float pixel data: PS3.5 A.4, PS3.3 C.7.6.24).
REFUSED = frozenset([0x00283000, 0x52009229, 0x52009230, *range(0x7FE00001, 0x7FE00010)])
WANTED = frozenset(
    [
        SAMPLES, PHOTOMETRIC, FRAMES, ROWS, COLUMNS, BITS_ALLOCATED, BITS_STORED,
        PIXEL_REPRESENTATION, INTERCEPT, SLOPE, *REFUSED,
    ]
)  # fmt: skip
#: The walk stops at the first tag past this one: Pixel Data (7FE0,0010) itself.
_LAST_WANTED = walker.PIXEL_DATA - 1


class NotPlain(Exception):
    """The header is not what the plain path handles; read_frame will."""


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    """What filling one frame of a volume gave: its rescale (PS3.3 C.11.1.1.2) or an error."""

    index: int
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    has_modality_lut: bool = False
    error: str = ""
    warnings: tuple[str, ...] = ()


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
        return self.transfer_syntax not in (IMPLICIT_LE, EXPLICIT_LE)

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


def pixel_layout(path: str, max_encapsulated_factor: int) -> PixelLayout | None:
    """The pixel layout of a plain monochrome integer image, else None.

    Native little endian (any number of frames) or a single encapsulated frame (whether a
    decoder for its transfer syntax is here is the caller's question) of at most
    ``max_encapsulated_factor`` times its decoded size plus 1 MiB. None means "use
    read_frame": another transfer syntax, colour, 1-bit or float samples, a Modality LUT or
    functional groups, a zero slope, Pixel Data shorter than the header declares or than the
    file, or any header the walk does not understand.
    """
    if sys.byteorder != "little":
        return None
    try:
        with open(path, "rb") as handle:
            source, meta, at = walker.open_part10(handle)
            return _layout_of(source, meta, at, max_encapsulated_factor)
    except (OSError, walker.Unusual, NotPlain, struct.error, UnicodeError):
        return None


def _layout_of(
    source: walker.Source, meta: walker.Elements, at: int, max_encapsulated_factor: int
) -> PixelLayout:
    syntax = meta.get(_TRANSFER_SYNTAX, (b"", b""))[1].rstrip(b"\x00 ").decode("ascii")
    native = syntax in (IMPLICIT_LE, EXPLICIT_LE)
    if not native and not syntax.startswith(walker.ENCAPSULATED_PREFIXES):
        raise NotPlain(f"transfer syntax {syntax}")
    values = walker.read_dataset(
        source, at, syntax != IMPLICIT_LE, True, WANTED, _LAST_WANTED, pixel_data=True
    )
    location = walker.pixel_data_location(values)
    if location is None or REFUSED.intersection(values):
        raise NotPlain("no plain Pixel Data, or per-frame values read_frame must apply")
    vr = values[walker.PIXEL_DATA][0]
    value_at, length = location
    file_size = source.size
    layout = PixelLayout(
        transfer_syntax=syntax,
        pixel_offset=value_at,
        pixel_length=length if native else file_size - value_at,
        rows=_us(values, ROWS),
        columns=_us(values, COLUMNS),
        frames=int(_number(values, FRAMES, 1.0)),
        bits_allocated=_us(values, BITS_ALLOCATED),
        bits_stored=_us(values, BITS_STORED),
        pixel_representation=_us(values, PIXEL_REPRESENTATION, 0),
        photometric=_text(values, PHOTOMETRIC),
        rescale_slope=_number(values, SLOPE, 1.0),
        rescale_intercept=_number(values, INTERCEPT, 0.0),
    )
    if (
        _us(values, SAMPLES, 1) != 1
        or layout.photometric not in ("MONOCHROME1", "MONOCHROME2")
        or layout.bits_allocated not in (8, 16, 32)
        or not 1 <= layout.bits_stored <= layout.bits_allocated
        or layout.pixel_representation not in (0, 1)
        or min(layout.rows, layout.columns, layout.frames) < 1
        or layout.rescale_slope == 0.0
    ):
        raise NotPlain("not a plain monochrome integer image")
    if native:
        _check_native(layout, vr, length, file_size)
    elif layout.frames != 1 or length != walker.UNDEFINED_LENGTH or layout.pixel_length < 16:
        raise NotPlain("not a single encapsulated frame")
    elif layout.pixel_length > max_encapsulated_factor * layout.frame_bytes + 2**20:
        raise NotPlain("encapsulated data far larger than the frame")
    return layout


def _check_native(layout: PixelLayout, vr: bytes, length: int, file_size: int) -> None:
    needed = layout.frames * layout.frame_bytes
    if (
        vr not in (b"", b"OB", b"OW")
        or length == walker.UNDEFINED_LENGTH
        or length < needed
        or layout.pixel_offset + needed > file_size
    ):
        raise NotPlain("native Pixel Data shorter than the header declares")


def read_native_into(path: str, frame: int, layout: PixelLayout, target: NDArray[Any]) -> bool:
    """Read native frame ``frame`` straight into ``target`` (C-contiguous, the layout's dtype
    and shape), dropping bits above Bits Stored with the sign extended (PS3.5 8.1.1)."""
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


def fits(layout: PixelLayout | None, frame: int, target: NDArray[Any]) -> bool:
    """Whether native ``frame`` of ``layout`` can be read into ``target`` as it is."""
    return (
        layout is not None
        and not layout.encapsulated
        and 0 <= frame < layout.frames
        and target.shape == (layout.rows, layout.columns)
        and target.flags.c_contiguous
        and target.dtype == layout.dtype.newbyteorder("=")
    )


def _us(values: walker.Elements, tag: int, default: int | None = None) -> int:
    raw = values.get(tag, (b"", None))[1]
    if raw is None or len(raw) != 2:
        if default is None:
            raise NotPlain(f"missing {tag:08X}")
        return default
    return int(struct.unpack("<H", raw)[0])


def _text(values: walker.Elements, tag: int) -> str:
    return values.get(tag, (b"", b""))[1].decode("ascii", "replace").strip(" \x00")


def _number(values: walker.Elements, tag: int, default: float) -> float:
    """A DS/IS value's first number; its default when absent or empty (PS3.5 6.2)."""
    raw = values.get(tag, (b"", None))[1]
    if raw is None:
        return default
    text = raw.decode("ascii", "replace").strip(" \x00").split("\\")[0].strip()
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        raise NotPlain(f"unreadable {tag:08X}") from None
    if not math.isfinite(number):
        raise NotPlain(f"non-finite {tag:08X}")
    return number
