"""A stack loaded as one voxel array in modality-ready stored values, with its affine.

The voxels stay in their stored dtype (int16/uint16/uint8: never a float64 volume); the
rescale that turns them into modality values (PS3.3 C.11.1.1.2) is kept beside them as
(slope, intercept), exact for the common slope 1. The affine maps (column, row, frame) indices
to LPS mm (viewer.dicom.catalog.geometry).

Plain native frames (uncompressed monochrome, :mod:`viewer.dicom.pixels.layout`) are read in this
process straight from their file offsets into the final array: no decoder, no worker, no copy,
and neither pydicom nor the decode pool is imported for them. Other frames are decoded by the
worker processes of :mod:`viewer.dicom.pixels.decode_pool` straight into one shared-memory array,
so loading uses every core and the parent never copies. Frames whose
Rescale Slope/Intercept differ are brought to a common rescale when that is exact (integer
shifts); only otherwise does the volume hold float32 modality values, with a warning.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from viewer.core import lazy
from viewer.dicom import limits
from viewer.dicom.catalog.frame_ref import local_path
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.scan import Cancel, never_cancelled
from viewer.dicom.pixels import layout as plain
from viewer.dicom.pixels import lut
from viewer.dicom.pixels.layout import FrameOutcome

if TYPE_CHECKING:  # imported on first use: pydicom and the pool are not needed for native frames
    from viewer.dicom.pixels.decode import DecodedFrame
    from viewer.dicom.pixels.decode_pool import DecodePool, FrameJob
    from viewer.dicom.pixels.frame_store import FrameStore

Progress = Callable[[int, int], None]

#: Stacks with at most this many frames decode in the calling process (no worker start-up).
SEQUENTIAL_MAX_FRAMES = 16
#: At most this many distinct decoder warnings are kept on the volume.
MAX_DECODE_WARNINGS = 5
#: Float64 bytes rescaled at a time by :func:`modality_voxels` (never a whole float64 copy).
RESCALE_CHUNK_BYTES = 4 * 2**20


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
        """Stored values -> exact modality values (:func:`viewer.dicom.lut.apply_rescale`)."""
        return lut.apply_rescale(np.asarray(values), self.rescale_slope, self.rescale_intercept)


def load_volume(
    stack: Stack,
    progress: Progress | None = None,
    cancel: Cancel = never_cancelled,
    pool: DecodePool | None = None,
) -> Volume:
    """Decode every frame of ``stack`` into one array, in worker processes for large stacks.

    Raises :class:`VolumeError` (with a readable reason) when the stack has no geometry, is
    colour, its first frame cannot be decoded, every frame fails, or ``cancel`` returned True.
    Frames that fail are left at stored value 0 and named in ``warnings``.
    """
    affine = stack.affine()
    if affine is None:
        raise VolumeError("the stack has no position/orientation, so it is not a volume")
    first_layout = _plain_first(stack)
    if first_layout is not None:
        return _load_plain(stack, affine, first_layout, progress, cancel, pool)
    first = _first_frame(stack)
    shape = (stack.frames, *first.stored.shape)
    try:  # before allocating: the memory budget, and what the files can hold
        limits.check_volume_allocation(shape, first.stored.dtype.itemsize, stack.sources)
    except limits.Refused as error:
        raise VolumeError(str(error)) from error
    jobs = [(index, path, frame) for index, (path, frame) in enumerate(stack.sources)][1:]
    first_outcome = FrameOutcome(
        0,
        first.transform.rescale_slope,
        first.transform.rescale_intercept,
        warnings=first.warnings,
    )
    cache = _FrameCache.of(first, shape[1:])
    if stack.frames <= SEQUENTIAL_MAX_FRAMES:
        voxels = np.empty(shape, dtype=first.stored.dtype)
        voxels[0] = first.stored
        outcomes = _fill_here(voxels, jobs, progress, cancel, cache)
    else:
        pool = pool or lazy.load("viewer.dicom.pixels.decode_pool:shared_pool")()
        voxels, outcomes = _fill_in_workers(shape, first, jobs, progress, cancel, pool, cache)
    if cache is not None:
        cache.keep(voxels, outcomes)
    return _assemble(stack, voxels, affine, [first_outcome, *outcomes])


def _plain_first(stack: Stack) -> plain.PixelLayout | None:
    """The layout of the first frame when it is plain native and of the stack's matrix."""
    if not stack.sources:
        return None
    uri, frame = stack.sources[0]
    path = local_path(uri)
    layout = plain.pixel_layout(path, 1) if path is not None else None
    if layout is None or layout.encapsulated or not 0 <= frame < layout.frames:
        return None
    return layout if (layout.rows, layout.columns) == (stack.rows, stack.columns) else None


def _load_plain(
    stack: Stack,
    affine: np.ndarray,
    first: plain.PixelLayout,
    progress: Progress | None,
    cancel: Cancel,
    pool: DecodePool | None,
) -> Volume:
    """Read native frames in this process straight into the final array (one read each).
    Frames that are not plain like the first are decoded as before: in this process for a
    small stack, else in the worker pool (with its deadline and crash isolation)."""
    shape = (stack.frames, first.rows, first.columns)
    dtype = first.dtype.newbyteorder("=")
    try:  # before allocating: the memory budget, and what the files can hold
        limits.check_volume_allocation(shape, dtype.itemsize, stack.sources)
    except limits.Refused as error:
        raise VolumeError(str(error)) from error
    voxels = np.empty(shape, dtype=dtype)
    outcomes: list[FrameOutcome] = []
    left: list[FrameJob] = []
    layouts: dict[str, plain.PixelLayout | None] = {}
    for index, (uri, frame) in enumerate(stack.sources):
        if cancel():
            raise VolumeError("cancelled")
        path = local_path(uri)
        if path is not None and path not in layouts:
            layouts = {path: first if index == 0 else plain.pixel_layout(path, 1)}
        layout = layouts.get(path) if path is not None else None
        target = voxels[index]
        if (
            path is not None
            and layout is not None
            and plain.fits(layout, frame, target)
            and plain.read_native_into(path, frame, layout, target)
        ):
            outcomes.append(FrameOutcome(index, layout.rescale_slope, layout.rescale_intercept))
            if progress is not None:
                progress(len(outcomes), stack.frames)
        else:
            left.append((index, uri, frame))
    if left and stack.frames <= SEQUENTIAL_MAX_FRAMES:
        outcomes += _fill_here(voxels, left, None, cancel)
    elif left:
        outcomes += _decode_left_in_workers(voxels, left, cancel, pool)
    return _assemble(stack, voxels, affine, outcomes)


def _decode_left_in_workers(
    voxels: NDArray[Any], jobs: Sequence[FrameJob], cancel: Cancel, pool: DecodePool | None
) -> list[FrameOutcome]:
    """Decode ``jobs`` in the pool into a shared block of their own, then copy them in."""
    pool_module = lazy.load("viewer.dicom.pixels.decode_pool")
    try:
        block = pool_module.SharedBlock((len(jobs), *voxels.shape[1:]), voxels.dtype)
    except OSError:  # no shared memory here: decode in this process
        return _fill_here(voxels, jobs, None, cancel)
    try:
        local = [(k, uri, frame) for k, (_, uri, frame) in enumerate(jobs)]
        try:
            done = (pool or pool_module.shared_pool()).fill(block, local, None, cancel, False)
        except pool_module.LoadCancelled:
            raise VolumeError("cancelled") from None
        except (RuntimeError, OSError):  # no worker processes (shut down, or cannot start)
            return _fill_here(voxels, jobs, None, cancel)
        outcomes = []
        for outcome in done:
            index = jobs[outcome.index][0]
            voxels[index] = block.array[outcome.index]
            outcomes.append(dataclasses.replace(outcome, index=index))
        return outcomes
    finally:
        block.release()


class _FrameCache:
    """The decoded-frame cache (:mod:`viewer.dicom.pixels.frame_store`) for one load of
    compressed frames: hits are copied in before any decoding, misses written after."""

    def __init__(self, store: FrameStore, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.store, self.shape, self.dtype = store, shape, dtype
        self.keys: dict[int, str] = {}

    @classmethod
    def of(cls, first: DecodedFrame, shape: tuple[int, ...]) -> _FrameCache | None:
        store = lazy.load("viewer.dicom.pixels.frame_store:default_store")()
        if store is None or first.decoder == "numpy":  # native frames: the file is the copy
            return None
        return cls(store, shape, first.stored.dtype)

    def fill(
        self, voxels: NDArray[Any], jobs: Sequence[FrameJob]
    ) -> tuple[list[FrameJob], list[FrameOutcome]]:
        """Copy the cached frames of ``jobs`` into ``voxels``: (jobs left, their outcomes)."""
        left, outcomes = [], []
        for job in jobs:
            index, path, frame = job
            key = self.store.key(path, frame, self.shape, self.dtype)
            hit = self.store.read_into(key, voxels[index]) if key else None
            if hit is None:
                self.keys[index] = key
                left.append(job)
            else:
                outcomes.append(FrameOutcome(index, hit.rescale_slope, hit.rescale_intercept))
        return left, outcomes

    def keep(self, voxels: NDArray[Any], outcomes: Sequence[FrameOutcome]) -> None:
        """Write the frames just decoded (not the failed ones), then trim to the bound."""
        written = False
        for outcome in outcomes:
            key = self.keys.get(outcome.index)
            if key and not outcome.error and not outcome.has_modality_lut and not outcome.warnings:
                slope, intercept = outcome.rescale_slope, outcome.rescale_intercept
                written = self.store.put(key, voxels[outcome.index], slope, intercept) or written
        if written:
            self.store.trim()


def _first_frame(stack: Stack) -> DecodedFrame:
    """The first frame decides the dtype and matrix (and whether this is a volume at all)."""
    if not stack.sources:
        raise VolumeError("the stack has no frames")
    reading = lazy.load("viewer.dicom.pixels.reading")
    DecodeError = reading.DecodeError
    try:
        first: DecodedFrame = reading.read_frame(*stack.sources[0])
    except DecodeError as error:
        raise VolumeError(f"cannot decode the first frame: {error}") from error
    if first.is_color or first.is_palette:
        raise VolumeError("colour stacks are not loaded as volumes")
    if first.transform.modality_lut is not None:
        raise VolumeError("frames with a Modality LUT Sequence are not loaded as volumes yet")
    if first.stored.shape != (stack.rows, stack.columns):
        raise VolumeError(
            f"the first frame is {first.stored.shape[0]} x {first.stored.shape[1]}, "
            f"the stack {stack.rows} x {stack.columns}"
        )
    return first


def _fill_here(
    voxels: NDArray[Any],
    jobs: Sequence[FrameJob],
    progress: Progress | None,
    cancel: Cancel,
    cache: _FrameCache | None = None,
) -> list[FrameOutcome]:
    """Decode ``jobs`` in this process (small stacks, or when worker processes fail)."""
    outcomes: list[FrameOutcome] = []
    if cache is not None:
        jobs, outcomes = cache.fill(voxels, jobs)
    fill_frame = lazy.load("viewer.dicom.pixels.decode_pool:fill_frame")
    for done, (index, path, frame) in enumerate(jobs, start=2 + len(outcomes)):
        if cancel():
            raise VolumeError("cancelled")
        outcomes.append(fill_frame(voxels[index], index, path, frame))
        if progress is not None:
            progress(done, len(jobs) + 1)
    return outcomes


def _fill_in_workers(
    shape: tuple[int, ...],
    first_frame: DecodedFrame,
    jobs: Sequence[FrameJob],
    progress: Progress | None,
    cancel: Cancel,
    pool: DecodePool,
    cache: _FrameCache | None = None,
) -> tuple[NDArray[Any], list[FrameOutcome]]:
    """Decode ``jobs`` in the pool into one shared-memory array (no copy in this process);
    frames in the decoded-frame cache are copied in first."""
    first, decoder = first_frame.stored, first_frame.decoder
    pool_module = lazy.load("viewer.dicom.pixels.decode_pool")
    try:
        block = pool_module.SharedBlock(shape, first.dtype)
    except OSError:  # no shared memory here (e.g. /dev/shm too small): decode in-process
        voxels = np.empty(shape, dtype=first.dtype)
        voxels[0] = first
        return voxels, _fill_here(voxels, jobs, progress, cancel, cache)
    cached: list[FrameOutcome] = []
    try:
        block.array[0] = first
        if cache is not None:
            jobs, cached = cache.fill(block.array, jobs)
        skip = 1 + len(cached)  # the first frame and the cached ones are done
        report = (
            None if progress is None else lambda done, total: progress(done + skip, total + skip)
        )
        cheap = decoder == "numpy"  # native frames: a read each, not a decode
        outcomes = pool.fill(block, jobs, report, cancel, cheap) if jobs else []
    except pool_module.LoadCancelled:
        raise VolumeError("cancelled") from None
    except (RuntimeError, OSError):  # no worker processes (shut down, or cannot start)
        outcomes = _fill_here(block.array, jobs, progress, cancel)
    finally:
        block.release()
    return block.array, cached + outcomes


def _assemble(
    stack: Stack, voxels: NDArray[Any], affine: np.ndarray, outcomes: list[FrameOutcome]
) -> Volume:
    outcomes = sorted(outcomes, key=lambda outcome: outcome.index)
    failed = [outcome for outcome in outcomes if outcome.error]
    if len(failed) == len(outcomes):
        raise VolumeError(f"no frame could be decoded: {failed[0].error}")
    if any(outcome.has_modality_lut for outcome in outcomes):
        raise VolumeError("frames with a Modality LUT Sequence are not loaded as volumes yet")
    for outcome in failed:
        voxels[outcome.index] = 0
    good = [outcome for outcome in outcomes if not outcome.error]
    rescales = [(o.rescale_slope, o.rescale_intercept) for o in good]
    voxels, slope, intercept, rescale_notes = common_rescale(
        voxels, [o.index for o in good], rescales
    )
    notes = (*stack.warnings, *rescale_notes, *_failure_notes(stack, failed, len(outcomes)))
    notes = (*notes, *_decoder_notes(outcomes))
    return Volume(stack, voxels, affine, slope, intercept, notes)


def _failure_notes(stack: Stack, failed: list[FrameOutcome], total: int) -> tuple[str, ...]:
    if not failed:
        return ()
    first = failed[0]
    path, frame = stack.sources[first.index]
    return (
        f"{len(failed)} of {total} frames could not be decoded and are left at stored value 0 "
        f"(first: slice {first.index + 1}, {os.path.basename(path)} frame {frame}: {first.error})",
    )


def _decoder_notes(outcomes: list[FrameOutcome]) -> tuple[str, ...]:
    distinct = dict.fromkeys(message for outcome in outcomes for message in outcome.warnings)
    return tuple(f"decoder: {message}" for message in list(distinct)[:MAX_DECODE_WARNINGS])


def common_rescale(
    voxels: NDArray[Any], indices: Sequence[int], rescales: Sequence[tuple[float, float]]
) -> tuple[NDArray[Any], float, float, tuple[str, ...]]:
    """One (slope, intercept) for every frame (PS3.3 C.11.1.1.2: value = stored * m + b).

    Equal rescales need nothing. Equal slopes whose intercepts differ by whole multiples of
    the slope become integer shifts of the stored values (in place when they fit the dtype,
    else in the narrowest integer type that holds them). Anything else is converted to float32
    modality values (float64 where float32 is not exact; slope 1, intercept 0), with a
    warning: it doubles an int16 volume's memory.
    """
    if not rescales:
        return voxels, 1.0, 0.0, ()
    slope, intercept = rescales[0]
    if all(rescale == (slope, intercept) for rescale in rescales):
        return voxels, slope, intercept, ()
    shifts = _integer_shifts(rescales, slope, intercept)
    if shifts is not None and voxels.dtype.kind in "iu":
        voxels = _shifted(voxels, indices, shifts)
        note = "frames have different Rescale Intercepts; stored values shifted to a common one"
        return voxels, slope, intercept, (note,)
    values = _per_frame_modality(voxels, indices, rescales, np.dtype(np.float32))
    if values is None:  # float32 cannot hold them exactly
        values = _per_frame_modality(voxels, indices, rescales, np.dtype(np.float64))
    assert values is not None
    note = (
        "frames have different Rescale Slopes; the volume holds "
        f"{values.dtype.name} modality values"
    )
    return values, 1.0, 0.0, (note,)


def _per_frame_modality(
    voxels: NDArray[Any],
    indices: Sequence[int],
    rescales: Sequence[tuple[float, float]],
    dtype: np.dtype[Any],
) -> NDArray[Any] | None:
    """Each frame's own rescale into one ``dtype`` array; None if one value is inexact."""
    values = np.zeros(voxels.shape, dtype=dtype)
    for index, (frame_slope, frame_intercept) in zip(indices, rescales, strict=True):
        if not lut.rescale_into(values[index], voxels[index], frame_slope, frame_intercept):
            return None
    return values


def _integer_shifts(
    rescales: Sequence[tuple[float, float]], slope: float, intercept: float
) -> list[int] | None:
    """Per-frame stored-value shifts onto ``(slope, intercept)``, if all are exact integers."""
    shifts = []
    for frame_slope, frame_intercept in rescales:
        shift = (frame_intercept - intercept) / slope
        if frame_slope != slope or not float(shift).is_integer():
            return None
        shifts.append(int(shift))
    return shifts


def _shifted(voxels: NDArray[Any], indices: Sequence[int], shifts: Sequence[int]) -> NDArray[Any]:
    """Each frame ``indices[k]`` plus ``shifts[k]``, in place when every result fits the dtype,
    else in the narrowest integer dtype that holds the stored and shifted values."""
    low, high = (int(voxels.min()), int(voxels.max())) if voxels.size else (0, 0)
    for index, shift in zip(indices, shifts, strict=True):
        low = min(low, int(voxels[index].min()) + shift)
        high = max(high, int(voxels[index].max()) + shift)
    dtype = smallest_integer_dtype(low, high)
    fits = np.can_cast(dtype, voxels.dtype) or (
        np.iinfo(voxels.dtype).min <= low and high <= np.iinfo(voxels.dtype).max
    )
    target = voxels if fits else voxels.astype(dtype)
    for index, shift in zip(indices, shifts, strict=True):
        if shift:
            lut.rescale_into(target[index], target[index], 1, shift)
    return target


def modality_voxels(volume: Volume, reuse: bool = False) -> NDArray[Any]:
    """The voxels in modality values (e.g. HU) in the smallest dtype that holds them exactly.

    Integer when the rescale maps integers to integers (slope and intercept whole numbers):
    the narrowest of uint8, int8, uint16, int16, uint32, int32, int64 that holds the range;
    else float32 when every value (stored * slope + intercept in float64) is exact in float32,
    else float64 (:func:`viewer.dicom.lut.apply_rescale`'s rule, PS3.3 C.11.1.1.2). The result
    is allocated once, in its final dtype; the arithmetic runs a few slices at a time
    (:data:`RESCALE_CHUNK_BYTES`), so no intermediate wraps and no whole temporary exists.
    ``reuse``: an integer result may share the volume's memory (the volume's voxels are then
    overwritten: for callers that are done with the volume, such as the ``volume`` verb).
    """
    voxels = volume.voxels
    slope, intercept = volume.rescale_slope, volume.rescale_intercept
    if lut.is_integral_rescale(voxels.dtype, slope, intercept):
        low, high = (int(voxels.min()), int(voxels.max())) if voxels.size else (0, 0)
        try:
            dtype = lut.rescaled_integer_type(low, high, slope, intercept)
        except ValueError as error:
            raise VolumeError(str(error)) from error
        if slope == 1 and intercept == 0 and dtype == voxels.dtype:
            return voxels
        out = _result_array(voxels, dtype, reuse)
        for chunk in _slice_chunks(voxels):
            lut.rescale_into(out[chunk], voxels[chunk], slope, intercept)
        return out
    as_float32 = np.empty(voxels.shape, dtype=np.float32)  # never reused: it may be inexact
    for chunk in _slice_chunks(voxels):
        if not lut.rescale_into(as_float32[chunk], voxels[chunk], slope, intercept):
            del as_float32  # freed before the float64 result is allocated
            return _float64_modality(voxels, slope, intercept)
    return as_float32


def _result_array(voxels: NDArray[Any], dtype: np.dtype[Any], reuse: bool) -> NDArray[Any]:
    """The output: ``voxels``' own memory viewed as ``dtype`` when allowed and of the same
    item size, else a new array."""
    if reuse and dtype.itemsize == voxels.dtype.itemsize and voxels.flags.c_contiguous:
        return voxels.view(dtype)
    return np.empty(voxels.shape, dtype=dtype)


def _float64_modality(voxels: NDArray[Any], slope: float, intercept: float) -> NDArray[Any]:
    out = np.empty(voxels.shape, dtype=np.float64)
    for chunk in _slice_chunks(voxels):
        lut.rescale_into(out[chunk], voxels[chunk], slope, intercept)
    return out


def _slice_chunks(voxels: NDArray[Any]) -> Iterator[slice]:
    """Runs of whole slices of about :data:`RESCALE_CHUNK_BYTES` as float64."""
    slice_bytes = max(1, voxels[0].size * 8) if len(voxels) else 1
    step = max(1, RESCALE_CHUNK_BYTES // slice_bytes)
    for start in range(0, len(voxels), step):
        yield slice(start, start + step)


def smallest_integer_dtype(low: int, high: int) -> np.dtype[Any]:
    """The narrowest integer dtype holding every value in ``[low, high]``."""
    try:
        return lut.rescaled_integer_type(low, high, 1, 0)
    except ValueError as error:
        raise VolumeError(f"values from {low} to {high} do not fit a 64-bit integer") from error
