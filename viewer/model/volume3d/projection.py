"""MIP and MinIP on the CPU without a ray caster: shear-warp projection of the stored voxels.

VTK's fixed-point ray caster takes seconds for a MIP of a 300-slice 512 x 512 CT on a laptop CPU
(it interpolates every sample of every ray). A maximum along parallel rays needs no
interpolation along the ray: in index space a parallel projection is a shear of the slices
along the index axis closest to the viewing direction (the principal axis) followed by a 2D
affine warp onto the screen (Lacroute and Levoy's shear-warp factorisation). So

1. each slice along the principal axis is shifted by a whole number of voxels
   (``round(-s * D_a / D_p)``, s the slice, D the direction in index space) and reduced into
   an intermediate image (max for MIP, min for MinIP) in the stored dtype; a standard view of
   an orthogonal stack has no shear, so this is numpy's reduce along that axis;
2. the intermediate image is resampled bilinearly onto the screen's pixels (the camera's
   parallel projection), then coloured by the transfer function (colour x opacity, as VTK
   shows a MIP over a black background).

Each voxel is read once, in memory order (numba kernels shared with the MPR's, see
:func:`viewer.model.mpr.shear_reduce`); the shift's rounding moves a voxel by at most half a
voxel across the ray. Gantry-tilted and oblique stacks are handled by the affine (index space),
so the picture is the same geometry as VTK's. ``crop`` (index ranges per array axis) is how the
clip box and the MPR's cut planes reach this path when they are aligned with the voxel grid;
the engine falls back to VTK's ray caster for other clipping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.model.volume3d.scene import (
    BlendMode,
    Camera,
    Scene,
    TransferFunction,
    Vec3,
    patient_bounds,
)

#: A shear smaller than this (voxels of shift over the whole depth) counts as none.
NO_SHEAR_VOXELS = 0.5
Crop = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]  # per array axis [lo, hi)


@dataclass(frozen=True, slots=True)
class Projected:
    """A projection on screen: ``values`` (height, width) float32 reduced stored values,
    ``covered`` where a ray met the volume, and the principal axis (array axis) used."""

    values: NDArray[np.float32]
    covered: NDArray[np.bool_]
    axis: int


def screen_to_index(
    camera: Camera, size: tuple[int, int], inverse: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(index of pixel (0, 0)'s centre, index step per pixel right, per pixel down) on the
    plane through the focal point, as (column, row, frame) index vectors."""
    width, height = size
    per_mm = camera.height_mm / height
    right = np.asarray(camera.right) * per_mm
    down = -np.asarray(camera.up) * per_mm
    corner = np.asarray(camera.focal) + (0.5 - width / 2) * right + (0.5 - height / 2) * down
    linear = inverse[:3, :3]
    return inverse[:3, :3] @ corner + inverse[:3, 3], linear @ right, linear @ down


def project(
    voxels: NDArray[Any],
    affine: NDArray[np.float64],
    camera: Camera,
    size: tuple[int, int],
    minimum: bool = False,
    crop: Crop | None = None,
) -> Projected:
    """The MIP (or MinIP) of ``voxels`` (frames, rows, columns) seen by ``camera`` at ``size``."""
    inverse = np.linalg.inv(np.asarray(affine, float))
    direction = inverse[:3, :3] @ np.asarray(camera.direction, float)  # (column, row, frame)
    principal = int(np.argmax(np.abs(direction)))  # index axis
    axis = 2 - principal  # array axis
    if crop is None:
        crop = ((0, voxels.shape[0]), (0, voxels.shape[1]), (0, voxels.shape[2]))
    block = voxels[tuple(slice(lo, hi) for lo, hi in crop)]
    width, height = size
    if min(block.shape) <= 0:
        return Projected(
            np.zeros((height, width), np.float32), np.zeros((height, width), bool), axis
        )
    others = [a for a in (0, 1, 2) if a != axis]  # array axes of the intermediate image
    ratio = [direction[2 - a] / direction[principal] for a in others]
    depth = np.arange(crop[axis][0], crop[axis][1])
    shifts = [np.rint(-depth * t).astype(np.int64) for t in ratio]
    lows = [int(s.min()) for s in shifts]
    offsets = [crop[a][0] + low for a, low in zip(others, lows, strict=True)]
    sheared = any(abs(t) * len(depth) >= NO_SHEAR_VOXELS for t in ratio)
    from viewer.model import mpr

    if sheared:
        local = [s - low for s, low in zip(shifts, lows, strict=True)]
        shape = (
            block.shape[others[0]] + int(local[0].max()),
            block.shape[others[1]] + int(local[1].max()),
        )
        image = mpr.shear_reduce(block, axis, local[0], local[1], minimum, shape)
        hit = image != mpr.empty_value(image.dtype, minimum)  # no voxel lands there
        if not hit.all():
            image[~hit] = image[hit].max() if minimum else image[hit].min()
    else:
        hit = None
        image = mpr.reduce_axis(block, axis, minimum)
        offsets = [crop[a][0] for a in others]
    # Screen pixel -> index point on the focal plane -> along the ray onto slice 0 of the
    # principal axis -> intermediate image (A, B) = index along others minus the offsets.
    origin, step_x, step_y = screen_to_index(camera, size, inverse)

    def along(point: NDArray[np.float64], a: int) -> float:
        return float(point[2 - a] - point[principal] * direction[2 - a] / direction[principal])

    a0 = along(origin, others[0]) - offsets[0]
    b0 = along(origin, others[1]) - offsets[1]
    ax, bx = along(step_x, others[0]), along(step_x, others[1])
    ay, by = along(step_y, others[0]), along(step_y, others[1])
    # along() of a step is linear (no translation part): subtract nothing more.
    values, covered = _warp(image, hit, (a0, ax, ay), (b0, bx, by), size)
    return Projected(values, covered, axis)


def _warp(
    image: NDArray[Any],
    hit: NDArray[np.bool_] | None,
    a: tuple[float, float, float],
    b: tuple[float, float, float],
    size: tuple[int, int],
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Bilinear samples of ``image`` at (a0 + x ax + y ay, b0 + x bx + y by) per pixel."""
    width, height = size
    xs = np.arange(width, dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)[:, None]
    rows = np.float32(a[0]) + xs * np.float32(a[1]) + ys * np.float32(a[2])
    cols = np.float32(b[0]) + xs * np.float32(b[1]) + ys * np.float32(b[2])
    n_rows, n_cols = image.shape
    covered = (rows > -0.5) & (rows < n_rows - 0.5) & (cols > -0.5) & (cols < n_cols - 0.5)
    np.clip(rows, 0, n_rows - 1, out=rows)
    np.clip(cols, 0, n_cols - 1, out=cols)
    r0 = rows.astype(np.intp)
    c0 = cols.astype(np.intp)
    if hit is not None:  # where no voxel landed (sheared corners): nearest sample decides
        covered &= hit[np.rint(rows).astype(np.intp), np.rint(cols).astype(np.intp)]
    fr = rows - r0
    fc = cols - c0
    r1 = np.minimum(r0 + 1, n_rows - 1)
    c1 = np.minimum(c0 + 1, n_cols - 1)
    flat = image.astype(np.float32, copy=False).reshape(-1)
    top = flat[r0 * n_cols + c0]
    top += fc * (flat[r0 * n_cols + c1] - top)
    bottom = flat[r1 * n_cols + c0]
    bottom += fc * (flat[r1 * n_cols + c1] - bottom)
    top += fr * (bottom - top)
    return top, covered


def coloured(projected: Projected, transfer: TransferFunction) -> NDArray[np.uint8]:
    """RGB (height, width, 3) of a projection: the transfer function's colour times its
    opacity at each pixel's value (``transfer`` over stored values); black where no ray met
    the volume."""
    values = projected.values
    alpha = _interp(values, transfer.opacity, lambda point: point[1])
    rgb = np.empty((*values.shape, 3), np.uint8)
    alpha *= projected.covered
    alpha *= 255.0
    for channel in range(3):
        level = _interp(values, transfer.colour, lambda point, c=channel: point[1][c])
        level *= alpha
        np.clip(level, 0, 255, out=level)
        rgb[..., channel] = level
    return rgb


def _interp(values: NDArray[np.float32], points: Sequence[Any], pick: Any) -> NDArray[np.float32]:
    xs = np.asarray([point[0] for point in points], np.float32)
    ys = np.asarray([pick(point) for point in points], np.float32)
    return np.interp(values, xs, ys).astype(np.float32)


# --- clipping ---------------------------------------------------------------------------------
#: An index-space normal counts as along one axis when the others are this small (relative).
ALIGNED_TOLERANCE = 1e-6


def clip_planes(scene: Scene) -> tuple[tuple[Vec3, Vec3], ...]:
    """Every cut of ``scene`` as (point, normal) planes keeping what the normal points into:
    its MPR cut planes and the six faces of its clip box."""
    planes = list(scene.clip_planes)
    if scene.clip_box is not None:
        low, high = scene.clip_box
        for axis in range(3):
            for bound, sign in ((low, 1.0), (high, -1.0)):
                origin, normal = np.zeros(3), np.zeros(3)
                origin[axis], normal[axis] = float(bound[axis]), sign
                planes.append((_vec3(origin), _vec3(normal)))
    return tuple(planes)


def _vec3(values: NDArray[np.float64]) -> Vec3:
    return (float(values[0]), float(values[1]), float(values[2]))


def index_crop(scene: Scene, affine: NDArray[np.float64], shape: Sequence[int]) -> Crop | None:
    """The voxel ranges per array axis that ``scene``'s cuts keep, when every cut is a plane
    along the voxel grid (any cut of an orthogonal stack); None when one is not (then only a
    ray caster clips exactly)."""
    affine = np.asarray(affine, float)
    ranges = [[0, int(n)] for n in shape]
    for point, normal in clip_planes(scene):
        # Kept: normal . (affine @ index + t - point) >= 0, i.e. w . index >= rhs.
        w = affine[:3, :3].T @ np.asarray(normal, float)
        rhs = float(np.asarray(normal, float) @ (np.asarray(point, float) - affine[:3, 3]))
        k = int(np.argmax(np.abs(w)))
        if np.abs(np.delete(w, k)).max() > ALIGNED_TOLERANCE * abs(w[k]):
            return None
        bound = rhs / w[k]
        axis = 2 - k  # index (column, row, frame) -> array axis
        if w[k] > 0:  # index >= bound
            ranges[axis][0] = max(ranges[axis][0], math.ceil(bound - 1e-9))
        else:  # index <= bound
            ranges[axis][1] = min(ranges[axis][1], math.floor(bound + 1e-9) + 1)
    lo_hi = [(lo, max(lo, hi)) for lo, hi in ranges]
    return (lo_hi[0], lo_hi[1], lo_hi[2])


def halved(crop: Crop) -> Crop:
    """The same ranges on the coarse copy (every second voxel)."""
    a, b, c = ((lo // 2, max(lo // 2, (hi + 1) // 2)) for lo, hi in crop)
    return (a, b, c)


# --- picking ----------------------------------------------------------------------------------
def pick(
    voxels: NDArray[Any],
    affine: NDArray[np.float64],
    camera: Camera,
    size: tuple[int, int],
    pixel: tuple[float, float],
    mode: BlendMode,
    transfer: TransferFunction,
    planes: Sequence[tuple[Vec3, Vec3]] = (),
    opacity: float = 0.15,
) -> NDArray[np.float64] | None:
    """The LPS point shown at ``pixel`` (x right, y down; pixel centres at +0.5): along the
    ray through it, the first voxel whose opacity (``transfer``, over stored values) reaches
    ``opacity`` for composite rendering, else the brightest (MIP) or darkest (MinIP) voxel,
    outside the cut ``planes``. None when the ray meets nothing shown."""
    affine = np.asarray(affine, float)
    inverse = np.linalg.inv(affine)
    width, height = size
    per_mm = camera.height_mm / height
    on_plane = (
        np.asarray(camera.focal)
        + (pixel[0] - width / 2) * per_mm * camera.right
        - (pixel[1] - height / 2) * per_mm * np.asarray(camera.up)
    )
    direction = np.asarray(camera.direction, float)
    corners = patient_bounds(affine, voxels.shape)
    reach = float(np.linalg.norm(corners[1] - corners[0])) / 2 + 1.0
    centre = corners.mean(axis=0)
    middle = on_plane + float((centre - on_plane) @ direction) * direction
    step = 0.5 * float(np.linalg.norm(affine[:3, :3], axis=0).min())
    distances = np.arange(-reach, reach, step)
    points = middle[None, :] + distances[:, None] * direction[None, :]  # front to back
    index = np.rint(points @ inverse[:3, :3].T + inverse[:3, 3]).astype(np.int64)
    inside = np.all((index >= 0) & (index < np.asarray(voxels.shape[::-1])), axis=1)
    for point, normal in planes:
        inside &= (points - np.asarray(point)) @ np.asarray(normal) >= 0
    if not inside.any():
        return None
    kept, where = index[inside], points[inside]
    values = voxels[kept[:, 2], kept[:, 1], kept[:, 0]].astype(np.float64)
    if mode is BlendMode.COMPOSITE:
        xs, alphas = zip(*transfer.opacity, strict=True)
        hits = np.nonzero(np.interp(values, xs, alphas) >= opacity)[0]
        return where[hits[0]] if hits.size else None
    best = values.max() if mode is BlendMode.MIP else values.min()
    run = np.nonzero(values == best)[0]
    ends = np.nonzero(np.diff(run) > 1)[0]
    run = run[: ends[0] + 1] if ends.size else run  # the nearest stretch at the extreme...
    return where[run].mean(axis=0)  # ... and its middle
