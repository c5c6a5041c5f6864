"""What one image pixel measures, and how the label says so (no Qt).

Every measurement label states its calibration, because a length on a radiograph "at the
detector" is not a length in the patient:

* ``Pixel Spacing`` (0028,0030), PS3.3 10.7.1.3: the patient plane (cross-sectional images;
  an enhanced multi-frame image's Pixel Measures functional group says the same).
* Projection radiography (PS3.3 C.8.11.7, 10.7.1.3): Imager Pixel Spacing (0018,1164) is at
  the detector. Divided by the Estimated Radiographic Magnification Factor (0018,1114) it is an
  estimate at the patient (labelled with the factor); without one the label says "at
  detector". A Pixel Spacing with a Pixel Spacing Calibration Type (0028,0A02) is a calibrated
  spacing (GEOMETRY or FIDUCIAL) and is labelled so; a Pixel Spacing equal to Imager Pixel
  Spacing without a calibration type is still at the detector.
* Ultrasound (PS3.3 C.8.5.5): each region of the Sequence of Ultrasound Regions (0018,6011)
  calibrated in cm along both axes has its own spacing; a measurement is in mm only when all
  its points lie inside one such region.
* Nothing calibrates: "px".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from viewer.dicom.catalog.ultrasound_regions import MM_PER_CM, UNITS_CM

Point = tuple[float, float]

PIXEL_SPACING = "pixel_spacing"
CALIBRATED = "calibrated"
MAGNIFICATION = "magnification"
DETECTOR = "detector"
ULTRASOUND = "ultrasound"
UNCALIBRATED = "uncalibrated"

#: Modalities of projection radiography (PS3.3 C.8.11.7 applies; Imager Pixel Spacing).
PROJECTION_MODALITIES = frozenset({"CR", "DX", "MG", "IO", "PX", "RF", "XA", "RG", "DF"})


@dataclass(frozen=True, slots=True)
class UsArea:
    """One spatially calibrated ultrasound region: pixel bounds (inclusive, PS3.3 C.8.5.5.1.1)
    and its spacing (between rows, between columns) in mm."""

    x0: int
    y0: int
    x1: int
    y1: int
    spacing: tuple[float, float]

    def contains(self, point: Point) -> bool:
        """``point`` in image coordinates (pixel (0, 0) spans [0, 1)) lies in the region."""
        x, y = point
        return self.x0 <= x < self.x1 + 1 and self.y0 <= y < self.y1 + 1


@dataclass(frozen=True, slots=True)
class Scale:
    """The spacing that applies to one measurement: (between rows, between columns) in mm,
    None for pixels, and the words its label ends with."""

    spacing: tuple[float, float] | None
    note: str

    @property
    def unit(self) -> str:
        return "mm" if self.spacing is not None else "px"


@dataclass(frozen=True, slots=True)
class Calibration:
    """An image's calibration: one spacing for the whole image, or ultrasound areas."""

    kind: str = UNCALIBRATED
    spacing: tuple[float, float] | None = None
    note: str = ""
    areas: tuple[UsArea, ...] = ()

    def scale(self, points: Iterable[Point]) -> Scale:
        """The spacing for a measurement through ``points`` (image coordinates)."""
        if self.kind == ULTRASOUND:
            chosen = list(points)
            for number, area in enumerate(self.areas, start=1):
                if chosen and all(area.contains(p) for p in chosen):
                    return Scale(area.spacing, f"US region {number}")
            return Scale(None, "outside a calibrated US region")
        if self.spacing is None:
            return Scale(None, self.note)
        return Scale(self.spacing, self.note)


def _pair(value: Any) -> tuple[float, float] | None:
    try:
        first, second = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(first) and math.isfinite(second)) or first <= 0 or second <= 0:
        return None
    return (first, second)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _us_areas(regions: Sequence[Any]) -> tuple[UsArea, ...]:
    areas = []
    for item in regions:
        units = (item.get("PhysicalUnitsXDirection"), item.get("PhysicalUnitsYDirection"))
        dx, dy = _number(item.get("PhysicalDeltaX")), _number(item.get("PhysicalDeltaY"))
        bounds = [
            item.get(name)
            for name in (
                "RegionLocationMinX0",
                "RegionLocationMinY0",
                "RegionLocationMaxX1",
                "RegionLocationMaxY1",
            )
        ]
        if units != (UNITS_CM, UNITS_CM) or dx is None or dy is None or None in bounds:
            continue
        x0, y0, x1, y1 = (int(v) for v in bounds)
        areas.append(UsArea(x0, y0, x1, y1, (dy * MM_PER_CM, dx * MM_PER_CM)))
    return tuple(areas)


def read_calibration(ds: Any, pixel_spacing: tuple[float, float] | None = None) -> Calibration:
    """The calibration a dataset's header states (``ds``: a pydicom Dataset or anything with
    its ``get``). ``pixel_spacing`` is the spacing the index found elsewhere (a functional
    group), used when the top level has no Pixel Spacing."""
    modality = str(ds.get("Modality", "") or "").upper()
    spacing = _pair(ds.get("PixelSpacing"))
    imager = _pair(ds.get("ImagerPixelSpacing"))
    calibration_type = str(ds.get("PixelSpacingCalibrationType", "") or "").strip().upper()
    regions = ds.get("SequenceOfUltrasoundRegions")
    if spacing is None and imager is None and regions:
        areas = _us_areas(regions)
        if areas:
            return Calibration(ULTRASOUND, None, "US regions", areas)
    if imager is not None or (spacing is not None and modality in PROJECTION_MODALITIES):
        if spacing is not None and calibration_type:
            return Calibration(CALIBRATED, spacing, f"calibrated ({calibration_type.lower()})")
        if spacing is not None and imager is not None and not _same(spacing, imager):
            return Calibration(PIXEL_SPACING, spacing, "Pixel Spacing")
        detector = imager or spacing
        assert detector is not None
        factor = _number(ds.get("EstimatedRadiographicMagnificationFactor"))
        if factor is not None:
            corrected = (detector[0] / factor, detector[1] / factor)
            return Calibration(MAGNIFICATION, corrected, f"magnification-corrected ×{factor:g}")
        return Calibration(DETECTOR, detector, "at detector")
    spacing = spacing or pixel_spacing
    if spacing is not None:
        return Calibration(PIXEL_SPACING, spacing, "")
    return Calibration(UNCALIBRATED, None, "")


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-6) for x, y in zip(a, b, strict=True))


#: Header attributes :func:`read_calibration` reads (for a ``specific_tags`` read).
CALIBRATION_TAGS = (
    0x00080060,  # Modality
    0x00280030,  # Pixel Spacing
    0x00181164,  # Imager Pixel Spacing
    0x00181114,  # Estimated Radiographic Magnification Factor
    0x00280A02,  # Pixel Spacing Calibration Type
    0x00186011,  # Sequence of Ultrasound Regions
)
