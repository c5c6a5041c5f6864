"""Pixel spacing of an ultrasound image from its Sequence of Ultrasound Regions (no Qt).

Ultrasound images (US Image module, PS3.3 C.8.5.6) carry no Pixel Spacing (0028,0030); their
calibration is the US Region Calibration module (C.8.5.5): each item of the Sequence of
Ultrasound Regions (0018,6011) is a rectangle of the image with Physical Units X/Y Direction
(0018,6024/6026) and Physical Delta X/Y (0018,602C/602E), the physical size of one pixel step
in those units. Code 3 is centimetres, the only spatial unit (C.8.5.5.1.15); the others are
time, velocity, frequency, dB, percent...

One spacing holds for the whole image only when every region calibrated in centimetres along
both axes agrees (the usual single B-mode sector, or a sector and its colour-flow box);
otherwise (side-by-side panes with different depths, no spatial region) there is none, and
the image is shown uncalibrated rather than measured with the wrong scale.

Both header readers (:mod:`viewer.dicom.io.header_fields` with pydicom,
:mod:`viewer.dicom.io.fast_header` from raw bytes) build :class:`UsRegion` values and call
:func:`region_pixel_spacing`, so they agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SEQUENCE_OF_ULTRASOUND_REGIONS = 0x00186011
PHYSICAL_UNITS_X_DIRECTION = 0x00186024
PHYSICAL_UNITS_Y_DIRECTION = 0x00186026
PHYSICAL_DELTA_X = 0x0018602C
PHYSICAL_DELTA_Y = 0x0018602E
#: Physical Units X/Y Direction code for centimetres (PS3.3 C.8.5.5.1.15).
UNITS_CM = 3
MM_PER_CM = 10.0
#: Regions whose deltas differ by less than this (relative) agree.
AGREEMENT_RELATIVE_TOLERANCE = 1e-4


@dataclass(frozen=True, slots=True)
class UsRegion:
    """What one item of the Sequence of Ultrasound Regions says about its pixel size."""

    units_x: int | None
    units_y: int | None
    delta_x: float | None
    delta_y: float | None

    @property
    def spatial(self) -> bool:
        """Calibrated in centimetres along both axes with positive deltas (C.8.5.5.1.15)."""
        return (
            self.units_x == UNITS_CM
            and self.units_y == UNITS_CM
            and self.delta_x is not None
            and self.delta_y is not None
            and math.isfinite(self.delta_x)
            and math.isfinite(self.delta_y)
            and self.delta_x > 0
            and self.delta_y > 0
        )


def region_pixel_spacing(regions: Sequence[UsRegion]) -> tuple[float, float] | None:
    """(between rows, between columns) in mm, as Pixel Spacing orders them (PS3.3 10.7.1.3).

    Physical Delta Y is the step down a column (between rows), Delta X along a row. None when
    no region is spatial or the spatial regions disagree.
    """
    spatial = [region for region in regions if region.spatial]
    if not spatial:
        return None
    first = spatial[0]
    assert first.delta_x is not None and first.delta_y is not None
    for other in spatial[1:]:
        assert other.delta_x is not None and other.delta_y is not None
        if not (
            math.isclose(other.delta_x, first.delta_x, rel_tol=AGREEMENT_RELATIVE_TOLERANCE)
            and math.isclose(other.delta_y, first.delta_y, rel_tol=AGREEMENT_RELATIVE_TOLERANCE)
        ):
            return None
    return (first.delta_y * MM_PER_CM, first.delta_x * MM_PER_CM)
