"""The native fast path agrees with read_frame; shared-memory filling in worker processes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from tests import factories
from viewer.dicom.pixels.decode import DecodeError
from viewer.dicom.pixels.decode_pool import (
    DecodePool,
    LoadCancelled,
    SharedBlock,
    chunked,
    fill_frame,
    pixel_layout,
    read_frame_into,
)
from viewer.dicom.pixels.reading import read_frame

NATIVE = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
#: Bundled single-frame encapsulated monochrome files the lean path must decode as read_frame does.
ENCAPSULATED = [
    "MR_small_RLE.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_jp2klossless.dcm",
    "693_J2KI.dcm",
    "JPEG2000.dcm",
    "JPEGLSNearLossless_16.dcm",
    "rtdose_rle_1frame.dcm",
]
#: JPEG decoded by GDCM, which can abort the process on corrupt data: only in workers.
ABORT_PRONE = ["JPGExtended.dcm", "JPEG-lossy.dcm"]
DATA = Path(get_testdata_file("CT_small.dcm") or "").parent


def bundled(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None, name
    return str(path)


@pytest.mark.parametrize("name", ENCAPSULATED)
def test_encapsulated_frames_decode_as_read_frame_does(name: str) -> None:
    path = bundled(name)
    expected = read_frame(path, 0).stored
    target = np.zeros_like(expected)
    layout = read_frame_into(path, 0, target)
    assert layout is not None and layout.encapsulated
    assert np.array_equal(target, expected)


def _native_bundled() -> list[str]:
    names = []
    for path in get_testdata_files():
        if not os.path.isfile(path):
            continue
        try:
            meta = dcmread(path, stop_before_pixels=True, specific_tags=[0x00280010]).file_meta
        except Exception:
            continue
        if meta.get("TransferSyntaxUID") in NATIVE:
            names.append(os.path.relpath(path, DATA))
    return sorted(names)


@pytest.mark.parametrize("name", _native_bundled())
def test_fast_path_reads_what_read_frame_reads_or_steps_aside(name: str) -> None:
    path = str(DATA / name)
    try:
        expected = read_frame(path, 0)
    except DecodeError:
        return  # nothing to compare against (test_decode gives its reason)
    target = np.zeros(expected.stored.shape, dtype=expected.stored.dtype)
    layout = read_frame_into(path, 0, target) if not expected.is_color else None
    if layout is None:
        return  # not a plain native monochrome file: read_frame's job
    assert np.array_equal(target, expected.stored), name
    assert layout.rescale_slope == expected.transform.rescale_slope
    assert layout.rescale_intercept == expected.transform.rescale_intercept


def test_fast_path_covers_the_common_ct_and_mr_files() -> None:
    for name in ("CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "rtdose.dcm"):
        assert pixel_layout(bundled(name)) is not None, name


def test_multi_frame_native_frame_n_and_12_bit_sign_extension(tmp_path: Path) -> None:
    # rtdose: 15 frames of 32-bit dose; frame 7 must come from its own offset.
    path = bundled("rtdose.dcm")
    expected = read_frame(path, 7).stored
    target = np.zeros_like(expected)
    assert read_frame_into(path, 7, target) is not None
    assert np.array_equal(target, expected)
    # Signed 12 of 16 bits with junk in the unused high bits (PS3.5 8.1.1): pydicom drops
    # them and extends the sign; so must we.
    truth = factories.write_series(tmp_path, slices=1, rows=4, columns=4)
    ds = dcmread(truth.paths[0])
    values = np.array([[-2048, -1, 0, 2047]] * 4, dtype=np.int16)
    junk = (values.view(np.uint16) & 0x0FFF) | 0xA000
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 1
    ds.PixelData = junk.astype("<u2").tobytes()
    ds.save_as(truth.paths[0])
    target = np.zeros((4, 4), dtype=np.int16)
    assert read_frame_into(truth.paths[0], 0, target) is not None
    assert np.array_equal(target, values)
    assert np.array_equal(read_frame(truth.paths[0]).stored, values)


def test_truncated_and_foreign_files_step_aside(tmp_path: Path) -> None:
    truth = factories.write_series(tmp_path, slices=1)
    data = Path(truth.paths[0]).read_bytes()
    short = tmp_path / "short.dcm"
    short.write_bytes(data[:-10])
    assert pixel_layout(str(short)) is None
    outcome = fill_frame(np.zeros((16, 16), np.uint16), 0, str(short), 0)
    assert "truncated" in outcome.error
    assert pixel_layout(bundled("image_dfl.dcm")) is None  # deflated: pydicom inflates it
    assert pixel_layout(bundled("MR_small_bigendian.dcm")) is None
    assert pixel_layout(bundled("rtdose.dcm")) is not None  # 32-bit multi-frame, native
    (tmp_path / "text.dcm").write_text("hello")
    assert pixel_layout(str(tmp_path / "text.dcm")) is None


def test_chunks_are_consecutive_and_bounded() -> None:
    jobs = [(index, "f", 0) for index in range(300)]
    chunks = chunked(jobs, 2)
    assert [job for chunk in chunks for job in chunk] == jobs
    sizes = [len(chunk) for chunk in chunks]
    assert max(sizes) <= 16
    assert sizes == sorted(sizes, reverse=True)  # shrinking, so the workers end together
    assert sizes[-4:] == [1, 1, 1, 1]
    native = chunked(jobs, 2, cheap=True)  # a read per frame: few, big tasks
    assert [job for chunk in native for job in chunk] == jobs
    assert [len(chunk) for chunk in native] == [64, 64, 64, 64, 44]


@pytest.fixture(scope="module")
def pool() -> DecodePool:
    pool = DecodePool(workers=2)
    yield pool  # type: ignore[misc]
    pool.shutdown()


def test_workers_fill_shared_memory_in_place(pool: DecodePool) -> None:
    path = bundled("rtdose.dcm")
    first = read_frame(path, 0).stored
    jobs = [(index, path, 9 - index) for index in range(10)]  # reversed frames
    block = SharedBlock((10, *first.shape), first.dtype)
    try:
        outcomes = pool.fill(block, jobs)
    finally:
        block.release()
    assert sorted(outcome.index for outcome in outcomes) == list(range(10))
    assert not any(outcome.error for outcome in outcomes)
    for index in range(10):
        assert np.array_equal(block.array[index], read_frame(path, 9 - index).stored)


def test_abort_prone_jpeg_is_decoded_only_in_workers(pool: DecodePool) -> None:
    paths = [bundled(name) for name in ABORT_PRONE]
    expected = [read_frame(path).stored for path in paths]
    assert read_frame_into(paths[0], 0, np.zeros_like(expected[0])) is None  # not here
    block = SharedBlock((2, *expected[0].shape), expected[0].dtype)
    try:
        outcomes = pool.fill(block, [(index, path, 0) for index, path in enumerate(paths)])
    finally:
        block.release()
    assert not any(outcome.error for outcome in outcomes)
    for index, frame in enumerate(expected):
        assert np.array_equal(block.array[index], frame)


def test_bad_frames_are_reported_and_the_rest_load(pool: DecodePool, tmp_path: Path) -> None:
    good = bundled("MR_small_RLE.dcm")  # compressed: decoded by read_frame in the worker
    (tmp_path / "junk.dcm").write_bytes(b"not dicom")
    native = bundled("MR_small.dcm")
    jobs = [(0, good, 0), (1, str(tmp_path / "junk.dcm"), 0), (2, native, 0)]
    block = SharedBlock((3, 64, 64), np.int16)
    try:
        outcomes = {outcome.index: outcome for outcome in pool.fill(block, jobs)}
    finally:
        block.release()
    assert outcomes[0].error == "" and outcomes[2].error == ""
    assert outcomes[1].error  # one readable reason
    assert np.array_equal(block.array[0], read_frame(good).stored)
    assert np.array_equal(block.array[2], read_frame(native).stored)


def test_cancel_stops_the_fill(pool: DecodePool) -> None:
    path = bundled("rtdose.dcm")
    first = read_frame(path, 0).stored
    jobs = [(index % 10, path, index % 10) for index in range(200)]
    block = SharedBlock((10, *first.shape), first.dtype)
    try:
        with pytest.raises(LoadCancelled):
            pool.fill(block, jobs, cancel=lambda: True)
    finally:
        block.release()


def test_a_full_shared_memory_folder_is_refused_before_creating(tmp_path: Path) -> None:
    from viewer.dicom.pixels import decode_pool

    decode_pool._check_shared_memory_room(1024, str(tmp_path))  # plenty of room: no error
    with pytest.raises(OSError, match="shared memory"):
        decode_pool._check_shared_memory_room(1 << 60, str(tmp_path))
