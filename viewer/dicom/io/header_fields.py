"""Turn a header Dataset into frozen records, tolerating the values real files contain.

Numeric strings may be empty, NaN, text or have the wrong multiplicity (PS3.5 6.2 DS/IS); each
accessor returns ``None`` for what it cannot use instead of raising, so one odd attribute costs
that attribute, not the file.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Iterable
from typing import Any

from pydicom.dataset import Dataset

from viewer.dicom.catalog.person_name import format_person_name
from viewer.dicom.catalog.records import (
    FrameInfo,
    InstanceRecord,
    Orientation,
    PatientInfo,
    ScannedFile,
    SeriesInfo,
    Skipped,
    StudyInfo,
    Vec3,
    unusable,
)
from viewer.dicom.catalog.ultrasound_regions import (
    PHYSICAL_DELTA_X,
    PHYSICAL_DELTA_Y,
    PHYSICAL_UNITS_X_DIRECTION,
    PHYSICAL_UNITS_Y_DIRECTION,
    SEQUENCE_OF_ULTRASOUND_REGIONS,
    UsRegion,
    region_pixel_spacing,
)

#: Diffusion b-value (0018,9087), read directly so private MR diffusion tags are not needed.
DIFFUSION_B_VALUE = 0x00189087


def scanned_file_from_dataset(path: str, ds: Dataset) -> ScannedFile | Skipped:
    """Records for one file's header, or Skipped when it is not a usable composite instance."""
    meta = getattr(ds, "file_meta", None)
    sop_class = text(ds, "SOPClassUID") or (text(meta, "MediaStorageSOPClassUID") if meta else "")
    sop_instance = text(ds, "SOPInstanceUID") or (
        text(meta, "MediaStorageSOPInstanceUID") if meta else ""
    )
    series_uid = text(ds, "SeriesInstanceUID")
    study_uid = text(ds, "StudyInstanceUID")
    skipped = unusable(path, sop_class, sop_instance, series_uid, study_uid)
    if skipped is not None:
        return skipped
    instance = instance_record(path, ds, sop_instance, sop_class, series_uid, study_uid)
    return ScannedFile(
        instance, series_info(ds, series_uid), study_info(ds, study_uid), patient(ds)
    )


def instance_record(
    path: str, ds: Dataset, sop_instance: str, sop_class: str, series_uid: str, study_uid: str
) -> InstanceRecord:
    """The per-file record (Image Plane C.7.6.2, Image Pixel C.7.6.3, Multi-frame C.7.6.6)."""
    meta = getattr(ds, "file_meta", None)
    frames = integer(ds, "NumberOfFrames") or 1
    shared = first_item(ds, "SharedFunctionalGroupsSequence")
    return InstanceRecord(
        path=path,
        sop_instance_uid=sys.intern(sop_instance),
        sop_class_uid=sys.intern(sop_class),
        series_uid=sys.intern(series_uid),
        study_uid=sys.intern(study_uid),
        instance_number=integer(ds, "InstanceNumber"),
        rows=integer(ds, "Rows") or 0,
        columns=integer(ds, "Columns") or 0,
        frames=max(1, frames),
        position=vec3(ds, "ImagePositionPatient") or _functional(shared, "position"),
        orientation=orientation(ds) or _functional(shared, "orientation"),
        pixel_spacing=pixel_spacing(ds, shared),
        slice_thickness=number(ds, "SliceThickness"),
        slice_location=number(ds, "SliceLocation"),
        image_type=tuple(sys.intern(v) for v in strings(ds, "ImageType")),
        acquisition_number=integer(ds, "AcquisitionNumber"),
        temporal_position=integer(ds, "TemporalPositionIdentifier"),
        trigger_time=number(ds, "TriggerTime"),
        echo_number=integer(ds, "EchoNumbers"),
        diffusion_b_value=number(ds, DIFFUSION_B_VALUE),
        photometric=sys.intern(text(ds, "PhotometricInterpretation")),
        samples_per_pixel=integer(ds, "SamplesPerPixel") or 1,
        bits_allocated=integer(ds, "BitsAllocated") or 0,
        transfer_syntax=sys.intern(text(meta, "TransferSyntaxUID")) if meta else "",
        frame_time_ms=frame_time_ms(ds),
        frame_info=per_frame_info(ds, frames, shared),
        frame_offsets=grid_frame_offsets(ds, frames),
    )


def pixel_spacing(ds: Dataset, shared: Dataset | None) -> tuple[float, float] | None:
    """Pixel Spacing (PS3.3 10.7.1.3), else the shared Pixel Measures (C.7.6.16.2.1), else an
    ultrasound image's calibration from its Sequence of Ultrasound Regions (C.8.5.5)."""
    return (
        pair(ds, "PixelSpacing")
        or _functional(shared, "pixel_spacing")
        or region_pixel_spacing(us_regions(ds))
    )


def us_regions(ds: Dataset) -> list[UsRegion]:
    """The calibration of each item of the Sequence of Ultrasound Regions (C.8.5.5)."""
    try:
        element = ds.get(SEQUENCE_OF_ULTRASOUND_REGIONS)
        items = list(element.value) if element is not None and element.value else []
    except Exception:  # an unreadable sequence costs the calibration, not the file
        return []
    return [
        UsRegion(
            units_x=integer(item, PHYSICAL_UNITS_X_DIRECTION),
            units_y=integer(item, PHYSICAL_UNITS_Y_DIRECTION),
            delta_x=number(item, PHYSICAL_DELTA_X),
            delta_y=number(item, PHYSICAL_DELTA_Y),
        )
        for item in items
        if isinstance(item, Dataset)
    ]


def series_info(ds: Dataset, uid: str) -> SeriesInfo:
    """General Series module (PS3.3 C.7.3.1)."""
    return SeriesInfo(
        uid=uid,
        number=integer(ds, "SeriesNumber"),
        modality=text(ds, "Modality"),
        description=text(ds, "SeriesDescription"),
        body_part=text(ds, "BodyPartExamined"),
        date=text(ds, "SeriesDate"),
        time=text(ds, "SeriesTime"),
        frame_of_reference_uid=text(ds, "FrameOfReferenceUID"),
    )


def study_info(ds: Dataset, uid: str) -> StudyInfo:
    """General Study module (PS3.3 C.7.2.1)."""
    return StudyInfo(
        uid=uid,
        date=text(ds, "StudyDate"),
        time=text(ds, "StudyTime"),
        description=text(ds, "StudyDescription"),
        accession_number=text(ds, "AccessionNumber"),
        study_id=text(ds, "StudyID"),
    )


def patient(ds: Dataset) -> PatientInfo:
    """Patient module (PS3.3 C.7.1.1), the name formatted in the file's character set."""
    try:
        name = format_person_name(textual(ds, 0x00100010))
    except Exception:  # an undecodable name must not cost the file
        name = "(unreadable name)"
    return PatientInfo(
        patient_id=text(ds, "PatientID"),
        name=name,
        birth_date=text(ds, "PatientBirthDate"),
        sex=text(ds, "PatientSex"),
    )


def textual(ds: Dataset, tag: int) -> Any:
    """A value, converted to its dictionary VR when it was read as UN (PS3.5 6.2.2: a value
    too long for its VR's 16-bit length is written as UN) and that VR is textual."""
    element = ds.get(tag)
    if element is None or element.VR != "UN" or not isinstance(element.value, bytes):
        return None if element is None else element.value
    from pydicom.datadict import dictionary_VR
    from pydicom.dataelem import RawDataElement
    from pydicom.values import convert_value

    try:
        vr = dictionary_VR(tag)
        if vr not in TEXT_VRS:
            return element.value
        raw = RawDataElement(element.tag, vr, len(element.value), element.value, 0, False, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return convert_value(vr, raw, getattr(ds, "_character_set", None))
    except Exception:  # fault boundary: the bytes as Latin-1 text
        return element.value.decode("latin-1", "replace")


#: VRs whose values are text (PS3.5 6.2).
TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
     "UR", "UT"}
)  # fmt: skip


def frame_time_ms(ds: Dataset) -> float | None:
    """Cine frame time (C.7.6.5): Frame Time, else from Cine Rate or Recommended Rate."""
    frame_time = number(ds, "FrameTime")
    if frame_time and frame_time > 0:
        return frame_time
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = number(ds, keyword)
        if rate and rate > 0:
            return 1000.0 / rate
    return None


def grid_frame_offsets(ds: Dataset, frames: int) -> tuple[float, ...] | None:
    """Grid Frame Offset Vector (PS3.3 C.8.8.3.2) with one value per frame, else None."""
    values = numbers(ds, "GridFrameOffsetVector")
    if frames < 2 or values is None or len(values) != frames:
        return None
    return tuple(values)


def per_frame_info(
    ds: Dataset, frames: int, shared: Dataset | None
) -> tuple[FrameInfo, ...] | None:
    """Per-frame geometry of an enhanced multi-frame image (PS3.3 C.7.6.16), else None."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if not per_frame or len(per_frame) != frames:
        return None
    return tuple(frame_info(item, shared) for item in per_frame)


def frame_info(item: Dataset, shared: Dataset | None) -> FrameInfo:
    """One frame's functional groups, per-frame values taking precedence over shared ones."""
    content = first_item(item, "FrameContentSequence")
    return FrameInfo(
        position=_functional(item, "position") or _functional(shared, "position"),
        orientation=_functional(item, "orientation") or _functional(shared, "orientation"),
        pixel_spacing=_functional(item, "pixel_spacing") or _functional(shared, "pixel_spacing"),
        slice_thickness=_functional(item, "thickness") or _functional(shared, "thickness"),
        stack_id=text(content, "StackID") if content else "",
        in_stack_position=integer(content, "InStackPositionNumber") if content else None,
        temporal_position=integer(content, "TemporalPositionIndex") if content else None,
        dimension_index=tuple(integers(content, "DimensionIndexValues")) if content else (),
        echo_time=_macro_number(item, shared, "MREchoSequence", "EffectiveEchoTime"),
        trigger_delay=_macro_number(
            item, shared, "CardiacSynchronizationSequence", "NominalCardiacTriggerDelayTime"
        ),
        b_value=_macro_number(item, shared, "MRDiffusionSequence", "DiffusionBValue"),
    )


def _macro_number(item: Dataset, shared: Dataset | None, macro: str, keyword: str) -> float | None:
    """A number from a functional group macro, per-frame first, then shared (C.7.6.16)."""
    for group in (item, shared):
        value = number(first_item(group, macro), keyword)
        if value is not None:
            return value
    return None


def _functional(group: Dataset | None, what: str) -> Any:
    """A value from a functional group item: Plane Position, Plane Orientation, Pixel Measures."""
    if group is None:
        return None
    if what == "position":
        item = first_item(group, "PlanePositionSequence")
        return vec3(item, "ImagePositionPatient") if item else None
    if what == "orientation":
        item = first_item(group, "PlaneOrientationSequence")
        return orientation(item) if item else None
    item = first_item(group, "PixelMeasuresSequence")
    if item is None:
        return None
    return pair(item, "PixelSpacing") if what == "pixel_spacing" else number(item, "SliceThickness")


def first_item(ds: Dataset | None, keyword: str) -> Dataset | None:
    """The first item of a sequence, or None."""
    if ds is None:
        return None
    try:
        sequence = ds.get(keyword)
        return sequence[0] if sequence else None
    except Exception:
        return None


def raw_value(ds: Dataset | None, key: str | int) -> Any:
    if ds is None:
        return None
    try:
        element = ds.get(key)
        if element is None:
            return None
        return element.value if isinstance(key, int) else element
    except Exception:
        return None


def text(ds: Dataset | None, key: str | int) -> str:
    """A string attribute, stripped; multi-valued ones joined with backslash."""
    value = raw_value(ds, key)
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").strip(" \x00")
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip(" \x00")


def strings(ds: Dataset | None, key: str | int) -> list[str]:
    value = raw_value(ds, key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    try:
        return [str(v) for v in value]
    except TypeError:
        return [str(value)]


def numbers(ds: Dataset | None, key: str | int) -> list[float] | None:
    """All finite numbers of a DS/FD/IS value, or None when any is missing or unusable."""
    value = raw_value(ds, key)
    if value is None or value == "":
        return None
    values: Iterable[Any] = value if _is_multi(value) else [value]
    result: list[float] = []
    for item in values:
        try:
            number_value = float(item)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number_value):
            return None
        result.append(number_value)
    return result or None


def _is_multi(value: Any) -> bool:
    return not isinstance(value, str | bytes) and hasattr(value, "__iter__")


def number(ds: Dataset | None, key: str | int) -> float | None:
    values = numbers(ds, key)
    return values[0] if values else None


def integer(ds: Dataset | None, key: str | int) -> int | None:
    value = number(ds, key)
    return round(value) if value is not None else None


def integers(ds: Dataset | None, key: str | int) -> list[int]:
    return [round(v) for v in numbers(ds, key) or []]


def vec3(ds: Dataset | None, key: str | int) -> Vec3 | None:
    values = numbers(ds, key)
    if values is None or len(values) != 3:
        return None
    return (values[0], values[1], values[2])


def pair(ds: Dataset | None, key: str | int) -> tuple[float, float] | None:
    values = numbers(ds, key)
    if values is None or len(values) != 2 or min(values) <= 0:
        return None
    return (values[0], values[1])


def orientation(ds: Dataset | None) -> Orientation | None:
    values = numbers(ds, "ImageOrientationPatient")
    if values is None or len(values) != 6:
        return None
    return (values[0], values[1], values[2], values[3], values[4], values[5])
