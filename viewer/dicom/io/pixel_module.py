"""Headers that cannot hold a decodable image, refused at indexing with the reason.

The Image Pixel module (PS3.3 C.7.6.3) and the Pixel Data element's encoding (PS3.5 8.2, A.4)
must agree before a file becomes a stack the user can click: Rows and Columns above 0, Bits
Allocated 1, 8, 16, 32 or 64 (C.7.6.3.1.1 and the float pixel data of C.7.6.24), Bits Stored
within Bits Allocated, High Bit within Bits Allocated, Samples per Pixel as the Photometric
Interpretation requires (C.7.6.3.1.2), native Pixel Data holding every frame (PS3.5 8.1.1),
a Pixel Data length inside the file, and encapsulated Pixel Data (undefined length, PS3.5
A.4) exactly when the transfer syntax is encapsulated.

Both header readers check here: the lean walker reads the Pixel Data element's header (its
position and length, never its value) as it goes; pydicom's path asks
:func:`locate_pixel_data` for the same with one bounded walk.
"""

from __future__ import annotations

import math
import os
import stat
import struct
from dataclasses import dataclass

from viewer.dicom import limits
from viewer.dicom.io import header_parser as hp

#: Samples per Pixel each Photometric Interpretation requires (PS3.3 C.7.6.3.1.2).
SAMPLES_OF = {
    "MONOCHROME1": 1,
    "MONOCHROME2": 1,
    "PALETTE COLOR": 1,
    "RGB": 3,
    "HSV": 3,
    "YBR_FULL": 3,
    "YBR_FULL_422": 3,
    "YBR_PARTIAL_422": 3,
    "YBR_PARTIAL_420": 3,
    "YBR_ICT": 3,
    "YBR_RCT": 3,
    "ARGB": 4,
    "CMYK": 4,
}
BITS_ALLOCATED = (1, 8, 16, 32, 64)


@dataclass(frozen=True, slots=True)
class PixelModule:
    """What a header says about its pixels; None where an attribute is absent.

    ``pixel_offset``/``pixel_length`` locate Pixel Data (7FE0,0010)'s value; both None when
    the file has none or it was not located; ``pixel_length`` is hp.UNDEFINED_LENGTH for
    encapsulated data.
    """

    rows: int | None
    columns: int | None
    samples: int | None
    photometric: str
    bits_allocated: int | None
    bits_stored: int | None
    high_bit: int | None
    frames: int
    transfer_syntax: str
    pixel_offset: int | None
    pixel_length: int | None
    file_size: int
    has_pixel_data: bool | None = None


def problem(module: PixelModule) -> str | None:
    """Why ``module`` can never decode, or None. Files without Pixel Data are not judged."""
    located = module.pixel_length is not None
    if module.has_pixel_data is False or not (located or module.rows is not None):
        return None
    return _attribute_problem(module) or (_encoding_problem(module) if located else None)


def _attribute_problem(m: PixelModule) -> str | None:
    for name, value in (("Rows", m.rows), ("Columns", m.columns)):
        if not value:
            return f"impossible image: {name} is {value or 0}"
    allocated = m.bits_allocated
    if allocated is None:
        return "impossible image: no Bits Allocated"
    if allocated not in BITS_ALLOCATED:
        return f"impossible image: Bits Allocated {allocated} (must be 1, 8, 16, 32 or 64)"
    if m.bits_stored is not None and not 0 < m.bits_stored <= allocated:
        return f"impossible image: Bits Stored {m.bits_stored} with Bits Allocated {allocated}"
    if m.high_bit is not None and not 0 <= m.high_bit < allocated:
        return f"impossible image: High Bit {m.high_bit} outside Bits Allocated {allocated}"
    wanted = SAMPLES_OF.get(m.photometric)
    samples = m.samples if m.samples is not None else 1
    if wanted is not None and samples != wanted:
        return (
            f"impossible image: Samples per Pixel {samples} with Photometric Interpretation "
            f"{m.photometric} (which needs {wanted})"
        )
    if wanted is None and samples not in (1, 3, 4):
        return f"impossible image: Samples per Pixel {samples}"
    return None


def _encoding_problem(m: PixelModule) -> str | None:
    syntax = m.transfer_syntax
    if not syntax or syntax == limits.DEFLATED_SYNTAX or m.pixel_offset is None:
        return None
    length = m.pixel_length
    encapsulated_data = length == hp.UNDEFINED_LENGTH
    if syntax in limits.NATIVE_SYNTAXES:
        if encapsulated_data:
            return "impossible image: encapsulated Pixel Data in a native transfer syntax"
    elif syntax.startswith(hp.ENCAPSULATED_PREFIXES):
        if not encapsulated_data:
            return "impossible image: native Pixel Data in an encapsulated transfer syntax"
    else:
        return None  # a syntax we do not know: the decoder says what it is
    size = m.file_size
    rows, columns, allocated = m.rows or 0, m.columns or 0, m.bits_allocated or 0
    shape = f"{rows} x {columns}"
    if not encapsulated_data:
        assert length is not None
        if m.pixel_offset + length > size:
            claims, holds = limits.readable_sizes(length, max(0, size - m.pixel_offset))
            return f"pixel data truncated: Pixel Data claims {claims} but the file holds {holds}"
        samples = m.samples or 1
        # Native YBR_*_422 holds two samples per pixel, YBR_PARTIAL_420 one and a half
        # (PS3.3 C.7.6.3.1.2, PS3.5 8.2.1).
        per_pixel = {"YBR_FULL_422": 2.0, "YBR_PARTIAL_422": 2.0, "YBR_PARTIAL_420": 1.5}.get(
            m.photometric, float(samples)
        )
        needed = math.ceil(rows * columns * per_pixel * m.frames * allocated / 8)
        if length < needed:
            needs, holds = limits.readable_sizes(needed, length)
            return (
                f"pixel data truncated: {m.frames} frame(s) of {shape} x {samples} sample(s) "
                f"at {allocated} bits need {needs} but Pixel Data holds {holds}"
            )
        return None
    frame = rows * columns * (m.samples or 1) * max(1, math.ceil(allocated / 8))
    if frame > max(limits.SMALL_BYTES, size * limits.MAX_FRAME_EXPANSION):
        return (
            f"impossible image: a {shape} frame would decode to {limits.readable_size(frame)} "
            f"from a file of {limits.readable_size(size)}"
        )
    return None


#: Opening never waits on a pipe or device.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def locate_pixel_data(path: str) -> tuple[int | None, int | None, int] | None:
    """(value offset, length, file size) of Pixel Data ((None, None, size) when the file has
    none), or None when the lean walk cannot tell (deflated or odd files: then only the
    attributes are judged)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        source, meta, pos = hp.open_part10_fd(fd, info.st_size)
        raw = meta.get(0x00020010)
        syntax = raw[1].decode("ascii").strip("\x00 ") if raw else ""
        explicit, little = hp.encoding_of(syntax)
        elements = hp.read_dataset(
            source, pos, explicit, little, (), hp.PIXEL_DATA - 1, pixel_data=True
        )
    except (hp.Unusual, OSError, struct.error, ValueError, UnicodeDecodeError):
        return None
    finally:
        os.close(fd)
    located = hp.pixel_data_location(elements)
    if located is None:
        return None, None, info.st_size
    return located[0], located[1], info.st_size
