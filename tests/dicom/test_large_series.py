"""A 2,000-slice CT opens (issue 5, item 8): indexed, stacked in order and loaded as a volume.

The series has realistic CT headers (CT Image Storage, 12 of 16 bits stored, Rescale Intercept
-1024 in HU, a soft-tissue window) but tiny 32 x 32 frames: 2,000 files, about 8 MB. pydicom
writes one slice (~5 ms a file would be 10 s); the others are that file with the per-slice
values (UIDs, Instance Number, position, pixels) replaced by equal-length ones. The files are
named in a shuffled order and numbered head first (as scanners acquire), so neither the names
nor the Instance Numbers give the slice order: the positions must. Each slice holds its index
along the normal as its stored value, so the volume shows any frame out of place.
"""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

import numpy as np
import pytest
from pydicom import config, dcmread
from pydicom.uid import UID, CTImageStorage, generate_uid

from tests import factories
from tests.robustness.conftest import peak_allocation
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.volume import load_volume

SLICES = 2000
MATRIX = 32
SLICE_SPACING = 0.625  # mm, a thin-slice CT: 2,000 slices cover 1.25 m
PIXEL_SPACING = (0.7, 0.7)
ORIGIN = (-11.2, -11.2, -600.0)

SOP_INSTANCE_UID = 0x00080018
MEDIA_STORAGE_SOP_INSTANCE_UID = 0x00020003
INSTANCE_NUMBER = 0x00200013
IMAGE_POSITION = 0x00200032
SLICE_LOCATION = 0x00201041


def z_of(k: int) -> float:
    return ORIGIN[2] + k * SLICE_SPACING


class SliceValues:
    """The values that differ per slice, each formatted to one fixed length."""

    def __init__(self, uid_root: str) -> None:
        self.uid_root = uid_root

    def uid(self, k: int) -> str:
        return f"{self.uid_root}.{10000 + k}"  # k < 90,000: always 5 digits, no leading 0

    @staticmethod
    def instance_number(k: int) -> str:
        return f"{SLICES - k:05d}"  # acquired head first: numbers run against +z

    @staticmethod
    def z(k: int) -> str:
        return f"{z_of(k):09.3f}"  # -0600.000 .. 00649.375

    def position(self, k: int) -> str:
        return "\\".join((*(factories.ds_value(v) for v in ORIGIN[:2]), self.z(k)))

    def elements(self, k: int) -> list[bytes]:
        uid = self.uid(k)
        return [
            element(MEDIA_STORAGE_SOP_INSTANCE_UID, "UI", uid),
            element(SOP_INSTANCE_UID, "UI", uid),
            element(INSTANCE_NUMBER, "IS", self.instance_number(k)),
            element(IMAGE_POSITION, "DS", self.position(k)),
            element(SLICE_LOCATION, "DS", self.z(k)),
        ]


def element(tag: int, vr: str, value: str) -> bytes:
    """One explicit VR little endian element with a 2-byte length, padded as pydicom pads."""
    raw = value.encode("ascii")
    if len(raw) % 2:
        raw += b"\0" if vr == "UI" else b" "
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(raw)) + raw


def template(values: SliceValues, study_uid: str, series_uid: str) -> bytes:
    """Slice 0 as pydicom writes it (pixel data last)."""
    ds = factories.base_dataset(
        CTImageStorage, study_uid=study_uid, series_uid=series_uid, modality="CT"
    )
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = UID(values.uid(0))
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceNumber = values.instance_number(0)
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = values.position(0).split("\\")
    ds.ImageOrientationPatient = [factories.ds_value(v) for v in factories.AXIAL]
    ds.PixelSpacing = [factories.ds_value(v) for v in PIXEL_SPACING]
    ds.SliceThickness = factories.ds_value(SLICE_SPACING)
    ds.SliceLocation = values.z(0)
    ds.KVP = "120"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    factories.set_pixels(ds, np.zeros((1, MATRIX, MATRIX), dtype=np.uint16))
    buffer = io.BytesIO()
    with config.disable_value_validation():
        ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def write_thin_slice_ct(folder: Path) -> list[str]:
    """Write the series; return the paths in ascending order along the normal (+z)."""
    folder.mkdir(parents=True, exist_ok=True)
    values = SliceValues(generate_uid()[:40].rstrip("."))
    first = template(values, generate_uid(), generate_uid())
    frame_bytes = MATRIX * MATRIX * 2
    header, placeholders = first[:-frame_bytes], values.elements(0)
    assert all(header.count(placeholder) == 1 for placeholder in placeholders)
    names = list(range(SLICES))
    random.Random(5).shuffle(names)
    paths = []
    for k in range(SLICES):
        data = header
        for placeholder, value in zip(placeholders, values.elements(k), strict=True):
            data = data.replace(placeholder, value)
        path = folder / f"CT{names[k]:05d}.dcm"
        path.write_bytes(data + np.full(MATRIX * MATRIX, k, dtype="<u2").tobytes())
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return write_thin_slice_ct(tmp_path_factory.mktemp("ct2000"))


@pytest.fixture(scope="module")
def stack(written: list[str]) -> Stack:
    stacks = index_paths([Path(written[0]).parent]).all_stacks()
    assert len(stacks) == 1
    return stacks[0]


def test_the_files_are_what_pydicom_reads(written: list[str]) -> None:
    for k in (0, 1234, SLICES - 1):
        ds = dcmread(written[k])
        assert ds.InstanceNumber == SLICES - k
        assert float(ds.ImagePositionPatient[2]) == pytest.approx(z_of(k))
        assert float(ds.SliceLocation) == pytest.approx(z_of(k))
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        assert ds.RescaleIntercept == -1024 and ds.Modality == "CT"
        assert int(ds.pixel_array[5, 7]) == k
    assert len({dcmread(path, stop_before_pixels=True).SOPInstanceUID for path in written[:9]}) == 9


def test_the_stack_has_every_slice_in_position_order(written: list[str], stack: Stack) -> None:
    assert stack.frames == SLICES
    assert [path for path, _ in stack.sources] == written
    assert stack.spacing == pytest.approx((*PIXEL_SPACING, SLICE_SPACING))
    assert stack.origin == pytest.approx(ORIGIN)
    assert stack.warnings == ()
    affine = stack.affine()
    assert affine is not None
    last = affine @ np.array([0.0, 0.0, SLICES - 1, 1.0])
    assert last[2] == pytest.approx(ORIGIN[2] + (SLICES - 1) * SLICE_SPACING, abs=1e-3)


def test_the_volume_loads_in_its_stored_dtype_with_bounded_memory(stack: Stack) -> None:
    with peak_allocation() as peaks:
        volume = load_volume(stack)
    (peak,) = peaks
    voxels = volume.voxels
    assert voxels.shape == (SLICES, MATRIX, MATRIX)
    assert voxels.dtype == np.uint16  # stored, never float
    assert (volume.rescale_slope, volume.rescale_intercept) == (1.0, -1024.0)
    # Slice k holds stored value k: every frame decoded, and in place.
    np.testing.assert_array_equal(voxels[:, 0, 0], np.arange(SLICES))
    assert bool((voxels == voxels[:, :1, :1]).all())
    # The voxels live in shared memory that the workers fill; this process allocates only
    # bookkeeping (about 2 MB for 2,000 frames here), and without shared memory one uint16
    # array besides. A float32 or float64 copy of the volume would break this bound.
    float64_volume = voxels.size * 8
    assert peak < float64_volume / 2, f"peak {peak} bytes"
    assert volume.warnings == ()
