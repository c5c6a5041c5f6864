"""Linking viewports by patient position (no Qt): synchronised scrolling and reference lines.

Both only make sense between images sharing a Frame of Reference (PS3.3 C.7.4.1.1.1), whose
Image Position/Orientation (Patient) (C.7.6.2.1.1) are in the same LPS millimetres.

* Synchronised scrolling: the slice of another stack nearest to the active slice, measured
  along that stack's normal; only between (near) parallel stacks.
* Reference line: where the active slice's plane cuts another view's image, as a segment in
  that image's pixel coordinates; only between non-parallel planes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from viewer.dicom.catalog.geometry import slice_normal
from viewer.dicom.catalog.records import Orientation, Vec3

#: Stacks count as parallel for synchronised scrolling when |cos| of their normals exceeds this.
PARALLEL_COSINE = 0.95
#: A plane cuts another when |cos| of their normals is below this (about 1.8 degrees apart).
CUTTING_COSINE = 0.9995
#: Scroll sync leaves the other stack alone when its nearest slice is farther than this (mm).
SYNC_TOLERANCE_MM = 5.0


def nearest_slice(
    positions: Sequence[Vec3],
    orientation: Orientation,
    point: Vec3,
    point_orientation: Orientation,
    tolerance_mm: float = SYNC_TOLERANCE_MM,
) -> int | None:
    """Index of the slice (by Image Position (Patient)) nearest ``point`` along the normal.

    None when the two stacks are not parallel, or ``point`` lies beyond either end of the stack
    by more than ``tolerance_mm`` (nearest-slice matching would then show a misleading slice).
    """
    normal = slice_normal(orientation)
    if abs(float(np.dot(normal, slice_normal(point_orientation)))) < PARALLEL_COSINE:
        return None
    distances = np.asarray(positions, dtype=float) @ normal
    target = float(np.dot(np.asarray(point, dtype=float), normal))
    index = int(np.argmin(np.abs(distances - target)))
    if abs(float(distances[index]) - target) > tolerance_mm:
        return None
    return index


def reference_segment(
    plane_point: Vec3,
    plane_orientation: Orientation,
    image_position: Vec3,
    image_orientation: Orientation,
    pixel_spacing: tuple[float, float],
    size: tuple[int, int],
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where the plane (point, orientation) cuts an image, as two (column, row) pixel points.

    ``pixel_spacing`` is (row, column) spacing and ``size`` (rows, columns) of the image cut;
    pixel coordinates are continuous with pixel (0, 0)'s centre at (0, 0). None when the
    planes are parallel or the line misses the image.
    """
    normal = slice_normal(plane_orientation)
    row_dir = np.asarray(image_orientation[:3], dtype=float)
    col_dir = np.asarray(image_orientation[3:], dtype=float)
    if abs(float(np.dot(normal, slice_normal(image_orientation)))) > CUTTING_COSINE:
        return None
    # Signed distance from the plane of the image point at (column c, row r):
    # d(c, r) = base + c * along_column_index + r * along_row_index.
    base = float(np.dot(normal, np.asarray(image_position, float) - np.asarray(plane_point, float)))
    per_column = float(np.dot(normal, row_dir)) * pixel_spacing[1]
    per_row = float(np.dot(normal, col_dir)) * pixel_spacing[0]
    right, bottom = size[1] - 0.5, size[0] - 0.5
    corners = [(-0.5, -0.5), (right, -0.5), (right, bottom), (-0.5, bottom)]
    points: list[tuple[float, float]] = []
    for (c0, r0), (c1, r1) in zip(corners, corners[1:] + corners[:1], strict=True):
        d0 = base + c0 * per_column + r0 * per_row
        d1 = base + c1 * per_column + r1 * per_row
        if d0 == d1 or ((d0 > 0) == (d1 > 0) and d0 != 0 and d1 != 0):
            continue
        t = d0 / (d0 - d1)
        point = (c0 + t * (c1 - c0), r0 + t * (r1 - r0))
        if all(np.hypot(point[0] - p[0], point[1] - p[1]) > 1e-6 for p in points):
            points.append(point)
    if len(points) < 2:
        return None
    return points[0], points[1]
