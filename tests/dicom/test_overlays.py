"""Overlay planes (PS3.3 C.9.2) decoded into masks: pydicom's bundled file and synthetic ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from tests import factories
from viewer.dicom.pixels.overlays import (
    overlay_frame_index,
    overlay_masks,
    place_on_image,
    read_file_overlays,
    read_overlays,
    unpack_overlay_frame,
)


def bundled(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None, name
    return str(path)


def packed(masks: np.ndarray) -> bytes:
    """Bit-pack (frames, rows, columns) masks as Overlay Data: first pixel in bit 0."""
    data = np.packbits(masks.astype(np.uint8).ravel(), bitorder="little").tobytes()
    return data + b"\x00" * (len(data) % 2)  # padded to an even length


def test_bundled_siemens_overlay_matches_pydicom() -> None:
    path = bundled("examples_overlay.dcm")
    masks = overlay_masks(path, 0)
    assert len(masks) == 1
    mask = masks[0]
    assert (mask.group, mask.kind, mask.origin) == (0x6000, "G", (0, 0))
    assert mask.description == "Siemens MedCom Object Graphics"
    expected = dcmread(path).overlay_array(0x6000).astype(bool)
    assert np.array_equal(mask.mask, expected)
    assert mask.mask.sum() == 222
    image = mask.on_image(300, 484)
    assert np.array_equal(image, expected)


def test_files_without_overlays_have_none() -> None:
    assert read_overlays(bundled("CT_small.dcm"), 0).masks == ()


def test_multi_frame_overlay_with_offset_origin(tmp_path: Path) -> None:
    truth = factories.write_series(tmp_path, slices=1, rows=8, columns=8)
    ds = dcmread(truth.paths[0])
    rng = np.random.default_rng(5)
    frames = rng.random((3, 5, 3)) > 0.5  # 15 bits a frame: frames are not byte aligned
    ds.add_new(0x60020010, "US", 5)
    ds.add_new(0x60020011, "US", 3)
    ds.add_new(0x60020015, "IS", 3)
    ds.add_new(0x60020040, "CS", "R")
    ds.add_new(0x60020050, "SS", [-1, 7])  # one row above the image, from column 7 (1-based)
    ds.add_new(0x60020051, "US", 2)  # covers image frames 2..4 (1-based)
    ds.add_new(0x60020100, "US", 1)
    ds.add_new(0x60020102, "US", 0)
    ds.add_new(0x60021500, "LO", "ROI")
    ds.add_new(0x60023000, "OB", packed(frames))
    ds.save_as(truth.paths[0])
    assert overlay_masks(truth.paths[0], 0) == []  # image frame 1: before the overlay
    for image_frame in (1, 2, 3):
        (mask,) = overlay_masks(truth.paths[0], image_frame)
        assert (mask.group, mask.kind, mask.label, mask.origin) == (0x6002, "R", "ROI", (-2, 6))
        assert np.array_equal(mask.mask, frames[image_frame - 1])
        on_image = mask.on_image(8, 8)
        assert np.array_equal(on_image[0:3, 6:8], frames[image_frame - 1][2:5, 0:2])
        assert on_image.sum() == frames[image_frame - 1][2:5, 0:2].sum()


def test_short_overlay_data_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    truth = factories.write_series(tmp_path, slices=1)
    ds = dcmread(truth.paths[0])
    ds.add_new(0x60000010, "US", 512)
    ds.add_new(0x60000011, "US", 512)
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60003000, "OW", b"\xff" * 64)  # declares 512 x 512 bits, holds 512
    ds.add_new(0x60020010, "US", 4)
    ds.add_new(0x60020011, "US", 4)  # no Overlay Data: embedded (retired)
    ds.save_as(truth.paths[0])
    result = read_overlays(truth.paths[0], 0)
    assert result.masks == ()
    assert len(result.problems) == 2
    assert "6000" in result.problems[0] and "bits" in result.problems[0]
    assert "6002" in result.problems[1] and "embedded" in result.problems[1]


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    result = read_overlays(tmp_path / "missing.dcm", 0)
    assert result.masks == () and len(result.problems) == 1


def test_pure_helpers() -> None:
    assert overlay_frame_index(5, 1, None) == 0  # single-frame overlay: every frame
    assert overlay_frame_index(0, 2, 2) is None
    assert overlay_frame_index(2, 2, 2) == 1
    bits = unpack_overlay_frame(bytes([0b00000101, 0b1]), 3, 3, 0)
    assert bits.ravel().tolist() == [True, False, True, False, False, False, False, False, True]
    with pytest.raises(ValueError):
        unpack_overlay_frame(b"\x00", 3, 3, 0)
    placed = place_on_image(np.ones((2, 2), bool), (-1, -1), 3, 3)
    assert placed.sum() == 1 and placed[0, 0]


@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian, ExplicitVRBigEndian])
def test_file_overlays_read_once_give_every_frame(tmp_path: Path, syntax: str | None) -> None:
    """What the image view caches per file: the same masks as reading each frame afresh."""
    frames = np.random.default_rng(3).random((2, 6, 5)) > 0.5

    def add_plane(_k: int, ds: Dataset) -> None:
        ds.add_new(0x60000010, "US", 6)
        ds.add_new(0x60000011, "US", 5)
        ds.add_new(0x60000015, "IS", 2)
        ds.add_new(0x60000050, "SS", [2, 3])
        ds.add_new(0x60000100, "US", 1)
        data = packed(frames)  # OW: 16-bit words, big endian in a big endian file (PS3.5 7.3)
        if syntax == ExplicitVRBigEndian:
            data = np.frombuffer(data, "<u2").astype(">u2").tobytes()
        ds.add_new(0x60003000, "OW", data)
        if syntax is not None:
            ds.file_meta.TransferSyntaxUID = syntax

    truth = factories.write_series(tmp_path, slices=1, rows=8, columns=8, per_slice=add_plane)
    overlays = read_file_overlays(truth.paths[0])
    assert not overlays.empty and len(overlays.header) == 6  # only the overlay group is kept
    for frame in (0, 1):
        (mask,) = overlays.result(frame).masks
        assert np.array_equal(mask.mask, frames[frame])
        assert np.array_equal(mask.mask, overlay_masks(truth.paths[0], frame)[0].mask)
        if syntax != ExplicitVRBigEndian:  # pydicom does not swap big endian OW words
            assert np.array_equal(mask.mask, dcmread(truth.paths[0]).overlay_array(0x6000)[frame])
        part, origin = mask.visible_part(8, 8) or (None, None)
        assert origin == (1, 2) and part is not None and np.array_equal(part, frames[frame])
    assert read_file_overlays(bundled("CT_small.dcm")).empty
    assert read_file_overlays(bundled("MR_small_bigendian.dcm")).empty
    assert read_file_overlays(tmp_path / "missing.dcm").problems
