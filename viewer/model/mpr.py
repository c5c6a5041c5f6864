"""Multiplanar reformatting (MPR): planes in patient space, reformats, thick slabs (no Qt).

Coordinates are LPS millimetres (PS3.3 C.7.6.2.1.1): +x patient Left, +y Posterior, +z Head.
A volume's affine maps (column, row, frame) indices to LPS (viewer.dicom.catalog.geometry); a point
is sampled by mapping it back through the inverse affine. A plane is an image grid in patient
space: the centre of its pixel (0, 0), two in-plane unit axes (``right`` along a row, ``down``
along a column, as Image Orientation (Patient) orders them, C.7.6.2.1.1), a pixel size for
each, and a size. Its normal is right x down, the slice normal of C.7.6.2.1.1.

Viewing conventions (radiological, as every PACS shows them): axial and coronal views have the
patient's right on the screen's left; sagittal views have anterior on the left; coronal and
sagittal views have the head up. They hold whatever plane the series was acquired in.

Sampling: a plane whose rows and columns run along voxel axes (the usual axial/coronal/sagittal
view of an axis-aligned volume) is a strided copy of the nearest slice, no interpolation.
Anything else (oblique planes, oblique or sheared acquisitions) is trilinear interpolation in
index space, by a small compiled kernel split over the CPU's cores. A thick slab reduces (MIP,
MinIP, mean) over planes parallel to the plane, one voxel step apart along the slab normal.

Geometry: the volume is sampled where the slices really are. A sheared (gantry-tilt) stack's
affine already reaches every slice's true position, so reformatting through the inverse affine
is exact. Irregular spacing and missing slices are resampled once onto a regular grid from the
true slice positions (:func:`mpr_volume`), with a warning saying so.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom.catalog import geometry
from viewer.dicom.pixels import display
from viewer.dicom.pixels.frames import PixelTransform
from viewer.model.signal import Signal
from viewer.model.window_level import Voi

if TYPE_CHECKING:  # viewer.dicom.pixels.volume loads pydicom and the decoders
    from viewer.dicom.pixels.volume import Volume

Vec3 = tuple[float, float, float]
#: A point or direction in LPS mm: a tuple, list or array of three floats.
Vector = Sequence[float] | NDArray[np.float64]

#: A plane step that is within this many voxels of a unit voxel step counts as grid-aligned,
#: and a plane origin this close to a voxel centre counts as on the grid.
ALIGNMENT_TOLERANCE_VOXELS = 1e-3
#: True slice positions further than this (fraction of a slice) from the affine's regular grid
#: make the stack irregular, so it is resampled before reformatting.
REGULAR_TOLERANCE_SLICES = 0.02
#: Reformatted images never exceed this many pixels a side (the pixel grows instead).
MAX_OUTPUT_PIXELS = 1024
#: A preview (while dragging) uses pixels and slab steps this many times coarser.
PREVIEW_FACTOR = 2
#: Outputs with fewer rows than this are not split over threads.
MIN_ROWS_PER_THREAD = 32


class SlabMode(Enum):
    """How a thick slab combines its planes."""

    MIP = "MIP"  # maximum intensity projection
    MINIP = "MinIP"  # minimum intensity projection
    MEAN = "Mean"  # average (a thick multiplanar reformat)


_MODE_CODES = {SlabMode.MIP: 0, SlabMode.MINIP: 1, SlabMode.MEAN: 2}


class View(Enum):
    """The three MPR views, by the patient plane each starts as."""

    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


#: (right, down) of each view in LPS: screen-right and screen-down directions.
STANDARD_AXES: dict[View, tuple[Vec3, Vec3]] = {
    View.AXIAL: ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # right -> patient L, down -> P
    View.CORONAL: ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),  # right -> L, down -> F
    View.SAGITTAL: ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),  # right -> P, down -> F
}


# --- the volume as MPR holds it ----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MprVolume:
    """Voxels on a regular (possibly sheared) grid with the affine that places them.

    ``voxels`` is (frames, rows, columns) in stored values; modality = stored * slope + b
    (PS3.3 C.11.1.1.2). ``shows_inverted`` is True when the frames are displayed inverted
    after the VOI: MONOCHROME1 (C.7.6.3.1.2) or an INVERSE Presentation LUT Shape
    (C.11.6.1.2), exactly as the 2D view shows them. ``stored_range`` is the (lowest, highest)
    stored value; ``fill``, the stored value shown outside the volume, is the one of them that
    displays black.
    """

    voxels: NDArray[Any]
    affine: NDArray[np.float64]
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    warnings: tuple[str, ...] = ()
    fill: float = field(default=0.0)
    shows_inverted: bool = False
    stored_range: tuple[float, float] = (0.0, 0.0)
    inverse: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inverse", np.linalg.inv(self.affine))

    @classmethod
    def from_arrays(
        cls,
        voxels: NDArray[Any],
        affine: NDArray[np.float64],
        rescale_slope: float = 1.0,
        rescale_intercept: float = 0.0,
        warnings: tuple[str, ...] = (),
        shows_inverted: bool = False,
    ) -> MprVolume:
        """A volume from a regular voxel array and its affine (fill: the voxel extreme that
        displays black: the minimum, or the maximum where the display inverts)."""
        low, high = (float(voxels.min()), float(voxels.max())) if voxels.size else (0.0, 0.0)
        fill = high if shows_inverted != (rescale_slope < 0) else low
        voxels = np.ascontiguousarray(voxels)  # the kernels are compiled for C order (no copy)
        return cls(
            voxels,
            np.asarray(affine, float),
            rescale_slope,
            rescale_intercept,
            warnings,
            fill,
            shows_inverted,
            (low, high),
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        frames, rows, columns = self.voxels.shape
        return (frames, rows, columns)

    @property
    def index_extent(self) -> NDArray[np.float64]:
        """Voxel counts in index order (columns, rows, frames)."""
        return np.array(self.shape[::-1], dtype=float)

    @property
    def spacing(self) -> NDArray[np.float64]:
        """mm per index step along (columns, rows, frames)."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    def to_index(self, point: Vector) -> NDArray[np.float64]:
        """LPS mm -> continuous (column, row, frame) index."""
        return self.inverse[:3, :3] @ np.asarray(point, float) + self.inverse[:3, 3]

    def to_patient(self, index: Vector) -> NDArray[np.float64]:
        """Continuous (column, row, frame) index -> LPS mm."""
        return self.affine[:3, :3] @ np.asarray(index, float) + self.affine[:3, 3]

    def corners(self) -> NDArray[np.float64]:
        """The 8 corner voxel centres in LPS mm, shape (8, 3)."""
        last = self.index_extent - 1
        grid = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float)
        return (self.affine[:3, :3] @ (grid * last).T).T + self.affine[:3, 3]

    def center(self) -> NDArray[np.float64]:
        return self.to_patient((self.index_extent - 1) / 2)

    def contains(self, point: Vector) -> bool:
        """True when ``point`` lies within half a voxel of the voxel-centre grid."""
        index = self.to_index(point)
        return bool(np.all(index >= -0.5) and np.all(index <= self.index_extent - 0.5))

    def modality(self, stored: float) -> float:
        return stored * self.rescale_slope + self.rescale_intercept


def mpr_volume(volume: Volume, shows_inverted: bool = False) -> MprVolume:
    """The volume MPR samples: resampled onto a regular grid when the slices are irregular.

    ``shows_inverted``: its frames display inverted (MONOCHROME1, see :class:`MprVolume`).

    Slices are placed by their true Image Position (Patient) (PS3.3 C.7.6.2.1.1). A stack whose
    positions fall on its affine's grid is used as loaded (a sheared, gantry-tilt grid included:
    its affine already follows the tilt). Otherwise (irregular spacing, missing slices) every
    slice of the regular grid is interpolated linearly between the two true slices around it.
    """
    notes = [w for w in volume.warnings if w not in volume.stack.warnings]
    voxels, affine = volume.voxels, np.asarray(volume.affine, float)
    tilt = shear_degrees(affine)
    if tilt > geometry.TILT_TOLERANCE_DEG:
        notes.append(
            f"MPR: gantry tilt {tilt:.1f}° corrected: planes are sampled at the true slice "
            "positions (sheared grid)"
        )
    positions = volume.stack.positions
    if positions is not None and len(positions) == volume.shape[0]:
        true_index = true_slice_indices(np.linalg.inv(affine), positions)
        if not is_regular(true_index):
            voxels, note = resample_slices(volume.voxels, true_index)
            notes.append(note)
    return MprVolume.from_arrays(
        voxels,
        affine,
        volume.rescale_slope,
        volume.rescale_intercept,
        tuple(notes),
        shows_inverted,
    )


def shear_degrees(affine: NDArray[np.float64]) -> float:
    """Angle between the slice step and the slice normal (row x column), in degrees."""
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    return geometry.tilt_degrees(affine[:3, 2], normal / float(np.linalg.norm(normal)))


def true_slice_indices(
    inverse: NDArray[np.float64], positions: Sequence[Sequence[float]]
) -> NDArray[np.float64]:
    """The frame index coordinate of each slice's true position under the inverse affine."""
    points = np.asarray(positions, dtype=float)
    return points @ inverse[2, :3] + inverse[2, 3]


def is_regular(true_index: NDArray[np.float64]) -> bool:
    """True when slice k sits at frame index k (within REGULAR_TOLERANCE_SLICES)."""
    expected = np.arange(len(true_index), dtype=float)
    return bool(np.all(np.abs(true_index - expected) <= REGULAR_TOLERANCE_SLICES))


def resample_slices(
    voxels: NDArray[Any], true_index: NDArray[np.float64]
) -> tuple[NDArray[Any], str]:
    """Voxels on the regular grid 0, 1, ..., K from slices at ``true_index`` (ascending).

    Each output slice is the linear blend of the two true slices around it (the nearest one
    past either end); duplicate positions keep the first slice. Returns the new voxels (same
    dtype) and a warning saying what was done.
    """
    keep = np.concatenate([[True], np.diff(true_index) > REGULAR_TOLERANCE_SLICES])
    index, source = true_index[keep], np.flatnonzero(keep)
    count = round(float(index[-1] - index[0])) + 1
    targets = index[0] + np.arange(count, dtype=float)
    out = np.empty((count, *voxels.shape[1:]), dtype=voxels.dtype)
    integer = np.issubdtype(voxels.dtype, np.integer)
    interpolated = 0
    for target_number, target in enumerate(targets):
        above = int(np.clip(np.searchsorted(index, target), 1, len(index) - 1))
        low, high = index[above - 1], index[above]
        weight = float(np.clip((target - low) / (high - low), 0.0, 1.0))
        if weight < REGULAR_TOLERANCE_SLICES or weight > 1 - REGULAR_TOLERANCE_SLICES:
            nearest = source[above] if weight > 0.5 else source[above - 1]
            out[target_number] = voxels[nearest]
            continue
        interpolated += 1
        blend = voxels[source[above - 1]].astype(np.float32)
        blend += np.float32(weight) * (voxels[source[above]].astype(np.float32) - blend)
        out[target_number] = np.rint(blend) if integer else blend
    duplicates = len(true_index) - len(index)
    note = (
        f"MPR: slices resampled from their true positions onto a regular grid of {count} "
        f"({interpolated} interpolated between neighbours"
        + (f", {duplicates} duplicate(s) dropped" if duplicates else "")
        + ")"
    )
    return out, note


# --- planes ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Plane:
    """An image grid in patient space.

    ``origin`` is the LPS centre of pixel (column 0, row 0); ``right``/``down`` are unit axes
    along a row and down a column; ``pixel_mm`` is (along right, along down); ``size`` is
    (columns, rows).
    """

    origin: Vec3
    right: Vec3
    down: Vec3
    pixel_mm: tuple[float, float]
    size: tuple[int, int]

    @property
    def normal(self) -> NDArray[np.float64]:
        return np.cross(self.right, self.down)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the reformatted image."""
        return (self.size[1], self.size[0])

    def point(self, column: float, row: float) -> NDArray[np.float64]:
        """LPS mm of the (continuous) pixel position ``column``, ``row``."""
        return (
            np.asarray(self.origin)
            + column * self.pixel_mm[0] * np.asarray(self.right)
            + row * self.pixel_mm[1] * np.asarray(self.down)
        )

    def pixel_of(self, point: Vector) -> tuple[float, float, float]:
        """(column, row, mm in front of the plane along its normal) of an LPS point."""
        offset = np.asarray(point, float) - np.asarray(self.origin)
        return (
            float(offset @ np.asarray(self.right)) / self.pixel_mm[0],
            float(offset @ np.asarray(self.down)) / self.pixel_mm[1],
            float(offset @ self.normal),
        )

    def through(self, point: Vector) -> Plane:
        """The same grid moved along its normal so that it contains ``point``."""
        distance = self.pixel_of(point)[2]
        return replace(self, origin=_vec3(np.asarray(self.origin) + distance * self.normal))

    def coarser(self, factor: int) -> Plane:
        """The same area with ``factor`` times bigger pixels (a preview)."""
        columns = max(1, math.ceil(self.size[0] / factor))
        rows = max(1, math.ceil(self.size[1] / factor))
        px = (self.pixel_mm[0] * factor, self.pixel_mm[1] * factor)
        shift = (factor - 1) / 2  # keep the covered area centred on the fine grid's area
        origin = self.point(shift, shift)
        return Plane(_vec3(origin), self.right, self.down, px, (columns, rows))


def _vec3(values: Vector) -> Vec3:
    return (float(values[0]), float(values[1]), float(values[2]))


def _unit(values: Vector) -> NDArray[np.float64]:
    vector = np.asarray(values, dtype=float)
    return vector / float(np.linalg.norm(vector))


def axis_spacing(volume: MprVolume, direction: Vector) -> float:
    """mm between samples along ``direction``: a voxel step along its dominant voxel axis.

    For a direction along a voxel axis this is that axis' spacing; for an oblique one it is the
    distance that moves one voxel along the axis it crosses fastest (never skips a voxel).
    """
    per_mm = np.abs(volume.inverse[:3, :3] @ _unit(direction))
    return 1.0 / float(per_mm.max())


def plane_for(
    volume: MprVolume,
    right: Vector,
    down: Vector,
    point: Vector,
) -> Plane:
    """The plane through ``point`` with axes ``right``/``down`` covering the whole volume.

    Pixels are the voxel spacing along each axis (so an axis-aligned plane samples voxel
    centres exactly), grown if needed to stay within MAX_OUTPUT_PIXELS.
    """
    right_unit, down_unit = _unit(right), _unit(down)
    normal = np.cross(right_unit, down_unit)
    corners = volume.corners()
    across, along = corners @ right_unit, corners @ down_unit
    pixels = []
    for axis, extent in ((right_unit, np.ptp(across)), (down_unit, np.ptp(along))):
        pixel = axis_spacing(volume, axis)
        pixels.append(max(pixel, float(extent) / (MAX_OUTPUT_PIXELS - 1)))
    columns = math.floor(float(np.ptp(across)) / pixels[0] + 1e-6) + 1
    rows = math.floor(float(np.ptp(along)) / pixels[1] + 1e-6) + 1
    depth = float(np.asarray(point, float) @ normal)
    origin = across.min() * right_unit + along.min() * down_unit + depth * normal
    return Plane(
        _vec3(origin), _vec3(right_unit), _vec3(down_unit), (pixels[0], pixels[1]), (columns, rows)
    )


def standard_planes(volume: MprVolume, point: Vector | None = None) -> dict[View, Plane]:
    """Axial, coronal and sagittal planes through ``point`` (default: the volume centre)."""
    through = volume.center() if point is None else np.asarray(point, float)
    return {
        view: plane_for(volume, right, down, through)
        for view, (right, down) in STANDARD_AXES.items()
    }


def rotation_matrix(axis: Vector, radians: float) -> NDArray[np.float64]:
    """Rotation by ``radians`` about the unit ``axis`` (right-hand rule), Rodrigues' formula."""
    x, y, z = _unit(axis)
    cross = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(radians) * cross + (1 - math.cos(radians)) * (cross @ cross)


# --- sampling -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IndexGrid:
    """A plane in index space: pixel (c, r) samples index origin + c * column + r * row."""

    origin: NDArray[np.float64]
    column: NDArray[np.float64]
    row: NDArray[np.float64]


def index_grid(volume: MprVolume, plane: Plane) -> IndexGrid:
    linear = volume.inverse[:3, :3]
    return IndexGrid(
        volume.to_index(plane.origin),
        linear @ (np.asarray(plane.right) * plane.pixel_mm[0]),
        linear @ (np.asarray(plane.down) * plane.pixel_mm[1]),
    )


@dataclass(frozen=True, slots=True)
class AxisStep:
    """One output axis running along voxel index axis ``axis`` by ``sign`` (+1/-1) a pixel."""

    axis: int
    sign: int
    start: int


def aligned_axes(grid: IndexGrid) -> tuple[AxisStep, AxisStep, int] | None:
    """(column step, row step, through-plane axis) when the grid samples voxel centres."""
    steps = []
    for step in (grid.column, grid.row):
        axis = int(np.argmax(np.abs(step)))
        unit = np.zeros(3)
        unit[axis] = np.sign(step[axis])
        if np.abs(step - unit).max() > ALIGNMENT_TOLERANCE_VOXELS:
            return None
        start = float(grid.origin[axis])
        if abs(start - round(start)) > ALIGNMENT_TOLERANCE_VOXELS:
            return None
        steps.append(AxisStep(axis, int(unit[axis]), round(start)))
    if steps[0].axis == steps[1].axis:
        return None
    through = 3 - steps[0].axis - steps[1].axis
    return steps[0], steps[1], through


def _run(step: AxisStep, count: int, extent: int) -> tuple[int, int, slice] | None:
    """Output pixels [first, stop) that land inside an axis of ``extent`` voxels, and the slice."""
    if step.sign > 0:
        first, stop = max(0, -step.start), min(count, extent - step.start)
    else:
        first, stop = max(0, step.start - (extent - 1)), min(count, step.start + 1)
    if stop <= first:
        return None
    begin = step.start + step.sign * first
    end = step.start + step.sign * stop
    return first, stop, slice(begin, end if end >= 0 else None, step.sign)


def _aligned_block(
    volume: MprVolume,
    plane: Plane,
    through: slice | int,
    columns: AxisStep,
    rows: AxisStep,
    through_axis: int,
) -> tuple[NDArray[Any], tuple[slice, slice]] | None:
    """The voxel block an aligned plane (or slab) covers, with the output region it fills.

    The block has the output's row axis first, then columns, then (for a slab) the through
    axis; views, no copies.
    """
    extent = volume.index_extent.astype(int)
    column_run = _run(columns, plane.size[0], int(extent[columns.axis]))
    row_run = _run(rows, plane.size[1], int(extent[rows.axis]))
    if column_run is None or row_run is None:
        return None
    index: list[Any] = [None, None, None]  # in array order (frame, row, column)
    index[2 - columns.axis] = column_run[2]
    index[2 - rows.axis] = row_run[2]
    index[2 - through_axis] = through
    block = volume.voxels[tuple(index)]
    # Remaining array axes, in array order; put the output row axis first, then columns.
    kept = sorted(
        (2 - axis for axis in (rows.axis, columns.axis, through_axis))
        if isinstance(through, slice)
        else (2 - axis for axis in (rows.axis, columns.axis))
    )
    order = [kept.index(2 - rows.axis), kept.index(2 - columns.axis)]
    if isinstance(through, slice):
        order.append(kept.index(2 - through_axis))
    region = (slice(row_run[0], row_run[1]), slice(column_run[0], column_run[1]))
    return block.transpose(order), region


def reformat(volume: MprVolume, plane: Plane) -> NDArray[Any]:
    """The plane's image (rows, columns) in stored values.

    Grid-aligned planes copy the nearest slice (stored dtype); others are trilinear (float32).
    Pixels outside the volume get ``volume.fill``.
    """
    grid = index_grid(volume, plane)
    aligned = aligned_axes(grid)
    if aligned is None:
        return _sample(volume, grid, plane.shape, np.zeros(3), 1, SlabMode.MIP)
    columns, rows, through_axis = aligned
    out = np.full(plane.shape, volume.fill, dtype=volume.voxels.dtype)
    depth = round(float(grid.origin[through_axis]))
    if not 0 <= depth < volume.index_extent[through_axis]:
        return out
    found = _aligned_block(volume, plane, depth, columns, rows, through_axis)
    if found is not None:
        block, region = found
        out[region] = block
    return out


def preview_plane(volume: MprVolume, plane: Plane) -> Plane:
    """The grid a preview slab samples: coarser, unless the plane is grid-aligned (fast)."""
    if aligned_axes(index_grid(volume, plane)) is not None:
        return plane
    return plane.coarser(PREVIEW_FACTOR)


def slab(
    volume: MprVolume,
    plane: Plane,
    thickness_mm: float,
    mode: SlabMode,
    preview: bool = False,
) -> NDArray[Any]:
    """A thick slab centred on the plane: ``mode`` over ``thickness_mm`` along its normal.

    Planes are one voxel step apart (:func:`axis_spacing`); a grid-aligned slab reduces whole
    voxel slices (a strided block, no interpolation). ``preview`` samples the coarser grid of
    :func:`preview_plane` with PREVIEW_FACTOR times fewer planes (same area; callers place it
    by that plane).
    """
    sampled = preview_plane(volume, plane) if preview else plane
    coarse = sampled is not plane
    grid = index_grid(volume, sampled)
    normal = sampled.normal
    step_mm = axis_spacing(volume, normal) * (PREVIEW_FACTOR if coarse else 1)
    half = math.floor(thickness_mm / 2 / step_mm + 1e-6)
    aligned = None if coarse else aligned_axes(grid)
    if aligned is None:
        step = volume.inverse[:3, :3] @ (normal * step_mm)
        start = IndexGrid(grid.origin - half * step, grid.column, grid.row)
        return _sample(volume, start, sampled.shape, step, 2 * half + 1, mode)
    return _aligned_slab(volume, sampled, grid, aligned, half, mode)


def _aligned_slab(
    volume: MprVolume,
    plane: Plane,
    grid: IndexGrid,
    aligned: tuple[AxisStep, AxisStep, int],
    half: int,
    mode: SlabMode,
) -> NDArray[Any]:
    columns, rows, through_axis = aligned
    dtype = np.float32 if mode is SlabMode.MEAN else volume.voxels.dtype
    out = np.full(plane.shape, volume.fill, dtype=dtype)
    depth = round(float(grid.origin[through_axis]))
    extent = int(volume.index_extent[through_axis])
    low, high = max(0, depth - half), min(extent, depth + half + 1)
    if high <= low:
        return out
    found = _aligned_block(volume, plane, slice(low, high), columns, rows, through_axis)
    if found is None:
        return out
    block, region = found
    out[region] = _reduce_last(block, mode)
    return out


def _reduce_last(block: NDArray[Any], mode: SlabMode) -> NDArray[Any]:
    """Reduce a (rows, columns, planes) view over its last axis."""
    if block.strides[2] == block.itemsize and block.shape[2] > 1:
        # numpy reduces a contiguous last axis slowly (a short inner loop per pixel).
        out = np.empty(block.shape[:2], np.float32 if mode is SlabMode.MEAN else block.dtype)
        kernel, code = _kernels().reduce_rows, _MODE_CODES[mode]
        _split_rows(lambda start, stop: kernel(block, code, out, start, stop), block.shape[0])
        return out
    if mode is SlabMode.MIP:
        return block.max(axis=2)
    if mode is SlabMode.MINIP:
        return block.min(axis=2)
    return block.mean(axis=2, dtype=np.float32)


def _sample(
    volume: MprVolume,
    grid: IndexGrid,
    shape: tuple[int, int],
    slab_step: NDArray[np.float64],
    count: int,
    mode: SlabMode,
) -> NDArray[np.float32]:
    """Trilinear samples of ``count`` planes ``slab_step`` apart, reduced by ``mode``."""
    out = np.empty(shape, np.float32)
    kernel = _kernels().sample_rows
    args = (
        volume.voxels,
        np.ascontiguousarray(grid.origin),
        np.ascontiguousarray(grid.column),
        np.ascontiguousarray(grid.row),
        np.ascontiguousarray(slab_step, dtype=float),
        int(count),
        _MODE_CODES[mode],
        float(volume.fill),
        out,
    )
    _split_rows(lambda start, stop: kernel(*args, start, stop), shape[0])
    return out


def reduce_axis(block: NDArray[Any], axis: int, minimum: bool) -> NDArray[Any]:
    """Max (or min) of ``block`` over array ``axis``, in its dtype (the 3D view's MIP of a
    standard view): the other two axes stay in order."""
    if axis == 2:
        return _reduce_last(block, SlabMode.MINIP if minimum else SlabMode.MIP)
    if axis == 1:  # reduce each frame on its own thread
        out = np.empty((block.shape[0], block.shape[2]), block.dtype)
        reduce = np.minimum.reduce if minimum else np.maximum.reduce

        def frames(start: int, stop: int) -> None:
            out[start:stop] = reduce(block[start:stop], axis=1)

        _split_rows(frames, block.shape[0])
        return out
    out = np.empty(block.shape[1:], block.dtype)
    combine = np.minimum if minimum else np.maximum

    def rows(start: int, stop: int) -> None:
        part = block[:, start:stop]
        out[start:stop] = part[0]
        for plane in part[1:]:
            combine(out[start:stop], plane, out=out[start:stop])

    _split_rows(rows, block.shape[1])
    return out


def empty_value(dtype: np.dtype[Any], minimum: bool) -> Any:
    """What :func:`shear_reduce` leaves where no voxel lands: the dtype's max (min) for a
    MinIP (MIP)."""
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    return info.max if minimum else info.min


def shear_reduce(
    block: NDArray[Any],
    axis: int,
    shift_a: NDArray[np.int64],
    shift_b: NDArray[np.int64],
    minimum: bool,
    shape: tuple[int, int],
) -> NDArray[Any]:
    """Shear-warp's first half (the 3D view's MIP/MinIP at any angle): each slice along array
    ``axis`` (index s) moved by (shift_a[s], shift_b[s]) whole voxels over the other two axes
    (in order) and reduced by max (or min) into a ``shape`` image in the stored dtype. The
    voxels are read once, in memory order; each thread reduces its own frames into its own
    image, and those are combined."""
    dtype = block.dtype
    empty = empty_value(dtype, minimum)
    kernel = _kernels().shear_rows
    frames = block.shape[0]
    workers = _worker_count() if frames >= 8 else 1
    bounds = np.linspace(0, frames, workers + 1).astype(int)
    parts = [np.full(shape, empty, dtype) for _ in range(workers)]
    sa, sb = np.ascontiguousarray(shift_a), np.ascontiguousarray(shift_b)

    def work(index: int) -> None:
        start, stop = int(bounds[index]), int(bounds[index + 1])
        kernel(block, axis, sa, sb, 1 if minimum else 0, parts[index], start, stop)

    if workers == 1:
        work(0)
    else:
        for future in [_pool().submit(work, i) for i in range(workers)]:
            future.result()
    out = parts[0]
    combine = np.minimum if minimum else np.maximum
    for part in parts[1:]:
        combine(out, part, out=out)
    return out


def _split_rows(work: Callable[[int, int], None], rows: int) -> None:
    """Run ``work(start, stop)`` over row bands, one per core (the kernels drop the GIL)."""
    workers = _worker_count()
    if workers == 1 or rows < 2 * MIN_ROWS_PER_THREAD:
        work(0, rows)
        return
    bounds = np.linspace(0, rows, workers + 1).astype(int)
    futures = [
        _pool().submit(work, int(start), int(stop)) for start, stop in itertools.pairwise(bounds)
    ]
    for future in futures:
        future.result()


def _worker_count() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_worker_count(), thread_name_prefix="mpr")


# --- compiled kernels -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Kernels:
    sample_rows: Callable[..., None]
    reduce_rows: Callable[..., None]
    shear_rows: Callable[..., None]


@functools.cache
def _kernels() -> _Kernels:
    """Compile (or load from numba's on-disk cache) the sampling kernels on first use."""
    import numba  # deferred: importing numba costs ~0.5 s and only MPR needs it

    def jit(function: Callable[..., None]) -> Callable[..., None]:
        try:
            return numba.njit(nogil=True, cache=True)(function)
        except RuntimeError:  # no writable cache location: compile per process
            return numba.njit(nogil=True)(function)

    return _Kernels(jit(_sample_rows_py), jit(_reduce_rows_py), jit(_shear_rows_py))


#: One compilation at a time: numba serialises compiles with its own lock, but a first call
#: from two threads (a warm-up still running while the next volume's starts) is kept out of
#: LLVM's way altogether.
_WARM_LOCK = threading.Lock()


def warm_up(dtype: np.dtype[Any] | type) -> None:
    """Compile the kernels for ``dtype`` now (a worker calls this while the volume loads).

    The LLVM code generation runs in a helper process that fills numba's on-disk cache, and
    this process only loads the result: compiling in a thread of the GUI process, next to Qt
    and the decoders, corrupted the heap in CI (a segfault or abort minutes later, only with
    an empty cache). Where the helper cannot run, compilation happens here as before.
    """
    with _WARM_LOCK:
        _fill_cache_in_helper_process(np.dtype(dtype).str)
        _compile_for(dtype)


@functools.cache
def _fill_cache_in_helper_process(dtype: str) -> bool:
    """Compile the kernels for ``dtype`` in a child interpreter (once per process and dtype)."""
    if getattr(sys, "frozen", False):  # sys.executable is the application itself
        return False
    code = (  # the helper ends with this process (a quit signal, a kill) even mid-compile
        f"from viewer.core.lifeline import exit_with; exit_with({os.getpid()}); "
        f"from viewer.model.mpr import _compile_for; _compile_for({dtype!r})"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, timeout=300, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _compile_for(dtype: np.dtype[Any] | type | str) -> None:
    tiny = np.zeros((2, 2, 2), dtype=dtype)
    volume = MprVolume.from_arrays(tiny, np.eye(4))
    plane = Plane((0.5, 0.5, 0.5), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.5, 0.5), (2, 2))
    reformat(volume, plane)
    strided = np.zeros((2, 3, 2), dtype=dtype)[:, :2, :]  # views reduce as numba's "A" layout
    for mode in SlabMode:
        _reduce_last(strided, mode)
    for block in (strided, np.zeros((2, 2, 2), dtype=dtype)):  # "A" and "C" layouts
        for axis in (0, 1, 2):
            shift = np.zeros(2, np.int64)
            shear_reduce(block, axis, shift, shift, False, (3, 3))


def _sample_rows_py(
    voxels: Any,
    origin: Any,
    column_step: Any,
    row_step: Any,
    slab_step: Any,
    count: int,
    mode: int,
    fill: float,
    out: Any,
    row_start: int,
    row_stop: int,
) -> None:  # pragma: no cover - compiled by numba; tested through reformat/slab
    """Trilinear interpolation in (column, row, frame) index space, reduced over a slab.

    Pixel (c, r), plane m samples origin + c * column_step + r * row_step + m * slab_step.
    Points within half a voxel outside the voxel-centre grid take the edge value; farther
    ones are skipped. mode: 0 max, 1 min, 2 mean. Pixels with no sample get ``fill``.
    """
    frames, rows, columns = voxels.shape
    width = out.shape[1]
    for r in range(row_start, row_stop):
        for c in range(width):
            bx = origin[0] + c * column_step[0] + r * row_step[0]
            by = origin[1] + c * column_step[1] + r * row_step[1]
            bz = origin[2] + c * column_step[2] + r * row_step[2]
            total = 0.0
            hits = 0
            for m in range(count):
                x = bx + m * slab_step[0]
                y = by + m * slab_step[1]
                z = bz + m * slab_step[2]
                if x < -0.5 or y < -0.5 or z < -0.5:
                    continue
                if x > columns - 0.5 or y > rows - 0.5 or z > frames - 0.5:
                    continue
                x = min(max(x, 0.0), columns - 1.0)
                y = min(max(y, 0.0), rows - 1.0)
                z = min(max(z, 0.0), frames - 1.0)
                x0, y0, z0 = int(x), int(y), int(z)
                x1 = x0 + 1 if x0 < columns - 1 else x0
                y1 = y0 + 1 if y0 < rows - 1 else y0
                z1 = z0 + 1 if z0 < frames - 1 else z0
                fx, fy, fz = x - x0, y - y0, z - z0
                # float() before subtracting: unsigned voxels must not wrap around.
                a0, a1 = float(voxels[z0, y0, x0]), float(voxels[z0, y0, x1])
                b0, b1 = float(voxels[z0, y1, x0]), float(voxels[z0, y1, x1])
                d0, d1 = float(voxels[z1, y0, x0]), float(voxels[z1, y0, x1])
                e0, e1 = float(voxels[z1, y1, x0]), float(voxels[z1, y1, x1])
                near = a0 + fx * (a1 - a0)
                near += fy * (b0 + fx * (b1 - b0) - near)
                far = d0 + fx * (d1 - d0)
                far += fy * (e0 + fx * (e1 - e0) - far)
                value = near + fz * (far - near)
                if hits == 0:
                    total = value
                elif mode == 0:
                    total = max(total, value)
                elif mode == 1:
                    total = min(total, value)
                else:
                    total += value
                hits += 1
            if hits == 0:
                out[r, c] = fill
            elif mode == 2:
                out[r, c] = total / hits
            else:
                out[r, c] = total


def _reduce_rows_py(
    block: Any, mode: int, out: Any, row_start: int, row_stop: int
) -> None:  # pragma: no cover - compiled by numba; tested through slab
    """out[r, c] = max/min/mean of block[r, c, :] (mode 0/1/2) for rows [row_start, row_stop)."""
    columns, planes = block.shape[1], block.shape[2]
    for r in range(row_start, row_stop):
        for c in range(columns):
            total = float(block[r, c, 0])
            for m in range(1, planes):
                value = float(block[r, c, m])
                if mode == 0:
                    total = max(total, value)
                elif mode == 1:
                    total = min(total, value)
                else:
                    total += value
            out[r, c] = total / planes if mode == 2 else total


def _shear_rows_py(
    block: Any, axis: int, shift_a: Any, shift_b: Any, mode: int, out: Any, start: int, stop: int
) -> None:  # pragma: no cover - compiled by numba; tested through shear_reduce
    """out[A, B] = max (mode 0) or min (mode 1) of the voxels that land there: a voxel
    (f, r, c) with principal index s along ``axis`` lands at its other two indices plus
    (shift_a[s], shift_b[s]). Frames [start, stop) only.

    Each inner loop runs over contiguous memory on both sides (max/min of two rows, which
    LLVM vectorises): along axis 0 or 1 a row of voxels lands on a row of ``out``; along axis
    2 each frame is first transposed (in 32 x 32 tiles) so that its columns become rows."""
    rows, columns = block.shape[1], block.shape[2]
    tile = np.empty((columns if axis == 2 else 1, rows), block.dtype)
    for f in range(start, stop):
        if axis == 2:
            slab = block[f]
            for r0 in range(0, rows, 32):
                for c0 in range(0, columns, 32):
                    for r in range(r0, min(r0 + 32, rows)):
                        for c in range(c0, min(c0 + 32, columns)):
                            tile[c, r] = slab[r, c]
        lines = columns if axis == 2 else rows
        for k in range(lines):
            if axis == 2:  # column k of frame f lands on row f + shift_a[k]
                line = out[f + shift_a[k], shift_b[k] : shift_b[k] + rows]
                values = tile[k]
            else:  # row k of frame f
                s = f if axis == 0 else k
                a = (k if axis == 0 else f) + shift_a[s]
                line = out[a, shift_b[s] : shift_b[s] + columns]
                values = block[f, k]
            if mode == 0:
                for i in range(line.shape[0]):
                    line[i] = max(line[i], values[i])
            else:
                for i in range(line.shape[0]):
                    line[i] = min(line[i], values[i])


# --- display ----------------------------------------------------------------------------------
def to_display(
    image: NDArray[Any], voi: Voi, slope: float, intercept: float, invert: bool
) -> NDArray[np.uint8]:
    """Stored-value image -> 8-bit by the one display pipeline
    (:func:`viewer.dicom.pixels.display.display_image`): rescale (PS3.3 C.11.1), then the VOI
    (C.11.2.1.2).

    ``invert``: the output is shown inverted (MONOCHROME1 or the user's invert, not both; see
    :attr:`MprState.displays_inverted`).
    """
    transform = PixelTransform(rescale_slope=slope or 1.0, rescale_intercept=intercept)
    return display.display_image(image, transform, (voi.lower, voi.upper), invert)


# --- the shared MPR state -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CutLine:
    """Where ``view``'s plane cuts another view: through ``point`` along ``direction``.

    Both in the other view's display coordinates (mm right and down, see MprState.to_view).
    """

    view: View
    point: tuple[float, float]
    direction: tuple[float, float]


class MprState:
    """The evented state of the three linked MPR views (no Qt; views subscribe).

    ``changed`` is emitted with what changed: ``"point"`` (the shared crosshair point),
    ``"axes"`` (a view's plane was tilted or reset), ``"slab"``, ``"voi"``, ``"invert"`` (the
    user's, on top of the volume's own inversion). The three planes stay mutually
    perpendicular; each passes through ``point``. A view's display coordinates are mm along
    its right/down axes from the volume centre, so a view's picture does not move when the
    point moves.
    """

    def __init__(self, volume: MprVolume, voi: Voi | None = None) -> None:
        self.changed = Signal()
        self.volume = volume
        self.reference = volume.center()
        self.axes: dict[View, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        self._grids: dict[View, Plane] = {}
        self._reset_axes()
        self._snaps = all(
            aligned_axes(index_grid(volume, plane)) is not None for plane in self._grids.values()
        )
        self.point = self._placed(self.reference)
        self.slab_mode: SlabMode | None = None
        self.slab_mm = 10.0
        self.voi = voi
        self.invert = False

    # --- geometry ---------------------------------------------------------------------------
    def _reset_axes(self) -> None:
        for view, (right, down) in STANDARD_AXES.items():
            self.axes[view] = (np.asarray(right, float), np.asarray(down, float))
            self._grids[view] = plane_for(self.volume, right, down, self.reference)

    def tilted(self, view: View) -> bool:
        """True when ``view`` is no longer its standard axial/coronal/sagittal plane."""
        right, down = STANDARD_AXES[view]
        return not (
            np.allclose(self.axes[view][0], right) and np.allclose(self.axes[view][1], down)
        )

    @property
    def oblique(self) -> bool:
        """True when any view has been tilted away from its standard plane."""
        return any(self.tilted(view) for view in View)

    def normal(self, view: View) -> NDArray[np.float64]:
        right, down = self.axes[view]
        return np.cross(right, down)

    def plane(self, view: View) -> Plane:
        """The view's plane through the shared point."""
        return self._grids[view].through(self.point)

    def step_mm(self, view: View) -> float:
        """How far one wheel step moves the view's plane: one voxel along its normal."""
        return axis_spacing(self.volume, self.normal(view))

    def to_view(self, view: View, point: Vector) -> tuple[float, float]:
        """LPS point -> the view's display coordinates (mm right, mm down)."""
        right, down = self.axes[view]
        offset = np.asarray(point, float) - self.reference
        return (float(offset @ right), float(offset @ down))

    def from_view(self, view: View, x_mm: float, y_mm: float) -> NDArray[np.float64]:
        """The LPS point on the view's plane at display coordinates (x_mm, y_mm)."""
        right, down = self.axes[view]
        normal = self.normal(view)
        depth = float((self.point - self.reference) @ normal)
        return self.reference + x_mm * right + y_mm * down + depth * normal

    def cut_lines(self, view: View) -> list[CutLine]:
        """Where the other two planes cut ``view``: the crosshair lines it draws."""
        right, down = self.axes[view]
        normal = self.normal(view)
        lines = []
        for other in View:
            if other is view:
                continue
            direction = np.cross(normal, self.normal(other))
            vector = (float(direction @ right), float(direction @ down))
            length = math.hypot(*vector) or 1.0
            lines.append(
                CutLine(
                    other, self.to_view(view, self.point), (vector[0] / length, vector[1] / length)
                )
            )
        return lines

    def _placed(self, point: Vector) -> NDArray[np.float64]:
        """``point`` clamped into the volume, on a voxel centre while nothing is tilted."""
        index = np.clip(self.volume.to_index(point), 0, self.volume.index_extent - 1)
        if self._snaps and not self.oblique:
            index = np.round(index)
        return self.volume.to_patient(index)

    # --- changes ----------------------------------------------------------------------------
    def set_point(self, point: Vector) -> None:
        placed = self._placed(point)
        if not np.allclose(placed, self.point, atol=1e-9):
            self.point = placed
            self.changed.emit("point")

    def move(self, view: View, steps: float) -> None:
        """Move ``view``'s plane ``steps`` voxel steps along its normal."""
        self.set_point(self.point + steps * self.step_mm(view) * self.normal(view))

    def rotate(self, view: View, radians: float) -> None:
        """Tilt the other two planes by ``radians`` about ``view``'s normal through the point.

        Positive turns the crosshair lines in ``view`` clockwise on screen (from its right axis
        towards its down axis).
        """
        rotation = rotation_matrix(self.normal(view), radians)
        for other in View:
            if other is not view:
                right, down = self.axes[other]
                self.axes[other] = (rotation @ right, rotation @ down)
                self._grids[other] = plane_for(self.volume, *self.axes[other], self.reference)
        self.changed.emit("axes")

    def reset(self) -> None:
        """Back to the standard axial, coronal and sagittal planes."""
        self._reset_axes()
        self.point = self._placed(self.point)
        self.changed.emit("axes")

    def set_slab(self, mode: SlabMode | None, thickness_mm: float) -> None:
        if (mode, thickness_mm) != (self.slab_mode, self.slab_mm):
            self.slab_mode, self.slab_mm = mode, max(float(thickness_mm), 0.0)
            self.changed.emit("slab")

    def set_voi(self, voi: Voi | None) -> None:
        if voi != self.voi:
            self.voi = voi
            self.changed.emit("voi")

    def set_invert(self, invert: bool) -> None:
        if invert != self.invert:
            self.invert = invert
            self.changed.emit("invert")

    @property
    def displays_inverted(self) -> bool:
        """The views show grey levels inverted: the volume's own inversion (MONOCHROME1, as
        the 2D view shows it) toggled by the user's ``invert``."""
        return self.invert != self.volume.shows_inverted
