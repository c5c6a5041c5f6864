"""Window/level interaction maths: mouse drags and presets to a VOI range (no Qt).

The VOI is kept as a (lower, upper) range in modality values; centre/width is only a conversion
(PS3.3 C.11.2.1.2, see viewer.dicom.pixels.lut). Drag convention as in Weasis and 3D Slicer:
horizontal changes the width (right widens), vertical the level (dragging down lowers the
level, so the image gets brighter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom.pixels import lut

#: Pixels of drag that sweep the whole value range of the image once.
DRAG_PIXELS_FOR_FULL_RANGE = 1000.0
#: The narrowest window a drag can produce, in modality units.
MIN_WIDTH = 1.0


@dataclass(frozen=True, slots=True)
class Voi:
    """A VOI range in modality values; ``lower`` maps to black and ``upper`` to white.

    Centre and width are the LINEAR function's (PS3.3 C.11.2.1.2.1), the convention of the
    Window Center/Width attributes, so a file's 40/400 reads back as 40/400.
    """

    lower: float
    upper: float

    @property
    def center(self) -> float:
        return lut.range_to_window(self.lower, self.upper)[0]

    @property
    def width(self) -> float:
        return lut.range_to_window(self.lower, self.upper)[1]

    @classmethod
    def from_center_width(cls, center: float, width: float) -> Voi:
        return cls(*lut.window_to_range(center, max(width, MIN_WIDTH)))


def drag_sensitivity(value_range: float) -> float:
    """Modality units per pixel of drag, scaled to the image's value range."""
    return max(value_range, 1.0) / DRAG_PIXELS_FOR_FULL_RANGE


def drag(
    voi: Voi,
    dx: float,
    dy: float,
    sensitivity: float,
    invert_x: bool = False,
    invert_y: bool = False,
) -> Voi:
    """The VOI after a drag of (dx, dy) screen pixels (dy positive downwards)."""
    width = voi.width + (-dx if invert_x else dx) * sensitivity
    center = voi.center - (-dy if invert_y else dy) * sensitivity
    return Voi.from_center_width(center, max(width, MIN_WIDTH))


def region_voi(values: NDArray[Any]) -> Voi | None:
    """The window spanning a region's modality values, min to max (None for no finite value).

    The lowest value in the region shows black and the highest white (PS3.3 C.11.2.1.2 as a
    range); a flat region gets the narrowest window centred on its value (mid grey).
    """
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        return None
    low, high = float(finite.min()), float(finite.max())
    if high - low < MIN_WIDTH:
        return Voi(low - MIN_WIDTH / 2, low + MIN_WIDTH / 2)
    return Voi(low, high)
