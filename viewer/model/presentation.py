"""Stored frame + VOI + invert -> the 8-bit image the viewport hands Qt (no Qt here).

The modality rescale is folded into the VOI instead of making a float copy of the frame: a
window (lower, upper) in modality values becomes ((lower - b) / m, (upper - b) / m) in stored
values (PS3.3 C.11.1.1.2), and one linear pass maps it to 0..255 (C.11.2.1.2). Modality LUT
tables, VOI LUT tables and SIGMOID go through viewer.dicom.lut's full pipeline instead.
"""

from __future__ import annotations

import numpy as np

from viewer.dicom import lut
from viewer.dicom.decode import DecodedFrame
from viewer.dicom.display import modality_values
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
    """The file's first window (PS3.3 C.11.2.1.2), else the frame's min-max modality range."""
    windows = frame.transform.windows
    if windows:
        center, width = windows[0][0], windows[0][1]
        return Voi(*lut.window_to_range(center, width, frame.transform.voi_function))
    low, high = float(frame.stored.min()), float(frame.stored.max())
    a, b = modality_value(frame, low), modality_value(frame, high)
    return Voi(min(a, b), max(a, b) if max(a, b) > min(a, b) else min(a, b) + 1.0)


def present(frame: DecodedFrame, voi: Voi | None, invert: bool) -> np.ndarray:
    """uint8 (rows, cols) for monochrome or (rows, cols, 3) for colour, ready for Qt.

    Pixel padding (PS3.3 C.7.5.1.1.2) shows black whatever the window.
    """
    if frame.is_color:
        return frame.stored
    transform = frame.transform
    if transform.palette is not None:
        return lut.apply_palette(frame.stored, *transform.palette.args())
    voi = voi or default_voi(frame)
    if has_linear_modality(frame) and transform.rescale_slope != 0:
        slope, intercept = transform.rescale_slope, transform.rescale_intercept
        lower = (voi.lower - intercept) / slope
        upper = (voi.upper - intercept) / slope
        image = lut.voi_linear(frame.stored, min(lower, upper), max(lower, upper))
        flip = slope < 0
    else:
        values = modality_values(frame.stored, transform)
        image = lut.voi_linear(values, voi.lower, voi.upper)
        flip = False
    if transform.shows_inverted != (invert != flip):
        image = lut.invert_for_monochrome1(image)
    if transform.padding_value is not None:
        padding = lut.apply_pixel_padding(
            frame.stored, transform.padding_value, transform.padding_range_limit
        )
        image = lut.black_out(image, padding)
    return image
