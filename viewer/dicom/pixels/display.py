"""Stored frame -> the 8-bit image the viewer shows at 1:1, without overlays (no Qt).

The grayscale pipeline of PS3.3 C.11 (Figure C.11-1), in order:

1. Modality LUT (C.11.1): the Modality LUT Sequence table if any, else Rescale Slope and
   Intercept (in the frame's functional groups for enhanced images).
2. VOI LUT (C.11.2): the window asked for; else the file's first window; else its first VOI
   LUT table; else the frame's min-max, ignoring pixel padding. Windows go through the
   file's VOI LUT Function (LINEAR, LINEAR_EXACT, SIGMOID), output 0..255.
3. Presentation (C.11.6, C.7.6.3.1.2): inverted for MONOCHROME1 or an INVERSE Presentation
   LUT Shape.
4. Pixel padding (C.7.5.1.1.2) is shown black.

Colour frames are already 8-bit RGB; palette colour is mapped through its palette
(C.7.6.3.1.5). This is what ``dicom-viewer render`` writes and what the references made with
DCMTK's dcmj2pnm are compared against (tests/data/dcmtk).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom import decoding_stack
from viewer.dicom.pixels import lut
from viewer.dicom.pixels.frames import DecodedFrame, PixelTransform


def modality_values(stored: NDArray[Any], transform: PixelTransform) -> NDArray[Any]:
    """Stored values -> modality values (PS3.3 C.11.1): LUT table, else rescale."""
    if transform.modality_lut is not None:
        return lut.apply_modality_lut_table(stored, *transform.modality_lut_args())
    return lut.apply_rescale(stored, transform.rescale_slope, transform.rescale_intercept)


def apply_voi(
    values: NDArray[Any],
    transform: PixelTransform,
    window: tuple[float, float] | None = None,
    padding: NDArray[np.bool_] | None = None,
) -> NDArray[np.uint8]:
    """Modality values -> 0..255 by the VOI the viewer starts with (PS3.3 C.11.2).

    ``window`` (center, width) wins; then the file's first window, its first VOI LUT table,
    and last the frame's min-max range (ignoring ``padding``).
    """
    if window is None and transform.windows:
        window = (transform.windows[0].center, transform.windows[0].width)
    if window is not None:
        center, width = window
        if transform.voi_function == "SIGMOID":
            return lut.voi_sigmoid(values, center, width)
        return lut.voi_linear(values, *lut.window_to_range(center, width, transform.voi_function))
    if transform.voi_luts:
        return lut.voi_lut_table(values, *transform.voi_luts[0].args())
    return lut.voi_linear(values, *lut.auto_range(values, padding))


def grayscale_to_display(
    stored: NDArray[Any], transform: PixelTransform, window: tuple[float, float] | None = None
) -> NDArray[np.uint8]:
    """A monochrome frame through Modality LUT, VOI, presentation and padding (C.11)."""
    padding = lut.apply_pixel_padding(
        stored, transform.padding_value, transform.padding_range_limit
    )
    image = apply_voi(modality_values(stored, transform), transform, window, padding)
    if transform.shows_inverted:
        image = lut.invert_for_monochrome1(image)
    return lut.black_out(image, padding)


def to_display(
    decoded: DecodedFrame, window: tuple[float, float] | None = None
) -> NDArray[np.uint8]:
    """uint8 (rows, cols) for monochrome, (rows, cols, 3) for colour and palette colour."""
    if decoded.is_color:
        return decoded.stored
    palette = decoded.transform.palette
    if palette is not None:
        return lut.apply_palette(decoded.stored, *palette.args())
    return grayscale_to_display(decoded.stored, decoded.transform, window)


def render_frame(
    path: str | os.PathLike[str], frame: int = 0, window: tuple[float, float] | None = None
) -> NDArray[np.uint8]:
    """Exactly what the viewer shows of ``frame`` at 1:1, without overlays.

    ``window`` is (center, width) in modality values. Raises
    :class:`~viewer.dicom.pixels.decode.DecodeError` when the frame cannot be decoded.
    """
    decoding_stack.load()
    from viewer.dicom.pixels.decode import read_frame  # pydicom: loaded on first use

    return to_display(read_frame(path, frame), window)
