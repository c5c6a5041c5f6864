"""Numbers of an annotation: lengths and angles in mm, ROI statistics in modality units.

A pixel belongs to a region when its centre lies inside (pixel (c, r) has its centre at
(c + 0.5, r + 0.5) in image coordinates, :mod:`.shapes`). Statistics are of modality values
(PS3.3 C.11.1: Rescale Slope/Intercept or the Modality LUT; HU for CT): mean, population SD,
min, max, median and pixel count. Area and perimeter are of the drawn shape (not of the pixel
count), in mm² and mm with the calibration that applies (:mod:`.calibration`), else px² / px.
Colour images are measured on their luminance (ITU-R BT.601 weights).

With a linear rescale the statistics are computed on the stored values and mapped once (a
mean, median, min and max map through the line; an SD scales by |slope|), which keeps an
ellipse over half a 3000 x 3000 radiograph well inside a frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom.pixels.display import modality_values
from viewer.dicom.pixels.frames import DecodedFrame
from viewer.model.annotations.calibration import Calibration, Scale
from viewer.model.annotations.shapes import (
    ANGLE,
    ARROW,
    BIDIRECTIONAL,
    COBB,
    ELLIPSE,
    FREEHAND,
    LENGTH,
    POINT,
    POLYGON,
    RECTANGLE,
    TEXT,
    Annotation,
    Point,
    box,
    ellipse_axes,
)

#: BT.601 luma weights for colour ROI statistics.
LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True, slots=True)
class Stats:
    """ROI statistics in modality units."""

    mean: float
    sd: float
    min: float
    max: float
    median: float
    count: int


@dataclass(frozen=True)
class Measurement:
    """What an annotation measures: named values, its unit, the calibration used, the label."""

    kind: str
    values: dict[str, float] = field(default_factory=dict)
    scale: Scale = field(default_factory=lambda: Scale(None, ""))
    value_unit: str = ""
    stats: Stats | None = None

    @property
    def lines(self) -> list[str]:
        return label_lines(self)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def value_unit(frame: DecodedFrame | None, modality: str) -> str:
    """The unit of modality values: HU for CT (Rescale Type absent or HU), else the Rescale
    Type (0028,1054) when given, else none."""
    if frame is None or frame.is_color:
        return ""
    rescale_type = (frame.transform.rescale_type or "").strip()
    if modality.upper() == "CT" and rescale_type in ("", "HU"):
        return "HU"
    return "" if rescale_type in ("", "US") else rescale_type


# --- geometry ---------------------------------------------------------------------------
def _mm(points: tuple[Point, ...], spacing: tuple[float, float] | None) -> NDArray[np.float64]:
    row_mm, col_mm = spacing if spacing is not None else (1.0, 1.0)
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return xy * np.asarray([col_mm, row_mm])


def length(points: tuple[Point, ...], spacing: tuple[float, float] | None) -> float:
    a, b = _mm(points[:2], spacing)
    return float(np.hypot(*(b - a)))


def angle_degrees(points: tuple[Point, ...], spacing: tuple[float, float] | None) -> float:
    """The angle at the middle point (the vertex) between the arms to the other two."""
    a, vertex, c = _mm(points[:3], spacing)
    u, v = a - vertex, c - vertex
    norms = float(np.hypot(*u) * np.hypot(*v))
    if norms == 0:
        return 0.0
    cosine = float(np.dot(u, v)) / norms
    return math.degrees(math.acos(min(1.0, max(-1.0, cosine))))


def cobb_degrees(points: tuple[Point, ...], spacing: tuple[float, float] | None) -> float:
    """The Cobb angle: the angle between two lines (an endplate each), 0 to 90 degrees
    (lines have no direction, so the angle and its supplement are one; the smaller is it)."""
    a0, a1, b0, b1 = _mm(points[:4], spacing)
    u, v = a1 - a0, b1 - b0
    norms = float(np.hypot(*u) * np.hypot(*v))
    if norms == 0:
        return 0.0
    cosine = abs(float(np.dot(u, v))) / norms
    return math.degrees(math.acos(min(1.0, cosine)))


def polygon_area(points: tuple[Point, ...], spacing: tuple[float, float] | None) -> float:
    xy = _mm(points, spacing)
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def polygon_perimeter(points: tuple[Point, ...], spacing: tuple[float, float] | None) -> float:
    xy = _mm(points, spacing)
    return float(np.hypot(*(np.roll(xy, -1, axis=0) - xy).T).sum())


def ellipse_area_perimeter(
    points: tuple[Point, ...], spacing: tuple[float, float] | None
) -> tuple[float, float]:
    """Area and perimeter (Ramanujan's second approximation, error < 1e-9 relative here)."""
    _, _, rx, ry = ellipse_axes(points)
    row_mm, col_mm = spacing if spacing is not None else (1.0, 1.0)
    a, b = rx * col_mm, ry * row_mm
    if a + b == 0:
        return 0.0, 0.0
    h = ((a - b) / (a + b)) ** 2
    perimeter = math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))
    return math.pi * a * b, perimeter


# --- masks --------------------------------------------------------------------------------
def region_mask(
    annotation: Annotation, shape: tuple[int, int]
) -> tuple[tuple[int, int, int, int], NDArray[np.bool_]] | None:
    """((top, left, bottom, right), mask) of the pixels whose centres are inside the region,
    the mask covering rows top:bottom and columns left:right; None when no pixel is."""
    rows, columns = shape
    kind, points = annotation.kind, annotation.points
    if kind == ELLIPSE:
        cx, cy, rx, ry = ellipse_axes(points)
        if rx <= 0 or ry <= 0:
            return None
        left, top, right, bottom = cx - rx, cy - ry, cx + rx, cy + ry
    elif kind == RECTANGLE:
        left, top, right, bottom = box(points)
    else:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
    # Pixels c with left <= c + 0.5 <= right.
    c0, c1 = max(0, math.ceil(left - 0.5)), min(columns, math.floor(right - 0.5) + 1)
    r0, r1 = max(0, math.ceil(top - 0.5)), min(rows, math.floor(bottom - 0.5) + 1)
    if c1 <= c0 or r1 <= r0:
        return None
    centres_x = np.arange(c0, c1, dtype=np.float64) + 0.5
    centres_y = np.arange(r0, r1, dtype=np.float64) + 0.5
    if kind == RECTANGLE:
        mask = np.ones((r1 - r0, c1 - c0), dtype=bool)
    elif kind == ELLIPSE:
        dx2 = ((centres_x - cx) / rx) ** 2
        dy2 = ((centres_y - cy) / ry) ** 2
        mask = dy2[:, None] + dx2[None, :] <= 1.0
    else:
        mask = _polygon_mask(points, centres_x, centres_y)
    if not mask.any():
        return None
    return (r0, c0, r1, c1), mask


def _polygon_mask(
    points: tuple[Point, ...], centres_x: NDArray[np.float64], centres_y: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Even-odd fill: a centre is inside when a ray to its right crosses the outline an odd
    number of times (crossings are toggles along each row, then a running parity)."""
    xy = np.asarray(points, dtype=np.float64)
    x0, y0 = xy[:, 0], xy[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    height, width = centres_y.size, centres_x.size
    toggles = np.zeros((height, width + 1), dtype=np.int32)
    y = centres_y[:, None]
    crosses = ((y0 <= y) & (y < y1)) | ((y1 <= y) & (y < y0))
    rows, edges = np.nonzero(crosses)
    if rows.size:
        t = (centres_y[rows] - y0[edges]) / (y1[edges] - y0[edges])
        x = x0[edges] + t * (x1[edges] - x0[edges])
        # First centre at or right of the crossing: index ceil(x - 0.5 - first centre).
        first = np.clip(np.ceil(x - centres_x[0]), 0, width).astype(np.intp)
        np.add.at(toggles, (rows, first), 1)
    return (np.cumsum(toggles[:, :width], axis=1) & 1).astype(bool)


# --- statistics ---------------------------------------------------------------------------
def luminance(rgb: NDArray[Any]) -> NDArray[np.float64]:
    weights = np.asarray(LUMA)
    return np.asarray(rgb[..., :3], dtype=np.float64) @ weights


def _ellipse_spans(
    annotation: Annotation, shape: tuple[int, int]
) -> tuple[int, NDArray[np.intp], NDArray[np.intp]] | None:
    """(first row, first column, end column) per row of the pixels whose centres are inside an
    ellipse: the same pixels as :func:`region_mask` (the same test decides each span's ends)
    without a mask the size of the ellipse's box."""
    rows, columns = shape
    cx, cy, rx, ry = ellipse_axes(annotation.points)
    if rx <= 0 or ry <= 0:
        return None
    r0, r1 = max(0, math.ceil(cy - ry - 0.5)), min(rows, math.floor(cy + ry - 0.5) + 1)
    if r1 <= r0:
        return None
    dy2 = ((np.arange(r0, r1, dtype=np.float64) + 0.5 - cy) / ry) ** 2
    half = rx * np.sqrt(np.clip(1.0 - dy2, 0.0, None))

    def inside(column: NDArray[np.float64]) -> NDArray[np.bool_]:
        result: NDArray[np.bool_] = ((column + 0.5 - cx) / rx) ** 2 + dy2 <= 1.0
        return result

    first = np.ceil(cx - half - 0.5)
    last = np.floor(cx + half - 0.5)
    # Rounding can put an end one pixel off the mask's test: settle each end by that test.
    first = np.where(inside(first - 1), first - 1, np.where(inside(first), first, first + 1))
    last = np.where(inside(last + 1), last + 1, np.where(inside(last), last, last - 1))
    begin = np.clip(first, 0, columns).astype(np.intp)
    end = np.clip(last + 1, 0, columns).astype(np.intp)
    return r0, begin, end


def region_values(annotation: Annotation, stored: NDArray[Any]) -> NDArray[Any] | None:
    """A fresh 1-D array (rows of samples for colour) of the stored values inside the region;
    None when no pixel is. Ellipses are gathered row span by row span and rectangles as their
    block, so a large ROI costs one copy of its pixels (no mask)."""
    shape = (stored.shape[0], stored.shape[1])
    if annotation.kind == ELLIPSE:
        spans = _ellipse_spans(annotation, shape)
        if spans is None:
            return None
        r0, begin, end = spans
        parts = [
            stored[r0 + i, b:e] for i, (b, e) in enumerate(zip(begin, end, strict=True)) if e > b
        ]
        if not parts:
            return None
        return np.concatenate(parts)
    found = region_mask(annotation, shape)
    if found is None:
        return None
    (r0, c0, r1, c1), mask = found
    part = stored[r0:r1, c0:c1]
    if annotation.kind == RECTANGLE:
        return part.reshape(-1, *part.shape[2:]).copy()
    return part[mask]


def region_stats(annotation: Annotation, frame: DecodedFrame) -> Stats | None:
    """Statistics of the modality values inside ``annotation`` (None: no pixel inside)."""
    picked = region_values(annotation, frame.stored)
    if picked is None:
        return None
    if frame.is_color:
        return _stats(luminance(picked), 1.0, 0.0)
    transform = frame.transform
    if transform.modality_lut is None and not frame.is_palette:
        return _stats(picked, transform.rescale_slope, transform.rescale_intercept)
    if frame.is_palette:
        return _stats(picked, 1.0, 0.0)
    return _stats(np.asarray(modality_values(picked, transform), dtype=np.float64), 1.0, 0.0)


def _stats(values: NDArray[Any], slope: float, intercept: float) -> Stats:
    """Statistics of ``values`` * slope + intercept, computed on ``values`` (a 1-D array this
    call may reorder). Integers of up to 16 bits take exact integer sums (sum and sum of
    squares in int64, the variance in Python integers); the median is a partition in place."""
    values = values.reshape(-1)
    count = int(values.size)
    if values.dtype.kind in "iu" and values.dtype.itemsize <= 2:
        total = int(values.sum(dtype=np.int64))
        squares = int(np.einsum("i,i->", values, values, dtype=np.int64, casting="unsafe"))
        mean = total / count
        sd = math.sqrt(max(count * squares - total * total, 0)) / count
    else:
        as_float = values.astype(np.float64, copy=False)
        mean = float(as_float.mean())
        sd = float(as_float.std())
    low, high = float(values.min()), float(values.max())
    middle = count // 2
    if count % 2:
        values.partition(middle)
        median = float(values[middle])
    else:  # the lower middle is the largest below the upper one (one kth: introselect fast)
        values.partition(middle)
        median = (float(values[:middle].max()) + float(values[middle])) / 2

    def line(v: float) -> float:
        return v * slope + intercept

    low, high = sorted((line(low), line(high)))
    return Stats(line(mean), sd * abs(slope), low, high, line(median), count)


def probe_value(point: Point, frame: DecodedFrame) -> float | None:
    """The modality value of the pixel under ``point`` (None outside the image)."""
    column, row = math.floor(point[0]), math.floor(point[1])
    stored = frame.stored
    if not (0 <= row < stored.shape[0] and 0 <= column < stored.shape[1]):
        return None
    if frame.is_color:
        return float(luminance(stored[row, column]))
    picked = stored[row : row + 1, column : column + 1]
    if frame.is_palette:
        return float(picked[0, 0])
    return float(np.asarray(modality_values(picked, frame.transform)).ravel()[0])


def measure(
    annotation: Annotation,
    calibration: Calibration,
    frame: DecodedFrame | None = None,
    modality: str = "",
) -> Measurement:
    """Everything the label and the SR say about ``annotation`` (statistics need ``frame``)."""
    kind, points = annotation.kind, annotation.points
    scale = calibration.scale(points)
    spacing = scale.spacing
    values: dict[str, float] = {}
    stats: Stats | None = None
    unit = value_unit(frame, modality)
    if kind == LENGTH and len(points) >= 2:
        values["length"] = length(points, spacing)
    elif kind == ANGLE and len(points) >= 3:
        values["angle"] = angle_degrees(points, spacing)
    elif kind == COBB and len(points) >= 4:
        values["angle"] = cobb_degrees(points, spacing)
    elif kind == BIDIRECTIONAL and len(points) >= 4:
        values["long"] = length(points[:2], spacing)
        values["short"] = length(points[2:4], spacing)
    elif kind == ELLIPSE and len(points) >= 2:
        values["area"], values["perimeter"] = ellipse_area_perimeter(points, spacing)
    elif kind == RECTANGLE and len(points) >= 2:
        left, top, right, bottom = box(points)
        corners = ((left, top), (right, top), (right, bottom), (left, bottom))
        values["area"] = polygon_area(corners, spacing)
        values["perimeter"] = polygon_perimeter(corners, spacing)
    elif kind in (POLYGON, FREEHAND) and len(points) >= 3:
        values["area"] = polygon_area(points, spacing)
        values["perimeter"] = polygon_perimeter(points, spacing)
    elif kind == POINT and points and frame is not None:
        value = probe_value(points[0], frame)
        if value is not None:
            values["value"] = value
    if kind in (ELLIPSE, RECTANGLE, POLYGON, FREEHAND) and frame is not None:
        stats = region_stats(annotation, frame)
    if kind in (TEXT, ARROW):  # annotations: their text is their label
        return Measurement(kind, {}, scale, unit)
    return Measurement(kind, values, scale, unit, stats)


def _number(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1000 or magnitude == 0:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def label_lines(measurement: Measurement) -> list[str]:
    """The label's lines; every length and area names its calibration."""
    scale, values = measurement.scale, measurement.values
    unit = scale.unit
    note = f" ({scale.note})" if scale.note else ""
    lines: list[str] = []
    if "length" in values:
        lines.append(f"{_number(values['length'])} {unit}{note}")
    if "long" in values:
        lines.append(
            f"L {_number(values['long'])} {unit}  S {_number(values['short'])} {unit}{note}"
        )
    if "angle" in values:
        cobb = "Cobb " if measurement.kind == COBB else ""
        lines.append(f"{cobb}{values['angle']:.1f}°")
    if "value" in values:
        lines.append(f"{_number(values['value'])} {measurement.value_unit}".rstrip())
    stats = measurement.stats
    if stats is not None:
        vu = f" {measurement.value_unit}" if measurement.value_unit else ""
        lines.append(f"Mean {_number(stats.mean)}{vu}  SD {_number(stats.sd)}")
        lines.append(f"Min {_number(stats.min)}  Max {_number(stats.max)}  "
                     f"Median {_number(stats.median)}")  # fmt: skip
        lines.append(f"n {stats.count}")
    if "area" in values:
        lines.append(
            f"Area {_number(values['area'])} {unit}²  Perim {_number(values['perimeter'])} {unit}"
            + note
        )
    return lines
