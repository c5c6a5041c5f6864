"""Issue 13 item 1: modality values are exact for every stored type and rescale, in every path.

The grid: each stored type (8, 16 and 32 bits, unsigned and signed, full and narrower Bits
Stored) x Rescale Slope (1, 2, -1, 0.5, 1e-3) x Rescale Intercept (-32768, -1024, 0, 1024,
70000) x content (uniform slices, the stored extremes, one odd slice). Each case is a real
folder of small files written with the test factories and read through the public entry
points: the indexer and ``load_volume`` (and so ``modality_voxels``, what the ``volume`` verb
writes), the MPR volume, ``render_frame`` (what ``render`` and the thumbnails draw) and the
2D view's value readout (``modality_value``). The truth is PS3.3 C.11.1.1.2 in float64:
``stored * slope + intercept``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, generate_uid

from tests.factories import AXIAL, base_dataset, ds_value, save, slice_positions
from viewer.__main__ import main
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels import display, lut
from viewer.dicom.pixels.frames import DecodedFrame, PixelTransform
from viewer.dicom.pixels.reading import read_frame
from viewer.dicom.pixels.volume import load_volume, modality_voxels
from viewer.model import mpr, presentation

#: (numpy type, Bits Allocated, Bits Stored)
STORED_TYPES = [
    (np.uint8, 8, 8),
    (np.uint8, 8, 6),
    (np.int8, 8, 8),
    (np.int8, 8, 6),
    (np.uint16, 16, 16),
    (np.uint16, 16, 12),
    (np.int16, 16, 16),
    (np.int16, 16, 12),
    (np.uint32, 32, 32),
    (np.uint32, 32, 24),
    (np.int32, 32, 32),
    (np.int32, 32, 24),
]
SLOPES = ["1", "2", "-1", "0.5", "1e-3"]
INTERCEPTS = ["-32768", "-1024", "0", "1024", "70000"]
CONTENTS = ["uniform", "extremes", "odd_slice"]
SLICES = 3
SIZE = 4


def stored_range(dtype: type, bits_stored: int) -> tuple[int, int]:
    if np.issubdtype(dtype, np.signedinteger):
        return -(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1) - 1
    return 0, 2**bits_stored - 1


def slice_values(dtype: type, bits_stored: int, content: str, k: int) -> np.ndarray:
    """Slice ``k``'s stored values for ``content``."""
    low, high = stored_range(dtype, bits_stored)
    uniform = int(np.clip(1024, low, high))  # with intercept -1024: all zero, the narrowest type
    extremes = np.resize(np.array([low, high, uniform, low + 1], dtype=np.int64), SIZE * SIZE)
    if content == "uniform" or (content == "odd_slice" and k != SLICES // 2):
        values = np.full(SIZE * SIZE, uniform, dtype=np.int64)
    else:
        values = np.roll(extremes, k)
    return values.reshape(SIZE, SIZE)


def write_case(folder: Path, dtype: type, allocated: int, bits: int, content: str) -> None:
    """One series per (slope, intercept), SLICES axial slices of SIZE x SIZE."""
    positions = slice_positions(AXIAL, [2.5 * k for k in range(SLICES)])
    study_uid = generate_uid()
    for s, slope in enumerate(SLOPES):
        for i, intercept in enumerate(INTERCEPTS):
            series_uid = generate_uid()
            for k, position in enumerate(positions):
                ds = base_dataset(
                    CTImageStorage, study_uid=study_uid, series_uid=series_uid, modality="CT",
                    series_number=s * 10 + i + 1, series_description=f"{slope} {intercept}",
                )  # fmt: skip
                ds.InstanceNumber = k + 1
                ds.ImagePositionPatient = [ds_value(v) for v in position]
                ds.ImageOrientationPatient = [ds_value(v) for v in AXIAL]
                ds.PixelSpacing = ["0.5", "0.5"]
                ds.RescaleSlope = slope
                ds.RescaleIntercept = intercept
                _set_pixels(ds, slice_values(dtype, bits, content, k), dtype, allocated, bits)
                save(ds, folder / f"s{s}i{i}" / f"IM{k}.dcm")


def _set_pixels(ds: Dataset, values: np.ndarray, dtype: type, allocated: int, bits: int) -> None:
    """Image Pixel module (PS3.3 C.7.6.3); the unused high bits are zero, as scanners leave them."""
    little = np.dtype(dtype).newbyteorder("<")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = values.shape
    ds.BitsAllocated = allocated
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = int(np.issubdtype(dtype, np.signedinteger))
    raw = values.astype(np.int64) & (2**bits - 1) if bits < allocated else values
    ds.PixelData = raw.astype(little).tobytes() if bits == allocated else _unsigned(raw, little)


def _unsigned(raw: np.ndarray, little: np.dtype[Any]) -> bytes:
    return raw.astype(little.str.replace("i", "u")).tobytes()


def truth_of(stack: Stack) -> tuple[list[DecodedFrame], np.ndarray]:
    """The decoded frames in stack order and their modality values by PS3.3 C.11.1.1.2 in
    float64, each with its own Rescale Slope and Intercept."""
    frames = [read_frame(path, frame) for path, frame in stack.sources]
    expected = np.stack(
        [
            f.stored.astype(np.float64) * f.transform.rescale_slope + f.transform.rescale_intercept
            for f in frames
        ]
    )
    return frames, expected


def assert_exact(values: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert values.shape == expected.shape, what
    assert np.array_equal(values.astype(np.float64), expected), (
        f"{what}: {values.dtype} {values.ravel()[:6]} != {expected.ravel()[:6]}"
    )


CASES = [
    pytest.param(dtype, allocated, bits, content, id=f"{np.dtype(dtype).name}-bs{bits}-{content}")
    for dtype, allocated, bits in STORED_TYPES
    for content in CONTENTS
]


@pytest.mark.parametrize(("dtype", "allocated", "bits", "content"), CASES)
def test_modality_values_are_exact_in_every_path(
    tmp_path: Path, dtype: type, allocated: int, bits: int, content: str
) -> None:
    write_case(tmp_path, dtype, allocated, bits, content)
    stacks = index_paths([tmp_path], workers=0).all_stacks()
    assert len(stacks) == len(SLOPES) * len(INTERCEPTS)
    low, high = stored_range(dtype, bits)
    for stack in stacks:
        frames, expected = truth_of(stack)
        assert all(low <= f.stored.min() and f.stored.max() <= high for f in frames)
        transform = frames[0].transform
        case = f"{np.dtype(dtype).name} bs{bits} {content} {transform.rescale_slope} "
        case += f"{transform.rescale_intercept}"

        volume = load_volume(stack)  # the volume verb and the GUI's volume loader
        assert_exact(modality_voxels(volume), expected, f"volume {case}")
        assert_exact(volume.modality(volume.voxels), expected, f"Volume.modality {case}")
        copy = dataclasses.replace(volume, voxels=volume.voxels.copy())
        assert_exact(modality_voxels(copy, reuse=True), expected, f"volume, reused {case}")

        middle = stack.sources[SLICES // 2]  # render_frame: read_frame, then to_display
        reference = display.to_display(frames[SLICES // 2], (40.0, 400.0))
        assert np.array_equal(display.render_frame(*middle, (40.0, 400.0)), reference), case

        mpr_volume = mpr.mpr_volume(volume)  # what the MPR views sample
        mpr_values = np.vectorize(mpr_volume.modality, otypes=[np.float64])(mpr_volume.voxels)
        assert_exact(mpr_values, expected, f"MPR {case}")

        for k, decoded in enumerate(frames):
            values = display.modality_values(decoded.stored, decoded.transform)
            assert_exact(values, expected[k], f"render modality stage {case} slice {k}")
            # what `render` draws with a window, and the thumbnails (the default: min-max)
            for window in ((40.0, 400.0), None):
                shown = display.to_display(decoded, window)
                reference = reference_voi(expected[k], decoded.transform, window)
                assert np.array_equal(shown, reference), f"render {window} {case} slice {k}"
            readout = np.vectorize(
                lambda v, d=decoded: presentation.modality_value(d, v), otypes=[np.float64]
            )(decoded.stored)  # the 2D view's value under the cursor
            assert_exact(readout, expected[k], f"2D view value {case} slice {k}")


def reference_voi(
    values: np.ndarray, transform: PixelTransform, window: tuple[float, float] | None
) -> np.ndarray:
    """The VOI stage (PS3.3 C.11.2.1.2) on the exact modality values: the window, else
    their min-max."""
    if window is None:
        lower, upper = lut.auto_range(values)
    else:
        lower, upper = lut.window_to_range(*window, transform.voi_function)
    return lut.voi_linear(values, lower, upper)


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint32, np.int32])
def test_the_volume_verb_writes_exact_values_where_it_overflowed(
    tmp_path: Path, dtype: type
) -> None:
    """The reported case: a good CT whose values fit a narrower type than its intercept."""
    allocated = np.dtype(dtype).itemsize * 8
    write_case(tmp_path, dtype, allocated, allocated, "uniform")
    stacks = index_paths([tmp_path], workers=0).all_stacks()
    for k, stack in enumerate(stacks):
        expected = truth_of(stack)[1]
        out = tmp_path / f"v{k}.npz"
        with contextlib.redirect_stderr(io.StringIO()) as err:
            status = main(["volume", str(tmp_path), str(out), "--stack", str(k)])
        assert status == 0, err.getvalue()
        with np.load(out) as written:
            assert_exact(written["voxels"], expected, f"volume verb stack {k}")


@pytest.mark.parametrize(("dtype", "bits"), [(np.uint16, 16), (np.int16, 12), (np.uint32, 32)])
@pytest.mark.parametrize("slope", [1.0, 2.0, -1.0])
def test_frames_with_different_intercepts_shift_exactly(
    dtype: type, bits: int, slope: float
) -> None:
    """One odd slice with another Rescale Intercept: the common rescale never wraps."""
    from viewer.dicom.pixels.volume import common_rescale

    low, high = stored_range(dtype, bits)
    voxels: np.ndarray = np.stack([np.array([[low, high]]), np.array([[low, high]])]).astype(dtype)
    rescales = [(slope, 0.0), (slope, -1024.0 * slope)]
    expected = voxels.astype(np.float64) * slope + np.array([0.0, -1024.0 * slope])[:, None, None]
    shifted, m, b, notes = common_rescale(voxels.copy(), [0, 1], rescales)
    assert notes
    assert_exact(shifted.astype(np.float64) * m + b, expected, f"{dtype} {slope}")


def test_apply_rescale_types_are_exact() -> None:
    stored = np.array([0, 4095], np.uint16)
    assert lut.apply_rescale(stored, 2, -1024).dtype == np.int16
    assert lut.apply_rescale(stored, 0.5, 0).dtype == np.float32
    assert lut.apply_rescale(stored, 1e-3, 0).dtype == np.float64


@pytest.mark.parametrize(("dtype", "bits"), [(np.uint16, 16), (np.int32, 32)])
@pytest.mark.parametrize("slopes", [(1.0, 2.0), (0.5, 1e-3)])
def test_frames_with_different_slopes_hold_exact_floats(
    dtype: type, bits: int, slopes: tuple[float, float]
) -> None:
    from viewer.dicom.pixels.volume import common_rescale

    low, high = stored_range(dtype, bits)
    voxels: np.ndarray = np.stack([np.array([[low, high, 1]]), np.array([[high, low, 3]])]).astype(
        dtype
    )
    rescales = [(slopes[0], -1024.0), (slopes[1], 70000.0)]
    expected = np.stack([voxels[k] * m + b for k, (m, b) in enumerate(rescales)])
    values, m, b, notes = common_rescale(voxels, [0, 1], rescales)
    assert (m, b) == (1.0, 0.0) and notes
    assert_exact(values, expected, f"{dtype} {slopes}")
