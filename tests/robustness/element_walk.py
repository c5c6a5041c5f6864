"""Where each data element of a DICOM file sits in its bytes, for damaging files on purpose.

A small, tolerant walker of PS3.10 files (preamble, File Meta Information in explicit VR little
endian, then the data set in explicit or implicit VR little endian, PS3.5 7.1): it records the
offset of every element's tag, VR and length field, descending into sequence items (PS3.5
7.5), and stops quietly at the first thing it does not understand. The bad-file generators
and the fuzz test use it to change length fields and VRs at real element boundaries.
"""

from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass

PREAMBLE_END = 132
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
LONG_VRS = frozenset(
    [b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"]
)
#: Walks stop after this many elements (a fuzzed file may describe millions).
MAX_ELEMENTS = 20_000


@dataclass(frozen=True)
class Element:
    """One element header: ``offset`` of its tag, its length field and its value."""

    tag: int
    vr: bytes  # b"" for implicit VR and for items/delimiters
    length: int
    length_offset: int
    length_size: int  # 2 or 4 bytes
    value_offset: int
    depth: int

    @property
    def vr_offset(self) -> int | None:
        return self.offset + 4 if self.vr else None

    @property
    def offset(self) -> int:
        return self.value_offset - (8 if self.length_size == 2 or not self.vr else 12)


def _element_at(data: bytes, at: int, explicit: bool, depth: int) -> Element:
    group, number = struct.unpack_from("<HH", data, at)
    tag = group << 16 | number
    if not explicit or group == 0xFFFE:
        (length,) = struct.unpack_from("<L", data, at + 4)
        return Element(tag, b"", length, at + 4, 4, at + 8, depth)
    vr = data[at + 4 : at + 6]
    if vr in LONG_VRS:
        (length,) = struct.unpack_from("<L", data, at + 8)
        return Element(tag, vr, length, at + 8, 4, at + 12, depth)
    (length,) = struct.unpack_from("<H", data, at + 6)
    return Element(tag, vr, length, at + 6, 2, at + 8, depth)


def meta_elements(data: bytes) -> list[Element]:
    """The File Meta Information elements (group 0002, explicit VR LE) after the preamble."""
    found: list[Element] = []
    at = PREAMBLE_END
    try:
        while at + 8 <= len(data) and data[at : at + 2] == b"\x02\x00":
            element = _element_at(data, at, True, 0)
            found.append(element)
            at = element.value_offset + element.length
    except struct.error:
        pass
    return found


def dataset_start(data: bytes) -> int:
    """Where the data set starts: after the File Meta Information."""
    meta = meta_elements(data)
    return meta[-1].value_offset + meta[-1].length if meta else PREAMBLE_END


def walk(data: bytes, explicit: bool = True) -> list[Element]:
    """Meta elements, then the data set's elements (nested ones too), in file order."""
    found = meta_elements(data)
    with contextlib.suppress(struct.error, _Stop):
        _walk_items(data, dataset_start(data), len(data), explicit, 0, found)
    return found


class _Stop(Exception):
    pass


def _walk_items(
    data: bytes, at: int, end: int, explicit: bool, depth: int, found: list[Element]
) -> int:
    """Walk elements from ``at`` until ``end`` or a delimiter; return the offset after."""
    while at + 8 <= min(end, len(data)):
        if len(found) >= MAX_ELEMENTS or depth > 64:
            raise _Stop
        element = _element_at(data, at, explicit, depth)
        found.append(element)
        if element.tag in (ITEM_END, SEQUENCE_END):
            return element.value_offset
        at = _after(data, element, explicit, depth, found)
    return at


def _after(data: bytes, element: Element, explicit: bool, depth: int, found: list[Element]) -> int:
    """The offset after ``element``'s value, walking into sequences and items."""
    if element.tag == PIXEL_DATA and element.length == UNDEFINED:
        return _walk_fragments(data, element.value_offset, depth + 1, found)
    is_sequence = element.vr == b"SQ" or (not element.vr and element.length == UNDEFINED)
    if element.tag == ITEM or is_sequence:
        end = len(data) if element.length == UNDEFINED else element.value_offset + element.length
        return _walk_items(data, element.value_offset, end, explicit, depth + 1, found)
    if element.length == UNDEFINED:
        raise _Stop
    return element.value_offset + element.length


def _walk_fragments(data: bytes, at: int, depth: int, found: list[Element]) -> int:
    """Encapsulated Pixel Data: items holding fragments, then a sequence delimiter."""
    while at + 8 <= len(data):
        element = _element_at(data, at, False, depth)
        found.append(element)
        at = element.value_offset + (0 if element.length == UNDEFINED else element.length)
        if element.tag != ITEM:
            break
    return at


def find(data: bytes, tag: int, explicit: bool = True) -> Element:
    """The first element with ``tag`` (KeyError when the walk does not meet it)."""
    for element in walk(data, explicit):
        if element.tag == tag:
            return element
    raise KeyError(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) not found")


def with_length(data: bytes, element: Element, length: int) -> bytes:
    """``data`` with ``element``'s length field set to ``length`` (clipped to its size)."""
    size = element.length_size
    value = length & (0xFFFF if size == 2 else 0xFFFFFFFF)
    packed = struct.pack("<H" if size == 2 else "<L", value)
    return data[: element.length_offset] + packed + data[element.length_offset + size :]


def explicit_element(tag: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
    """One explicit VR little endian element (PS3.5 7.1.2); ``length`` overrides the field."""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr
    size = len(value) if length is None else length
    if vr in LONG_VRS:
        return head + b"\x00\x00" + struct.pack("<L", size) + value
    return head + struct.pack("<H", size) + value


def replaced(data: bytes, element: Element, new: bytes) -> bytes:
    """``data`` with the whole of ``element`` (header and value) replaced by ``new``."""
    end = element.value_offset + element.length
    return data[: element.offset] + new + data[end:]


def inserted_before(data: bytes, tag: int, new: bytes) -> bytes:
    """``data`` with ``new`` inserted before the first top-level element whose tag is > ``tag``."""
    start = dataset_start(data)
    for element in walk(data):
        if element.depth == 0 and element.offset >= start and element.tag > tag:
            return data[: element.offset] + new + data[element.offset :]
    return data + new
