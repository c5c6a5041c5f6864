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
(C.7.6.3.1.5). :func:`display_image` is the one pipeline: the 2D viewport
(:func:`viewer.model.presentation.present`), the MPR views (:func:`viewer.model.mpr.to_display`),
thumbnails and ``dicom-viewer render`` all call it, so what the GUI shows is what ``render``
writes and what the references made with DCMTK's dcmj2pnm are compared against
(tests/data/dcmtk; tests/qt/test_display_pipeline.py compares the viewport with ``render``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.core import lazy
from viewer.dicom import decoding_stack
from viewer.dicom.pixels import lut
from viewer.dicom.pixels.frames import DecodedFrame, PixelTransform

#: A VOI as the modality values shown black and white, (lower, upper) (PS3.3 C.11.2.1.2).
VoiRange = tuple[float, float]


def modality_values(stored: NDArray[Any], transform: PixelTransform) -> NDArray[Any]:
    """Stored values -> modality values (PS3.3 C.11.1): LUT table, else rescale."""
    if transform.modality_lut is not None:
        return lut.apply_modality_lut_table(stored, *transform.modality_lut_args())
    return lut.apply_rescale(stored, transform.rescale_slope, transform.rescale_intercept)


def window_range(transform: PixelTransform, window: tuple[float, float]) -> VoiRange:
    """A window (center, width) as the VOI range it shows, by the frame's VOI LUT Function."""
    return lut.window_to_range(window[0], window[1], transform.voi_function)


def initial_range(stored: NDArray[Any], transform: PixelTransform) -> VoiRange | None:
    """The VOI a monochrome frame opens with (PS3.3 C.11.2): the file's first window; None
    where its first VOI LUT table applies (no window given); else the frame's min-max
    modality range, pixel padding (C.7.5.1.1.2) left out."""
    if transform.windows:
        first = transform.windows[0]
        return window_range(transform, (first.center, first.width))
    if transform.voi_luts:
        return None
    padding = lut.apply_pixel_padding(
        stored, transform.padding_value, transform.padding_range_limit
    )
    return lut.auto_range(modality_values(stored, transform), padding)


def display_image(
    stored: NDArray[Any],
    transform: PixelTransform,
    voi: VoiRange | None = None,
    invert: bool = False,
) -> NDArray[np.uint8]:
    """THE stored -> display pipeline: what the 2D views, the MPR views, thumbnails and
    ``render`` show (uint8 (rows, cols), or (rows, cols, 3) for colour and palette colour).

    PS3.3 C.11 in order: modality values (C.11.1), then ``voi`` (lower, upper) in modality
    values by the frame's VOI LUT Function (C.11.2; None: :func:`initial_range`, or the
    file's VOI LUT table), then presentation: inverted for MONOCHROME1 or an INVERSE
    Presentation LUT Shape (C.11.6), and again for the user's ``invert``; pixel padding
    (C.7.5.1.1.2) shows black whatever the window.
    """
    if stored.ndim == 3:
        return stored  # colour: already 8-bit RGB
    if transform.palette is not None:
        return lut.apply_palette(stored, *transform.palette.args())
    padding = lut.apply_pixel_padding(
        stored, transform.padding_value, transform.padding_range_limit
    )
    values = modality_values(stored, transform)
    if voi is None:
        voi = initial_range(stored, transform)
    if voi is None:
        image = lut.voi_lut_table(values, *transform.voi_luts[0].args())
    elif transform.voi_function.upper() == "SIGMOID":
        lower, upper = voi
        image = lut.voi_sigmoid(values, (lower + upper) / 2, upper - lower)
    else:
        image = lut.voi_linear(values, *voi)
    if transform.shows_inverted != invert:
        image = lut.invert_for_monochrome1(image)
    return lut.black_out(image, padding)


def to_display(
    decoded: DecodedFrame, window: tuple[float, float] | None = None
) -> NDArray[np.uint8]:
    """``decoded`` through :func:`display_image`; ``window`` (center, width) in modality
    values, else the frame's initial VOI."""
    transform = decoded.transform
    voi = window_range(transform, window) if window is not None else None
    return display_image(decoded.stored, transform, voi)


def render_frame(
    path: str | os.PathLike[str], frame: int = 0, window: tuple[float, float] | None = None
) -> NDArray[np.uint8]:
    """Exactly what the viewer shows of ``frame`` at 1:1, without overlays.

    ``path``: a local path or a frame source's URI. ``window`` is (center, width) in modality
    values. Raises :class:`~viewer.dicom.pixels.decode.DecodeError` when the frame cannot be
    decoded.
    """
    decoding_stack.load()
    read_frame = lazy.load("viewer.dicom.pixels.reading:read_frame")  # pydicom: on first use
    return to_display(read_frame(path, frame), window)
