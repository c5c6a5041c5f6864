"""Decoding bad input: a frame or one DecodeError with a readable reason, never more.

Every file of every class of :mod:`tests.robustness.bad_files` goes through each decoding
entry point: read_frame and render_frame (the viewport, thumbnails, ``render``), the volume
fill of the decode pool (``volume``, MPR) and the overlay reader. Nothing may raise anything
else, hang, or allocate what a header declares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.robustness import bad_files
from tests.robustness.conftest import PEAK_BYTES, BadInputs, no_hang, one_line, peak_allocation
from viewer.dicom.io import bounded
from viewer.dicom.pixels.decode import DecodedFrame, DecodeError
from viewer.dicom.pixels.decode_pool import fill_frame
from viewer.dicom.pixels.display import render_frame
from viewer.dicom.pixels.overlays import OverlayResult, read_overlays
from viewer.dicom.pixels.reading import read_frame

CLASSES = list(bad_files.GENERATORS)


def decode_outcome(path: Path, frame: int) -> DecodedFrame | str:
    """The frame, or its DecodeError's reason; any other exception fails the test."""
    try:
        return no_hang(read_frame, path, frame)
    except DecodeError as error:
        assert one_line(error.reason), error.reason
        return error.reason


def render_outcome(path: Path, frame: int) -> np.ndarray | str:
    try:
        image = no_hang(render_frame, path, frame)
    except DecodeError as error:
        assert one_line(error.reason), error.reason
        return error.reason
    assert image.dtype == np.uint8 and image.ndim in (2, 3)
    return image


@pytest.mark.parametrize("name", CLASSES)
def test_decoding_gives_a_frame_or_one_reason(bad_inputs: BadInputs, name: str) -> None:
    with peak_allocation() as peak:
        for path in bad_files.regular_files(bad_inputs.paths[name]):
            render_outcome(path, 0)  # decodes frame 0 on the way
            decode_outcome(path, 1)  # the second frame (or why there is none)
    assert peak[0] < PEAK_BYTES, f"decoding {name} allocated {peak[0] / 1e6:.0f} MB"


def volume_slice_for(path: Path) -> np.ndarray:
    """A volume slice of the size the header claims (when that is sane), else 16 x 16."""
    try:
        declared = bounded.declared_pixels(path)
    except (ValueError, OSError):
        declared = None
    if declared is None or not (0 < declared.rows <= 1024 and 0 < declared.columns <= 1024):
        return np.zeros((16, 16), dtype=np.int16)
    return np.zeros((declared.rows, declared.columns), dtype=np.int16)


@pytest.mark.parametrize("name", CLASSES)
def test_volume_fill_and_overlays_never_raise(bad_inputs: BadInputs, name: str) -> None:
    for path in bad_files.regular_files(bad_inputs.paths[name]):
        outcome = no_hang(fill_frame, volume_slice_for(path), 0, str(path), 0)
        assert outcome.error == "" or one_line(outcome.error), outcome
        overlays = no_hang(read_overlays, path, 0)
        assert isinstance(overlays, OverlayResult)


def test_pipes_and_devices_are_refused_not_read(bad_inputs: BadInputs) -> None:
    """Opening a named pipe blocks and /dev/zero never ends: neither may be opened."""
    for path in bad_inputs.paths["device_files"]:
        reason = decode_outcome(path, 0)
        assert reason == "not a regular file (a device, pipe or socket)", path


def test_huge_declared_frames_fail_fast_with_a_reason(bad_inputs: BadInputs) -> None:
    """Rows 65535 x Columns 65535 x 1000 frames in ~1 KB: refused before any allocation."""
    with peak_allocation() as peak:
        outcomes = {p.name: decode_outcome(p, 0) for p in bad_inputs.paths["huge_dimensions"]}
    assert peak[0] < 16 * 1024**2
    for name in ("native_huge.dcm", "j2k_huge.dcm", "rle_huge.dcm", "jpeg_huge.dcm"):
        reason = outcomes[name]
        assert isinstance(reason, str), name
        assert "memory budget" in reason or "truncated" in reason or "not believed" in reason
    assert "not believed" in str(outcomes["j2k_big_frame.dcm"])  # 512 MiB from 6 KB


def test_a_huge_pixel_data_length_is_not_believed(bad_inputs: BadInputs) -> None:
    with peak_allocation() as peak:
        for path in bad_inputs.paths["huge_pixel_length"]:
            decode_outcome(path, 0)
    assert peak[0] < 16 * 1024**2


def test_a_deflate_bomb_is_refused_before_inflating(bad_inputs: BadInputs) -> None:
    (bomb,) = bad_inputs.paths["deflate_bomb"]
    with peak_allocation() as peak:
        reason = decode_outcome(bomb, 0)
    assert isinstance(reason, str) and "deflate bomb" in reason
    assert peak[0] < 32 * 1024**2


def test_corrupt_compressed_data_is_a_decode_error(bad_inputs: BadInputs) -> None:
    """Corrupt JPEG, JPEG 2000, RLE (whose Rust decoder panics) and deflate data."""
    for name in ("corrupt_jpeg", "corrupt_j2k", "corrupt_deflate"):
        for path in bad_inputs.paths[name]:
            assert isinstance(decode_outcome(path, 0), str), path
    rle = bad_inputs.folder("corrupt_rle")
    assert "crashed on corrupt data" in str(decode_outcome(rle / "rle_noise.dcm", 0))
    assert isinstance(decode_outcome(rle / "rle_segment_offsets.dcm", 0), str)


def test_truncated_pixel_data_says_truncated(bad_inputs: BadInputs) -> None:
    folder = bad_inputs.folder("truncated_pixels")
    assert "truncated" in str(decode_outcome(folder / "ct_half_pixels.dcm", 0))


def test_the_preamble_is_never_executed(bad_inputs: BadInputs) -> None:
    """A preamble holding a script, an ELF or a PE header is read as bytes, never run."""
    for path in bad_inputs.paths["executable_preamble"]:
        decoded = decode_outcome(path, 0)
        assert isinstance(decoded, DecodedFrame), decoded  # the image itself is fine
    marker = bad_files.execution_marker(bad_inputs.folder("executable_preamble"))
    assert not marker.exists()
