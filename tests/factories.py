"""Synthetic but realistic DICOM series written with pydicom, for the indexing tests.

Every writer returns the *truth* the tests check the indexer against: the files in true slice
order (ascending along the normal row x column), the exact positions as stored (after DS
formatting), the orientation and pixel spacing. Images are tiny (16 x 16 by default) so a test
writes a whole series in milliseconds; each frame's pixels are filled with its true index so a
test can tell frames apart.

Orientation names: Image Orientation (Patient) values as scanners write them, LPS.

- axial: row +x (towards patient left), column +y (towards posterior); normal +z (head)
- coronal: row +x, column -z (feet); normal +y
- sagittal: row +y, column -z; normal -x
- oblique: axial rotated 30 degrees about x, then 20 degrees about z
"""

from __future__ import annotations

import math
import random
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import config
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    CTImageStorage,
    EnhancedCTImageStorage,
    EnhancedMRImageStorage,
    ExplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    MRImageStorage,
    UltrasoundMultiFrameImageStorage,
    XRayAngiographicImageStorage,
    generate_uid,
)

Vec3 = tuple[float, float, float]
Orientation = tuple[float, float, float, float, float, float]

AXIAL: Orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL: Orientation = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL: Orientation = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def _rotation(axis: str, degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _oblique() -> Orientation:
    rotation = _rotation("z", 20.0) @ _rotation("x", 30.0)
    row = rotation @ np.array([1.0, 0.0, 0.0])
    column = rotation @ np.array([0.0, 1.0, 0.0])
    return tuple(float(ds_value(v)) for v in (*row, *column))  # type: ignore[return-value]


def ds_value(value: float) -> str:
    """A Decimal String of at most 16 characters (PS3.5 6.2), as a scanner would write it."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


OBLIQUE: Orientation = _oblique()
ORIENTATIONS: dict[str, Orientation] = {
    "axial": AXIAL,
    "coronal": CORONAL,
    "sagittal": SAGITTAL,
    "oblique": OBLIQUE,
}


def normal_of(orientation: Orientation) -> np.ndarray:
    normal = np.cross(orientation[:3], orientation[3:])
    return normal / np.linalg.norm(normal)


def stored(vector: Sequence[float] | np.ndarray) -> Vec3:
    """The value a reader gets back after the vector was written as DS."""
    return (float(ds_value(vector[0])), float(ds_value(vector[1])), float(ds_value(vector[2])))


# ---------------------------------------------------------------------------------------------
# Truth records


@dataclass
class SeriesTruth:
    """What a written series really is, slices in ascending order along the normal."""

    folder: Path
    study_uid: str
    series_uid: str
    orientation: Orientation
    pixel_spacing: tuple[float, float]  # (between rows, between columns), as stored
    rows: int
    columns: int
    paths: list[str] = field(default_factory=list)
    positions: list[Vec3] = field(default_factory=list)
    instance_numbers: list[int] = field(default_factory=list)

    @property
    def normal(self) -> np.ndarray:
        return normal_of(self.orientation)

    @property
    def sources(self) -> list[tuple[str, int]]:
        return [(path, 0) for path in self.paths]


@dataclass
class EnhancedFrame:
    """One frame of an enhanced multi-frame image (Frame Content + Plane Position)."""

    position: Vec3
    stack_id: str = "1"
    in_stack_position: int = 1
    temporal_index: int | None = 1  # None: no Temporal Position Index
    orientation: Orientation | None = None  # per-frame orientation (else shared)
    echo_time: float | None = None  # MR Echo functional group (Effective Echo Time)
    trigger_delay: float | None = None  # Cardiac Synchronization (Nominal Trigger Delay)
    b_value: float | None = None  # MR Diffusion (Diffusion b-value)


@dataclass
class EnhancedTruth:
    path: str
    study_uid: str
    series_uid: str
    frames: list[EnhancedFrame]  # in the order stored in the file

    def frame_order(
        self, stack_id: str | None = None, temporal_index: int | None = None
    ) -> list[int]:
        """Stored frame numbers of one stack/phase, ascending along its normal."""
        chosen = [
            (index, frame)
            for index, frame in enumerate(self.frames)
            if (stack_id is None or frame.stack_id == stack_id)
            and (temporal_index is None or frame.temporal_index == temporal_index)
        ]
        return [
            index
            for index, frame in sorted(
                chosen,
                key=lambda pair: float(
                    np.dot(pair[1].position, normal_of(pair[1].orientation or AXIAL))
                ),
            )
        ]


# ---------------------------------------------------------------------------------------------
# Low-level dataset construction


def base_dataset(
    sop_class: str,
    *,
    study_uid: str,
    series_uid: str,
    modality: str,
    patient_name: str = "Test^Patient",
    patient_id: str = "P0001",
    series_number: int = 1,
    series_description: str = "synthetic",
    study_description: str = "Synthetic study",
    study_date: str = "20240102",
    frame_of_reference_uid: str | None = None,
) -> Dataset:
    """Patient, study, series, equipment and SOP common modules with proper file meta."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    sop_instance = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = sop_instance
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.StudyTime = "101500"
    ds.SeriesTime = "101700"
    ds.AccessionNumber = "A0001"
    ds.Modality = modality
    ds.Manufacturer = "Synthetic"
    ds.StudyDescription = study_description
    ds.SeriesDescription = series_description
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.FrameOfReferenceUID = frame_of_reference_uid or generate_uid(entropy_srcs=[series_uid])
    ds.PositionReferenceIndicator = ""
    return ds


def set_pixels(ds: Dataset, frames: np.ndarray) -> None:
    """Image Pixel module for unsigned 16-bit monochrome frames, shape (frames, rows, cols)."""
    data = np.ascontiguousarray(frames, dtype=np.uint16)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = int(data.shape[1])
    ds.Columns = int(data.shape[2])
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = data.tobytes()


def save(ds: Dataset, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with config.disable_value_validation():
        ds.save_as(path, enforce_file_format=True)
    return str(path)


#: Frame k holds a ramp of 0..63 plus 100 x (k mod FRAME_VALUE_PERIOD): ``value // 100`` names
#: frames 0-39, and every value fits the 12 bits stored (39 x 100 + 63 = 3963 < 4096), however
#: many frames (100 x k would pass 12 bits at frame 41 and overflow uint16 at frame 655).
FRAME_VALUE_PERIOD = 40


def frame_value(k: int) -> int:
    """The value added to the ramp in frame (or slice) ``k``."""
    return 100 * (k % FRAME_VALUE_PERIOD)


def _frame_pixels(value: int, rows: int, columns: int, count: int = 1) -> np.ndarray:
    base = np.arange(rows * columns, dtype=np.uint16).reshape(rows, columns) % 64
    return np.stack([base + frame_value(value + i) for i in range(count)])


# ---------------------------------------------------------------------------------------------
# Single-frame series


def slice_positions(
    orientation: Orientation,
    offsets: Sequence[float],
    origin: Vec3 = (-40.0, -30.0, 10.0),
    tilt_deg: float = 0.0,
) -> list[Vec3]:
    """Stored positions of slices ``offsets`` mm along the normal from ``origin``.

    ``tilt_deg`` shears the stack: each slice also moves tan(tilt) x offset along the column
    direction (for an axial stack, along y), as a tilted CT gantry does.
    """
    normal = normal_of(orientation)
    column = np.asarray(orientation[3:], dtype=float)
    shear = math.tan(math.radians(tilt_deg))
    return [
        stored(np.asarray(origin) + offset * normal + offset * shear * column) for offset in offsets
    ]


def write_series(
    folder: Path | str,
    *,
    slices: int = 6,
    orientation: str | Orientation = "axial",
    spacing: float = 2.5,
    offsets: Sequence[float] | None = None,
    positions: Sequence[Vec3] | None = None,
    origin: Vec3 = (-40.0, -30.0, 10.0),
    pixel_spacing: tuple[float, float] = (0.6, 0.8),
    rows: int = 16,
    columns: int = 16,
    tilt_deg: float = 0.0,
    modality: str = "CT",
    shuffle_names: bool = True,
    reverse_instance_numbers: bool = False,
    study_uid: str | None = None,
    series_uid: str | None = None,
    series_number: int = 1,
    series_description: str = "synthetic",
    patient_name: str = "Test^Patient",
    patient_id: str = "P0001",
    study_date: str = "20240102",
    name_prefix: str = "IM",
    extra: Mapping[str, Any] | None = None,
    per_slice: Callable[[int, Dataset], None] | None = None,
    seed: int = 7,
) -> SeriesTruth:
    """Write a single-frame series; return its truth in ascending order along the normal.

    File names are a shuffled permutation of the slice order (unless ``shuffle_names`` is
    False); Instance Numbers follow the true order, or run backwards with
    ``reverse_instance_numbers``. ``offsets`` (mm along the normal, any order) or ``positions``
    override ``slices``/``spacing`` for uneven, missing or duplicate slices. Slice k (in that
    order) holds a 0-63 ramp plus :func:`frame_value` (k), 100 x k for the first 40 slices.
    """
    folder = Path(folder)
    iop = ORIENTATIONS[orientation] if isinstance(orientation, str) else orientation
    if positions is None:
        distances = sorted(offsets) if offsets is not None else [i * spacing for i in range(slices)]
        positions = slice_positions(iop, distances, origin, tilt_deg)
    else:
        normal = normal_of(iop)
        positions = sorted((stored(p) for p in positions), key=lambda p: float(np.dot(p, normal)))
    count = len(positions)
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    sop_class = CTImageStorage if modality == "CT" else MRImageStorage
    rng = random.Random(seed)
    names = list(range(count))
    if shuffle_names:
        rng.shuffle(names)
    numbers = (
        [count - k for k in range(count)]
        if reverse_instance_numbers
        else [k + 1 for k in range(count)]
    )
    truth = SeriesTruth(
        folder,
        study_uid,
        series_uid,
        stored(iop[:3]) + stored(iop[3:]),
        (float(ds_value(pixel_spacing[0])), float(ds_value(pixel_spacing[1]))),
        rows,
        columns,
    )
    write_order = list(range(count))
    rng.shuffle(write_order)
    paths: dict[int, str] = {}
    for k in write_order:
        ds = base_dataset(
            sop_class,
            study_uid=study_uid,
            series_uid=series_uid,
            modality=modality,
            patient_name=patient_name,
            patient_id=patient_id,
            series_number=series_number,
            series_description=series_description,
            study_date=study_date,
        )
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceNumber = numbers[k]
        ds.AcquisitionNumber = 1
        ds.ImagePositionPatient = [ds_value(v) for v in positions[k]]
        ds.ImageOrientationPatient = [ds_value(v) for v in iop]
        ds.PixelSpacing = [ds_value(v) for v in pixel_spacing]
        ds.SliceThickness = ds_value(spacing)
        ds.SliceLocation = ds_value(float(np.dot(positions[k], normal_of(iop))))
        if modality == "CT":
            ds.RescaleIntercept = "-1024"
            ds.RescaleSlope = "1"
            ds.RescaleType = "HU"
            ds.KVP = "120"
        else:
            ds.MagneticFieldStrength = "3"
            ds.EchoTime = "10"
            ds.RepetitionTime = "500"
        ds.WindowCenter = "40"
        ds.WindowWidth = "400"
        for keyword, value in (extra or {}).items():
            setattr(ds, keyword, value)
        if per_slice is not None:
            per_slice(k, ds)
        set_pixels(ds, _frame_pixels(k, rows, columns))
        paths[k] = save(ds, folder / f"{name_prefix}{names[k]:04d}.dcm")
    truth.paths = [paths[k] for k in range(count)]
    truth.positions = list(positions)
    truth.instance_numbers = numbers
    return truth


def write_phases(
    folder: Path | str,
    keyword: str,
    values: Sequence[Any],
    **kwargs: Any,
) -> list[SeriesTruth]:
    """One series, the same slice positions repeated once per value of ``keyword``.

    E.g. ``EchoNumbers`` for multi-echo, ``TemporalPositionIdentifier`` or ``TriggerTime`` for
    a multi-phase (cardiac / dynamic) acquisition. Returns one truth per phase, same UIDs.
    """
    study_uid = kwargs.pop("study_uid", None) or generate_uid()
    series_uid = kwargs.pop("series_uid", None) or generate_uid()
    extra = dict(kwargs.pop("extra", None) or {})
    truths = []
    for index, value in enumerate(values):
        truths.append(
            write_series(
                folder,
                study_uid=study_uid,
                series_uid=series_uid,
                name_prefix=f"PH{index}_",
                extra={**extra, keyword: value},
                seed=11 + index,
                **kwargs,
            )
        )
    return truths


def write_localizer(
    folder: Path | str,
    *,
    study_uid: str,
    series_uid: str,
    orientation: str | Orientation = "coronal",
    rows: int = 16,
    columns: int = 16,
    instance_number: int = 1,
    name: str = "LOC.dcm",
) -> str:
    """One scout image (Image Type ...\\LOCALIZER) in the given series."""
    iop = ORIENTATIONS[orientation] if isinstance(orientation, str) else orientation
    ds = base_dataset(CTImageStorage, study_uid=study_uid, series_uid=series_uid, modality="CT")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    ds.InstanceNumber = instance_number
    ds.ImagePositionPatient = ["-250", "0", "100"]
    ds.ImageOrientationPatient = [ds_value(v) for v in iop]
    ds.PixelSpacing = ["1.5", "1.5"]
    ds.SliceThickness = "500"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    set_pixels(ds, _frame_pixels(0, rows, columns))
    return save(ds, Path(folder) / name)


# ---------------------------------------------------------------------------------------------
# Multi-frame


def write_cine(
    path: Path | str,
    *,
    frames: int = 8,
    frame_time_ms: float = 33.3,
    modality: str = "US",
    rows: int = 16,
    columns: int = 16,
    study_uid: str | None = None,
    series_uid: str | None = None,
    instance_number: int = 1,
) -> str:
    """A classic multi-frame cine loop (US or XA): Number of Frames, Frame Time, no positions."""
    sop_class = (
        UltrasoundMultiFrameImageStorage if modality == "US" else XRayAngiographicImageStorage
    )
    ds = base_dataset(
        sop_class,
        study_uid=study_uid or generate_uid(),
        series_uid=series_uid or generate_uid(),
        modality=modality,
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.InstanceNumber = instance_number
    ds.NumberOfFrames = frames
    ds.FrameTime = ds_value(frame_time_ms)
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.CineRate = round(1000.0 / frame_time_ms)
    set_pixels(ds, _frame_pixels(0, rows, columns, frames))
    return save(ds, Path(path))


def enhanced_frames(
    *,
    slices: int = 5,
    spacing: float = 3.0,
    stacks: Sequence[tuple[str, Orientation]] = (("1", AXIAL),),
    phases: int = 1,
    origin: Vec3 = (-20.0, -25.0, -5.0),
) -> list[EnhancedFrame]:
    """Frames for ``stacks`` (Stack ID, orientation) x ``phases`` x ``slices``, in true order."""
    frames = []
    for stack_id, orientation in stacks:
        positions = slice_positions(orientation, [i * spacing for i in range(slices)], origin)
        for phase in range(1, phases + 1):
            for index, position in enumerate(positions):
                frames.append(
                    EnhancedFrame(position, stack_id, index + 1, phase, orientation=orientation)
                )
    return frames


def enhanced_echo_frames(
    *, slices: int = 4, echo_times: Sequence[float] = (10.0, 40.0, 90.0), spacing: float = 3.0
) -> list[EnhancedFrame]:
    """A multi-echo acquisition: every slice once per echo, no Temporal Position Index."""
    positions = slice_positions(AXIAL, [i * spacing for i in range(slices)], (-20.0, -25.0, -5.0))
    return [
        EnhancedFrame(position, "1", index + 1, None, echo_time=echo)
        for echo in echo_times
        for index, position in enumerate(positions)
    ]


def write_enhanced(
    path: Path | str,
    frames: Sequence[EnhancedFrame],
    *,
    modality: str = "MR",
    pixel_spacing: tuple[float, float] = (0.9, 0.7),
    slice_thickness: float = 3.0,
    shuffle: bool = True,
    shared_orientation: bool | None = None,
    study_uid: str | None = None,
    series_uid: str | None = None,
    seed: int = 3,
) -> EnhancedTruth:
    """An Enhanced MR/CT Image with Shared and Per-frame Functional Groups (PS3.3 C.7.6.16).

    Shared: Pixel Measures and (when every frame has the same one) Plane Orientation.
    Per frame: Plane Position, Frame Content (Stack ID, In-Stack Position Number, Temporal
    Position Index, Dimension Index Values) and Plane Orientation when not shared. Frames are
    stored shuffled unless ``shuffle`` is False.
    """
    stored_frames = list(frames)
    if shuffle:
        random.Random(seed).shuffle(stored_frames)
    orientations = {frame.orientation or AXIAL for frame in stored_frames}
    share = len(orientations) == 1 if shared_orientation is None else shared_orientation
    sop_class = EnhancedMRImageStorage if modality == "MR" else EnhancedCTImageStorage
    ds = base_dataset(
        sop_class,
        study_uid=study_uid or generate_uid(),
        series_uid=series_uid or generate_uid(),
        modality=modality,
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    ds.InstanceNumber = 1
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = "101800"
    ds.AcquisitionDateTime = ds.StudyDate + "101800"
    ds.NumberOfFrames = len(stored_frames)
    dimension_uid = generate_uid()
    ds.DimensionOrganizationSequence = DicomSequence(
        [_item(DimensionOrganizationUID=dimension_uid)]
    )
    ds.DimensionIndexSequence = DicomSequence(
        [
            _item(
                DimensionOrganizationUID=dimension_uid,
                DimensionIndexPointer=0x00209056,  # Stack ID
                FunctionalGroupPointer=0x00209111,  # Frame Content Sequence
            ),
            _item(
                DimensionOrganizationUID=dimension_uid,
                DimensionIndexPointer=0x00209057,  # In-Stack Position Number
                FunctionalGroupPointer=0x00209111,
            ),
            _third_dimension(dimension_uid, stored_frames),
        ]
    )
    echo_rank: dict[float | None, int] = {
        echo: rank for rank, echo in enumerate(sorted(_echo_times(stored_frames)), 1)
    }
    shared = Dataset()
    shared.PixelMeasuresSequence = DicomSequence(
        [
            _item(
                PixelSpacing=[ds_value(v) for v in pixel_spacing],
                SliceThickness=ds_value(slice_thickness),
            )
        ]
    )
    if share:
        only = next(iter(orientations))
        shared.PlaneOrientationSequence = DicomSequence(
            [_item(ImageOrientationPatient=[ds_value(v) for v in only])]
        )
    if modality == "CT":
        shared.PixelValueTransformationSequence = DicomSequence(
            [_item(RescaleIntercept="-1024", RescaleSlope="1", RescaleType="HU")]
        )
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per_frame = []
    for frame in stored_frames:
        item = Dataset()
        item.PlanePositionSequence = DicomSequence(
            [_item(ImagePositionPatient=[ds_value(v) for v in frame.position])]
        )
        if not share:
            item.PlaneOrientationSequence = DicomSequence(
                [_item(ImageOrientationPatient=[ds_value(v) for v in frame.orientation or AXIAL])]
            )
        content = _item(
            StackID=frame.stack_id,
            InStackPositionNumber=frame.in_stack_position,
            DimensionIndexValues=[
                int(frame.stack_id) if frame.stack_id.isdigit() else 1,
                frame.in_stack_position,
                frame.temporal_index
                if frame.temporal_index is not None
                else echo_rank.get(frame.echo_time, 1),
            ],
        )
        if frame.temporal_index is not None:
            content.TemporalPositionIndex = frame.temporal_index
        item.FrameContentSequence = DicomSequence([content])
        _add_mr_phase_groups(item, frame)
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    set_pixels(
        ds,
        np.concatenate(
            [_frame_pixels(index, 16, 16) for index in range(len(stored_frames))], axis=0
        ),
    )
    written = save(ds, Path(path))
    return EnhancedTruth(written, ds.StudyInstanceUID, ds.SeriesInstanceUID, stored_frames)


def _echo_times(frames: Sequence[EnhancedFrame]) -> set[float]:
    return {frame.echo_time for frame in frames if frame.echo_time is not None}


def _third_dimension(dimension_uid: str, frames: Sequence[EnhancedFrame]) -> Dataset:
    """Temporal Position Index, or Effective Echo Time when the frames have no temporal index."""
    if all(frame.temporal_index is None for frame in frames) and _echo_times(frames):
        return _item(
            DimensionOrganizationUID=dimension_uid,
            DimensionIndexPointer=0x00189082,  # Effective Echo Time
            FunctionalGroupPointer=0x00189114,  # MR Echo Sequence
        )
    return _item(
        DimensionOrganizationUID=dimension_uid,
        DimensionIndexPointer=0x00209128,  # Temporal Position Index
        FunctionalGroupPointer=0x00209111,
    )


def _add_mr_phase_groups(item: Dataset, frame: EnhancedFrame) -> None:
    """MR Echo (C.8.13.5.2), Cardiac Synchronization (C.7.6.16.2.7), MR Diffusion (C.8.13.5.9)."""
    if frame.echo_time is not None:
        item.MREchoSequence = DicomSequence([_item(EffectiveEchoTime=frame.echo_time)])
    if frame.trigger_delay is not None:
        item.CardiacSynchronizationSequence = DicomSequence(
            [_item(NominalCardiacTriggerDelayTime=frame.trigger_delay)]
        )
    if frame.b_value is not None:
        item.MRDiffusionSequence = DicomSequence(
            [_item(DiffusionBValue=frame.b_value, DiffusionDirectionality="ISOTROPIC")]
        )


def _item(**attributes: Any) -> Dataset:
    item = Dataset()
    for keyword, value in attributes.items():
        setattr(item, keyword, value)
    return item


# ---------------------------------------------------------------------------------------------
# DICOMDIR


def write_fileset(source_paths: Sequence[str], destination: Path | str) -> Path:
    """Copy instances into a new File-set with a DICOMDIR, as media creators do (pydicom)."""
    from viewer.dicom.write.fileset import write_file_set

    return write_file_set([Path(p) for p in source_paths], destination)


def write_zip(
    archive: Path,
    folder: Path,
    under: str,
    extra: Mapping[str, str | Path] | None = None,
) -> Path:
    """A deflated zip of every file below ``folder`` as ``under/<its path in folder>`` (a CD
    copied into a zip), then ``extra`` members: name -> a file to add, or text. Returns it."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path(under) / path.relative_to(folder))
        for name, content in (extra or {}).items():
            if isinstance(content, Path):
                zf.write(content, name)
            else:
                zf.writestr(name, content)
    return archive


def close_fileset(fileset: Any) -> None:
    """Remove the staging folder pydicom's FileSet keeps (else a ResourceWarning at exit)."""
    from viewer.dicom.write.fileset import discard_file_set_stage

    discard_file_set_stage(fileset)


def write_minimal_dicomdir(folder: Path | str, file_ids: Sequence[Sequence[str]]) -> str:
    """A bare DICOMDIR whose IMAGE records reference ``file_ids`` verbatim (CD-style IDs)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.FileSetID = "SYNTH"
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    records = []
    for file_id in file_ids:
        record = Dataset()
        record.OffsetOfTheNextDirectoryRecord = 0
        record.RecordInUseFlag = 0xFFFF
        record.OffsetOfReferencedLowerLevelDirectoryEntity = 0
        record.DirectoryRecordType = "IMAGE"
        # Written verbatim, even where a CD's ISO 9660 names are not valid CS values.
        with config.disable_value_validation():
            record.add_new(
                0x00041500, "CS", list(file_id) if len(file_id) > 1 else file_id[0]
            )  # Referenced File ID
        records.append(record)
    ds.DirectoryRecordSequence = DicomSequence(records)
    path = Path(folder) / "DICOMDIR"
    with config.disable_value_validation():
        ds.save_as(path, enforce_file_format=True)
    return str(path)
