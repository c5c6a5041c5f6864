"""Issue 13 item 3: headers that cannot hold a decodable image are skipped at indexing.

Each class of the issue is swept over several values and three encodings (explicit VR little
endian CT, implicit VR MR, explicit VR big endian MR), through both header readers (the lean
walker and pydicom's) and through the indexer: the file is listed as skipped with a reason
naming the attribute, and no stack is made of it. The sound originals, every other file
pydicom bundles, and the demo study still index.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom import config
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    RLELossless,
    generate_uid,
)

from tests.robustness import element_walk as ew
from tests.robustness.bad_files import with_syntax
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.scan import read_instance, read_instance_pydicom

#: (source, explicit VR): little endian explicit, implicit, big endian.
SOURCES = [
    ("CT_small.dcm", True),
    ("MR_small_implicit.dcm", False),
    ("MR_small_bigendian.dcm", True),
]

Change = Callable[[Dataset], None]


def _set(**attributes: object) -> Change:
    def change(ds: Dataset) -> None:
        for keyword, value in attributes.items():
            setattr(ds, keyword, value)

    return change


def _short_pixels(cut: int) -> Change:
    def change(ds: Dataset) -> None:
        ds.PixelData = ds.PixelData[: len(ds.PixelData) - cut]

    return change


#: (class, change to the data set, what the reason must say)
ATTRIBUTE_CASES: list[tuple[str, Change, str]] = [
    ("rows 0", _set(Rows=0), "Rows is 0"),
    ("columns 0", _set(Columns=0), "Columns is 0"),
    ("absurd 65535 x 65535", _set(Rows=65535, Columns=65535), "pixel data truncated"),
    ("absurd 65535 x 1", _set(Rows=65535, Columns=1), "pixel data truncated"),
    *[
        (f"bits stored {bits}", _set(BitsStored=bits), f"Bits Stored {bits}")
        for bits in (17, 24, 32, 0)
    ],
    *[
        (f"bits allocated {bits}", _set(BitsAllocated=bits), f"Bits Allocated {bits}")
        for bits in (0, 2, 12, 24, 48)
    ],
    *[(f"high bit {bit}", _set(HighBit=bit), f"High Bit {bit}") for bit in (16, 17, 31, 65535)],
    ("mono with 3 samples", _set(SamplesPerPixel=3), "Samples per Pixel 3"),
    ("rgb with 1 sample", _set(PhotometricInterpretation="RGB"), "Samples per Pixel 1"),
    (
        "palette with 3 samples",
        _set(PhotometricInterpretation="PALETTE COLOR", SamplesPerPixel=3),
        "Samples per Pixel 3",
    ),
    ("cmyk with 1 sample", _set(PhotometricInterpretation="CMYK"), "Samples per Pixel 1"),
    ("unknown with 2 samples", _set(PhotometricInterpretation="XYZ", SamplesPerPixel=2), "2"),
    *[(f"pixel data {cut} bytes short", _short_pixels(cut), "truncated") for cut in (2, 512)],
    ("two frames, one held", _set(NumberOfFrames="2"), "2 frame(s)"),
    ("1000 frames, one held", _set(NumberOfFrames="1000"), "1000 frame(s)"),
]


def _edited(source: str, change: Change, path: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file(source, download=False))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    change(ds)
    with config.disable_value_validation():
        ds.save_as(path, enforce_file_format=False)
    return path


def _bytes_of(source: str) -> bytes:
    return Path(str(get_testdata_file(source, download=False))).read_bytes()


def _assert_skipped(path: Path, says: str) -> None:
    for reader in (read_instance, read_instance_pydicom):
        item = reader(str(path))
        assert isinstance(item, Skipped), (reader.__name__, path.name)
        assert says in item.reason and "\n" not in item.reason, (reader.__name__, item.reason)
    catalog = index_paths([path.parent], workers=0)
    assert not catalog.all_stacks() and catalog.instance_count == 0, path.name
    assert [s.reason for s in catalog.skipped if s.path == str(path)], path.name


@pytest.mark.parametrize(("source", "explicit"), SOURCES)
@pytest.mark.parametrize(
    ("case", "change", "says"), ATTRIBUTE_CASES, ids=[c[0] for c in ATTRIBUTE_CASES]
)
def test_an_impossible_pixel_module_is_skipped_with_its_reason(
    source: str, explicit: bool, case: str, change: Change, says: str, tmp_path: Path
) -> None:
    _assert_skipped(_edited(source, change, tmp_path / "bad.dcm"), says)


def _pixel_value(data: bytes, source: str, explicit: bool) -> tuple[int, int]:
    """(offset of Pixel Data's value, its length) in ``data``."""
    if "bigendian" in source:  # element_walk reads little endian only
        at = data.rindex(b"\x7f\xe0\x00\x10OW")
        return at + 12, struct.unpack_from(">L", data, at + 8)[0]
    pixel = ew.find(data, ew.PIXEL_DATA, explicit)
    return pixel.value_offset, pixel.length


@pytest.mark.parametrize(("source", "explicit"), SOURCES)
@pytest.mark.parametrize("extra", [2, 1024, 0x7FFFFFF0])
def test_a_pixel_data_length_past_the_end_is_skipped(
    source: str, explicit: bool, extra: int, tmp_path: Path
) -> None:
    data = _bytes_of(source)
    offset, _ = _pixel_value(data, source, explicit)
    order = ">" if "bigendian" in source else "<"
    claimed = min(len(data) - offset + extra, 0xFFFFFFF0)
    forged = data[: offset - 4] + struct.pack(order + "L", claimed) + data[offset:]
    path = tmp_path / "long.dcm"
    path.write_bytes(forged)
    _assert_skipped(path, "Pixel Data claims")


@pytest.mark.parametrize(("source", "explicit"), SOURCES)
@pytest.mark.parametrize("cut", [2, 1000, 8000])
def test_a_file_cut_inside_its_pixels_is_skipped(
    source: str, explicit: bool, cut: int, tmp_path: Path
) -> None:
    data = _bytes_of(source)
    offset, length = _pixel_value(data, source, explicit)
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: offset + length - cut])
    _assert_skipped(path, "pixel data truncated")


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, RLELossless, JPEGBaseline8Bit])
def test_native_pixel_data_under_an_encapsulated_syntax_is_skipped(
    syntax: str, tmp_path: Path
) -> None:
    path = tmp_path / "native.dcm"
    path.write_bytes(with_syntax(_bytes_of("CT_small.dcm"), syntax))
    _assert_skipped(path, "native Pixel Data in an encapsulated transfer syntax")


@pytest.mark.parametrize("source", ["MR_small_RLE.dcm", "MR_small_jp2klossless.dcm"])
def test_encapsulated_pixel_data_under_a_native_syntax_is_skipped(
    source: str, tmp_path: Path
) -> None:
    path = tmp_path / "encapsulated.dcm"
    path.write_bytes(with_syntax(_bytes_of(source), ExplicitVRLittleEndian))
    _assert_skipped(path, "encapsulated Pixel Data in a native transfer syntax")


@pytest.mark.parametrize("source", ["MR_small_RLE.dcm", "MR_small_jp2klossless.dcm"])
def test_an_absurd_encapsulated_frame_is_skipped(source: str, tmp_path: Path) -> None:
    path = _edited(source, _set(Rows=65535, Columns=65535), tmp_path / "absurd.dcm")
    _assert_skipped(path, "would decode to")


def _bundled_files() -> list[Path]:
    folders = [Path(pydicom.__file__).parent / "data" / "test_files"]
    store = get_testdata_file("OBXXXX1A.dcm", download=False)
    if store:
        folders.append(Path(store).parent)
    return [p for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()]


#: Bundled files that really are cut inside their pixels.
REALLY_TRUNCATED = {"MR_truncated.dcm"}


def test_no_sound_bundled_file_is_called_impossible() -> None:
    """Every file pydicom and pydicom-data ship (native, encapsulated, YBR 4:2:2, 1-bit,
    big endian, enhanced...): none but the truncated one is refused by the new checks."""
    refused = {}
    for path in _bundled_files():
        for reader in (read_instance, read_instance_pydicom):
            item = reader(str(path))
            if isinstance(item, Skipped) and (
                "impossible image" in item.reason or "pixel data truncated" in item.reason
            ):
                refused[path.name] = item.reason
    assert set(refused) == REALLY_TRUNCATED, refused


@pytest.mark.parametrize(("source", "explicit"), SOURCES)
def test_the_sound_originals_still_index(source: str, explicit: bool, tmp_path: Path) -> None:
    path = _edited(source, lambda ds: None, tmp_path / "good.dcm")
    for reader in (read_instance, read_instance_pydicom):
        assert isinstance(reader(str(path)), ScannedFile), reader.__name__
    assert len(index_paths([tmp_path], workers=0).all_stacks()) == 1
