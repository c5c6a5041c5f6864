"""Patient-space geometry of a slice stack (PS3.3 C.7.6.2 Image Plane module).

Conventions, as GDCM and ITK use them:

- Image Orientation (Patient) holds the row direction cosines (along a row, i.e. towards
  increasing column index) then the column direction cosines (down a column).
- The slice normal is row x column; slices are ordered by ascending Image Position (Patient)
  projected on that normal.
- Pixel Spacing is (between rows, between columns) (PS3.3 10.7.1.3); the stack's spacing is
  reported as (between columns, between rows, between slices), the index order (x, y, z).
- Coordinates are LPS millimetres (PS3.3 C.7.6.2.1.1).

Every tolerance is a named constant here, so a warning can say what it measured against.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from viewer.dicom.catalog.records import Orientation, Vec3

#: Two orientations are the same plane when no direction cosine differs by more than this.
ORIENTATION_TOLERANCE = 1e-3
#: Two positions along the normal closer than this (mm) are the same slice location.
POSITION_TOLERANCE_MM = 1e-2
#: Slice gaps may differ from the median by this fraction (or POSITION_TOLERANCE_MM) and still
#: count as regular.
SPACING_RELATIVE_TOLERANCE = 0.01
#: A gap this many times the median (or more) means slices are missing.
MISSING_SLICE_FACTOR = 1.5
#: A gap within this fraction of a whole multiple (2 or more) of its run's spacing, inside the
#: run, means slices are missing there (when the stack has runs of different spacing).
MISSING_MULTIPLE_TOLERANCE = 0.05
#: A run of regular spacing has at least this many gaps (three slices); a lone odd gap is a
#: step between runs or an irregularity, never a run.
MIN_RUN_GAPS = 2
#: The step between slices may lean away from the normal by this many degrees before the stack
#: counts as sheared (gantry tilt).
TILT_TOLERANCE_DEG = 0.05


@dataclass(frozen=True, slots=True)
class StackGeometry:
    """Where a regular grid of voxels sits in patient space, with what is irregular about it.

    ``direction`` rows are unit vectors: along a row, down a column, and one slice step. For a
    sheared (tilted-gantry) stack the third is the true step between slice origins, not the
    normal, so the affine maps every index to its true position.
    """

    spacing: Vec3
    origin: Vec3
    direction: tuple[Vec3, Vec3, Vec3]
    warnings: tuple[str, ...] = ()

    def affine(self) -> np.ndarray:
        """4x4 matrix from (column, row, frame) index to LPS mm."""
        return affine_matrix(self.spacing, self.origin, self.direction)


def affine_matrix(spacing: Vec3, origin: Vec3, direction: Sequence[Sequence[float]]) -> np.ndarray:
    """Index (i=column, j=row, k=frame, 1) to LPS mm (PS3.3 C.7.6.2.1.1, extended along k)."""
    matrix = np.eye(4)
    axes = np.asarray(direction, dtype=float)
    for axis in range(3):
        matrix[:3, axis] = axes[axis] * spacing[axis]
    matrix[:3, 3] = origin
    return matrix


def pixel_to_patient(
    position: Vec3,
    orientation: Orientation,
    pixel_spacing: tuple[float, float],
    column: float,
    row: float,
) -> Vec3:
    """LPS mm of the point (``column``, ``row``) of a slice, pixel centres at whole numbers
    (PS3.3 C.7.6.2.1.1, Equation C.7.6.2.1-1): Image Position (Patient) + column x column
    spacing along the row direction + row x row spacing along the column direction.
    ``pixel_spacing`` is (row spacing, column spacing) as Pixel Spacing (0028,0030) orders it."""
    row_mm, column_mm = pixel_spacing
    along_row = np.asarray(orientation[:3], dtype=float) * column_mm * column
    down_column = np.asarray(orientation[3:], dtype=float) * row_mm * row
    point = np.asarray(position, dtype=float) + along_row + down_column
    return (float(point[0]), float(point[1]), float(point[2]))


def slice_normal(orientation: Orientation) -> np.ndarray:
    """Unit normal row x column of an Image Orientation (Patient) value."""
    row = np.asarray(orientation[:3], dtype=float)
    column = np.asarray(orientation[3:], dtype=float)
    normal = np.cross(row, column)
    length = float(np.linalg.norm(normal))
    if length < 1e-6:
        raise ValueError("degenerate Image Orientation (Patient): row and column are parallel")
    return normal / length


def is_valid_orientation(orientation: Orientation | None) -> bool:
    """Row and column are (near) unit length and (near) perpendicular."""
    if orientation is None or len(orientation) != 6:
        return False
    values = np.asarray(orientation, dtype=float)
    if not np.all(np.isfinite(values)):
        return False
    row, column = values[:3], values[3:]
    return (
        abs(float(np.linalg.norm(row)) - 1.0) < 0.01
        and abs(float(np.linalg.norm(column)) - 1.0) < 0.01
        and abs(float(np.dot(row, column))) < 0.01
    )


def same_orientation(a: Orientation, b: Orientation) -> bool:
    """True when two orientations describe the same plane within ORIENTATION_TOLERANCE."""
    return all(abs(x - y) <= ORIENTATION_TOLERANCE for x, y in zip(a, b, strict=True))


def positions_along_normal(positions: Sequence[Vec3], orientation: Orientation) -> np.ndarray:
    """Signed distance (mm) of each Image Position (Patient) along the slice normal."""
    return np.asarray(positions, dtype=float) @ slice_normal(orientation)


def ascending_order(distances: np.ndarray, tie_breaks: Sequence[int]) -> list[int]:
    """Indices sorting slices by distance along the normal, ties by ``tie_breaks``."""
    return sorted(range(len(distances)), key=lambda i: (float(distances[i]), tie_breaks[i]))


def stack_geometry(
    positions: Sequence[Vec3],
    orientation: Orientation,
    pixel_spacing: tuple[float, float],
    slice_thickness: float | None = None,
    thicknesses: Sequence[float | None] | None = None,
) -> StackGeometry:
    """Spacing, origin and direction of slices already in ascending order, with warnings.

    Spacing between slices comes from the positions (never from Slice Thickness or Spacing
    Between Slices, which scanners fill inconsistently); a single slice uses its thickness.
    ``thicknesses`` (each slice's Slice Thickness, in order) lets runs of different spacing be
    told apart from missing slices (:func:`gap_warnings`).
    """
    row, column = _unit(orientation[:3]), _unit(orientation[3:])
    normal = slice_normal(orientation)
    in_plane = (float(pixel_spacing[1]), float(pixel_spacing[0]))
    origin = _vec3(positions[0])
    if len(positions) < 2:
        depth = float(slice_thickness) if slice_thickness and slice_thickness > 0 else 1.0
        return StackGeometry((*in_plane, depth), origin, (_vec3(row), _vec3(column), _vec3(normal)))
    points = np.asarray(positions, dtype=float)
    gaps = np.diff(points @ normal)
    warnings = list(gap_warnings(gaps, thicknesses))
    real_gaps = gaps[np.abs(gaps) >= POSITION_TOLERANCE_MM]
    if real_gaps.size == 0:
        warnings.append("all slices share one position; slice spacing set to 1 mm")
        return StackGeometry(
            (*in_plane, 1.0), origin, (_vec3(row), _vec3(column), _vec3(normal)), tuple(warnings)
        )
    # Duplicates (gap 0) and missing slices must not skew the slice step: the median of the
    # real gaps is the spacing along the normal.
    gap = float(np.median(real_gaps))
    slice_axis, depth, shear = slice_step(points[-1] - points[0], normal, gap)
    return StackGeometry(
        (*in_plane, depth),
        origin,
        (_vec3(row), _vec3(column), _vec3(slice_axis)),
        (*warnings, *shear),
    )


def slice_step(
    first_to_last: np.ndarray, normal: np.ndarray, gap: float
) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """Unit slice axis, spacing along it and a shear warning, for slices ``gap`` mm apart.

    Unsheared, the axis is the normal. Sheared (gantry tilt), it is the direction from the
    first slice to the last, and the spacing grows by 1 / cos(tilt) so that the affine still
    reaches every slice's true position.
    """
    tilt = tilt_degrees(first_to_last, normal)
    if tilt <= TILT_TOLERANCE_DEG:
        return normal, gap, ()
    axis = first_to_last / float(np.linalg.norm(first_to_last))
    warning = (
        f"sheared stack (gantry tilt {tilt:.1f}°): slice positions kept as acquired, "
        f"{gap:.3g} mm apart along the normal"
    )
    return axis, gap / abs(float(np.dot(axis, normal))), (warning,)


def gap_warnings(gaps: np.ndarray, thicknesses: Sequence[float | None] | None = None) -> list[str]:
    """Warnings about duplicate positions, missing slices, mixed and irregular spacing."""
    warnings: list[str] = []
    duplicates = int(np.count_nonzero(np.abs(gaps) < POSITION_TOLERANCE_MM))
    if duplicates:
        warnings.append(f"{duplicates} duplicate slice position(s)")
    real_gaps = gaps[np.abs(gaps) >= POSITION_TOLERANCE_MM]
    if real_gaps.size == 0:
        return warnings
    runs = _distinct(spacing_runs(gaps, thicknesses))
    if any(not _close(run.spacing, runs[0].spacing) for run in runs[1:]):
        return [*warnings, *_mixed_spacing_warnings(gaps, runs)]
    return [*warnings, *_single_spacing_warnings(gaps, real_gaps)]


@dataclass(frozen=True, slots=True)
class SpacingRun:
    """Slices ``first``..``last`` (0-based, inclusive, in stack order) ``spacing`` mm apart;
    ``missing`` lists the gaps inside the run (by index) that are whole multiples of it."""

    first: int
    last: int
    spacing: float
    missing: tuple[int, ...] = ()


def spacing_runs(
    gaps: np.ndarray, thicknesses: Sequence[float | None] | None = None
) -> list[SpacingRun]:
    """Maximal runs of regular spacing, in order (PS3.3 C.7.6.2: nothing makes a stack regular).

    A run is at least MIN_RUN_GAPS gaps within SPACING_RELATIVE_TOLERANCE of each other, never
    crosses a change of Slice Thickness, and may hold gaps that are a whole multiple of its
    spacing (missing slices) where the run goes on after them. Duplicate positions stay inside.
    """
    runs: list[SpacingRun] = []
    for segment_first, segment_last in _thickness_segments(len(gaps) + 1, thicknesses):
        start = segment_first
        while start < segment_last:
            run = _run_from(gaps, start, segment_last)
            if run.last - run.first - len(run.missing) >= MIN_RUN_GAPS or (
                run.first == 0 and run.last == len(gaps)
            ):
                runs.append(run)
            start = max(run.last, start + 1)
    return runs


def _thickness_segments(
    slices: int, thicknesses: Sequence[float | None] | None
) -> list[tuple[int, int]]:
    """(first, last) slices of each stretch with one Slice Thickness (unknown: one stretch)."""
    if not thicknesses or len(thicknesses) != slices or None in thicknesses:
        return [(0, slices - 1)]
    segments: list[tuple[int, int]] = []
    first = 0
    for index in range(1, slices):
        if not _close(float(thicknesses[index]), float(thicknesses[index - 1])):  # type: ignore[arg-type]
            segments.append((first, index - 1))
            first = index
    segments.append((first, slices - 1))
    return segments


def _run_from(gaps: np.ndarray, first: int, last_slice: int) -> SpacingRun:
    """The run that starts at slice ``first`` and ends at ``last_slice`` at the latest."""
    index = first
    while index < last_slice and abs(float(gaps[index])) < POSITION_TOLERANCE_MM:
        index += 1
    if index >= last_slice:
        return SpacingRun(first, last_slice, 0.0)
    members = [float(gaps[index])]  # kept sorted: the median is read, not recomputed
    missing: list[int] = []
    index += 1
    while index < last_slice:
        gap = float(gaps[index])
        spacing = _median_of_sorted(members)
        if abs(gap) < POSITION_TOLERANCE_MM or _close(gap, spacing):
            if abs(gap) >= POSITION_TOLERANCE_MM:
                bisect.insort(members, gap)
        elif _whole_multiple(gap, spacing) and (
            index + 1 < last_slice and _close(float(gaps[index + 1]), spacing)
        ):
            missing.append(index)
        else:
            break
        index += 1
    return SpacingRun(first, index, _median_of_sorted(members), tuple(missing))


def _median_of_sorted(values: list[float]) -> float:
    """The median of sorted ``values`` (as numpy's: the mean of the two middle ones)."""
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2.0


def _close(a: float, b: float) -> bool:
    tolerance = max(POSITION_TOLERANCE_MM, SPACING_RELATIVE_TOLERANCE * abs(b))
    return abs(a - b) <= tolerance


def _whole_multiple(gap: float, spacing: float) -> bool:
    if spacing <= 0:
        return False
    multiple = round(gap / spacing)
    tolerance = max(POSITION_TOLERANCE_MM, MISSING_MULTIPLE_TOLERANCE * spacing)
    return multiple >= 2 and abs(gap - multiple * spacing) <= tolerance


def _distinct(runs: list[SpacingRun]) -> list[SpacingRun]:
    return [run for run in runs if run.spacing > 0]


def spacing_mm(value: float) -> str:
    """A slice spacing as a person reads it: ``4.0``, ``1.25``, ``0.625``."""
    text = f"{value:.3g}" if abs(value) < 100 else f"{value:.1f}"
    return text if "." in text or "e" in text else f"{text}.0"


def _mixed_spacing_warnings(gaps: np.ndarray, runs: list[SpacingRun]) -> list[str]:
    """Runs of different spacing: say which slices have which, then missing slices inside a
    run and any gap that belongs to no run and is not the step from one run to the next."""
    parts = ", ".join(
        f"{spacing_mm(run.spacing)} mm for {'' if k else 'slices '}{run.first + 1}-{run.last + 1}"
        for k, run in enumerate(runs)
    )
    warnings = [f"mixed slice spacing: {parts}"]
    missing = [(index, run) for run in runs for index in run.missing]
    if missing:
        count = sum(round(float(gaps[i]) / run.spacing) - 1 for i, run in missing)
        where = ", ".join(
            f"after slice {i + 1} in the {spacing_mm(run.spacing)} mm run" for i, run in missing[:5]
        )
        warnings.append(f"{count} missing slice(s) ({where})")
    inside = {i for run in runs for i in range(run.first, run.last)}
    steps = {run.first - 1 for run in runs[1:]}
    stray = [
        float(gap)
        for i, gap in enumerate(gaps)
        if i not in inside and i not in steps and abs(float(gap)) >= POSITION_TOLERANCE_MM
    ]
    if stray:
        listed = ", ".join(f"{gap:.4g}" for gap in stray[:5])
        warnings.append(f"{len(stray)} irregular gap(s) between runs ({listed} mm)")
    return warnings


def _single_spacing_warnings(gaps: np.ndarray, real_gaps: np.ndarray) -> list[str]:
    warnings: list[str] = []
    median = float(np.median(real_gaps))
    tolerance = max(POSITION_TOLERANCE_MM, SPACING_RELATIVE_TOLERANCE * median)
    missing = [
        i for i, gap in enumerate(gaps) if gap >= MISSING_SLICE_FACTOR * median and median > 0
    ]
    if missing:
        count = sum(round(float(gaps[i]) / median) - 1 for i in missing)
        where = ", ".join(f"after slice {i + 1}" for i in missing[:5])
        warnings.append(f"{count} missing slice(s) ({where}); spacing {median:.4g} mm assumed")
    irregular = [
        float(gap)
        for i, gap in enumerate(gaps)
        if abs(gap) >= POSITION_TOLERANCE_MM
        and i not in missing
        and abs(float(gap) - median) > tolerance
    ]
    if irregular:
        warnings.append(
            f"irregular slice spacing ({float(real_gaps.min()):.4g} to "
            f"{float(real_gaps.max()):.4g} mm); median {median:.4g} mm used"
        )
    return warnings


def tilt_degrees(step: np.ndarray, normal: np.ndarray) -> float:
    """Angle between the slice-to-slice step and the slice normal, in degrees."""
    cosine = abs(float(np.dot(step, normal))) / float(np.linalg.norm(step))
    return math.degrees(math.acos(min(1.0, cosine)))


def _unit(values: Sequence[float]) -> np.ndarray:
    """A direction cosine triplet scaled to unit length (files store them rounded)."""
    vector = np.asarray(values, dtype=float)
    return vector / float(np.linalg.norm(vector))


def _vec3(values: Sequence[float] | np.ndarray) -> Vec3:
    return (float(values[0]), float(values[1]), float(values[2]))
