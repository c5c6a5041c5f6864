"""viewer.dicom.pixels.decode over pydicom's bundled test files and small synthetic files."""

from __future__ import annotations

import importlib.util
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import pixel_array
from pydicom.uid import (
    MPEG2MPML,
    CTImageStorage,
    EnhancedCTImageStorage,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from viewer.dicom.codecs import policy
from viewer.dicom.pixels import decode
from viewer.dicom.pixels.decode import DecodedFrame, DecodeError, Window
from viewer.dicom.pixels.display import to_display
from viewer.dicom.pixels.reading import read_frame

DATA = Path(get_testdata_file("CT_small.dcm") or "").parent


def bundled(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None, name
    return str(path)


def reference(name: str, frame: int | None = None) -> np.ndarray:
    """pydicom's own decode of the whole file (or one frame), for comparison."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(pixel_array(bundled(name), index=frame))


# --- every bundled file: decodes, or one DecodeError with a clear reason -----------------------
#: Bundled files with pixel data that cannot be displayed, and why.
UNDECODABLE = {
    "JPEG2000-embedded-sequence-delimiter.dcm": "decoders failed",  # corrupt J2K on purpose
    "MR_truncated.dcm": "truncated",
    "badVR.dcm": "Number of Frames '1A' is not a number",
    "meta_missing_tsyntax.dcm": "missing required element (0028,0100) 'Bits Allocated'",
    "nested_priv_SQ.dcm": "missing required element (0028,0100) 'Bits Allocated'",
}
#: Reasons allowed for the bundled files that are not images.
NOT_AN_IMAGE = ("no pixel data", "not a DICOM file")

BUNDLED = sorted(
    os.path.relpath(path, DATA) for path in get_testdata_files() if os.path.isfile(path)
)


def test_the_bundled_files_are_there() -> None:
    assert len(BUNDLED) > 150


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_file_decodes_or_says_why(name: str) -> None:
    basename = os.path.basename(name)
    try:
        decoded = read_frame(DATA / name)
    except DecodeError as error:
        assert error.path == str(DATA / name)
        assert str(error) == f"{error.path}: {error.reason}"
        assert "\n" not in error.reason
        expected = UNDECODABLE.get(basename)
        if expected is not None:
            assert expected in error.reason
        else:
            assert error.reason.startswith(NOT_AN_IMAGE), error.reason
        return
    assert basename not in UNDECODABLE
    assert decoded.stored.ndim in (2, 3)
    assert decoded.stored.dtype.isnative
    if decoded.is_color:
        assert decoded.stored.dtype == np.uint8
        assert decoded.stored.shape[2] == 3
    image = to_display(decoded)
    assert image.dtype == np.uint8
    assert image.shape[:2] == decoded.stored.shape[:2]


# --- known values -----------------------------------------------------------------------------
def test_ct_small_stored_values_and_hounsfield_rescale() -> None:
    decoded = read_frame(bundled("CT_small.dcm"))
    assert decoded.stored.dtype == np.int16
    assert decoded.stored.shape == (128, 128)
    assert (decoded.stored[0, 0], decoded.stored[64, 64]) == (175, 1928)
    transform = decoded.transform
    assert (transform.rescale_slope, transform.rescale_intercept) == (1.0, -1024.0)
    assert transform.padding_value == -2000
    assert transform.windows == ()
    assert not transform.is_lossy
    assert not transform.shows_inverted
    assert decoded.decoder == "numpy"
    assert decoded.nbytes == 128 * 128 * 2
    np.testing.assert_array_equal(decoded.stored, reference("CT_small.dcm"))


def test_mr_small_window_and_every_encoding_of_it_agree() -> None:
    decoded = read_frame(bundled("MR_small.dcm"))
    assert decoded.stored[32, 32] == 182
    assert decoded.transform.windows == (Window(600.0, 1600.0, ""),)
    for name, decoder in [
        ("MR_small_bigendian.dcm", "numpy"),
        ("MR_small_expb.dcm", "numpy"),
        ("MR_small_implicit.dcm", "numpy"),
        ("MR_small_RLE.dcm", "pylibjpeg"),
        ("MR_small_jpeg_ls_lossless.dcm", "pyjpegls"),
        ("MR_small_jp2klossless.dcm", "gdcm"),
    ]:
        other = read_frame(bundled(name))
        assert other.decoder == decoder, name
        assert other.stored.dtype == np.dtype("int16"), name  # native order, even from big endian
        np.testing.assert_array_equal(other.stored, decoded.stored, err_msg=name)


def test_lossy_jpeg_2000_ct() -> None:
    decoded = read_frame(bundled("693_J2KI.dcm"))
    assert decoded.decoder == "pylibjpeg"
    assert decoded.transform.is_lossy
    assert decoded.transform.windows[0][:2] == (40.0, 100.0)
    assert (decoded.stored[0, 0], decoded.stored[256, 256]) == (-2016, 1056)
    np.testing.assert_array_equal(decoded.stored, reference("693_J2KI.dcm"))


def test_jpeg_ls_near_lossless_is_lossy() -> None:
    decoded = read_frame(bundled("JPEGLSNearLossless_16.dcm"))
    assert decoded.transform.is_lossy
    assert decoded.stored.dtype == np.uint16
    np.testing.assert_array_equal(decoded.stored, reference("JPEGLSNearLossless_16.dcm"))


def test_12_bit_jpeg_extended_through_libjpeg_turbo() -> None:
    decoded = read_frame(bundled("JPGExtended.dcm"))
    assert decoded.decoder == "libjpeg-turbo"
    assert decoded.stored.dtype == np.uint16
    assert decoded.stored[420, 140:145].tolist() == [244, 242, 249, 260, 218]
    assert int(decoded.stored.max()) == 264
    # JPEG-lossy.dcm is the same image with an out-of-spec scan header both decoders tolerate.
    np.testing.assert_array_equal(read_frame(bundled("JPEG-lossy.dcm")).stored, decoded.stored)


def test_colour_jpeg_lossless_goes_to_gdcm() -> None:
    decoded = read_frame(bundled("SC_rgb_jpeg_gdcm.dcm"))  # libjpeg-turbo declines colour
    assert decoded.decoder == "gdcm"
    np.testing.assert_array_equal(decoded.stored, reference("SC_rgb_jpeg_gdcm.dcm"))


# Colour bars of the SC_rgb_* files, down column 50: red, light red, green, light green, blue,
# light blue, black, dark gray, light gray, white.
BARS = [
    (255, 0, 0),
    (255, 128, 128),
    (0, 255, 0),
    (128, 255, 128),
    (0, 0, 255),
    (128, 128, 255),
    (0, 0, 0),
    (64, 64, 64),
    (192, 192, 192),
    (255, 255, 255),
]


def bars(decoded: DecodedFrame) -> np.ndarray:
    return decoded.stored[[5, 15, 25, 35, 45, 55, 65, 75, 85, 95], 50].astype(int)


@pytest.mark.parametrize(
    "name",
    [
        "SC_rgb_dcmtk_+eb+cy+np.dcm",  # JPEG baseline YBR_FULL_422
        "SC_rgb_dcmtk_+eb+cy+s2.dcm",  # JPEG baseline YBR_FULL_422
        "SC_rgb_dcmtk_+eb+cy+s4.dcm",  # JPEG baseline YBR_FULL
        "SC_rgb_dcmtk_+eb+cr.dcm",  # JPEG baseline RGB
        "SC_rgb_jpeg_dcmtk.dcm",  # JPEG baseline YBR_FULL
        "SC_ybr_full_422_uncompressed.dcm",  # native YBR_FULL_422 (pydicom upsamples)
        "SC_rgb_gdcm_KY.dcm",  # JPEG 2000 lossy RGB
        "SC_rgb_jls_lossy_sample.dcm",  # JPEG-LS near lossless RGB
        "SC_rgb_rle.dcm",
        "SC_rgb_rle_16bit.dcm",  # 16-bit samples scaled to 8
        "SC_rgb_rle_32bit.dcm",  # 32-bit samples scaled to 8
    ],
)
def test_colour_is_rgb_whatever_the_encoding(name: str) -> None:
    decoded = read_frame(bundled(name))
    assert decoded.is_color
    assert not decoded.is_palette
    assert decoded.stored.dtype == np.uint8
    # Lossy JPEG: a few levels of error; lossless: exact after the 8-bit scaling.
    assert np.abs(bars(decoded) - BARS).max() <= 5, bars(decoded).tolist()


def test_jpeg_2000_ybr_rct_comes_back_as_rgb() -> None:
    decoded = read_frame(bundled("examples_jpeg2k.dcm"))
    assert decoded.transform.photometric == "YBR_RCT"
    assert decoded.is_color
    assert not decoded.transform.is_lossy  # .90 and Lossy Image Compression 00
    np.testing.assert_array_equal(decoded.stored, reference("examples_jpeg2k.dcm"))


def test_planar_configuration_1_is_undone() -> None:
    decoded = read_frame(bundled("ExplVR_BigEnd.dcm"))  # RGB, planar configuration 1
    np.testing.assert_array_equal(decoded.stored, reference("ExplVR_BigEnd.dcm"))
    assert decoded.stored.shape == (60, 80, 3)


def test_palette_colour_stays_indices_with_its_palette() -> None:
    decoded = read_frame(bundled("examples_palette.dcm"))
    assert decoded.is_palette
    assert not decoded.is_color
    assert decoded.stored.dtype == np.uint8
    palette = decoded.transform.palette
    assert palette is not None
    assert (palette.first_mapped, palette.bits, palette.data.shape) == (0, 16, (256, 3))
    assert not palette.data.flags.writeable
    rgb = to_display(decoded)
    assert rgb.shape == (350, 800, 3)
    index = decoded.stored[175, 400]
    assert rgb[175, 400].tolist() == (palette.data[index] >> 8).tolist()


def test_monochrome1_is_shown_inverted() -> None:
    decoded = read_frame(bundled("dicomdirtests/77654033/CR1/6154"))
    transform = decoded.transform
    assert transform.photometric == "MONOCHROME1"
    assert transform.shows_inverted
    assert (transform.rescale_slope, transform.rescale_intercept) == (0.684, 200.0)
    assert transform.rescale_type == "OD"
    assert decoded.stored.dtype == np.uint16


def test_multi_frame_native_reads_frame_n_only() -> None:
    whole = reference("rtdose.dcm")
    for frame in (0, 7, 14):
        decoded = read_frame(bundled("rtdose.dcm"), frame)
        assert decoded.frame == frame
        np.testing.assert_array_equal(decoded.stored, whole[frame])


def test_multi_frame_compressed_reads_frame_n() -> None:
    np.testing.assert_array_equal(
        read_frame(bundled("rtdose_rle.dcm"), 9).stored, reference("rtdose.dcm")[9]
    )
    first = read_frame(bundled("SC_rgb_rle_2frame.dcm"), 0)
    second = read_frame(bundled("SC_rgb_rle_2frame.dcm"), 1)
    assert bars(first).tolist() == [list(bar) for bar in BARS]
    assert bars(second).tolist()[0] == [0, 255, 255]  # the second frame is the complement
    ybr = read_frame(bundled("examples_ybr_color.dcm"), 10)
    np.testing.assert_array_equal(ybr.stored, reference("examples_ybr_color.dcm", 10))


@pytest.mark.parametrize(("name", "frame"), [("rtdose.dcm", 15), ("CT_small.dcm", 1)])
def test_a_frame_past_the_end_is_a_decode_error(name: str, frame: int) -> None:
    with pytest.raises(DecodeError, match="does not exist"):
        read_frame(bundled(name), frame)


def test_negative_frame_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="count from 0"):
        read_frame(bundled("CT_small.dcm"), -1)


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="file not found"):
        read_frame(tmp_path / "missing.dcm")
    with pytest.raises(DecodeError, match="is a directory"):
        read_frame(tmp_path)
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    with pytest.raises(DecodeError, match="not a DICOM file"):
        read_frame(empty)


def test_pydicom_warnings_are_recorded_not_raised() -> None:
    decoded = read_frame(bundled("SC_rgb_jpeg.dcm"))  # explicit VR meta, implicit VR data
    assert any("implicit VR" in message for message in decoded.warnings)
    assert decoded.is_color


def test_deflated_file() -> None:
    decoded = read_frame(bundled("image_dfl.dcm"))
    assert decoded.stored.shape == (512, 512)
    np.testing.assert_array_equal(
        decoded.stored, pydicom.dcmread(bundled("image_dfl.dcm")).pixel_array
    )


# --- synthetic files --------------------------------------------------------------------------
def write(
    path: Path, pixels: np.ndarray, syntax: str = ExplicitVRLittleEndian, **attributes: Any
) -> str:
    """A minimal image file; ``pixels`` is (rows, cols) or (frames, rows, cols)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = attributes.pop("SOPClassUID", CTImageStorage)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "CT"
    photometric = attributes.pop("PhotometricInterpretation", "MONOCHROME2")
    bits = pixels.dtype.itemsize * 8
    ds.set_pixel_data(pixels, photometric, bits)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    if syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, encoding_plugin="pylibjpeg" if syntax != RLELossless else "pydicom")
    ds.save_as(path, enforce_file_format=True)
    return str(path)


def test_only_the_requested_frame_is_read(tmp_path: Path) -> None:
    frames = np.arange(4 * 8 * 8, dtype=np.uint16).reshape(4, 8, 8)
    path = Path(write(tmp_path / "multi.dcm", frames))
    # Cut the file inside the last frame: the others still decode, since only they are read.
    path.write_bytes(path.read_bytes()[:-10])
    for frame in range(3):
        np.testing.assert_array_equal(read_frame(path, frame).stored, frames[frame])
    with pytest.raises(DecodeError, match="truncated"):
        read_frame(path, 3)


def test_only_the_requested_compressed_frame_is_read(tmp_path: Path) -> None:
    frames = np.arange(3 * 8 * 8, dtype=np.uint16).reshape(3, 8, 8)
    path = Path(write(tmp_path / "multi_rle.dcm", frames, RLELossless))
    data = path.read_bytes()
    last = data.rfind(b"\xfe\xff\x00\xe0")  # the last fragment's item tag
    path.write_bytes(data[: last + 8 + 20])  # ...and its corrupt, cut RLE data
    np.testing.assert_array_equal(read_frame(path, 1).stored, frames[1])
    with pytest.raises(DecodeError):
        read_frame(path, 2)


def test_htj2k_goes_to_openjpeg(tmp_path: Path) -> None:
    pixels = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 7) % 4096
    path = write(tmp_path / "j2k.dcm", pixels, JPEG2000Lossless)
    ds = pydicom.dcmread(path)
    # A Part 1 codestream under the HTJ2K UID: HTJ2K decoders read both. This checks routing.
    ds.file_meta.TransferSyntaxUID = HTJ2KLossless
    ds.save_as(path, enforce_file_format=True)
    decoded = read_frame(path)
    assert decoded.decoder == "pylibjpeg"
    np.testing.assert_array_equal(decoded.stored, pixels)


def test_unsupported_transfer_syntax(tmp_path: Path) -> None:
    path = write(tmp_path / "video.dcm", np.zeros((8, 8), np.uint8))
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(60)])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(DecodeError, match=r"MPEG2 .* is not supported"):
        read_frame(path)


def test_file_without_meta_is_read_as_implicit_little_endian(tmp_path: Path) -> None:
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    pixels = np.arange(16, dtype=np.uint16).reshape(4, 4)
    ds.set_pixel_data(pixels, "MONOCHROME2", 16)
    del ds.file_meta
    path = tmp_path / "bare.dcm"
    ds.save_as(path, implicit_vr=True, little_endian=True)
    decoded = read_frame(path)
    np.testing.assert_array_equal(decoded.stored, pixels)
    assert any("Transfer Syntax" in message for message in decoded.warnings)
    assert decoded.transform.transfer_syntax == ImplicitVRLittleEndian


def lut_item(first: int, bits: int, data: list[int], **extra: Any) -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, "SS" if first < 0 else "US", [len(data), first, bits])
    item.add_new(0x00283006, "US", data)
    for keyword, value in extra.items():
        setattr(item, keyword, value)
    return item


def test_modality_and_voi_lut_sequences(tmp_path: Path) -> None:
    pixels = np.array([[0, 1, 2, 3]], dtype=np.uint16)
    path = write(
        tmp_path / "luts.dcm",
        pixels,
        ModalityLUTSequence=[lut_item(1, 16, [100, 200], ModalityLUTType="US")],
        VOILUTSequence=[lut_item(100, 12, [0, 4095], LUTExplanation="STEP")],
    )
    decoded = read_frame(path)
    transform = decoded.transform
    assert transform.modality_lut is not None
    first, table, bits = transform.modality_lut_args()
    assert (first, table.tolist(), bits) == (1, [100, 200], 16)
    assert transform.voi_luts[0].explanation == "STEP"
    assert transform.voi_luts[0].args()[0] == 100
    # modality: 0,1 -> 100, 2,3 -> 200; VOI LUT: 100 -> 0, 200 -> 4095 (clamped) -> 255
    assert to_display(decoded).tolist() == [[0, 0, 255, 255]]


def test_signed_lut_descriptor_first_value(tmp_path: Path) -> None:
    pixels = np.array([[-2, -1, 0]], dtype=np.int16)
    ds_path = write(tmp_path / "signed.dcm", pixels)
    ds = pydicom.dcmread(ds_path)
    item = lut_item(65534, 16, [10, 20, 30])  # -2 written as US
    ds.ModalityLUTSequence = [item]
    ds.save_as(ds_path, enforce_file_format=True)
    assert read_frame(ds_path).transform.modality_lut_args()[0] == -2


def test_voi_lut_on_negative_rescaled_values_of_unsigned_pixels(tmp_path: Path) -> None:
    # Unsigned CT with intercept -1024: the VOI LUT input starts at -1024, written as US.
    pixels = np.array([[0, 1024, 2048]], dtype=np.uint16)
    path = write(
        tmp_path / "voi.dcm",
        pixels,
        RescaleSlope=1,
        RescaleIntercept=-1024,
        VOILUTSequence=[lut_item(65536 - 1024, 8, [0] * 1024 + [128] * 1024 + [255])],
    )
    decoded = read_frame(path)
    assert decoded.transform.voi_luts[0].first_mapped == -1024
    assert to_display(decoded).tolist() == [[0, 128, 255]]


def test_presentation_lut_shape_decides_inversion(tmp_path: Path) -> None:
    pixels = np.zeros((2, 2), np.uint16)
    inverse = read_frame(write(tmp_path / "a.dcm", pixels, PresentationLUTShape="INVERSE"))
    assert inverse.transform.shows_inverted
    identity = read_frame(
        write(
            tmp_path / "b.dcm",
            pixels,
            PhotometricInterpretation="MONOCHROME1",
            PresentationLUTShape="IDENTITY",
        )
    )
    assert not identity.transform.shows_inverted


def test_pixel_padding_range_and_signed_value(tmp_path: Path) -> None:
    pixels = np.array([[-2000, -1500, 0, 100]], dtype=np.int16)
    path = write(
        tmp_path / "pad.dcm",
        pixels,
        PixelPaddingValue=-2000,
        PixelPaddingRangeLimit=-1500,
        RescaleSlope=1,
        RescaleIntercept=-1024,
    )
    decoded = read_frame(path)
    assert (decoded.transform.padding_value, decoded.transform.padding_range_limit) == (
        -2000,
        -1500,
    )
    # min-max ignores padding: 0 -> black, 100 -> white; padding itself black.
    assert to_display(decoded).tolist() == [[0, 0, 0, 255]]


def test_multi_valued_windows_and_voi_function(tmp_path: Path) -> None:
    path = write(
        tmp_path / "windows.dcm",
        np.zeros((2, 2), np.uint16),
        WindowCenter=[40, 300],
        WindowWidth=[400, 1500],
        WindowCenterWidthExplanation=["SOFT", "BONE"],
        VOILUTFunction="SIGMOID",
    )
    transform = read_frame(path).transform
    assert transform.windows == (Window(40.0, 400.0, "SOFT"), Window(300.0, 1500.0, "BONE"))
    assert transform.voi_function == "SIGMOID"


def functional_groups(intercept: float, center: float, width: float) -> Dataset:
    item = Dataset()
    transformation = Dataset()
    transformation.RescaleSlope = 1
    transformation.RescaleIntercept = intercept
    transformation.RescaleType = "HU"
    item.PixelValueTransformationSequence = [transformation]
    voi = Dataset()
    voi.WindowCenter = center
    voi.WindowWidth = width
    voi.WindowCenterWidthExplanation = f"W{width}"
    item.FrameVOILUTSequence = [voi]
    return item


def test_enhanced_per_frame_functional_groups(tmp_path: Path) -> None:
    frames = np.zeros((3, 4, 4), np.uint16)
    shared = Dataset()
    voi = Dataset()
    voi.VOILUTFunction = "LINEAR_EXACT"
    shared.FrameVOILUTSequence = [voi]
    per_frame = [functional_groups(-1000 - i, 40 + i, 400) for i in range(2)] + [Dataset()]
    path = Path(
        write(
            tmp_path / "enhanced.dcm",
            frames,
            SOPClassUID=EnhancedCTImageStorage,
            SharedFunctionalGroupsSequence=[shared],
            PerFrameFunctionalGroupsSequence=per_frame,
            RescaleIntercept=-5,  # top level: used where no functional group says otherwise
        )
    )
    first, second, third = (read_frame(path, frame).transform for frame in range(3))
    assert (first.rescale_intercept, first.rescale_type) == (-1000.0, "HU")
    assert second.rescale_intercept == -1001.0
    assert second.windows == (Window(41.0, 400.0, "W400"),)
    assert first.voi_function == second.voi_function == "LINEAR_EXACT"  # from the shared item
    assert third.rescale_intercept == -5.0
    assert third.windows == ()
    # The parsed groups are cached per file; a rewritten file is parsed again.
    per_frame[1] = functional_groups(-2000, 41, 400)
    ds = pydicom.dcmread(path)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    ds.save_as(path, enforce_file_format=True)
    os.utime(path, ns=(1, 1))
    assert read_frame(path, 1).transform.rescale_intercept == -2000.0


def test_segmented_palette(tmp_path: Path) -> None:
    # PS3.3 C.7.9.2: discrete segment (opcode 0) of 1 entry, then a linear segment (opcode 1)
    # of 255 entries ending at 65535 (red), 0 (green), or a flat discrete blue.
    ds = pydicom.dcmread(write(tmp_path / "pal.dcm", np.array([[0, 1, 128, 255]], np.uint8)))
    ds.PhotometricInterpretation = "PALETTE COLOR"
    for tag in (0x00281101, 0x00281102, 0x00281103):  # red, green, blue descriptors
        ds.add_new(tag, "US", [256, 0, 16])
    ds.SegmentedRedPaletteColorLookupTableData = np.array([0, 1, 0, 1, 255, 65535], "<u2").tobytes()
    ds.SegmentedGreenPaletteColorLookupTableData = np.array(
        [0, 1, 65535, 1, 255, 0], "<u2"
    ).tobytes()
    ds.SegmentedBluePaletteColorLookupTableData = np.array(
        [0, 256] + [32768] * 256, "<u2"
    ).tobytes()
    ds.save_as(tmp_path / "pal.dcm", enforce_file_format=True)
    decoded = read_frame(tmp_path / "pal.dcm")
    assert decoded.is_palette
    rgb = to_display(decoded)
    assert rgb[0, 0].tolist() == [0, 255, 128]
    assert rgb[0, 3].tolist() == [255, 0, 128]
    assert 120 <= rgb[0, 2, 0] <= 130


def test_transforms_compare_by_value() -> None:
    first = read_frame(bundled("examples_palette.dcm")).transform
    second = read_frame(bundled("examples_palette.dcm")).transform
    assert first == second
    assert hash(first) == hash(second)


def test_concurrent_reads_keep_the_warning_filters(tmp_path: Path) -> None:
    before = list(warnings.filters)
    results: list[DecodedFrame] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                results.append(read_frame(bundled("SC_rgb_jpeg.dcm")))
                results.append(read_frame(bundled("MR_small_RLE.dcm")))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 30
    assert list(warnings.filters) == before


# --- decoder table ----------------------------------------------------------------------------
def test_decodable_transfer_syntaxes() -> None:
    rows = {row.uid: row for row in decode.decodable_transfer_syntaxes()}
    assert rows[ExplicitVRLittleEndian].available
    assert rows[ExplicitVRLittleEndian].detail == "numpy"
    assert rows[JPEGLossless].detail.startswith("libjpeg-turbo")
    assert rows[JPEGLosslessSV1].available
    assert rows[JPEGBaseline8Bit].detail.startswith("pillow")
    assert rows[JPEGLSLossless].detail.startswith("pyjpegls")
    assert rows[JPEG2000Lossless].detail.startswith("gdcm")
    assert rows[HTJ2KLossless].detail.startswith("pylibjpeg")
    assert rows[RLELossless].detail.startswith("pylibjpeg")
    assert not rows[MPEG2MPML].available
    assert all(isinstance(row.name, str) and row.name for row in rows.values())


def test_no_gpl_decoder_is_installed_or_needed() -> None:
    # pylibjpeg-libjpeg (GPL-3) would register as the 'libjpeg' module: it must not be there,
    # and JPEG lossless (its main use) decodes through libjpeg-turbo (grey) and GDCM anyway.
    assert importlib.util.find_spec("libjpeg") is None
    assert read_frame(bundled("SC_rgb_jpeg_gdcm.dcm")).decoder == "gdcm"
    for syntax, entry in policy.POLICY.items():
        for plugin in (*entry.plugins, *(entry.volume_plugins or ())):
            assert plugin in (
                "gdcm",
                "gdcm-extended",
                "libjpeg-turbo",
                "pillow",
                "pyjpegls",
                "pylibjpeg",
            ), syntax
