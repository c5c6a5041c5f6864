"""MPR timings on the 512x512x600 int16 volume (viewer.model.mpr; absent until it exists).

Each sample reformats a new plane (moved along its normal each time), single-threaded caller,
after the kernels are compiled and a few warm-up calls. Orthogonal samples cycle through the
axial, coronal and sagittal views; oblique ones use a plane tilted 30 degrees about one axis and
20 about another, at 512x512 output pixels of the in-plane voxel size. Slabs are 20 mm MIPs.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from viewer.bench.data import VOLUME_SLICE_SPACING_MM
from viewer.bench.dicom_files import CT_PIXEL_SPACING_MM
from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, milliseconds, seconds

SLAB_MM = 20.0
OBLIQUE_OUTPUT = 512
#: The oblique slab is slow by nature: fewer samples of it.
OBLIQUE_SLAB_SAMPLE_DIVISOR = 4
NEEDED = ("MprVolume", "Plane", "SlabMode", "standard_planes", "reformat", "slab")


def mpr_module() -> ModuleType | None:
    """viewer.model.mpr if it exists with what these timings call."""
    try:
        module = importlib.import_module("viewer.model.mpr")
    except ImportError:
        return None
    return module if all(hasattr(module, name) for name in NEEDED) else None


def measure_mpr(volume_path: Path, sizes: BenchSizes) -> dict[str, Figure]:
    """mpr_orthogonal_ms, mpr_oblique_ms, mpr_slab_mip_ms, mpr_oblique_slab_mip_ms."""
    mpr = mpr_module()
    if mpr is None:
        return {}
    voxels = np.load(volume_path)
    volume = mpr.MprVolume.from_arrays(voxels, _affine(voxels.shape))
    if hasattr(mpr, "warm_up"):
        mpr.warm_up(voxels.dtype)
    orthogonal = _orthogonal_planes(mpr, volume, sizes.gui_steps)
    oblique = _oblique_planes(mpr, volume, sizes.gui_steps)
    mip = mpr.SlabMode.MIP
    few = max(2, sizes.gui_steps // OBLIQUE_SLAB_SAMPLE_DIVISOR)
    return {
        "mpr_orthogonal_ms": _time_each(lambda p: mpr.reformat(volume, p), orthogonal),
        "mpr_oblique_ms": _time_each(lambda p: mpr.reformat(volume, p), oblique),
        "mpr_slab_mip_ms": _time_each(lambda p: mpr.slab(volume, p, SLAB_MM, mip), orthogonal),
        "mpr_oblique_slab_mip_ms": _time_each(
            lambda p: mpr.slab(volume, p, SLAB_MM, mip), oblique[:few]
        ),
    }


def _affine(shape: tuple[int, ...]) -> np.ndarray:
    """Axial volume: columns along +x, rows along +y, frames along +z (LPS), centred."""
    frames, rows, columns = shape
    pixel = CT_PIXEL_SPACING_MM * 512 / columns
    affine = np.diag([pixel, pixel, VOLUME_SLICE_SPACING_MM, 1.0])
    affine[:3, 3] = [-pixel * columns / 2, -pixel * rows / 2, -VOLUME_SLICE_SPACING_MM * frames / 2]
    return affine


def _time_each(action: Callable[[Any], object], planes: list[Any]) -> Figure:
    """Milliseconds per plane after three untimed warm-up calls."""
    for plane in planes[:3]:
        action(plane)
    return milliseconds([seconds(functools.partial(action, plane)) for plane in planes])


def _orthogonal_planes(mpr: ModuleType, volume: Any, count: int) -> list[Any]:
    """``count`` planes cycling through the three views, each moved to a new depth."""
    centre = np.asarray(volume.center(), float)
    view_planes = list(mpr.standard_planes(volume, centre).values())
    planes = []
    for step in range(count):
        plane = view_planes[step % len(view_planes)]
        offset = (step // len(view_planes) + 1) * np.asarray(plane.normal, float)
        planes.append(plane.through(centre + offset) if hasattr(plane, "through") else plane)
    return planes


def _oblique_planes(mpr: ModuleType, volume: Any, count: int) -> list[Any]:
    """``count`` 512x512 planes tilted 30 deg about x then 20 deg about z, at new depths."""
    right, down = _rotated((1.0, 0.0, 0.0)), _rotated((0.0, 1.0, 0.0))
    normal = np.cross(right, down)
    pixel = float(CT_PIXEL_SPACING_MM * 512 / volume.shape[2])
    half = (OBLIQUE_OUTPUT - 1) / 2 * pixel
    planes = []
    for step in range(count):
        centre = np.asarray(volume.center(), float) + (step - count / 2) * normal
        origin = centre - half * right - half * down
        planes.append(
            mpr.Plane(
                tuple(map(float, origin)),
                tuple(map(float, right)),
                tuple(map(float, down)),
                (pixel, pixel),
                (OBLIQUE_OUTPUT, OBLIQUE_OUTPUT),
            )
        )
    return planes


def _rotated(vector: tuple[float, float, float]) -> np.ndarray:
    a, b = math.radians(30.0), math.radians(20.0)
    about_x = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    about_z = np.array([[math.cos(b), -math.sin(b), 0], [math.sin(b), math.cos(b), 0], [0, 0, 1]])
    return np.asarray(about_z @ about_x @ np.asarray(vector), float)
