"""Deterministic synthetic pixels for the benchmark data (seeded noise, no randomness left).

The CT phantom has what makes real CT compress the way it does: a body outline, lungs, spine,
vessels and about 12 HU of noise inside a circular field of view with constant air outside.
Coordinates are normalised to [-1, 1] so any matrix size draws the same anatomy.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

SEED = 20240603
#: CT stored value = HU + 1024 (Rescale Intercept -1024, slope 1).
CT_INTERCEPT = -1024.0
CT_NOISE_HU = 12.0


@functools.cache
def _grid(matrix: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    axis = (np.arange(matrix, dtype=np.float32) + 0.5) / matrix * 2 - 1
    y, x = np.meshgrid(axis, axis, indexing="ij")
    return x.astype(np.float32, copy=False), y.astype(np.float32, copy=False)


def _ellipse(
    x: NDArray[np.float32], y: NDArray[np.float32], cx: float, cy: float, rx: float, ry: float
) -> NDArray[np.bool_]:
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1.0


def ct_hu(k: int, slices: int, matrix: int) -> NDArray[np.float32]:
    """Noise-free HU of slice ``k`` of ``slices`` (k = 0 is the lowest, feet side)."""
    x, y = _grid(matrix)
    t = k / max(slices - 1, 1)
    hu = np.full((matrix, matrix), -1000.0, dtype=np.float32)
    hu[_ellipse(x, y, 0.0, 0.05, 0.82, 0.58)] = 40.0
    lung = 0.16 + 0.16 * t
    hu[_ellipse(x, y, -0.36, -0.02, lung, lung * 1.5)] = -850.0
    hu[_ellipse(x, y, 0.36, -0.02, lung, lung * 1.5)] = -850.0
    hu[_ellipse(x, y, 0.0, 0.42, 0.09, 0.08)] = 700.0 + 200.0 * t
    hu[_ellipse(x, y, 0.06 * np.cos(6 * t), 0.22, 0.06, 0.06)] = 180.0
    liver = 0.02 + 0.2 * (1 - t)
    hu[_ellipse(x, y, -0.2 + 0.1 * t, 0.2, liver, liver * 0.75)] = 60.0
    return hu


def ct_slice(k: int, slices: int, matrix: int) -> NDArray[np.int16]:
    """Stored values (int16, HU + 1024) of slice ``k``: the phantom plus seeded noise."""
    x, y = _grid(matrix)
    noise = np.random.default_rng([SEED, 1, matrix, k]).standard_normal(
        (matrix, matrix), dtype=np.float32
    )
    hu = ct_hu(k, slices, matrix) + np.float32(CT_NOISE_HU) * noise
    outside = x**2 + y**2 > 1.0
    hu[outside] = -1000.0
    return np.clip(np.rint(hu - CT_INTERCEPT), 0, 4095).astype(np.int16)


def ct_volume(slices: int, matrix: int) -> NDArray[np.int16]:
    """(slices, matrix, matrix) int16 stored values, slice by slice (as MPR would get them)."""
    volume = np.empty((slices, matrix, matrix), dtype=np.int16)
    for k in range(slices):
        volume[k] = ct_slice(k, slices, matrix)
    return volume


def radiograph(matrix: int) -> NDArray[np.uint16]:
    """A 12-bit chest-like projection (MONOCHROME1 raw values: high = dense = white)."""
    x, y = _grid(matrix)
    body = np.clip(1.0 - (x / 0.9) ** 2, 0.0, 1.0).astype(np.float32)
    lungs = _ellipse(x, y, -0.35, -0.1, 0.25, 0.55) | _ellipse(x, y, 0.35, -0.1, 0.25, 0.55)
    density = 600.0 + 2200.0 * body - 900.0 * lungs
    density += 500.0 * _ellipse(x, y, 0.0, 0.0, 0.06, 0.9)
    noise = np.random.default_rng([SEED, 2, matrix]).standard_normal(density.shape, np.float32)
    return np.clip(np.rint(density + 25.0 * noise), 0, 4095).astype(np.uint16)


def cine_frame(index: int, frames: int, rows: int, columns: int) -> NDArray[np.uint8]:
    """An RGB (rows, columns, 3) frame of a looping clip: a beating ring over a gradient."""
    y, x = np.meshgrid(
        np.linspace(-1, 1, rows, dtype=np.float32),
        np.linspace(-1, 1, columns, dtype=np.float32),
        indexing="ij",
    )
    phase = 2 * np.pi * index / max(frames, 1)
    radius = 0.45 + 0.1 * np.sin(phase)
    ring = np.abs(np.hypot(x, y) - radius) < 0.05
    gray = (60 + 60 * (y + 1)).astype(np.uint8)
    rgb = np.stack([gray, gray, gray], axis=-1)
    rgb[ring] = (220, 40 + int(100 * (1 + np.cos(phase))), 40)
    noise = np.random.default_rng([SEED, 3, index]).integers(0, 8, (rows, columns), np.uint8)
    rgb[..., 1] += noise
    return rgb
