"""A lean DICOM header walker: raw bytes of the few elements the index needs, nothing more.

It reads the first few KiB of a file (more only when the header is longer), checks the
preamble and ``DICM`` (PS3.10 7.1), reads the File Meta Information (group 0002, always
explicit VR little endian, PS3.10 7.1), then walks the data set's elements in the transfer
syntax's encoding: explicit VR (PS3.5 7.1.2), implicit VR (PS3.5 7.1.3), little or big
endian (PS3.5 7.3). Sequences are skipped whole, of defined or undefined length (PS3.5 7.5),
an undefined-length UN value as implicit VR little endian (PS3.5 6.2.2). The walk stops at
the first tag past the last one wanted, so pixel data is never read.

Anything this walker is not certain of raises :class:`Unusual` (deflated or unknown transfer
syntaxes, elements out of order, unknown VRs, implicit/explicit mix-ups, truncation, wanted
sequences such as the functional groups); the caller then reads the file with pydicom, so
what the index learns never depends on which reader ran.

Values are returned raw, as ``(VR, bytes)``; :mod:`viewer.dicom.io.fast_header` decodes them.
"""

from __future__ import annotations

import functools
import os
import struct
from collections.abc import Callable, Collection
from typing import BinaryIO

#: A raw element: (the VR's two bytes, the value's bytes).
Raw = tuple[bytes, bytes]
Elements = dict[int, Raw]

#: The first read; CT/MR headers nearly always end before this (PS3.10 files).
INITIAL_READ = 8192
#: What a handle without a size may be read up to (files of a normal file system have one).
MAX_UNSIZED_READ = 1 << 30
#: Nested sequences deeper than this are not walked (a guard against crafted files).
MAX_DEPTH = 24
PREAMBLE_END = 132
UNDEFINED_LENGTH = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
#: Pixel Data (7FE0,0010): with ``pixel_data=True`` a walk that stops there records where its
#: value starts and its length (PS3.5 7.1), packed as PIXEL_LOCATION, never the value.
PIXEL_DATA = 0x7FE00010
PIXEL_LOCATION = struct.Struct("<QQ")

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
#: Encapsulated syntaxes (JPEG family, JPEG 2000, JPEG-LS, RLE, MPEG, HTJ2K...): the data set
#: itself is explicit VR little endian (PS3.5 A.4).
ENCAPSULATED_PREFIXES = ("1.2.840.10008.1.2.4.", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1.98")

#: VRs whose explicit encoding has a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
LONG_LENGTH_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
SHORT_LENGTH_VRS = frozenset(
    {
        b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO",
        b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
    }
)  # fmt: skip

_EXPLICIT = {True: struct.Struct("<HH2sH"), False: struct.Struct(">HH2sH")}
_LONG = {True: struct.Struct("<L"), False: struct.Struct(">L")}
_IMPLICIT = {True: struct.Struct("<HHL"), False: struct.Struct(">HHL")}


class Unusual(Exception):
    """The file needs the general reader (pydicom); the message says why."""


class Source:
    """A file's bytes from offset 0, read further only as the walk needs them.

    Reads never go past ``size`` (the file's size): a forged length cannot make it ask for,
    and allocate, more than the file holds.
    """

    __slots__ = ("_read", "_size", "data")

    def __init__(self, read: Callable[[int], bytes], size: int, first: bytes) -> None:
        self._read = read
        self._size = size
        self.data = first

    @property
    def size(self) -> int:
        """The file's size (what reads never go past)."""
        return self._size

    def read_all(self) -> bytes:
        """Every byte of the file (for small files walked in memory, such as a DICOMDIR)."""
        return self.need(self._size)

    def need(self, end: int) -> bytes:
        """The bytes read so far, extended to cover ``[0, end)`` as far as the file goes."""
        have = len(self.data)
        while end > have < self._size:
            more = self._read(min(max(end - have, have), self._size - have))
            if not more:
                break
            self.data += more
            have = len(self.data)
        return self.data


def encoding_of(transfer_syntax: str) -> tuple[bool, bool]:
    """(explicit VR, little endian) of a transfer syntax (PS3.5 Section 10, Annex A)."""
    if transfer_syntax == EXPLICIT_VR_LITTLE_ENDIAN or transfer_syntax.startswith(
        ENCAPSULATED_PREFIXES
    ):
        return True, True
    if transfer_syntax == IMPLICIT_VR_LITTLE_ENDIAN:
        return False, True
    if transfer_syntax == EXPLICIT_VR_BIG_ENDIAN:
        return True, False
    raise Unusual(f"transfer syntax {transfer_syntax!r}")


def open_part10(handle: BinaryIO) -> tuple[Source, Elements, int]:
    """Check the preamble and read the File Meta Information (PS3.10 7.1).

    Returns the source, the meta elements and the offset where the data set starts.
    """
    try:
        size = os.fstat(handle.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        size = MAX_UNSIZED_READ
    return _part10(Source(handle.read, size, handle.read(INITIAL_READ)))


def open_part10_fd(fd: int, size: int) -> tuple[Source, Elements, int]:
    """:func:`open_part10` on a file descriptor of a regular file of ``size`` bytes."""
    return _part10(Source(functools.partial(os.read, fd), size, os.read(fd, INITIAL_READ)))


def meta_transfer_syntax(head: bytes) -> tuple[str, int] | None:
    """(Transfer Syntax UID, where the data set starts) from a file's first bytes ``head``.

    The File Meta Information (PS3.10 7.1) follows the preamble's ``DICM`` or, as pydicom also
    reads it, starts the file. None when there is none or it does not end within ``head``.
    """
    at = PREAMBLE_END if head[128:PREAMBLE_END] == b"DICM" else 0
    if head[at : at + 2] != b"\x02\x00":
        return None
    try:
        _, meta, start = _part10(Source(lambda _n: b"", len(head), head), at)
    except (Unusual, struct.error):
        return None
    raw = meta.get(0x00020010, (b"", b""))[1]
    return raw.decode("ascii", "replace").strip("\x00 "), start


def _part10(source: Source, pos: int = PREAMBLE_END) -> tuple[Source, Elements, int]:
    data = source.data
    if pos == PREAMBLE_END and data[128:PREAMBLE_END] != b"DICM":
        raise Unusual("no DICM preamble")
    meta: Elements = {}
    unpack = _EXPLICIT[True].unpack_from
    while True:
        if pos + 12 > len(data):
            data = source.need(pos + 12)
            if pos + 8 > len(data):
                break
        group, element, vr, length = unpack(data, pos)
        if group != 0x0002:
            break
        if vr in SHORT_LENGTH_VRS:
            pos += 8
        elif vr in LONG_LENGTH_VRS:
            length = _LONG[True].unpack_from(data, pos + 8)[0]
            pos += 12
        else:
            raise Unusual("file meta information is not explicit VR")
        end = pos + length
        if end > len(data):
            data = source.need(end)
            if end > len(data):
                raise Unusual("value runs past the end of the file")
        meta[group << 16 | element] = (vr, data[pos:end])
        pos = end
    return source, meta, pos


def read_dataset(
    source: Source,
    pos: int,
    explicit: bool,
    little: bool,
    wanted: Collection[int],
    last_wanted: int,
    pixel_data: bool = False,
) -> Elements:
    """The ``wanted`` top-level elements, walking in order until a tag past ``last_wanted``.

    ``pixel_data``: when that tag is Pixel Data, its location is recorded too (see
    :func:`pixel_data_location`).
    """
    if explicit:
        found, pos = _explicit_dataset(source, pos, little, wanted, last_wanted)
    else:
        found, pos = _implicit_dataset(source, pos, wanted, last_wanted)
    if pixel_data:
        _locate_pixel_data(source, pos, explicit, little, found)
    return found


def pixel_data_location(elements: Elements) -> tuple[int, int] | None:
    """(offset of the value, length) of Pixel Data as a ``pixel_data`` walk recorded it;
    the length is UNDEFINED_LENGTH for encapsulated data (PS3.5 A.4)."""
    raw = elements.get(PIXEL_DATA)
    if raw is None:
        return None
    offset, length = PIXEL_LOCATION.unpack(raw[1])
    return offset, length


def _locate_pixel_data(
    source: Source, pos: int, explicit: bool, little: bool, found: Elements
) -> None:
    data = source.need(pos + 12)
    if pos + 8 > len(data):
        return
    group, element = struct.unpack_from("<HH" if little else ">HH", data, pos)
    if (group << 16 | element) != PIXEL_DATA:
        return
    if not explicit:
        length = _IMPLICIT[little].unpack_from(data, pos)[2]
        found[PIXEL_DATA] = (b"", PIXEL_LOCATION.pack(pos + 8, length))
        return
    vr = data[pos + 4 : pos + 6]
    if vr in LONG_LENGTH_VRS and pos + 12 <= len(data):
        length = _LONG[little].unpack_from(data, pos + 8)[0]
        found[PIXEL_DATA] = (vr, PIXEL_LOCATION.pack(pos + 12, length))
    elif vr in SHORT_LENGTH_VRS:
        length = _EXPLICIT[little].unpack_from(data, pos)[3]
        found[PIXEL_DATA] = (vr, PIXEL_LOCATION.pack(pos + 8, length))


def _explicit_dataset(
    source: Source, pos: int, little: bool, wanted: Collection[int], last_wanted: int
) -> tuple[Elements, int]:
    # The hot loop of indexing: locals only, one unpack per element.
    unpack = _EXPLICIT[little].unpack_from
    unpack_long = _LONG[little].unpack_from
    short_vrs = SHORT_LENGTH_VRS
    found: Elements = {}
    previous = -1
    data = source.data
    size = len(data)
    while True:
        if pos + 12 > size:
            data = source.need(pos + 12)
            size = len(data)
            if pos + 8 > size:
                _expect_end(pos, size)
                break
        group, element, vr, length = unpack(data, pos)
        tag = group << 16 | element
        if tag > last_wanted:
            break
        if tag <= previous:
            raise Unusual("data elements out of order")
        previous = tag
        if vr in short_vrs:
            pos += 8
        elif vr in LONG_LENGTH_VRS:
            length = unpack_long(data, pos + 8)[0]
            pos += 12
            if length == UNDEFINED_LENGTH:
                if tag in wanted or vr not in (b"SQ", b"UN"):
                    raise Unusual(f"undefined length in ({group:04X},{element:04X})")
                pos = _skip_undefined(source, pos, vr, little, 1)
                data = source.data
                size = len(data)
                continue
        else:
            raise Unusual(f"unknown VR {vr!r}")
        if tag in wanted:
            end = pos + length
            if end > size:
                data = source.need(end)
                size = len(data)
                if end > size:
                    raise Unusual("value runs past the end of the file")
            found[tag] = (vr, data[pos:end])
        pos += length
    return found, pos


def _implicit_dataset(
    source: Source, pos: int, wanted: Collection[int], last_wanted: int
) -> tuple[Elements, int]:
    header = _IMPLICIT[True]
    data = source.need(pos + 8)
    if _looks_explicit(data, pos):
        raise Unusual("implicit VR transfer syntax but explicit VR elements")
    found: Elements = {}
    previous = -1
    size = len(data)
    while True:
        if pos + 8 > size:
            data = source.need(pos + 8)
            size = len(data)
            if pos + 8 > size:
                _expect_end(pos, size)
                break
        group, element, length = header.unpack_from(data, pos)
        tag = group << 16 | element
        if tag > last_wanted:
            break
        if tag <= previous:
            raise Unusual("data elements out of order")
        previous = tag
        pos += 8
        if length == UNDEFINED_LENGTH:
            if tag in wanted:
                raise Unusual(f"undefined length in ({group:04X},{element:04X})")
            pos = skip_sequence(source, pos, False, True, 1)
            data = source.data
            size = len(data)
            continue
        if tag in wanted:
            found[tag] = (b"", _value(source, pos, length))
            data = source.data
            size = len(data)
        pos += length
    return found, pos


def _looks_explicit(data: bytes, pos: int) -> bool:
    """pydicom's test: two upper-case letters where an implicit length would start."""
    return len(data) >= pos + 6 and 0x40 < data[pos + 4] < 0x5B and 0x40 < data[pos + 5] < 0x5B


def _expect_end(pos: int, size: int) -> None:
    if pos != size:
        raise Unusual("truncated data element header")


def _value(source: Source, pos: int, length: int) -> bytes:
    end = pos + length
    data = source.need(end)
    if end > len(data):
        raise Unusual("value runs past the end of the file")
    return data[pos:end]


def _skip_undefined(source: Source, pos: int, vr: bytes, little: bool, depth: int) -> int:
    """Skip an undefined-length SQ, or a UN whose items are implicit VR LE (PS3.5 6.2.2)."""
    if vr == b"SQ":
        return skip_sequence(source, pos, True, little, depth)
    if not little:
        raise Unusual("undefined-length UN in a big endian data set")
    return skip_sequence(source, pos, False, True, depth)


def skip_sequence(source: Source, pos: int, explicit: bool, little: bool, depth: int) -> int:
    """Offset just past an undefined-length sequence's delimitation item (PS3.5 7.5.2)."""
    if depth > MAX_DEPTH:
        raise Unusual("sequences nested too deeply")
    header = _IMPLICIT[little]
    while True:
        data = source.need(pos + 8)
        if pos + 8 > len(data):
            raise Unusual("sequence runs past the end of the file")
        group, element, length = header.unpack_from(data, pos)
        tag = group << 16 | element
        pos += 8
        if tag == SEQUENCE_DELIMITER:
            return pos
        if tag != ITEM:
            raise Unusual("sequence without item")
        if length == UNDEFINED_LENGTH:
            _, pos = walk_item(source, pos, None, explicit, little, (), depth)
        else:
            pos += length


def walk_item(
    source: Source,
    pos: int,
    end: int | None,
    explicit: bool,
    little: bool,
    keep: Collection[int] | None,
    depth: int,
) -> tuple[Elements, int]:
    """Elements of one item (``keep``: which to return; None for all), and where it ends.

    ``end`` is the item's end for a defined length, or None to walk to its delimitation
    item (PS3.5 7.5.2). Nested sequences are skipped.
    """
    found: Elements = {}
    while end is None or pos < end:
        data = source.need(pos + 12)
        if pos + 8 > len(data):
            raise Unusual("item runs past the end of the file")
        if explicit:
            group, element, vr, length = _EXPLICIT[little].unpack_from(data, pos)
        else:
            group, element, length = _IMPLICIT[little].unpack_from(data, pos)
            vr = b""
        tag = group << 16 | element
        if tag == ITEM_DELIMITER:
            return found, pos + 8
        if not explicit or vr in SHORT_LENGTH_VRS:
            pos += 8
        elif vr in LONG_LENGTH_VRS:
            length = _LONG[little].unpack_from(data, pos + 8)[0]
            pos += 12
        else:
            raise Unusual(f"unknown VR {vr!r} in a sequence item")
        if length == UNDEFINED_LENGTH:
            if explicit and vr not in (b"SQ", b"UN"):
                raise Unusual("undefined length outside a sequence")
            pos = _skip_undefined(source, pos, vr if explicit else b"UN", little, depth + 1)
            continue
        if keep is None or tag in keep:
            found[tag] = (vr, _value(source, pos, length))
        pos += length
    if pos != end:
        raise Unusual("item length does not match its elements")
    return found, pos


def read_items(
    source: Source, pos: int, length: int, explicit: bool, little: bool
) -> tuple[list[tuple[int, Elements]], int]:
    """The items of a sequence value starting at ``pos``: (item offset, all its elements).

    The offset is where the item's tag starts, counted from the start of the file (what
    DICOMDIR record offsets point at, PS3.3 F.3.2.1). The rest of the file is read at once
    (a DICOMDIR is a few MiB at most) and walked in memory.
    """
    data = source.read_all()
    item_header = _IMPLICIT[little].unpack_from
    items: list[tuple[int, Elements]] = []
    end = len(data) if length == UNDEFINED_LENGTH else pos + length
    if end > len(data):
        raise Unusual("sequence runs past the end of the file")
    while pos < end:
        group, element, item_length = item_header(data, pos)
        tag = group << 16 | element
        if tag == SEQUENCE_DELIMITER:
            return items, pos + 8
        if tag != ITEM:
            raise Unusual("sequence without item")
        item_end = None if item_length == UNDEFINED_LENGTH else pos + 8 + item_length
        if item_end is not None and item_end > end:
            raise Unusual("item runs past the end of its sequence")
        if explicit:
            elements, after = _explicit_item(source, data, pos + 8, item_end, little)
        else:
            elements, after = walk_item(source, pos + 8, item_end, False, little, None, 1)
        items.append((pos, elements))
        pos = after
    if length == UNDEFINED_LENGTH:
        raise Unusual("sequence without delimitation item")
    return items, pos


def _explicit_item(
    source: Source, data: bytes, pos: int, end: int | None, little: bool
) -> tuple[Elements, int]:
    """All elements of one explicit VR item held in ``data`` (a DICOMDIR record, mostly)."""
    unpack = _EXPLICIT[little].unpack_from
    unpack_long = _LONG[little].unpack_from
    short_vrs = SHORT_LENGTH_VRS
    limit = len(data) if end is None else end
    found: Elements = {}
    while pos < limit:
        group, element, vr, length = unpack(data, pos)
        if vr in short_vrs:
            pos += 8
        elif vr in LONG_LENGTH_VRS:
            length = unpack_long(data, pos + 8)[0]
            pos += 12
            if length == UNDEFINED_LENGTH:
                if vr not in (b"SQ", b"UN"):
                    raise Unusual("undefined length outside a sequence")
                pos = _skip_undefined(source, pos, vr, little, 2)
                continue
        elif group == 0xFFFE and element == 0xE00D and end is None:
            return found, pos + 8
        else:
            raise Unusual(f"unknown VR {vr!r} in a sequence item")
        found[group << 16 | element] = (vr, data[pos : pos + length])
        pos += length
    if end is None or pos != end:
        raise Unusual("item length does not match its elements")
    return found, pos


def read_sequence_items(
    source: Source, pos: int, explicit: bool, little: bool, sequence_tag: int
) -> tuple[Elements, list[tuple[int, Elements]]]:
    """The top-level elements before ``sequence_tag``, and that sequence's items."""
    found: Elements = {}
    while True:
        data = source.need(pos + 12)
        if pos + 8 > len(data):
            raise Unusual("sequence not found")
        if explicit:
            group, element, vr, length = _EXPLICIT[little].unpack_from(data, pos)
            if vr in LONG_LENGTH_VRS:
                length = _LONG[little].unpack_from(data, pos + 8)[0]
                pos += 4
            elif vr not in SHORT_LENGTH_VRS:
                raise Unusual(f"unknown VR {vr!r}")
        else:
            group, element, length = _IMPLICIT[little].unpack_from(data, pos)
            vr = b""
        pos += 8
        tag = group << 16 | element
        if tag == sequence_tag:
            return found, read_items(source, pos, length, explicit, little)[0]
        if length == UNDEFINED_LENGTH:
            pos = _skip_undefined(source, pos, vr if explicit else b"UN", little, 1)
            continue
        found[tag] = (vr, _value(source, pos, length))
        pos += length
