"""A stack loaded as one voxel array in modality-ready stored values, with its affine.

The voxels stay in their stored dtype (int16/uint16/uint8: never a float64 volume); the
rescale that turns them into modality values (PS3.3 C.11.1.1.2) is kept beside them as
(slope, intercept), exact for the common slope 1. The affine maps (column, row, frame) indices
to LPS mm (viewer.dicom.geometry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from viewer.dicom.decode import read_frame
from viewer.dicom.scan import Cancel, never_cancelled
from viewer.dicom.stack import Stack

Progress = Callable[[int, int], None]


class VolumeError(Exception):
    """The stack cannot be loaded as a volume (a readable reason)."""


@dataclass(frozen=True, eq=False)
class Volume:
    """``voxels`` is (frames, rows, columns) in stack order; modality = stored * slope + b."""

    stack: Stack
    voxels: np.ndarray
    affine: np.ndarray
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    warnings: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, int, int]:
        frames, rows, columns = self.voxels.shape[:3]
        return (frames, rows, columns)

    def modality(self, values: np.ndarray) -> np.ndarray:
        """Stored values -> modality values (float32 unless the rescale is an exact shift)."""
        if self.rescale_slope == 1.0 and float(self.rescale_intercept).is_integer():
            return values.astype(np.int32) + int(self.rescale_intercept)
        return values.astype(np.float32) * np.float32(self.rescale_slope) + np.float32(
            self.rescale_intercept
        )


def load_volume(
    stack: Stack,
    progress: Progress | None = None,
    cancel: Cancel = never_cancelled,
) -> Volume:
    """Decode every frame of ``stack`` into one preallocated array (sequential reference)."""
    affine = stack.affine()
    if affine is None:
        raise VolumeError("the stack has no position/orientation, so it is not a volume")
    first = read_frame(*stack.sources[0])
    if first.is_color:
        raise VolumeError("colour stacks are not loaded as volumes")
    voxels = np.empty((stack.frames, *first.stored.shape), dtype=first.stored.dtype)
    slopes = {(first.transform.rescale_slope, first.transform.rescale_intercept)}
    voxels[0] = first.stored
    for index, (path, frame) in enumerate(stack.sources[1:], start=1):
        if cancel():
            raise VolumeError("cancelled")
        decoded = read_frame(path, frame)
        voxels[index] = decoded.stored
        slopes.add((decoded.transform.rescale_slope, decoded.transform.rescale_intercept))
        if progress is not None:
            progress(index + 1, stack.frames)
    slope, intercept = first.transform.rescale_slope, first.transform.rescale_intercept
    warnings = stack.warnings
    if len(slopes) > 1:
        warnings = (*warnings, "frames have different Rescale Slope/Intercept; the first is used")
    return Volume(stack, voxels, affine, slope, intercept, warnings)
