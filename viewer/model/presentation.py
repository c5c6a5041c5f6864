"""Stored frame + VOI + invert -> the 8-bit image the viewport hands Qt (no Qt here).

:func:`present` is the viewport's call into the one display pipeline,
:func:`viewer.dicom.pixels.display.display_image` (``render``, thumbnails and the MPR views use
the same), with the viewport's VOI and invert; the VOI it starts with is :func:`initial_voi`.

Big frames are reduced before that pass (:func:`reduce_for_display`): only the part the screen
shows, averaged down to about the screen's resolution, so a W/L step on a 3000x3000 radiograph
costs what a screen-sized image costs. Header facts the display needs but the frame does not
carry (Pixel Aspect Ratio, Patient Orientation) come from :func:`read_display_facts`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom import decoding_stack
from viewer.dicom.io import bounded
from viewer.dicom.pixels import display, lut
from viewer.dicom.pixels.display import modality_values
from viewer.dicom.pixels.frames import DecodedFrame, LookupTable
from viewer.model.annotations.calibration import CALIBRATION_TAGS, Calibration, read_calibration
from viewer.model.window_level import Voi


def has_linear_modality(frame: DecodedFrame) -> bool:
    """True when stored -> modality is a Rescale Slope/Intercept (no Modality LUT table)."""
    return frame.transform.modality_lut is None


def modality_value(frame: DecodedFrame, stored: float) -> float:
    """The modality value (e.g. HU) of one stored value."""
    transform = frame.transform
    if transform.modality_lut is not None:
        mapped = lut.apply_modality_lut_table(np.asarray([stored]), *transform.modality_lut_args())
        return float(mapped[0])
    return stored * transform.rescale_slope + transform.rescale_intercept


def value_range(frame: DecodedFrame) -> float:
    """Spread of modality values in the frame (drives W/L drag sensitivity)."""
    low, high = float(frame.stored.min()), float(frame.stored.max())
    return abs(modality_value(frame, high) - modality_value(frame, low))


def default_voi(frame: DecodedFrame) -> Voi:
    """The file's first window (PS3.3 C.11.2.1.2), else the frame's min-max modality range
    without pixel padding (:func:`viewer.dicom.pixels.display.initial_range`, as ``render``)."""
    transform = frame.transform
    if transform.windows:
        return Voi(*display.window_range(transform, transform.windows[0][:2]))
    lower, upper = lut.auto_range(
        display.modality_values(frame.stored, transform),
        lut.apply_pixel_padding(
            frame.stored, transform.padding_value, transform.padding_range_limit
        ),
    )
    return Voi(lower, upper if upper > lower else lower + 1.0)


def present(frame: DecodedFrame, voi: Voi | None, invert: bool) -> np.ndarray:
    """The frame as the 2D viewport hands it to Qt, by the one display pipeline
    (:func:`viewer.dicom.pixels.display.display_image`, also ``render``'s).

    ``voi`` None means the file's own: its VOI LUT table when it has one and no window
    (PS3.3 C.11.2.1.1), else :func:`default_voi`.
    """
    shown = None if voi is None else (voi.lower, voi.upper)
    return display.display_image(frame.stored, frame.transform, shown, invert)


def initial_voi(frame: DecodedFrame) -> Voi | None:
    """The window a frame opens with; None where the file's VOI LUT table applies, or for
    colour and palette images (no window)."""
    if frame.is_color or frame.is_palette or file_voi_lut(frame) is not None:
        return None
    return default_voi(frame)


def file_voi_lut(frame: DecodedFrame) -> LookupTable | None:
    """The file's first VOI LUT table when it gives no window (PS3.3 C.11.2.1.1/C.11.2.1.2:
    a window, when present, is what the viewer starts with)."""
    transform = frame.transform
    if transform.windows or not transform.voi_luts or not transform.is_monochrome:
        return None
    return transform.voi_luts[0]


def voi_lut_range(table: LookupTable) -> Voi:
    """The modality values a VOI LUT table spans (where a drag from it starts)."""
    first = float(table.first_mapped)
    return Voi(first, first + max(len(table.data) - 1, 1))


def file_voi(frame: DecodedFrame, number: int) -> Voi | None:
    """The file's window ``number`` (1-based) as a VOI range (PS3.3 C.11.2.1.2), or None."""
    windows = frame.transform.windows
    if not 1 <= number <= len(windows):
        return None
    window = windows[number - 1]
    return Voi(*lut.window_to_range(window.center, window.width, frame.transform.voi_function))


#: Auto window: the share of pixels left out at each end of the histogram.
AUTO_WINDOW_TAIL = 0.005
#: Auto window looks at about this many pixels (a regular sample of bigger frames).
AUTO_WINDOW_SAMPLES = 262_144


def auto_voi(frame: DecodedFrame) -> Voi:
    """A window from the frame's histogram: 0.5th to 99.5th percentile of modality values.

    Pixel padding (PS3.3 C.7.5.1.1.2) is left out; a flat frame gets a unit window.
    """
    step = max(1, int(np.sqrt(frame.stored.size / AUTO_WINDOW_SAMPLES)))
    sample = frame.stored[::step, ::step]
    transform = frame.transform
    padding = lut.apply_pixel_padding(
        sample, transform.padding_value, transform.padding_range_limit
    )
    values = modality_values(sample, transform)
    if padding is not None and not padding.all():
        values = values[~padding]
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Voi(0.0, 1.0)
    low, high = np.quantile(values, [AUTO_WINDOW_TAIL, 1.0 - AUTO_WINDOW_TAIL])
    if high <= low:
        return Voi(float(low) - 0.5, float(low) + 0.5)
    return Voi(float(low), float(high))


@dataclass(frozen=True, slots=True)
class Region:
    """Rows ``top:bottom`` and columns ``left:right`` of a frame, every ``stride``-th pixel."""

    top: int
    left: int
    bottom: int
    right: int
    stride: int = 1

    @property
    def rows(self) -> int:
        return max(1, (self.bottom - self.top) // self.stride)

    @property
    def columns(self) -> int:
        return max(1, (self.right - self.left) // self.stride)


def can_average(frame: DecodedFrame) -> bool:
    """True when averaging neighbours keeps the display right: colour, or linear monochrome
    without pixel padding (a palette index, a Modality LUT input or a padding value must be
    shown as stored)."""
    if frame.is_color:
        return True
    transform = frame.transform
    return (
        transform.palette is None
        and transform.modality_lut is None
        and transform.padding_value is None
    )


def reduce_for_display(frame: DecodedFrame, region: Region) -> DecodedFrame:
    """The part of ``frame`` in ``region``, ``stride`` x ``stride`` blocks averaged (or
    decimated where averaging would be wrong, see :func:`can_average`); same header facts.

    Output pixel (i, j) covers stored rows ``top + i*stride ...`` and columns
    ``left + j*stride ...``. Averages of integers become float32 (colour is rounded to uint8).
    """
    stride = max(1, region.stride)
    rows, columns = region.rows * stride, region.columns * stride
    part = frame.stored[region.top : region.top + rows, region.left : region.left + columns]
    if stride > 1 and can_average(frame) and part.shape[0] >= stride and part.shape[1] >= stride:
        part = _block_mean(part, stride)
        if frame.is_color:
            part = np.rint(part).astype(np.uint8)
    elif stride > 1:
        part = part[::stride, ::stride]
    return dataclasses.replace(frame, stored=part)


def _block_mean(values: NDArray[Any], stride: int) -> NDArray[np.float32]:
    """Mean of each stride x stride block (trailing partial blocks dropped)."""
    rows, columns = values.shape[0] // stride, values.shape[1] // stride
    total = np.zeros((rows, columns, *values.shape[2:]), dtype=np.float32)
    for i in range(stride):
        for j in range(stride):
            total += values[i : rows * stride : stride, j : columns * stride : stride]
    total *= np.float32(1.0 / (stride * stride))
    return total


@dataclass(frozen=True, slots=True)
class DisplayFacts:
    """Header facts for placing a frame on screen that DecodedFrame does not carry.

    ``pixel_aspect_ratio`` is (vertical, horizontal) size of a pixel (0028,0034, PS3.3
    C.7.6.3.1.7); ``patient_orientation`` the row and column directions as letters (0020,0020,
    PS3.3 C.7.6.1.1.1), used where there is no Image Orientation (Patient); ``calibration``
    what a pixel measures (viewer.model.annotations.calibration).
    """

    pixel_aspect_ratio: tuple[float, float] | None = None
    patient_orientation: tuple[str, str] | None = None
    calibration: Calibration = dataclasses.field(default_factory=Calibration)


# Pixel Aspect Ratio, Patient Orientation, and what calibrates a measurement.
_FACT_TAGS = [0x00280034, 0x00200020, *CALIBRATION_TAGS]


def read_display_facts(path: str | os.PathLike[str]) -> DisplayFacts:
    """Read :class:`DisplayFacts` from a file's header (no pixel data); empty when unreadable."""
    decoding_stack.load()
    from pydicom import dcmread  # not at import: the window appears before pydicom loads

    try:
        ds = bounded.bounded(
            dcmread, path, stop_before_pixels=True, specific_tags=_FACT_TAGS, force=True
        )
        return DisplayFacts(_aspect(ds.get("PixelAspectRatio")), _letters(ds), read_calibration(ds))
    except Exception:  # a fact we cannot read is a fact we do not use
        return DisplayFacts()


def _aspect(value: Any) -> tuple[float, float] | None:
    values = list(value or []) if not isinstance(value, str) else [value]
    try:
        vertical, horizontal = (float(v) for v in values)
    except (TypeError, ValueError):
        return None
    if vertical <= 0 or horizontal <= 0 or vertical == horizontal:
        return None
    return (vertical, horizontal)


def _letters(ds: Any) -> tuple[str, str] | None:
    value = ds.get("PatientOrientation")
    values = list(value or []) if not isinstance(value, str) else [value]
    if len(values) != 2 or not all(str(v).strip() for v in values):
        return None
    return (str(values[0]).strip().upper(), str(values[1]).strip().upper())
