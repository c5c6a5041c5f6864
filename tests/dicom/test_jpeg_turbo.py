"""Grey JPEG lossless decodes through libjpeg-turbo to exactly the stored values.

The files are encoded by GDCM (an independent encoder) from a real CT header with known
pixels, so "lossless" is checked value for value: signed and unsigned, 8 to 16 bits stored,
both lossless transfer syntaxes, one frame at a time and as a volume in the worker pool.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGLossless, JPEGLosslessSV1

from viewer.bench.encodings import _gdcm_convert
from viewer.dicom.codecs import jpeg_turbo
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.reading import read_frame
from viewer.dicom.pixels.volume import load_volume

# (bits allocated, bits stored, signed, syntax)
CASES = [
    (16, 12, 1, JPEGLosslessSV1),  # CT: 12-bit two's complement, HU below zero
    (16, 16, 1, JPEGLosslessSV1),
    (16, 16, 0, JPEGLossless),
    (16, 12, 0, JPEGLossless),
    (8, 8, 0, JPEGLosslessSV1),
]


def _truth(bits_allocated: int, bits_stored: int, signed: int, seed: int) -> np.ndarray:
    half = 2 ** (bits_stored - 1)
    low, high = (-half, half) if signed else (0, 2 * half)
    dtype = np.dtype(f"{'i' if signed else 'u'}{bits_allocated // 8}")
    return np.random.default_rng(seed).integers(low, high, size=(128, 128)).astype(dtype)


def _write(path: Path, pixels: np.ndarray, bits_stored: int, syntax: UID, z: float) -> None:
    ds = dcmread(get_testdata_file("CT_small.dcm"))
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = int(pixels.dtype.kind == "i")
    ds.PixelData = pixels.tobytes()
    ds.ImagePositionPatient = [0.0, 0.0, z]
    ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{int(z)}"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    _gdcm_convert(path, syntax)


@pytest.mark.parametrize(("allocated", "stored", "signed", "syntax"), CASES)
def test_lossless_frames_come_back_value_for_value(tmp_path, allocated, stored, signed, syntax):
    truth = _truth(allocated, stored, signed, seed=stored + signed)
    path = tmp_path / "frame.dcm"
    _write(path, truth, stored, syntax, 0.0)
    assert dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID == syntax
    decoded = read_frame(path)
    assert decoded.decoder == jpeg_turbo.LABEL
    assert decoded.stored.dtype == truth.dtype
    np.testing.assert_array_equal(decoded.stored, truth)


def test_signed_ct_volume_through_the_worker_pool(tmp_path):
    slices = [_truth(16, 12, 1, seed=z) for z in range(4)]
    for z, pixels in enumerate(slices):
        _write(tmp_path / f"IM{z}.dcm", pixels, 12, JPEGLosslessSV1, 5.0 * z)
    (stack,) = index_paths([tmp_path], workers=0).all_stacks()
    volume = load_volume(stack)
    assert not volume.warnings
    np.testing.assert_array_equal(volume.voxels, np.stack(slices))
    assert volume.voxels.min() < -2000  # negative HU survive (sign extended from 12 bits)


def test_colour_is_declined_so_the_next_plugin_decodes_it():
    decoded = read_frame(get_testdata_file("SC_rgb_jpeg_gdcm.dcm"))
    assert decoded.decoder == "gdcm"
    assert decoded.stored.shape[-1] == 3


def test_a_vendor_jpeg_lossless_file_agrees_with_gdcm():
    """pydicom-data's JPEG-LL.dcm (16-bit signed, SV1): both decoders, identical values."""
    name = "JPEG-LL.dcm"
    try:
        path = get_testdata_file(name, download=False)
    except Exception:  # pydicom-data not installed
        path = None
    if path is None:
        pytest.skip(f"{name} comes with pydicom-data")
    decoded = read_frame(path)
    assert decoded.decoder == jpeg_turbo.LABEL
    ds = dcmread(path)
    reference, _ = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, decoding_plugin="gdcm")
    np.testing.assert_array_equal(decoded.stored, reference)
