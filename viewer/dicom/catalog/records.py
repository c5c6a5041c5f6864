"""Small frozen records of what indexing learns from a file's header.

No pydicom Dataset is kept: a 20,000-file CD must index into a few tens of MiB. One
:class:`InstanceRecord` per file (a few hundred bytes), shared :class:`SeriesInfo`,
:class:`StudyInfo` and :class:`PatientInfo` per UID (the catalog keeps the first it sees).

Attribute meanings follow PS3.3 (module in brackets):
patient (C.7.1.1), general study (C.7.2.1), general series (C.7.3.1), image plane (C.7.6.2),
image pixel (C.7.6.3), multi-frame (C.7.6.6), cine (C.7.6.5), multi-frame functional groups
(C.7.6.16).
"""

from __future__ import annotations

from dataclasses import dataclass

Vec3 = tuple[float, float, float]
Orientation = tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class PatientInfo:
    """Patient module (PS3.3 C.7.1.1). ``name`` is already formatted for people."""

    patient_id: str
    name: str
    birth_date: str = ""
    sex: str = ""

    @property
    def key(self) -> str:
        """Patients meet in one tree node by ID and name (IDs alone collide across sites)."""
        return f"{self.patient_id}\x00{self.name}"


@dataclass(frozen=True, slots=True)
class StudyInfo:
    """General Study module (PS3.3 C.7.2.1)."""

    uid: str
    date: str = ""
    time: str = ""
    description: str = ""
    accession_number: str = ""
    study_id: str = ""


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """General Series module (PS3.3 C.7.3.1) plus the Frame of Reference UID (C.7.4.1)."""

    uid: str
    number: int | None = None
    modality: str = ""
    description: str = ""
    body_part: str = ""
    date: str = ""
    time: str = ""
    frame_of_reference_uid: str = ""


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """Per-frame geometry and grouping keys of an enhanced multi-frame image.

    From the Per-frame and Shared Functional Groups (PS3.3 C.7.6.16): Plane Position (Patient),
    Plane Orientation (Patient), Pixel Measures, Frame Content (stack ID, in-stack position,
    temporal position) and the Dimension Index Values; the phase keys of MR frames: MR Echo
    (Effective Echo Time, C.8.13.5.2), Cardiac Synchronization (Nominal Cardiac Trigger Delay
    Time, C.7.6.16.2.7) and MR Diffusion (Diffusion b-value, C.8.13.5.9).
    """

    position: Vec3 | None = None
    orientation: Orientation | None = None
    pixel_spacing: tuple[float, float] | None = None
    slice_thickness: float | None = None
    stack_id: str = ""
    in_stack_position: int | None = None
    temporal_position: int | None = None
    dimension_index: tuple[int, ...] = ()
    echo_time: float | None = None
    trigger_delay: float | None = None
    b_value: float | None = None


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """What the viewer needs to know about one composite instance (one file).

    ``rows``/``columns`` are 0 for objects without pixel data (SR, KO, PR, RT structures...).
    ``frame_info`` is set for enhanced multi-frame images, one entry per frame.
    ``frame_offsets`` is a classic multi-frame's Grid Frame Offset Vector (RT Dose, PS3.3
    C.8.8.3.2), one value per frame, when it has one.
    ``pixel_spacing`` is (row spacing, column spacing) exactly as the attribute stores it:
    (between rows, between columns), PS3.3 10.7.1.3.
    """

    path: str
    sop_instance_uid: str
    sop_class_uid: str
    series_uid: str
    study_uid: str
    instance_number: int | None = None
    rows: int = 0
    columns: int = 0
    frames: int = 1
    position: Vec3 | None = None
    orientation: Orientation | None = None
    pixel_spacing: tuple[float, float] | None = None
    slice_thickness: float | None = None
    slice_location: float | None = None
    image_type: tuple[str, ...] = ()
    acquisition_number: int | None = None
    temporal_position: int | None = None
    trigger_time: float | None = None
    echo_number: int | None = None
    diffusion_b_value: float | None = None
    photometric: str = ""
    samples_per_pixel: int = 1
    bits_allocated: int = 0
    transfer_syntax: str = ""
    frame_time_ms: float | None = None
    frame_info: tuple[FrameInfo, ...] | None = None
    frame_offsets: tuple[float, ...] | None = None

    @property
    def has_pixels(self) -> bool:
        return self.rows > 0 and self.columns > 0


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """One indexed file: its instance record and the entities it belongs to."""

    instance: InstanceRecord
    series: SeriesInfo
    study: StudyInfo
    patient: PatientInfo


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file the indexer looked at and left out, with a reason a person can read."""

    path: str
    reason: str


#: Media Storage Directory Storage (PS3.4 Annex B): a DICOMDIR, an index, not an instance.
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"


def unusable(
    path: str, sop_class: str, sop_instance: str, series_uid: str, study_uid: str
) -> Skipped | None:
    """Why a header cannot become an :class:`InstanceRecord` (a DICOMDIR, or an identifying
    UID missing: PS3.3 C.12.1, C.7.3.1, C.7.2.1), or None. Both header readers (the lean one
    and pydicom's) ask this, so they skip the same files for the same reasons."""
    if sop_class == DICOMDIR_SOP_CLASS:
        return Skipped(path, "DICOMDIR (media index)")
    missing = [
        name
        for name, value in (
            ("SOP Instance UID", sop_instance),
            ("Series Instance UID", series_uid),
            ("Study Instance UID", study_uid),
        )
        if not value
    ]
    if missing:
        return Skipped(path, f"not a usable DICOM instance (no {', '.join(missing)})")
    return None
