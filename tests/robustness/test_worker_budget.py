"""Decode workers use the memory budget the user set (issue 7), and refusals read clearly.

The budget is set in the GUI's process (Preferences > Memory); the frames of abort-prone
syntaxes and of volumes are decoded in worker processes started before (and kept warm after)
the user changed it. A real CT slice (128 x 128, 16 bits: 32 KiB decoded) is decoded by a real
worker with the default budget, refused once the budget is 16 KiB, and decoded again once the
budget is back to its default, all by the same warm worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from tests import factories
from viewer.dicom import limits
from viewer.dicom.pixels.decode import DecodedFrame, DecodeError
from viewer.dicom.pixels.decode_pool import DecodePool
from viewer.dicom.pixels.reading import read_frame

TIMEOUT_S = 120


@pytest.fixture
def pool() -> Iterator[DecodePool]:
    pool = DecodePool(workers=1)
    yield pool
    pool.shutdown()
    limits.set_memory_budget(None)


def ct_slice() -> str:
    path = get_testdata_file("CT_small.dcm")
    assert isinstance(path, str)
    return path


def test_a_worker_refuses_a_frame_over_the_budget_set_after_it_started(pool: DecodePool) -> None:
    path = ct_slice()
    first = pool.decode(path, 0).result(TIMEOUT_S)
    assert isinstance(first, DecodedFrame) and first.stored.shape == (128, 128)
    worker = pool.submit(os.getpid).result(TIMEOUT_S)

    limits.set_memory_budget(16 * 1024)
    refused = pool.decode(path, 0).result(TIMEOUT_S)
    assert isinstance(refused, str)
    assert "needs 32.0 KiB, more than the memory budget of 16.0 KiB" in refused

    limits.set_memory_budget(None)
    again = pool.decode(path, 0).result(TIMEOUT_S)
    assert isinstance(again, DecodedFrame)
    assert pool.submit(os.getpid).result(TIMEOUT_S) == worker  # the same warm worker all along


# --- sizes in refusals ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (812, "812 bytes"),
        (1024, "1.0 KiB"),
        (131_072, "128.0 KiB"),
        (24 * 1024**2, "24.0 MiB"),
        (int(1.5 * 1024**3), "1.5 GiB"),
    ],
)
def test_sizes_read_in_the_unit_they_reach(size: int, text: str) -> None:
    assert limits.readable_size(size) == text


@pytest.mark.parametrize(
    ("first", "second", "texts"),
    [
        (131_072, 130_972, ("128.0 KiB", "127.9 KiB")),
        (131_072, 131_050, ("128.00 KiB", "127.98 KiB")),
        (131_072, 131_071, ("128.000 KiB", "127.999 KiB")),
        (16 * 1024**2 + 1, 16 * 1024**2, ("16,777,217 bytes", "16,777,216 bytes")),
        (2048, 2048, ("2.0 KiB", "2.0 KiB")),
    ],
)
def test_two_sizes_that_differ_never_read_alike(
    first: int, second: int, texts: tuple[str, str]
) -> None:
    assert limits.readable_sizes(first, second) == texts


def test_a_truncated_small_file_says_how_much_it_needs_and_holds(tmp_path: Path) -> None:
    """Four 128 x 128 frames of 16 bits (32 KiB each); the file ends 100 bytes short of the
    last one's end. Both sizes round to 0.1 MiB: the message must still tell them apart."""
    path = tmp_path / "cine.dcm"
    factories.write_cine(path, frames=4, rows=128, columns=128)
    data = path.read_bytes()
    pixel_end = len(data)  # Pixel Data is the last element
    assert dcmread(path).PixelData == data[pixel_end - 4 * 32768 :]
    path.write_bytes(data[: 4 * 32768 - 100])  # shorter than the frames alone
    with pytest.raises(DecodeError) as refused:
        read_frame(str(path), 3)
    reason = refused.value.reason
    assert "frame 3 of 128 x 128 at 16 bits needs 128.0 KiB but the file holds 127.9 KiB" in reason
