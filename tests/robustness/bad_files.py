"""Bad input, made on purpose: one small generator per class of issue 7 (item 2).

Every generator takes a fresh folder, writes one or more files there, each made from a real
good file (pydicom's bundled test files, the factories in tests/factories.py), and returns
the paths it wrote. Byte-level damage uses :mod:`tests.robustness.element_walk`, so length
fields and VRs are changed at real element boundaries. :data:`GENERATORS` lists them all by
class name; :func:`write_all` writes every class into its own sub-folder.

Only bundled pydicom files are used (an unbundled name would try to download).
"""

from __future__ import annotations

import os
import random
import shutil
import stat
import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

from pydicom import config, dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid

from tests import factories
from tests.robustness import element_walk as ew

Generator = Callable[[Path], list[Path]]

TRANSFER_SYNTAX = 0x00020010
GROUP_LENGTH = 0x00020000
ROWS, COLUMNS = 0x00280010, 0x00280011
PIXEL_DATA = ew.PIXEL_DATA
#: Deflate bombs inflate to this many bytes (zeros); the file itself is ~1000x smaller.
BOMB_INFLATED_BYTES = 256 * 1024**2

#: Good source files (bundled with pydicom).
CT = "CT_small.dcm"  # explicit VR LE, 128 x 128 int16, with position and orientation
MR_IMPLICIT = "MR_small_implicit.dcm"
RLE = "MR_small_RLE.dcm"
J2K = "MR_small_jp2klossless.dcm"
JPEG_BASELINE = "SC_rgb_jpeg_dcmtk.dcm"
JPEG_EXTENDED = "JPEG-lossy.dcm"
JPEG_LOSSLESS = "SC_rgb_jpeg_gdcm.dcm"
DEFLATED = "image_dfl.dcm"
PALETTE = "examples_palette.dcm"
RLE_TWO_FRAMES = "SC_rgb_rle_2frame.dcm"


# --- helpers --------------------------------------------------------------------------------------
def bundled(name: str) -> Path:
    """A pydicom test file that ships with pydicom (never downloaded)."""
    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(f"{name} is not bundled with this pydicom")
    return Path(str(path))


def source_bytes(name: str) -> bytes:
    return bundled(name).read_bytes()


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def edited(folder: Path, name: str, source: str, change: Callable[[Dataset], None]) -> Path:
    """``source`` read with pydicom, changed by ``change``, written as ``name``."""
    ds = dcmread(bundled(source))
    ds.SOPInstanceUID = generate_uid()  # its own instance, not a duplicate of the source
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    change(ds)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with config.disable_value_validation():
        ds.save_as(path, enforce_file_format=False)
    return path


def ct_edited(folder: Path, name: str, **attributes: object) -> Path:
    """CT_small with ``attributes`` set (None deletes), written as ``name``."""

    def change(ds: Dataset) -> None:
        for keyword, value in attributes.items():
            if value is None:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)

    return edited(folder, name, CT, change)


def with_meta(data: bytes, tag: int, value: bytes | None) -> bytes:
    """``data`` with one File Meta element set (or removed), the group length fixed."""
    meta = [e for e in ew.meta_elements(data) if e.tag != GROUP_LENGTH]
    body: list[bytes] = []
    for element in meta:
        if element.tag == tag:
            continue
        body.append(data[element.offset : element.value_offset + element.length])
    if value is not None:
        body.append(ew.explicit_element(tag, b"UI", value + b"\x00" * (len(value) % 2)))
    body.sort(key=lambda raw: struct.unpack_from("<HH", raw)[1])
    joined = b"".join(body)
    group_length = ew.explicit_element(GROUP_LENGTH, b"UL", struct.pack("<L", len(joined)))
    return data[: ew.PREAMBLE_END] + group_length + joined + data[ew.dataset_start(data) :]


def with_syntax(data: bytes, syntax: str | None) -> bytes:
    return with_meta(data, TRANSFER_SYNTAX, None if syntax is None else syntax.encode())


def pixel_value_start(data: bytes) -> int:
    return ew.find(data, PIXEL_DATA).value_offset


def fragments(data: bytes) -> list[ew.Element]:
    """The items of encapsulated Pixel Data: the offset table first, then the fragments."""
    walked = ew.walk(data)
    pixel = next(e for e in walked if e.tag == PIXEL_DATA)
    return [e for e in walked if e.offset > pixel.offset and e.tag == ew.ITEM]


def scrambled(data: bytes, start: int, end: int, seed: int) -> bytes:
    """``data`` with bytes ``[start, end)`` replaced by seeded random bytes."""
    noise = random.Random(seed).randbytes(end - start)
    return data[:start] + noise + data[end:]


def first_fragment_span(data: bytes) -> tuple[int, int]:
    fragment = fragments(data)[1]
    return fragment.value_offset, fragment.value_offset + fragment.length


# --- empty and not DICOM --------------------------------------------------------------------------
def empty_files(folder: Path) -> list[Path]:
    return [write(folder, "empty.dcm", b""), write(folder, "one_byte", b"\x00")]


def preamble_only(folder: Path) -> list[Path]:
    preamble = b"\x00" * 128
    return [
        write(folder, "preamble.dcm", preamble),
        write(folder, "preamble_dicm.dcm", preamble + b"DICM"),
        write(folder, "preamble_dicm_meta_start.dcm", preamble + b"DICM\x02\x00\x00\x00UL"),
    ]


def not_dicom(folder: Path) -> list[Path]:
    from PIL import Image

    png = folder / "picture.png"
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8), 128).save(png)
    noise = random.Random(1).randbytes(4096)
    return [
        write(folder, "notes.txt", b"Patient notes\nnothing to see here\n" * 20),
        png,
        write(folder, "noise.bin", noise),
        # Starts like a preamble-less group 0008 element, so it is read with force.
        write(folder, "fake_headerless.dcm", b"\x08\x00\x05\x00" + noise[:2000]),
        write(folder, "fake_dicm.dcm", b"\x00" * 128 + b"DICM" + noise[:500]),
    ]


# --- truncation -----------------------------------------------------------------------------------
def truncated_header(folder: Path) -> list[Path]:
    data = source_bytes(CT)
    rows = ew.find(data, ROWS)
    return [
        write(folder, "cut_in_meta.dcm", data[:150]),
        write(folder, "cut_in_dataset.dcm", data[: ew.dataset_start(data) + 301]),
        write(folder, "cut_in_element_header.dcm", data[: rows.offset + 5]),
        write(folder, "cut_before_pixels.dcm", data[: pixel_value_start(data) - 4]),
    ]


def truncated_pixels(folder: Path) -> list[Path]:
    ct = source_bytes(CT)
    rle = source_bytes(RLE)
    j2k = source_bytes(J2K)
    rle_start, rle_end = first_fragment_span(rle)
    j2k_start, j2k_end = first_fragment_span(j2k)
    return [
        write(folder, "ct_half_pixels.dcm", ct[: pixel_value_start(ct) + 4000]),
        write(folder, "ct_one_pixel_short.dcm", ct[:-2]),
        write(folder, "rle_half_fragment.dcm", rle[: (rle_start + rle_end) // 2]),
        write(folder, "j2k_half_fragment.dcm", j2k[: (j2k_start + j2k_end) // 2]),
    ]


# --- transfer syntax and meta ---------------------------------------------------------------------
def missing_transfer_syntax(folder: Path) -> list[Path]:
    return [
        write(folder, "ct_no_syntax.dcm", with_syntax(source_bytes(CT), None)),
        write(folder, "rle_no_syntax.dcm", with_syntax(source_bytes(RLE), None)),
    ]


def wrong_transfer_syntax(folder: Path) -> list[Path]:
    ct = source_bytes(CT)
    return [
        write(folder, "explicit_as_implicit.dcm", with_syntax(ct, "1.2.840.10008.1.2")),
        write(folder, "little_as_big.dcm", with_syntax(ct, "1.2.840.10008.1.2.2")),
        write(folder, "native_as_jpeg.dcm", with_syntax(ct, "1.2.840.10008.1.2.4.50")),
        write(folder, "native_as_deflated.dcm", with_syntax(ct, "1.2.840.10008.1.2.1.99")),
        write(folder, "rle_as_native.dcm", with_syntax(source_bytes(RLE), "1.2.840.10008.1.2.1")),
    ]


def unknown_transfer_syntax(folder: Path) -> list[Path]:
    ct = source_bytes(CT)
    return [
        write(folder, "made_up_syntax.dcm", with_syntax(ct, "1.2.3.4.5.6.7.8")),
        write(folder, "mpeg2_syntax.dcm", with_syntax(ct, "1.2.840.10008.1.2.4.100")),
        write(folder, "garbage_syntax.dcm", with_syntax(ct, "\x01\x02not a uid")),
    ]


def no_preamble_or_meta(folder: Path) -> list[Path]:
    ct = source_bytes(CT)
    implicit = source_bytes(MR_IMPLICIT)
    return [
        write(folder, "bare_explicit.dcm", ct[ew.dataset_start(ct) :]),
        write(folder, "bare_implicit.dcm", implicit[ew.dataset_start(implicit) :]),
        write(folder, "no_preamble.dcm", ct[128:]),
        write(folder, "preamble_no_meta.dcm", ct[:132] + ct[ew.dataset_start(ct) :]),
    ]


# --- element encoding -----------------------------------------------------------------------------
def bad_vrs(folder: Path) -> list[Path]:
    data = source_bytes(CT)
    rows = ew.find(data, ROWS)
    modality = ew.find(data, 0x00080060)
    at_rows, at_modality = rows.offset + 4, modality.offset + 4
    return [
        write(folder, "vr_zz.dcm", data[:at_rows] + b"ZZ" + data[at_rows + 2 :]),
        write(folder, "vr_lower.dcm", data[:at_modality] + b"cs" + data[at_modality + 2 :]),
        write(folder, "vr_binary.dcm", data[:at_modality] + b"\x00\xff" + data[at_modality + 2 :]),
        write(folder, "rows_as_ds.dcm", data[:at_rows] + b"DS" + data[at_rows + 2 :]),
    ]


def odd_lengths(folder: Path) -> list[Path]:
    data = source_bytes(CT)
    description = ew.explicit_element(0x00081030, b"LO", b"ABC")  # 3 bytes: odd, no padding
    pixel = ew.find(data, PIXEL_DATA)
    odd_pixels = ew.with_length(data, pixel, pixel.length - 1)[:-1]
    return [
        write(folder, "odd_string.dcm", ew.inserted_before(data, 0x00081030, description)),
        write(folder, "odd_pixel_data.dcm", odd_pixels),
    ]


def lengths_past_end(folder: Path) -> list[Path]:
    data = source_bytes(CT)
    rows = ew.find(data, ROWS)
    modality = ew.find(data, 0x00080060)
    pixel = ew.find(data, PIXEL_DATA)
    rows_as_ut = ew.explicit_element(ROWS, b"UT", b"\x80\x00", length=0xFFFFFFF0)
    return [
        write(folder, "rows_4g_as_ut.dcm", ew.replaced(data, rows, rows_as_ut)),
        write(folder, "short_length_past_end.dcm", ew.with_length(data, rows, 0xFFFF)[:-30000]),
        write(folder, "modality_past_end.dcm", ew.with_length(data, modality, 0xFFFE)[:2000]),
        write(folder, "pixel_past_end.dcm", ew.with_length(data, pixel, pixel.length + 1000)),
    ]


def endless_sequence(folder: Path) -> list[Path]:
    """An undefined-length sequence (and item) whose delimiters never come."""
    data = source_bytes(CT)
    inner = ew.explicit_element(0x00081150, b"UI", b"1.2.3.4\x00")
    item = struct.pack("<HHL", 0xFFFE, 0xE000, ew.UNDEFINED) + inner
    sequence = ew.explicit_element(0x00081140, b"SQ", item, length=ew.UNDEFINED)
    with_rest = ew.inserted_before(data, 0x00081140, sequence)
    start = with_rest.index(sequence)
    return [
        write(folder, "endless_at_eof.dcm", with_rest[: start + len(sequence)]),
        write(folder, "endless_then_rest.dcm", with_rest),
    ]


def deep_sequences(folder: Path) -> list[Path]:
    """Sequences nested thousands deep, well delimited (a stack-overflow attempt)."""
    data = source_bytes(CT)
    tag = 0x00400275  # Request Attributes Sequence, nested in itself
    opening = ew.explicit_element(tag, b"SQ", b"", length=ew.UNDEFINED) + struct.pack(
        "<HHL", 0xFFFE, 0xE000, ew.UNDEFINED
    )
    closing = struct.pack("<HHL", 0xFFFE, 0xE00D, 0) + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    written = []
    for depth in (50, 300):
        nested = opening * depth + closing * depth
        written.append(write(folder, f"nested_{depth}.dcm", ew.inserted_before(data, tag, nested)))
    return written


# --- sizes and pixel description ------------------------------------------------------------------
def huge_dimensions(folder: Path) -> list[Path]:
    """Rows 65535 x Columns 65535 x 1000 frames declared by ~1 KB files."""
    huge = {"Rows": 65535, "Columns": 65535, "NumberOfFrames": "1000"}

    def native(ds: Dataset) -> None:
        for keyword, value in huge.items():
            setattr(ds, keyword, value)
        ds.PixelData = bytes(512)

    def encapsulated(ds: Dataset) -> None:
        for keyword, value in huge.items():
            setattr(ds, keyword, value)

    def big_frame(ds: Dataset) -> None:
        ds.Rows, ds.Columns = 16384, 16384  # 512 MiB declared in one frame

    def many_frames(ds: Dataset) -> None:
        ds.NumberOfFrames = "2147483647"

    return [
        edited(folder, "native_many_frames.dcm", CT, many_frames),
        edited(folder, "native_huge.dcm", CT, native),
        edited(folder, "j2k_huge.dcm", J2K, encapsulated),
        edited(folder, "rle_huge.dcm", RLE, encapsulated),
        edited(folder, "jpeg_huge.dcm", JPEG_BASELINE, encapsulated),
        edited(folder, "j2k_big_frame.dcm", J2K, big_frame),
    ]


def huge_pixel_length(folder: Path) -> list[Path]:
    data = source_bytes(CT)
    pixel = ew.find(data, PIXEL_DATA)
    return [
        write(folder, "pixel_length_4g.dcm", ew.with_length(data, pixel, 0xFFFFFFF0)),
        write(folder, "pixel_length_2g_cut.dcm", ew.with_length(data, pixel, 0x7FFFFFF0)[:1024]),
    ]


def zero_rows_columns(folder: Path) -> list[Path]:
    return [
        ct_edited(folder, "rows_0.dcm", Rows=0),
        ct_edited(folder, "columns_0.dcm", Columns=0),
        ct_edited(folder, "frames_0.dcm", NumberOfFrames="0"),
        ct_edited(folder, "frames_negative.dcm", NumberOfFrames="-3"),
    ]


def inconsistent_bits(folder: Path) -> list[Path]:
    return [
        ct_edited(folder, "stored_over_allocated.dcm", BitsStored=20),
        ct_edited(folder, "high_bit_wrong.dcm", HighBit=3),
        ct_edited(folder, "allocated_13.dcm", BitsAllocated=13),
        ct_edited(folder, "allocated_0.dcm", BitsAllocated=0, BitsStored=0),
        ct_edited(folder, "allocated_64.dcm", BitsAllocated=64),
        ct_edited(folder, "allocated_1.dcm", BitsAllocated=1, BitsStored=1, HighBit=0),
        ct_edited(folder, "stored_0.dcm", BitsStored=0),
        ct_edited(folder, "pixel_representation_7.dcm", PixelRepresentation=7),
    ]


def wrong_samples_per_pixel(folder: Path) -> list[Path]:
    return [
        ct_edited(folder, "samples_3_mono.dcm", SamplesPerPixel=3),
        ct_edited(folder, "samples_0.dcm", SamplesPerPixel=0),
        ct_edited(folder, "samples_4.dcm", SamplesPerPixel=4),
        ct_edited(folder, "rgb_one_sample.dcm", PhotometricInterpretation="RGB"),
        ct_edited(folder, "unknown_photometric.dcm", PhotometricInterpretation="HSV"),
        ct_edited(folder, "planar_7.dcm", SamplesPerPixel=3, PlanarConfiguration=7),
    ]


# --- lookup tables and overlays -------------------------------------------------------------------
def short_palette(folder: Path) -> list[Path]:
    def truncate(ds: Dataset) -> None:
        ds.RedPaletteColorLookupTableData = ds.RedPaletteColorLookupTableData[:10]

    def no_tables(ds: Dataset) -> None:
        del ds.GreenPaletteColorLookupTableData
        del ds.BluePaletteColorLookupTableDescriptor

    def huge_descriptor(ds: Dataset) -> None:
        ds.RedPaletteColorLookupTableDescriptor = [0, 0, 16]
        ds.GreenPaletteColorLookupTableDescriptor = [65535, 65535, 16]

    return [
        edited(folder, "palette_short_red.dcm", PALETTE, truncate),
        edited(folder, "palette_missing_tables.dcm", PALETTE, no_tables),
        edited(folder, "palette_odd_descriptors.dcm", PALETTE, huge_descriptor),
    ]


def _lut_item(entries: int, first: int, bits: int, data: bytes) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [entries, first, bits]
    item.LUTData = data
    item["LUTData"].VR = "OW"
    return item


def _drop_windows(ds: Dataset) -> None:
    for keyword in ("WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)


def short_voi_lut(folder: Path) -> list[Path]:
    def voi(ds: Dataset) -> None:
        _drop_windows(ds)
        ds.VOILUTSequence = DicomSequence([_lut_item(4096, 0, 16, bytes(10))])

    def modality(ds: Dataset) -> None:
        ds.ModalityLUTSequence = DicomSequence([_lut_item(0, 0, 16, bytes(2))])

    def empty(ds: Dataset) -> None:
        _drop_windows(ds)
        ds.VOILUTSequence = DicomSequence([_lut_item(4096, 0, 16, b"")])

    def bits_99(ds: Dataset) -> None:
        _drop_windows(ds)
        ds.VOILUTSequence = DicomSequence([_lut_item(16, 0, 99, bytes(32))])

    return [
        edited(folder, "voi_lut_short.dcm", CT, voi),
        edited(folder, "modality_lut_short.dcm", CT, modality),
        edited(folder, "voi_lut_empty.dcm", CT, empty),
        edited(folder, "voi_lut_99_bits.dcm", CT, bits_99),
    ]


def short_overlay(folder: Path) -> list[Path]:
    def overlay(rows: int, columns: int, data: bytes) -> Callable[[Dataset], None]:
        def change(ds: Dataset) -> None:
            ds.add_new(0x60000010, "US", rows)
            ds.add_new(0x60000011, "US", columns)
            ds.add_new(0x60000040, "CS", "G")
            ds.add_new(0x60000050, "SS", [1, 1])
            ds.add_new(0x60000100, "US", 1)
            ds.add_new(0x60000102, "US", 0)
            ds.add_new(0x60003000, "OW", data)

        return change

    return [
        edited(folder, "overlay_short.dcm", CT, overlay(128, 128, bytes(10))),
        edited(folder, "overlay_huge.dcm", CT, overlay(65535, 65535, bytes(64))),
        edited(folder, "overlay_empty.dcm", CT, overlay(128, 128, b"")),
    ]


# --- values ---------------------------------------------------------------------------------------
def with_raw_value(data: bytes, tag: int, vr: bytes, value: bytes) -> bytes:
    """``data`` with top-level ``tag`` holding ``value`` verbatim (replaced or inserted)."""
    element = ew.explicit_element(tag, vr, value + b" " * (len(value) % 2))
    try:
        return ew.replaced(data, ew.find(data, tag), element)
    except KeyError:
        return ew.inserted_before(data, tag, element)


def series_with_raw_values(folder: Path, values: dict[int, bytes], vr: bytes = b"DS") -> list[Path]:
    """A 3-slice factory series, then ``values`` written verbatim into every file."""
    truth = factories.write_series(folder, slices=2, series_description=folder.name)
    for name in truth.paths:
        data = Path(name).read_bytes()
        for tag, value in values.items():
            data = with_raw_value(data, tag, b"IS" if tag in _IS_TAGS else vr, value)
        Path(name).write_bytes(data)
    return [Path(p) for p in truth.paths]


PIXEL_SPACING, SLICE_THICKNESS, POSITION, ORIENTATION = (
    0x00280030,
    0x00180050,
    0x00200032,
    0x00200037,
)
WINDOW_CENTER, WINDOW_WIDTH, INTERCEPT, SLOPE = 0x00281050, 0x00281051, 0x00281052, 0x00281053
INSTANCE_NUMBER, NUMBER_OF_FRAMES = 0x00200013, 0x00280008
_IS_TAGS = frozenset([INSTANCE_NUMBER, NUMBER_OF_FRAMES])


def bad_numeric_strings(folder: Path) -> list[Path]:
    """NaN, zero and text in spacing, position, window and rescale (one series each)."""
    variants: dict[str, dict[int, bytes]] = {
        "nan_spacing": {PIXEL_SPACING: b"nan\\nan", SLICE_THICKNESS: b"NaN"},
        "zero_spacing": {PIXEL_SPACING: b"0\\0", SLICE_THICKNESS: b"0"},
        "text_position": {POSITION: b"abc\\1\\x"},
        "inf_position": {POSITION: b"inf\\-inf\\1e999"},
        "bad_window": {WINDOW_CENTER: b"NaN", WINDOW_WIDTH: b"0"},
        "text_window": {WINDOW_CENTER: b"centre", WINDOW_WIDTH: b"wide"},
        "bad_rescale": {SLOPE: b"0", INTERCEPT: b"nan"},
        "text_rescale": {SLOPE: b"one", INTERCEPT: b"1e400"},
        "text_integers": {INSTANCE_NUMBER: b"first", NUMBER_OF_FRAMES: b"many"},
        "binary_junk": {POSITION: b"\x00\xff\x01", WINDOW_WIDTH: b"\xfe\xfe"},
    }
    written: list[Path] = []
    for name, values in variants.items():
        written.extend(series_with_raw_values(folder / name, values))
    return written


def bad_orientation(folder: Path) -> list[Path]:
    variants: dict[str, bytes] = {
        "zeros": b"0\\0\\0\\0\\0\\0",
        "parallel": b"1\\0\\0\\1\\0\\0",
        "not_unit": b"2\\0\\0\\0\\3\\0",
        "five_values": b"1\\0\\0\\0\\1",
        "nan": b"nan\\0\\0\\0\\1\\0",
        "empty": b"",
    }
    written: list[Path] = []
    for name, value in variants.items():
        written.extend(series_with_raw_values(folder / name, {ORIENTATION: value}))
    missing = factories.write_series(
        folder / "missing",
        slices=2,
        per_slice=lambda _k, ds: delattr(ds, "ImageOrientationPatient"),
    )
    return written + [Path(p) for p in missing.paths]


def duplicate_positions(folder: Path) -> list[Path]:
    truth = factories.write_series(folder, offsets=[0.0, 2.5, 2.5, 2.5, 5.0])
    return [Path(p) for p in truth.paths]


def duplicate_sop_uids(folder: Path) -> list[Path]:
    """Two files with one SOP Instance UID but different pixels and positions."""
    truth = factories.write_series(folder, slices=3, shuffle_names=False)
    first = dcmread(truth.paths[0])
    twin = dcmread(truth.paths[2])
    twin.SOPInstanceUID = first.SOPInstanceUID
    twin.file_meta.MediaStorageSOPInstanceUID = first.SOPInstanceUID
    factories.save(twin, folder / "twin.dcm")
    Path(truth.paths[2]).unlink()
    return [Path(p) for p in truth.paths[:2]] + [folder / "twin.dcm"]


def mixed_matrix(folder: Path) -> list[Path]:
    """One series whose slices are 16 x 16 and 8 x 12."""
    uid, study = generate_uid(), generate_uid()
    big = factories.write_series(folder, slices=3, series_uid=uid, study_uid=study)
    small = factories.write_series(
        folder,
        rows=8,
        columns=12,
        offsets=[7.5, 10.0],
        series_uid=uid,
        study_uid=study,
        name_prefix="SMALL",
    )
    return [Path(p) for p in big.paths + small.paths]


def bad_character_sets(folder: Path) -> list[Path]:
    def charset(value: object, name: bytes | None = None) -> Callable[[Dataset], None]:
        def change(ds: Dataset) -> None:
            ds.SpecificCharacterSet = value
            if name is not None:
                ds.add_new(0x00100010, "PN", name)
                ds.add_new(0x00081030, "LO", name)

        return change

    return [
        edited(
            folder, "unknown_charset.dcm", CT, charset("ISO_IR 999", "Ünknown^Zé".encode("latin-1"))
        ),
        edited(folder, "bad_utf8.dcm", CT, charset("ISO_IR 192", b"\xff\xfe\xc3^\xe2\x82")),
        edited(folder, "bad_escape.dcm", CT, charset(["", "ISO 2022 IR 87"], b"\x1b$B\xff\x1b(Bx")),
        edited(folder, "charset_list_junk.dcm", CT, charset(["\\\\", "???", "ISO_IR 6"])),
    ]


# --- compressed data ------------------------------------------------------------------------------
def corrupt_jpeg(folder: Path) -> list[Path]:
    written = []
    for name, source in (
        ("baseline", JPEG_BASELINE),
        ("extended", JPEG_EXTENDED),
        ("lossless", JPEG_LOSSLESS),
    ):
        data = source_bytes(source)
        start, end = first_fragment_span(data)
        middle = (start + end) // 2
        written.append(write(folder, f"{name}_noise.dcm", scrambled(data, middle, end - 2, 7)))
        written.append(
            write(folder, f"{name}_no_header.dcm", scrambled(data, start, start + 64, 8))
        )
    return written


def corrupt_j2k(folder: Path) -> list[Path]:
    data = source_bytes(J2K)
    start, end = first_fragment_span(data)
    return [
        write(folder, "j2k_noise.dcm", scrambled(data, start + 100, end, 3)),
        write(folder, "j2k_bad_header.dcm", scrambled(data, start, start + 40, 4)),
        write(folder, "j2k_zeros.dcm", data[:start] + bytes(end - start) + data[end:]),
    ]


def corrupt_rle(folder: Path) -> list[Path]:
    data = source_bytes(RLE)
    start, end = first_fragment_span(data)
    bad_count = data[:start] + struct.pack("<L", 15) + data[start + 4 :]
    bad_offsets = data[:start] + struct.pack("<LL", 1, 0xFFFFFF00) + data[start + 8 :]
    return [
        write(folder, "rle_noise.dcm", scrambled(data, start + 64, end, 5)),
        write(folder, "rle_segment_count.dcm", bad_count),
        write(folder, "rle_segment_offsets.dcm", bad_offsets),
    ]


def frame_fragment_mismatch(folder: Path) -> list[Path]:
    def frames(count: str) -> Callable[[Dataset], None]:
        def change(ds: Dataset) -> None:
            ds.NumberOfFrames = count

        return change

    data = source_bytes(RLE_TWO_FRAMES)
    offsets = fragments(data)[0]  # the Basic Offset Table
    bad_table = data[: offsets.value_offset] + struct.pack("<LL", 0, 0xFFFF0000)
    bad_table += data[offsets.value_offset + 8 :]
    return [
        edited(folder, "j2k_says_5_frames.dcm", J2K, frames("5")),
        edited(folder, "rle_two_says_one.dcm", RLE_TWO_FRAMES, frames("1")),
        edited(folder, "native_says_3_frames.dcm", CT, frames("3")),
        write(folder, "rle_bad_offset_table.dcm", bad_table),
    ]


# --- deflate --------------------------------------------------------------------------------------
def _deflated_piece(data: bytes, final: bool = False) -> bytes:
    """Raw deflate blocks for ``data`` that refer to nothing before them (a full flush), so
    pieces can be joined and repeated; the ``final`` piece ends the stream (PS3.5 A.5)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def deflate_bomb(folder: Path) -> list[Path]:
    """A deflated file whose data set inflates to BOMB_INFLATED_BYTES (a private OB of zeros)."""
    data = source_bytes(DEFLATED)
    start = ew.dataset_start(data)
    inflated = zlib.decompress(data[start:], -zlib.MAX_WBITS)
    # Private group 0009 (after group 0008, so tag order holds): a creator, then the zeros.
    bomb = ew.explicit_element(0x00090010, b"LO", b"BOMB") + struct.pack(
        "<HH2sHL", 0x0009, 0x1000, b"OB", 0, BOMB_INFLATED_BYTES
    )
    split = _end_of_group(inflated, 0x0008)
    zeros = _deflated_piece(bytes(1024**2))
    stream = b"".join(
        [
            _deflated_piece(inflated[:split] + bomb),
            zeros * (BOMB_INFLATED_BYTES // 1024**2),
            _deflated_piece(inflated[split:], final=True),
        ]
    )
    return [write(folder, "bomb.dcm", data[:start] + stream)]


def _end_of_group(dataset: bytes, group: int) -> int:
    """Offset after the last top-level element of ``group`` in an explicit VR LE data set."""
    fake = bytes(ew.PREAMBLE_END) + dataset  # no meta: the data set starts at 132
    end = ew.PREAMBLE_END
    for element in ew.walk(fake):
        if element.depth == 0 and element.tag >> 16 <= group:
            end = element.value_offset + element.length
    return end - ew.PREAMBLE_END


def corrupt_deflate(folder: Path) -> list[Path]:
    data = source_bytes(DEFLATED)
    start = ew.dataset_start(data)
    return [
        write(folder, "deflate_noise.dcm", scrambled(data, start + 20, start + 400, 9)),
        write(folder, "deflate_truncated.dcm", data[: start + (len(data) - start) // 3]),
        write(
            folder,
            "deflate_not_deflated.dcm",
            with_syntax(source_bytes(CT), DeflatedExplicitVRLittleEndian),
        ),
    ]


# --- DICOMDIR -------------------------------------------------------------------------------------
def dicomdir_outside(folder: Path) -> list[Path]:
    """A DICOMDIR whose records point above its folder, at an absolute path and at itself."""
    truth = factories.write_series(folder / "images", slices=2, shuffle_names=False)
    outside = folder.parent / f"{folder.name}-outside"
    factories.write_series(outside, slices=1)
    ids = [
        ["IMAGES", Path(truth.paths[0]).name],
        ["..", outside.name, "IM0000.dcm"],
        ["..", "..", "..", "..", "..", "..", "etc", "passwd"],
        ["/etc/passwd"],
        ["DICOMDIR"],
    ]
    return [Path(factories.write_minimal_dicomdir(folder, ids)), *map(Path, truth.paths)]


def dicomdir_cycle(folder: Path) -> list[Path]:
    """A pydicom-written DICOMDIR whose sibling and child offsets loop back."""
    truth = factories.write_series(folder / "src", slices=3)
    dicomdir = factories.write_fileset(truth.paths, folder / "cd")
    shutil.rmtree(folder / "src")
    ds = dcmread(dicomdir)
    records = ds.DirectoryRecordSequence
    patient, study = records[0], records[1]
    records[-1].OffsetOfTheNextDirectoryRecord = records[-2].seq_item_tell
    study.OffsetOfReferencedLowerLevelDirectoryEntity = patient.seq_item_tell
    ds.save_as(dicomdir, enforce_file_format=False)
    return [dicomdir, *sorted((folder / "cd").rglob("IM*"))]


# --- the file system ------------------------------------------------------------------------------
def symlink_loops(folder: Path) -> list[Path]:
    """One good file among links to the folder itself, to each other and to nothing."""
    good = ct_edited(folder, "good.dcm")
    (folder / "self").symlink_to(".")
    (folder / "a").symlink_to("b")
    (folder / "b").symlink_to("a")
    (folder / "broken").symlink_to("does-not-exist")
    nested = folder / "deep"
    nested.mkdir()
    (nested / "back").symlink_to(folder)
    return [good, folder / "a", folder / "broken"]


def device_files(folder: Path) -> list[Path]:
    """A named pipe (reading it would block forever) and links to endless devices."""
    folder.mkdir(parents=True, exist_ok=True)
    fifo = folder / "pipe.dcm"
    os.mkfifo(fifo)
    (folder / "zero.dcm").symlink_to("/dev/zero")
    (folder / "null.dcm").symlink_to("/dev/null")
    (folder / "urandom.dcm").symlink_to("/dev/urandom")
    return [fifo, folder / "zero.dcm", folder / "null.dcm", folder / "urandom.dcm"]


def odd_file_names(folder: Path) -> list[Path]:
    """Good files under names with newlines, undecodable bytes, dashes, spaces, 255 bytes."""
    data = source_bytes(CT)
    names = [
        "line\nbreak.dcm",
        "-starts-with-dash.dcm",
        "  spaces  .dcm",
        "ümlaut ß 日本.dcm",
        "x" * 250 + ".dcm",
        "--json",
        "inspect",
    ]
    written = [write(folder, name, data) for name in names]
    raw = os.path.join(os.fsencode(folder), b"bad-\xff\xfe-utf8.dcm")
    with open(raw, "wb") as handle:
        handle.write(data)
    return [*written, Path(os.fsdecode(raw))]


def executable_preamble(folder: Path) -> list[Path]:
    """Good files, marked executable, whose preamble is a shell script, or an ELF or PE
    header then that script: anything that ran one would leave :func:`execution_marker`."""
    script = b'#!/bin/sh\ntouch "$(dirname "$0")/EXECUTED"\nexit 0\n'
    data = source_bytes(CT)
    written = []
    for name, head in (
        ("script.dcm", script),
        ("elf.dcm", b"\x7fELF\x02\x01\x01" + script),
        ("pe.dcm", b"MZ\x90\x00" + script),
    ):
        preamble = head[:128].ljust(128, b"\x00")
        path = write(folder, name, preamble + data[128:])
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append(path)
    return written


def execution_marker(folder: Path) -> Path:
    """The file :func:`executable_preamble`'s scripts would create if anything ran them."""
    return folder / "EXECUTED"


#: Every class of bad input, by name (issue 7 item 2).
GENERATORS: dict[str, Generator] = {
    "empty": empty_files,
    "preamble_only": preamble_only,
    "not_dicom": not_dicom,
    "truncated_header": truncated_header,
    "truncated_pixels": truncated_pixels,
    "missing_transfer_syntax": missing_transfer_syntax,
    "wrong_transfer_syntax": wrong_transfer_syntax,
    "unknown_transfer_syntax": unknown_transfer_syntax,
    "no_preamble_or_meta": no_preamble_or_meta,
    "bad_vrs": bad_vrs,
    "odd_lengths": odd_lengths,
    "lengths_past_end": lengths_past_end,
    "endless_sequence": endless_sequence,
    "deep_sequences": deep_sequences,
    "huge_dimensions": huge_dimensions,
    "huge_pixel_length": huge_pixel_length,
    "zero_rows_columns": zero_rows_columns,
    "inconsistent_bits": inconsistent_bits,
    "wrong_samples_per_pixel": wrong_samples_per_pixel,
    "short_palette": short_palette,
    "short_voi_lut": short_voi_lut,
    "short_overlay": short_overlay,
    "bad_numeric_strings": bad_numeric_strings,
    "bad_orientation": bad_orientation,
    "duplicate_positions": duplicate_positions,
    "duplicate_sop_uids": duplicate_sop_uids,
    "mixed_matrix": mixed_matrix,
    "bad_character_sets": bad_character_sets,
    "corrupt_jpeg": corrupt_jpeg,
    "corrupt_j2k": corrupt_j2k,
    "corrupt_rle": corrupt_rle,
    "frame_fragment_mismatch": frame_fragment_mismatch,
    "deflate_bomb": deflate_bomb,
    "corrupt_deflate": corrupt_deflate,
    "dicomdir_outside": dicomdir_outside,
    "dicomdir_cycle": dicomdir_cycle,
    "symlink_loops": symlink_loops,
    "device_files": device_files,
    "odd_file_names": odd_file_names,
    "executable_preamble": executable_preamble,
}

#: Classes whose files are links, pipes or devices: not decodable, only walked.
NOT_REGULAR = frozenset({"symlink_loops", "device_files"})


def write_all(folder: Path) -> dict[str, list[Path]]:
    """Every class into ``folder/<class name>``; the paths written, by class.

    pydicom warns about the values written on purpose; those warnings are silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: make(folder / name) for name, make in GENERATORS.items()}


def regular_files(paths: list[Path]) -> list[Path]:
    """The paths that are regular files (what decoding is tried on)."""
    return [p for p in paths if p.is_file() and not p.is_symlink()]
