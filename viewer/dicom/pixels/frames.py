"""What decoding one frame answers: the stored values and the header facts the display needs.

:class:`DecodedFrame` (stored values plus a :class:`PixelTransform` for PS3.3 C.11) and
:class:`DecodeError` are produced by :mod:`viewer.dicom.pixels.decode`. They live here, apart from
the decoding, so that code which only handles decoded frames (the GUI, the display model) need not
import pydicom and its decoders: the main window can appear before those are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from viewer.dicom.pixels import lut


class DecodeError(Exception):
    """A frame could not be decoded; ``reason`` is one readable line."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = " ".join(reason.split()) or "unknown error"
        super().__init__(f"{path}: {self.reason}")


class Window(NamedTuple):
    """One VOI window (PS3.3 C.11.2.1.2): Window Center, Width and its explanation."""

    center: float
    width: float
    explanation: str = ""


@dataclass(frozen=True, eq=False)
class LookupTable:
    """A LUT from the header: Modality LUT (C.11.1.1.1), VOI LUT (C.11.2.1.1) or palette.

    ``first_mapped`` and ``bits`` are the 2nd and 3rd values of its LUT Descriptor; ``data``
    is read-only, (entries,) or (entries, 3) red/green/blue for a palette (C.7.6.3.1.5).
    """

    first_mapped: int
    bits: int
    data: NDArray[Any]
    explanation: str = ""

    def args(self) -> tuple[int, NDArray[Any], int]:
        """``(first_mapped, data, bits)``: the trailing arguments of the lut.py table functions."""
        return self.first_mapped, self.data, self.bits

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LookupTable):
            return NotImplemented
        return (
            (self.first_mapped, self.bits, self.explanation)
            == (other.first_mapped, other.bits, other.explanation)
            and self.data.shape == other.data.shape
            and bool(np.array_equal(self.data, other.data))
        )

    def __hash__(self) -> int:
        return hash((self.first_mapped, self.bits, self.explanation, self.data.shape))


@dataclass(frozen=True, slots=True)
class PixelTransform:
    """What the display pipeline needs from the header for one frame (no Dataset kept).

    Values follow PS3.3: Image Pixel module (C.7.6.3), Modality LUT (C.11.1), VOI LUT
    (C.11.2), Presentation LUT Shape (C.11.6), Pixel Padding (C.7.5.1.1.2), General Image
    Lossy Image Compression (C.7.6.1.1.5). For enhanced multi-frame images the frame's
    Pixel Value Transformation (C.7.6.16.2.9) and Frame VOI LUT (C.7.6.16.2.10) functional
    groups win over the top-level attributes. ``photometric`` is the header's value; see
    :class:`DecodedFrame` for what ``stored`` holds.
    """

    photometric: str = "MONOCHROME2"
    samples: int = 1
    bits_allocated: int = 16
    bits_stored: int = 16
    pixel_representation: int = 0
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    rescale_type: str = ""
    modality_lut: LookupTable | None = None
    windows: tuple[Window, ...] = ()
    voi_function: str = "LINEAR"
    voi_luts: tuple[LookupTable, ...] = ()
    presentation_lut_shape: str = ""
    padding_value: int | None = None
    padding_range_limit: int | None = None
    palette: LookupTable | None = None
    is_lossy: bool = False
    transfer_syntax: str = ""

    @property
    def is_monochrome(self) -> bool:
        return self.photometric in ("MONOCHROME1", "MONOCHROME2")

    @property
    def shows_inverted(self) -> bool:
        """True when VOI output is displayed inverted (MONOCHROME1 or INVERSE shape)."""
        return lut.shows_inverted(self.photometric, self.presentation_lut_shape)

    def modality_lut_args(self) -> tuple[int, NDArray[Any], int]:
        """``(first_mapped, table, bits)`` for :func:`lut.apply_modality_lut_table`."""
        if self.modality_lut is None:
            raise ValueError("this frame has no Modality LUT table")
        return self.modality_lut.args()


@dataclass(frozen=True, slots=True, eq=False)
class DecodedFrame:
    """One decoded frame.

    ``stored`` is (rows, cols) in the stored integer type (native byte order) for monochrome
    and PALETTE COLOR (palette indices; ``transform.palette`` maps them), or (rows, cols, 3)
    8-bit RGB for colour images (YBR converted, planar configuration undone, > 8 bits scaled).
    ``decoder`` names the pydicom plugin that decoded it; ``warnings`` are what pydicom (or
    this module) warned about while reading this file. Compared by identity (it holds arrays).
    """

    stored: NDArray[Any]
    transform: PixelTransform
    path: str = ""
    frame: int = 0
    decoder: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def is_color(self) -> bool:
        """True when ``stored`` holds RGB samples (rows, cols, 3)."""
        return self.stored.ndim == 3

    @property
    def is_palette(self) -> bool:
        """True when ``stored`` holds palette indices that ``transform.palette`` maps to RGB."""
        return self.transform.palette is not None and self.stored.ndim == 2

    @property
    def nbytes(self) -> int:
        """Memory held, for byte-budgeted caches."""
        return int(self.stored.nbytes)
