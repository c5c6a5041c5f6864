"""Index records straight from header bytes, giving exactly what the pydicom path gives.

:func:`read_instance_fast` walks a file with :mod:`viewer.dicom.io.header_parser` and decodes
only the attributes :mod:`viewer.dicom.io.header_fields` reads, with the same rules:
strings stripped of padding (PS3.5 6.2), Decimal and Integer Strings as numbers (PS3.5 6.2
DS/IS), binary US/FD values in the data set's byte order (PS3.5 7.3), Person Names formatted
by :mod:`viewer.dicom.catalog.person_name`. Text with bytes outside ASCII is decoded with pydicom's
own charset functions for the file's Specific Character Set (PS3.5 6.1, 6.1.2.5).

Whatever it is not certain of (odd numbers, multi-valued strings, wrong VRs, enhanced
multi-frame functional groups...) raises :class:`~viewer.dicom.io.header_parser.Unusual` and
:func:`read_instance_fast` returns None: the caller then reads the file with pydicom.
"""

from __future__ import annotations

import math
import os
import stat
import struct
import sys
import warnings
from typing import Any

from viewer.dicom import decoding_stack
from viewer.dicom.catalog import records
from viewer.dicom.catalog import ultrasound_regions as us
from viewer.dicom.catalog.person_name import format_person_name
from viewer.dicom.catalog.records import (
    InstanceRecord,
    PatientInfo,
    ScannedFile,
    SeriesInfo,
    Skipped,
    StudyInfo,
    unusable,
)
from viewer.dicom.io import header_parser as hp
from viewer.dicom.io import pixel_module

MEDIA_STORAGE_SOP_CLASS = 0x00020002
MEDIA_STORAGE_SOP_INSTANCE = 0x00020003
TRANSFER_SYNTAX = 0x00020010
DICOMDIR_SOP_CLASS = records.DICOMDIR_SOP_CLASS

#: Each tag the index reads, with its VR from the data dictionary (PS3.6).
VR_OF: dict[int, bytes] = {
    0x00080005: b"CS",  # Specific Character Set
    0x00080008: b"CS",  # Image Type
    0x00080016: b"UI",  # SOP Class UID
    0x00080018: b"UI",  # SOP Instance UID
    0x00080020: b"DA",  # Study Date
    0x00080021: b"DA",  # Series Date
    0x00080030: b"TM",  # Study Time
    0x00080031: b"TM",  # Series Time
    0x00080050: b"SH",  # Accession Number
    0x00080060: b"CS",  # Modality
    0x00081030: b"LO",  # Study Description
    0x0008103E: b"LO",  # Series Description
    0x00082144: b"IS",  # Recommended Display Frame Rate
    0x00100010: b"PN",  # Patient's Name
    0x00100020: b"LO",  # Patient ID
    0x00100030: b"DA",  # Patient's Birth Date
    0x00100040: b"CS",  # Patient's Sex
    0x00180015: b"CS",  # Body Part Examined
    0x00180040: b"IS",  # Cine Rate
    0x00180050: b"DS",  # Slice Thickness
    0x00180086: b"IS",  # Echo Number(s)
    0x00186011: b"SQ",  # Sequence of Ultrasound Regions: calibration without Pixel Spacing
    0x00181060: b"DS",  # Trigger Time
    0x00181063: b"DS",  # Frame Time
    0x00189087: b"FD",  # Diffusion b-value
    0x0020000D: b"UI",  # Study Instance UID
    0x0020000E: b"UI",  # Series Instance UID
    0x00200010: b"SH",  # Study ID
    0x00200011: b"IS",  # Series Number
    0x00200012: b"IS",  # Acquisition Number
    0x00200013: b"IS",  # Instance Number
    0x00200032: b"DS",  # Image Position (Patient)
    0x00200037: b"DS",  # Image Orientation (Patient)
    0x00200052: b"UI",  # Frame of Reference UID
    0x00200100: b"IS",  # Temporal Position Identifier
    0x00201041: b"DS",  # Slice Location
    0x00280002: b"US",  # Samples per Pixel
    0x00280004: b"CS",  # Photometric Interpretation
    0x00280008: b"IS",  # Number of Frames
    0x00280010: b"US",  # Rows
    0x00280011: b"US",  # Columns
    0x00280030: b"DS",  # Pixel Spacing
    0x00280100: b"US",  # Bits Allocated
    0x00280101: b"US",  # Bits Stored
    0x00280102: b"US",  # High Bit
    0x3004000C: b"DS",  # Grid Frame Offset Vector
    0x52009229: b"SQ",  # Shared Functional Groups Sequence: pydicom reads these
    0x52009230: b"SQ",  # Per-frame Functional Groups Sequence
}
WANTED = frozenset(VR_OF)
#: The walk goes on to Pixel Data's header (never its value): the pixel module check needs
#: where it starts and how long it is.
LAST_WANTED = hp.PIXEL_DATA - 1
FUNCTIONAL_GROUPS = (0x52009229, 0x52009230)
#: Text VRs decoded with the Specific Character Set (PS3.5 6.1.2.3); others are ASCII.
CHARSET_VRS = frozenset({b"SH", b"LO", b"PN"})

#: The bytes Decimal and Integer Strings may hold (PS3.5 6.2), NUL padding and the delimiter.
_DS_BYTES = b"0123456789+-.eE \\\x00"
_IS_BYTES = b"0123456789+- \\\x00"
_BINARY = {
    (b"US", True): struct.Struct("<H"),
    (b"US", False): struct.Struct(">H"),
    (b"FD", True): struct.Struct("<d"),
    (b"FD", False): struct.Struct(">d"),
    (b"UL", True): struct.Struct("<L"),
    (b"UL", False): struct.Struct(">L"),
}


def read_instance_fast(path: str) -> ScannedFile | Skipped | None:
    """Records for one file from its header bytes, or None when pydicom must read it."""
    try:
        elements, meta, syntax, little, size = _read_elements(path)
        for tag in FUNCTIONAL_GROUPS:
            if tag in elements:
                raise hp.Unusual("enhanced multi-frame functional groups")
        header = Header(meta, elements, syntax, little)
        built = build_scanned_file(path, header)
        if isinstance(built, ScannedFile):
            reason = pixel_module.problem(_pixel_module(header, size))
            if reason:
                return Skipped(path, reason)
        return built
    except (hp.Unusual, OSError, struct.error, ValueError, UnicodeDecodeError):
        return None


def _pixel_module(h: Header, size: int) -> pixel_module.PixelModule:
    located = hp.pixel_data_location(h.elements)
    return pixel_module.PixelModule(
        rows=h.integer(0x00280010),
        columns=h.integer(0x00280011),
        samples=h.integer(0x00280002),
        photometric=h.text(0x00280004),
        bits_allocated=h.integer(0x00280100),
        bits_stored=h.integer(0x00280101),
        high_bit=h.integer(0x00280102),
        frames=max(1, h.integer(0x00280008) or 1),
        transfer_syntax=h.syntax,
        pixel_offset=located[0] if located else None,
        pixel_length=located[1] if located else None,
        file_size=size,
        has_pixel_data=located is not None,
    )


#: Opening never waits on a pipe or device; only regular files are read here.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _read_elements(path: str) -> tuple[hp.Elements, hp.Elements, str, bool, int]:
    """The wanted data set elements, the meta elements, the syntax, its byte order and the
    file's size.

    Reads go straight to the descriptor, never past the file's size (a forged length cannot
    make it allocate more than the file holds); anything not a regular file is left to the
    general path, which says why.
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise hp.Unusual("not a regular file")
        source, meta, pos = hp.open_part10_fd(fd, info.st_size)
        syntax = _ascii(meta, TRANSFER_SYNTAX)
        explicit, little = hp.encoding_of(syntax)
        elements = hp.read_dataset(
            source, pos, explicit, little, WANTED, LAST_WANTED, pixel_data=True
        )
    finally:
        os.close(fd)
    return elements, meta, syntax, little, info.st_size


class Header:
    """Raw meta and data set elements, decoded on demand; ``vrs`` gives each tag's VR."""

    __slots__ = ("_encodings", "elements", "little", "meta", "syntax", "vrs")

    def __init__(
        self,
        meta: hp.Elements,
        elements: hp.Elements,
        syntax: str,
        little: bool,
        vrs: dict[int, bytes] = VR_OF,
    ) -> None:
        self.meta = meta
        self.elements = elements
        self.syntax = syntax
        self.little = little
        self.vrs = vrs
        self._encodings: list[str] | None = None

    def _raw(self, tag: int) -> bytes | None:
        """The value bytes, after checking the VR is the dictionary's (else pydicom reads)."""
        element = self.elements.get(tag)
        if element is None:
            return None
        vr, value = element
        if vr and vr != self.vrs[tag]:
            raise hp.Unusual(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) has VR {vr!r}")
        return value

    def text(self, tag: int) -> str:
        """A single-valued string, stripped of padding; "" when absent."""
        value = self._raw(tag)
        if not value:
            return ""
        if value.isascii() and b"\x1b" not in value:
            if b"\\" in value:
                raise hp.Unusual("multi-valued string")
            return value.decode("ascii").strip(" \x00")
        return self._decoded_text(tag, value).strip(" \x00")

    def _decoded_text(self, tag: int, value: bytes) -> str:
        vr = self.vrs[tag]
        if vr not in CHARSET_VRS:
            raise hp.Unusual("non-ASCII bytes in an ASCII-only value")
        decoding_stack.load()
        from pydicom.values import convert_text

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            decoded = convert_text(value, self.encodings(), vr.decode())
        if not isinstance(decoded, str):
            raise hp.Unusual("multi-valued string")
        return decoded

    def strings(self, tag: int) -> list[str]:
        """A multi-valued code string split as pydicom splits it (PS3.5 6.4)."""
        value = self._raw(tag)
        if not value:
            return []
        if not value.isascii():
            raise hp.Unusual("non-ASCII bytes in a code string")
        items = value.decode("ascii").rstrip(" \x00").split("\\")
        if len(items) == 1:
            return [items[0]] if items[0] else []
        return items

    def person_name(self, tag: int) -> str:
        """Patient's Name formatted for people (PS3.5 6.2 PN), as header_fields does."""
        value = self._raw(tag)
        if not value:
            return ""
        if b"\\" in value and value.isascii():
            raise hp.Unusual("multi-valued person name")
        if value.isascii() and b"\x1b" not in value:
            return format_person_name(value.rstrip(b"\x00 ").decode("ascii"))
        try:
            return format_person_name(self._decoded_name(value))
        except hp.Unusual:
            raise
        except Exception:  # an undecodable name must not cost the file
            return "(unreadable name)"

    def _decoded_name(self, value: bytes) -> Any:
        decoding_stack.load()
        from pydicom.values import convert_PN

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            name = convert_PN(value, self.encodings())
        if not hasattr(name, "components"):
            raise hp.Unusual("multi-valued person name")
        return name

    def encodings(self) -> list[str]:
        """Python codecs for the Specific Character Set, exactly as pydicom derives them."""
        if self._encodings is None:
            decoding_stack.load()
            from pydicom.charset import convert_encodings, default_encoding
            from pydicom.values import multi_string

            raw = self._raw(0x00080005)
            value: Any = multi_string(raw.decode("latin-1")) if raw else None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._encodings = list(convert_encodings(value or default_encoding))
        return self._encodings

    def numbers(self, tag: int) -> list[float] | None:
        """All values of a DS/IS/US/FD element; None when absent, empty or not finite."""
        value = self._raw(tag)
        if not value:
            return None
        vr = self.vrs[tag]
        if vr == b"DS" or vr == b"IS":
            return _numeric_strings(value, vr == b"IS")
        unpacker = _BINARY[vr, self.little]
        if len(value) % unpacker.size:
            raise hp.Unusual("binary value of odd length")
        result = [float(v[0]) for v in unpacker.iter_unpack(value)]
        return result if all(math.isfinite(v) for v in result) else None

    def number(self, tag: int) -> float | None:
        values = self.numbers(tag)
        return values[0] if values else None

    def integer(self, tag: int) -> int | None:
        value = self.number(tag)
        return round(value) if value is not None else None

    def meta_text(self, tag: int) -> str:
        return _ascii(self.meta, tag)


def _numeric_strings(value: bytes, integer: bool) -> list[float] | None:
    """DS or IS values (PS3.5 6.2): only digits, sign, point, exponent and spaces, each value a
    number Python and pydicom read alike; anything else is unusual (pydicom reads it)."""
    if value.translate(None, _IS_BYTES if integer else _DS_BYTES):
        raise hp.Unusual(f"unusual number {value!r}")
    text = value.decode("ascii").strip(" \x00")
    if not text:
        return None
    result = []
    for part in text.split("\\"):
        if not part.strip() or (integer and "." in part):
            raise hp.Unusual(f"unusual number {part!r}")
        number = float(part)  # ValueError for "1-2", "e5", "..": unusual as well
        if not math.isfinite(number):
            return None
        result.append(number)
    return result


def _ascii(elements: hp.Elements, tag: int) -> str:
    element = elements.get(tag)
    if element is None:
        return ""
    value = element[1]
    if not value.isascii() or b"\\" in value:
        raise hp.Unusual("unusual file meta value")
    return value.decode("ascii").strip(" \x00")


def build_scanned_file(path: str, header: Header) -> ScannedFile | Skipped:
    """The same records :func:`viewer.dicom.io.header_fields.scanned_file_from_dataset` makes."""
    sop_class = header.text(0x00080016) or header.meta_text(MEDIA_STORAGE_SOP_CLASS)
    sop_instance = header.text(0x00080018) or header.meta_text(MEDIA_STORAGE_SOP_INSTANCE)
    series_uid = header.text(0x0020000E)
    study_uid = header.text(0x0020000D)
    skipped = unusable(path, sop_class, sop_instance, series_uid, study_uid)
    if skipped is not None:
        return skipped
    series, study, patient, image = _shared(
        header,
        (series_uid, study_uid),
        lambda: (
            series_info(header, series_uid),
            study_info(header, study_uid),
            patient_info(header),
            _image_constants(header),
        ),
    )
    record = InstanceRecord(
        path=path,
        sop_instance_uid=sys.intern(sop_instance),
        sop_class_uid=sys.intern(sop_class),
        series_uid=sys.intern(series_uid),
        study_uid=sys.intern(study_uid),
        instance_number=header.integer(0x00200013),
        position=_vector(header.numbers(0x00200032), 3),
        slice_location=header.number(0x00201041),
        **image,
    )
    return ScannedFile(record, series, study, patient)


#: Attributes a series' files nearly always share: General Series (PS3.3 C.7.3.1), General
#: Study (C.7.2.1), Patient (C.7.1.1), and the image's geometry and pixel description (C.7.6.2,
#: C.7.6.3, C.7.6.6, C.7.6.5). They are decoded once per distinct raw value and reused, which
#: is faster and lets every instance of a series hold the same objects.
SHARED_TAGS = (
    0x00080005,  # Specific Character Set: how the names and descriptions decode
    0x00200011, 0x00080060, 0x0008103E, 0x00180015, 0x00080021, 0x00080031, 0x00200052,
    0x00080020, 0x00080030, 0x00081030, 0x00080050, 0x00200010,
    0x00100010, 0x00100020, 0x00100030, 0x00100040,
    0x00280010, 0x00280011, 0x00280008, 0x00200037, 0x00280030, 0x00180050, 0x00080008,
    0x00280004, 0x00280002, 0x00280100, 0x00181063, 0x00180040, 0x00082144, 0x3004000C,
    0x00200012, 0x00200100, 0x00181060, 0x00180086, 0x00189087, 0x00186011,
)  # fmt: skip
#: Distinct decoded values kept at most (then the memo starts afresh).
MAX_SHARED = 4096
_memo: dict[tuple[object, ...], Any] = {}


def _shared(header: Header, extra: tuple[object, ...], make: Any) -> Any:
    """``make()``, or what it made before from the same raw SHARED_TAGS and ``extra``."""
    get = header.elements.get
    key = (*extra, header.syntax, header.little, *[get(tag) for tag in SHARED_TAGS])
    value = _memo.get(key)
    if value is None:
        if len(_memo) >= MAX_SHARED:
            _memo.clear()
        value = _memo[key] = make()
    return value


def _image_constants(h: Header) -> dict[str, Any]:
    """The InstanceRecord fields from the shared tags (those a series' files mostly share)."""
    frames = h.integer(0x00280008) or 1
    return {
        "rows": h.integer(0x00280010) or 0,
        "columns": h.integer(0x00280011) or 0,
        "frames": max(1, frames),
        "orientation": _vector(h.numbers(0x00200037), 6),
        "pixel_spacing": _spacing(h.numbers(0x00280030)) or _region_spacing(h),
        "slice_thickness": h.number(0x00180050),
        "image_type": tuple(sys.intern(v) for v in h.strings(0x00080008)),
        "acquisition_number": h.integer(0x00200012),
        "temporal_position": h.integer(0x00200100),
        "trigger_time": h.number(0x00181060),
        "echo_number": h.integer(0x00180086),
        "diffusion_b_value": h.number(0x00189087),
        "photometric": sys.intern(h.text(0x00280004)),
        "samples_per_pixel": h.integer(0x00280002) or 1,
        "bits_allocated": h.integer(0x00280100) or 0,
        "transfer_syntax": sys.intern(h.syntax),
        "frame_time_ms": _frame_time_ms(h),
        "frame_info": None,
        "frame_offsets": _grid_offsets(h.numbers(0x3004000C), frames),
    }


def _vector(values: list[float] | None, size: int) -> Any:
    return tuple(values) if values is not None and len(values) == size else None


def _spacing(values: list[float] | None) -> tuple[float, float] | None:
    if values is None or len(values) != 2 or min(values) <= 0:
        return None
    return (values[0], values[1])


#: The VRs of the calibration attributes of an ultrasound region item (PS3.6).
US_REGION_VRS: dict[int, bytes] = {
    us.PHYSICAL_UNITS_X_DIRECTION: b"US",
    us.PHYSICAL_UNITS_Y_DIRECTION: b"US",
    us.PHYSICAL_DELTA_X: b"FD",
    us.PHYSICAL_DELTA_Y: b"FD",
}


def _region_spacing(h: Header) -> tuple[float, float] | None:
    """Pixel spacing from the Sequence of Ultrasound Regions (PS3.3 C.8.5.5), as
    :func:`viewer.dicom.io.header_fields.pixel_spacing` derives it."""
    value = h._raw(us.SEQUENCE_OF_ULTRASOUND_REGIONS)
    if not value:
        return None
    return us.region_pixel_spacing(_us_regions(value, h))


def _us_regions(value: bytes, h: Header) -> list[us.UsRegion]:
    """The items of a defined-length Sequence of Ultrasound Regions value (PS3.5 7.5)."""
    explicit, little = hp.encoding_of(h.syntax)
    source = hp.Source(lambda _size: b"", len(value), value)
    item_header = struct.Struct("<HHL" if little else ">HHL")
    regions: list[us.UsRegion] = []
    pos = 0
    while pos < len(value):
        group, element, length = item_header.unpack_from(value, pos)
        if (group << 16 | element) != hp.ITEM:
            raise hp.Unusual("sequence without item")
        end = None if length == hp.UNDEFINED_LENGTH else pos + 8 + length
        elements, pos = hp.walk_item(source, pos + 8, end, explicit, little, US_REGION_VRS, 1)
        item = Header({}, elements, h.syntax, little, US_REGION_VRS)
        regions.append(
            us.UsRegion(
                units_x=item.integer(us.PHYSICAL_UNITS_X_DIRECTION),
                units_y=item.integer(us.PHYSICAL_UNITS_Y_DIRECTION),
                delta_x=item.number(us.PHYSICAL_DELTA_X),
                delta_y=item.number(us.PHYSICAL_DELTA_Y),
            )
        )
    return regions


def _frame_time_ms(h: Header) -> float | None:
    """Frame Time, else from Cine Rate or Recommended Display Frame Rate (C.7.6.5)."""
    frame_time = h.number(0x00181063)
    if frame_time and frame_time > 0:
        return frame_time
    for tag in (0x00180040, 0x00082144):
        rate = h.number(tag)
        if rate and rate > 0:
            return 1000.0 / rate
    return None


def _grid_offsets(values: list[float] | None, frames: int) -> tuple[float, ...] | None:
    """Grid Frame Offset Vector (C.8.8.3.2) with one value per frame."""
    if frames < 2 or values is None or len(values) != frames:
        return None
    return tuple(values)


def series_info(h: Header, uid: str) -> SeriesInfo:
    """General Series module (PS3.3 C.7.3.1)."""
    return SeriesInfo(
        uid=uid,
        number=h.integer(0x00200011),
        modality=h.text(0x00080060),
        description=h.text(0x0008103E),
        body_part=h.text(0x00180015),
        date=h.text(0x00080021),
        time=h.text(0x00080031),
        frame_of_reference_uid=h.text(0x00200052),
    )


def study_info(h: Header, uid: str) -> StudyInfo:
    """General Study module (PS3.3 C.7.2.1)."""
    return StudyInfo(
        uid=uid,
        date=h.text(0x00080020),
        time=h.text(0x00080030),
        description=h.text(0x00081030),
        accession_number=h.text(0x00080050),
        study_id=h.text(0x00200010),
    )


def patient_info(h: Header) -> PatientInfo:
    """Patient module (PS3.3 C.7.1.1)."""
    return PatientInfo(
        patient_id=h.text(0x00100020),
        name=h.person_name(0x00100010),
        birth_date=h.text(0x00100030),
        sex=h.text(0x00100040),
    )
