"""Overlay planes (PS3.3 C.9.2, repeating groups 6000-601E) as boolean masks for one frame.

Each plane has Overlay Rows/Columns (60xx,0010/0011), Overlay Origin (60xx,0050: the 1-based
row, column of its first pixel on the image, C.9.2.1.2, possibly outside it), Overlay Type
(60xx,0040: G graphics or R region of interest) and Overlay Data (60xx,3000): one bit per
pixel, packed with the first pixel in the least significant bit of the first byte (PS3.5
8.1.2, C.9.2.1.3), the frames of a multi-frame overlay following each other bit after bit.
Number of Frames in Overlay (60xx,0015) and Image Frame Origin (60xx,0051, 1-based) say
which image frames a multi-frame overlay covers; a single-frame overlay that names no frame
covers every frame (as DCMTK shows it).

Overlays embedded in the unused high bits of Pixel Data (retired since 2004) are reported as
unsupported. No Qt. :func:`read_file_overlays` is the image view's entry point: it reads a
file's overlay planes once (a lean header walk answers cheaply for the many files without
any) and unpacks a frame's masks on demand; :func:`overlay_masks` reads one frame's.
"""

from __future__ import annotations

import os
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom import decoding_stack, reasons
from viewer.dicom.io import bounded
from viewer.dicom.io import header_parser as hp

if TYPE_CHECKING:  # pydicom is imported where a file is read: the GUI appears before it loads
    from pydicom.dataset import Dataset

#: The repeating groups of the Overlay Plane module (PS3.5 7.6: even groups 6000-601E).
OVERLAY_GROUPS = tuple(range(0x6000, 0x601F, 2))

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class OverlayMask:
    """One overlay plane of one frame.

    ``mask`` is (Overlay Rows, Overlay Columns), True where the overlay is drawn; ``origin``
    is the 0-based (row, column) of ``mask[0, 0]`` on the image, which may be negative or
    beyond the image (only the overlap is shown). ``kind`` is "G" (graphics) or "R" (ROI).
    """

    group: int
    mask: BoolArray
    origin: tuple[int, int]
    kind: str = "G"
    label: str = ""
    description: str = ""
    subtype: str = ""

    def on_image(self, rows: int, columns: int) -> BoolArray:
        """The mask placed on a (rows, columns) image grid, cropped to it."""
        return place_on_image(self.mask, self.origin, rows, columns)

    def visible_part(self, rows: int, columns: int) -> tuple[BoolArray, tuple[int, int]] | None:
        """The part of the mask over a (rows, columns) image and the 0-based (row, column) of
        its first pixel there; None when the overlay lies wholly off the image."""
        top, left = self.origin
        row0, col0 = max(top, 0), max(left, 0)
        row1 = min(top + self.mask.shape[0], rows)
        col1 = min(left + self.mask.shape[1], columns)
        if row0 >= row1 or col0 >= col1:
            return None
        return self.mask[row0 - top : row1 - top, col0 - left : col1 - left], (row0, col0)


@dataclass(frozen=True)
class OverlayResult:
    """The masks of one frame, and one readable line per overlay that could not be shown."""

    masks: tuple[OverlayMask, ...]
    problems: tuple[str, ...] = ()


# --- pure functions ---------------------------------------------------------------------------
def unpack_overlay_frame(data: bytes, rows: int, columns: int, index: int = 0) -> BoolArray:
    """Frame ``index`` of bit-packed Overlay Data as a (rows, columns) mask (C.9.2.1.3).

    Only the bytes of that frame are unpacked. Raises ValueError when ``data`` is too short.
    """
    pixels = rows * columns
    first_bit = index * pixels
    last_bit = first_bit + pixels
    if rows < 1 or columns < 1 or index < 0:
        raise ValueError(f"invalid overlay size {rows} x {columns} or frame {index}")
    if last_bit > len(data) * 8:
        raise ValueError(
            f"Overlay Data has {len(data) * 8} bits, frame {index + 1} needs bits up to {last_bit}"
        )
    start, stop = first_bit // 8, (last_bit + 7) // 8
    chunk = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
    bits = np.unpackbits(chunk, bitorder="little")
    offset = first_bit - start * 8
    return bits[offset : offset + pixels].reshape(rows, columns).astype(bool)


def overlay_frame_index(
    image_frame: int, frames_in_overlay: int, image_frame_origin: int | None
) -> int | None:
    """Which overlay frame (0-based) covers 0-based ``image_frame``, or None (C.9.2.1.5).

    A single-frame overlay without an Image Frame Origin covers every frame.
    """
    if frames_in_overlay <= 1 and image_frame_origin is None:
        return 0
    first = (image_frame_origin or 1) - 1
    index = image_frame - first
    return index if 0 <= index < max(frames_in_overlay, 1) else None


def place_on_image(mask: BoolArray, origin: tuple[int, int], rows: int, columns: int) -> BoolArray:
    """``mask`` with its top-left at 0-based ``origin`` on a (rows, columns) grid, cropped."""
    placed = np.zeros((rows, columns), dtype=bool)
    top, left = origin
    row0, col0 = max(top, 0), max(left, 0)
    row1 = min(top + mask.shape[0], rows)
    col1 = min(left + mask.shape[1], columns)
    if row0 < row1 and col0 < col1:
        placed[row0:row1, col0:col1] = mask[row0 - top : row1 - top, col0 - left : col1 - left]
    return placed


# --- from a header ------------------------------------------------------------------------------
def overlays_of_dataset(ds: Dataset, frame: int = 0) -> OverlayResult:
    """Every overlay plane of ``ds`` that covers 0-based image ``frame``."""
    masks: list[OverlayMask] = []
    problems: list[str] = []
    for group in OVERLAY_GROUPS:
        if (group << 16 | 0x0010) not in ds:
            continue
        try:
            mask = _plane(ds, group, frame)
        except ValueError as error:
            problems.append(f"overlay {group:04X}: {reasons.explain(error)}")
            continue
        if mask is not None:
            masks.append(mask)
    return OverlayResult(tuple(masks), tuple(problems))


def _plane(ds: Dataset, group: int, frame: int) -> OverlayMask | None:
    rows = _int(ds, group, 0x0010)
    columns = _int(ds, group, 0x0011)
    if rows is None or columns is None or rows < 1 or columns < 1:
        raise ValueError("no usable Overlay Rows/Columns")
    data_element = ds.get(group << 16 | 0x3000)
    if data_element is None or data_element.value is None:
        raise ValueError("overlay embedded in the pixel data (retired) is not supported")
    bits_allocated = _int(ds, group, 0x0100) or 1
    if bits_allocated != 1:
        raise ValueError(f"Overlay Bits Allocated {bits_allocated} is not supported")
    index = overlay_frame_index(frame, _int(ds, group, 0x0015) or 1, _int(ds, group, 0x0051))
    if index is None:
        return None
    data = _overlay_bytes(ds, data_element)
    origin = _origin(ds, group)
    return OverlayMask(
        group=group,
        mask=unpack_overlay_frame(data, rows, columns, index),
        origin=origin,
        kind=_text(ds, group, 0x0040).upper() or "G",
        label=_text(ds, group, 0x1500),
        description=_text(ds, group, 0x0022),
        subtype=_text(ds, group, 0x0045),
    )


def _overlay_bytes(ds: Dataset, element: Any) -> bytes:
    """Overlay Data as little-endian bytes: OW in a big-endian file is swapped per word."""
    value = bytes(element.value)
    little = ds.original_encoding[1] if ds.original_encoding[1] is not None else True
    if element.VR == "OW" and not little and len(value) % 2 == 0:
        return np.frombuffer(value, dtype=">u2").astype("<u2").tobytes()
    return value


def _origin(ds: Dataset, group: int) -> tuple[int, int]:
    """Overlay Origin (1-based row, column; default 1, 1) as a 0-based (row, column)."""
    found = ds.get(group << 16 | 0x0050)
    value = None if found is None else found.value
    values = list(value) if isinstance(value, (list, tuple)) or _is_multi(value) else []
    try:
        return (int(values[0]) - 1, int(values[1]) - 1) if len(values) == 2 else (0, 0)
    except (TypeError, ValueError):
        return (0, 0)


def _is_multi(value: object) -> bool:
    return type(value).__name__ == "MultiValue"


def _int(ds: Dataset, group: int, element: int) -> int | None:
    found = ds.get(group << 16 | element)
    if found is None or found.value in (None, ""):
        return None
    value = found.value
    if isinstance(value, (list, tuple)) or _is_multi(value):
        value = value[0] if len(value) else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(ds: Dataset, group: int, element: int) -> str:
    found = ds.get(group << 16 | element)
    if found is None or found.value is None:
        return ""
    return str(found.value).strip()


def read_overlays(path: str | os.PathLike[str], frame: int = 0) -> OverlayResult:
    """The overlay planes of image ``frame`` (0-based) of the file at ``path``.

    Reads the header only (Overlay Data comes before Pixel Data). A file that cannot be read
    gives no masks and one problem line.
    """
    ds = _read_header(path)
    if isinstance(ds, str):
        return OverlayResult((), (ds,))
    return overlays_of_dataset(ds, frame)


def _read_header(path: str | os.PathLike[str]) -> Dataset | str:
    """The file's header (bounded, never the pixels), or why it cannot be read."""
    decoding_stack.load()
    from pydicom import dcmread

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bounded.bounded(dcmread, path, stop_before_pixels=True, force=True)
    except Exception as error:  # fault boundary: overlays are optional
        return f"cannot read {os.fspath(path)}: {reasons.explain(error)}"


@dataclass(frozen=True, eq=False)
class FileOverlays:
    """The overlay planes of one file, read once; each frame's masks unpacked on demand.

    ``header`` holds only the file's overlay groups (60xx) when it has any, else it is None;
    ``problems`` says why the file could not be read.
    """

    header: Dataset | None = None
    problems: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.header is None

    def result(self, frame: int = 0) -> OverlayResult:
        """The planes covering 0-based image ``frame`` (bit unpacking only: cheap)."""
        if self.header is None:
            return OverlayResult((), self.problems)
        return overlays_of_dataset(self.header, frame)


def read_file_overlays(path: str | os.PathLike[str]) -> FileOverlays:
    """The overlay planes of the file at ``path`` (reads the header once, never the pixels).

    Most files have none: a lean walk of the header bytes that finds no Overlay Rows
    (60xx,0010) answers without pydicom (0.05 ms against 0.7 ms for a CT slice).
    """
    if not _may_have_overlays(path):
        return FileOverlays()
    ds = _read_header(path)
    if isinstance(ds, str):
        return FileOverlays(None, (ds,))
    from pydicom.dataset import Dataset

    planes = Dataset()
    for element in ds:
        if element.tag.group in OVERLAY_GROUPS:
            planes.add(element)
    if not any((group << 16 | 0x0010) in planes for group in OVERLAY_GROUPS):
        return FileOverlays()
    planes.set_original_encoding(*ds.original_encoding)  # how OW Overlay Data is swapped
    return FileOverlays(planes)


#: Overlay Rows of every overlay group: finding none means the file has no overlay plane.
_OVERLAY_ROWS = frozenset(group << 16 | 0x0010 for group in OVERLAY_GROUPS)


def _may_have_overlays(path: str | os.PathLike[str]) -> bool:
    """False when a lean header walk (viewer.dicom.io.header_parser) finds no Overlay Rows;
    True when it finds one or is unsure (then pydicom reads the file)."""
    try:
        with open(path, "rb") as handle:
            source, meta, pos = hp.open_part10(handle)
            syntax_element = meta.get(0x00020010)
            syntax = syntax_element[1].decode("ascii").strip(" \x00") if syntax_element else ""
            explicit, little = hp.encoding_of(syntax)
            found = hp.read_dataset(
                source, pos, explicit, little, _OVERLAY_ROWS, max(_OVERLAY_ROWS)
            )
    except (hp.Unusual, OSError, ValueError, UnicodeDecodeError, struct.error):
        return True
    return bool(found)


def overlay_masks(path: str | os.PathLike[str], frame: int = 0) -> list[OverlayMask]:
    """The overlay masks of image ``frame`` (0-based); see :func:`read_overlays` for problems."""
    return list(read_overlays(path, frame).masks)
