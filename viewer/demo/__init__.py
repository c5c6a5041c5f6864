"""The built-in demo study: one synthetic patient on a CD-style DICOM File-set.

:func:`write_demo_study` writes four studies of the fictitious patient ``DEMO^Anna`` the way a
modality and a CD burner would (Explicit VR Little Endian Part 10 files, PS3.10; a DICOMDIR,
PS3.3 F; extension-less upper-case File IDs of at most 8 characters per component, written by
:class:`pydicom.fileset.FileSet` as ``PT000000/ST00000n/SE000000/IM0000nn``):

======  ==========  ==================================================================
Study   Date        Content
======  ==========  ==================================================================
CR      2024-01-15  one chest PA radiograph, MONOCHROME1, 12 of 16 bits
CT      2024-01-22  192 axial slices of a thorax/abdomen phantom, int16 + rescale to HU
MR      2024-02-05  27 sagittal T2-like slices of a head phantom, uint16, 12 bits stored
US      2024-02-20  one RGB multi-frame echo cine, 48 frames at 33.3 ms
======  ==========  ==================================================================

Everything is deterministic: UIDs are name-based UUIDs under the ``2.25`` root (PS3.5 B.2),
dates and times are fixed and all noise comes from seeded NumPy generators, so two calls write
byte-identical files (given the same pydicom and NumPy versions).

The module-level constants describe the geometry and content, so tests elsewhere can assert
against them instead of re-reading the files. Conventions:

* Patient coordinates are DICOM LPS millimetres (+x patient left, +y posterior, +z head).
* Pixel spacings are in DICOM order: ``(row spacing, column spacing)`` = (distance between
  adjacent rows, distance between adjacent columns), PS3.3 C.7.6.2.1.1 (Pixel Spacing).
* The slice normal of a series is ``row direction x column direction`` of its Image
  Orientation (Patient). "Ascending" slice order means ascending ``ImagePositionPatient . normal``.
* ``*_ORIGIN`` is the centre of the first transmitted voxel (row 0, column 0; i.e. the Image
  Position (Patient)) of the first slice in ascending order along the normal.
* Slice Location is written as ``ImagePositionPatient . normal`` (CT: z; MR: -x).

Nothing here imports Qt.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
    UltrasoundMultiFrameImageStorage,
)

from viewer.core.user_dirs import cache_dir
from viewer.dicom.write.fileset import write_file_set

Vec3 = tuple[float, float, float]
Orientation = tuple[float, float, float, float, float, float]
Float32Array = NDArray[np.float32]

DEMO_VERSION = 1
"""Bump when the written content changes: it names the cache folder (``demo-v1``)."""

# --------------------------------------------------------------------------------------------
# Patient (PS3.3 C.7.1.1) and the file-set
# --------------------------------------------------------------------------------------------
PATIENT_NAME = "DEMO^Anna"
PATIENT_ID = "DEMO-0001"
PATIENT_BIRTH_DATE = "19710314"
PATIENT_SEX = "F"
SPECIFIC_CHARACTER_SET = "ISO_IR 100"
"""Latin-1, as on many European CDs; :data:`INSTITUTION_NAME` and the MR study description
hold non-ASCII characters so a viewer that ignores the character set shows mojibake."""
INSTITUTION_NAME = "Demo-Klinikum Süd"
FILE_SET_ID = "DICOMVIEWERDEMO"

# --------------------------------------------------------------------------------------------
# CT: axial thorax/abdomen volume (CT Image IOD, PS3.3 A.3)
# --------------------------------------------------------------------------------------------
CT_STUDY_DATE = "20240122"
CT_STUDY_DESCRIPTION = "CT Thorax/Abdomen mit KM"
CT_SERIES_NUMBER = 2
CT_SERIES_DESCRIPTION = "Thorax-Abdomen 1.25mm"
CT_SLICES = 192
CT_ROWS = 256
CT_COLUMNS = 256
CT_PIXEL_SPACING: tuple[float, float] = (1.4, 1.4)
CT_SLICE_SPACING = 1.25
"""Distance between adjacent slice positions along :data:`CT_NORMAL` (mm); exact in binary."""
CT_SLICE_THICKNESS = 1.25
CT_ORIENTATION: Orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CT_NORMAL: Vec3 = (0.0, 0.0, 1.0)
CT_ORIGIN: Vec3 = (-178.5, -160.0, -250.0)
"""IPP of the lowest (most caudal, smallest z) slice: centre of its row 0 / column 0 voxel.

The slice with ascending index ``k`` (0 = lowest z) lies at z = -250 + 1.25 k, so the top slice
is at z = -11.25. Instance Number 1 is that top slice (``InstanceNumber = CT_SLICES - k``), so
Instance Number order is the reverse of ascending order; the File IDs follow neither order
(they are a seeded shuffle)."""
CT_RESCALE_INTERCEPT = -1024.0
CT_RESCALE_SLOPE = 1.0
CT_WINDOWS: tuple[tuple[float, float, str], ...] = (
    (40.0, 400.0, "ABDOMEN"),
    (-600.0, 1500.0, "LUNG"),
)
"""(Window Center, Window Width, Window Center & Width Explanation) in file order (PS3.3 C.11.2)."""

# --------------------------------------------------------------------------------------------
# MR: sagittal head (MR Image IOD, PS3.3 A.4)
# --------------------------------------------------------------------------------------------
MR_STUDY_DATE = "20240205"
MR_STUDY_DESCRIPTION = "MRT Schädel"
MR_SERIES_NUMBER = 4
MR_SERIES_DESCRIPTION = "T2 TSE SAG"
MR_SLICES = 27
MR_ROWS = 256
MR_COLUMNS = 256
MR_PIXEL_SPACING: tuple[float, float] = (0.9, 0.9)
MR_SLICE_SPACING = 4.0
MR_SLICE_THICKNESS = 3.0
"""Thinner than :data:`MR_SLICE_SPACING` (a 1 mm gap, as usual in 2D MR): use IPP, not this."""
MR_ORIENTATION: Orientation = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
"""Along a row (increasing column index) positions move posterior (+y); down a column
(increasing row index) they move inferior (-z): the face is on the left, the vertex at the top."""
MR_NORMAL: Vec3 = (-1.0, 0.0, 0.0)
"""(0,1,0) x (0,0,-1) = (-1,0,0): ascending along the normal goes from patient left to right."""
MR_ORIGIN: Vec3 = (52.0, -114.75, 144.75)
"""IPP of the first slice in ascending order along :data:`MR_NORMAL`, i.e. the most patient-left
slice (x = +52). Slice ``k`` lies at x = 52 - 4 k (k = 13 is mid-sagittal, x = 0).
Instance Number ``k + 1`` is slice ``k``, so here Instance Number order *is* ascending order
(unlike CT). File IDs follow Instance Number order."""
MR_BITS_STORED = 12
MR_WINDOW: tuple[float, float] = (700.0, 1400.0)

# --------------------------------------------------------------------------------------------
# US: colour-Doppler echo cine (US Multi-frame Image IOD, PS3.3 A.7)
# --------------------------------------------------------------------------------------------
US_STUDY_DATE = "20240220"
US_STUDY_DESCRIPTION = "Echokardiographie TTE"
US_SERIES_NUMBER = 1
US_SERIES_DESCRIPTION = "Apikaler 4KB Farbdoppler"
US_FRAMES = 48
US_ROWS = 240
US_COLUMNS = 320
US_FRAME_TIME_MS = 33.3
US_FRAME_RATE = 30
US_HEART_RATE = 75
"""48 frames = exactly two heart beats at 75 bpm (24 frames each), so the loop is seamless."""
US_PHYSICAL_DELTA_CM = 0.07
"""Physical Delta X/Y (cm per pixel) of the 2D regions (US Region Calibration, C.8.5.5)."""

# --------------------------------------------------------------------------------------------
# CR: chest PA (CR Image IOD, PS3.3 A.2)
# --------------------------------------------------------------------------------------------
CR_STUDY_DATE = "20240115"
CR_STUDY_DESCRIPTION = "Röntgen Thorax p.a."
CR_SERIES_NUMBER = 1
CR_SERIES_DESCRIPTION = "Thorax PA"
CR_ROWS = 2140
CR_COLUMNS = 1760
"""A 35 x 43 cm (14 x 17 inch) plate read at 0.2 mm, portrait."""
CR_PIXEL_SPACING: tuple[float, float] = (0.2, 0.2)
"""Both Imager Pixel Spacing and Pixel Spacing (the file does not claim a magnification
correction: the values are equal)."""
CR_BITS_STORED = 12
CR_WINDOW: tuple[float, float] = (2100.0, 3600.0)
CR_PATIENT_ORIENTATION = ("L", "F")
"""PA chest as hung on the light box: rows run to the patient's left, columns to the feet."""


@dataclass(frozen=True, slots=True)
class DemoSeries:
    """One series of the demo file-set, in the order the studies are written."""

    modality: str
    study_date: str
    study_description: str
    series_number: int
    series_description: str
    instances: int
    frames_per_instance: int


DEMO_SERIES: tuple[DemoSeries, ...] = (
    DemoSeries(
        "CR", CR_STUDY_DATE, CR_STUDY_DESCRIPTION, CR_SERIES_NUMBER, CR_SERIES_DESCRIPTION, 1, 1
    ),
    DemoSeries(
        "CT",
        CT_STUDY_DATE,
        CT_STUDY_DESCRIPTION,
        CT_SERIES_NUMBER,
        CT_SERIES_DESCRIPTION,
        CT_SLICES,
        1,
    ),
    DemoSeries(
        "MR",
        MR_STUDY_DATE,
        MR_STUDY_DESCRIPTION,
        MR_SERIES_NUMBER,
        MR_SERIES_DESCRIPTION,
        MR_SLICES,
        1,
    ),
    DemoSeries(
        "US",
        US_STUDY_DATE,
        US_STUDY_DESCRIPTION,
        US_SERIES_NUMBER,
        US_SERIES_DESCRIPTION,
        1,
        US_FRAMES,
    ),
)
"""All series: one per study, one patient. Total instances: 1 + 192 + 27 + 1 = 221."""


def ct_slice_position(k: int) -> Vec3:
    """Image Position (Patient) of CT slice ``k`` in ascending order (0 = lowest z)."""
    x0, y0, z0 = CT_ORIGIN
    return (x0, y0, z0 + k * CT_SLICE_SPACING)


def ct_voxel_center(column: int, row: int, k: int) -> Vec3:
    """LPS centre (mm) of the CT voxel at ``column``, ``row`` of ascending slice ``k``."""
    x0, y0, z = ct_slice_position(k)
    return (x0 + column * CT_PIXEL_SPACING[1], y0 + row * CT_PIXEL_SPACING[0], z)


def mr_slice_position(k: int) -> Vec3:
    """Image Position (Patient) of MR slice ``k`` in ascending order along :data:`MR_NORMAL`."""
    x0, y0, z0 = MR_ORIGIN
    return (x0 - k * MR_SLICE_SPACING, y0, z0)


def mr_voxel_center(column: int, row: int, k: int) -> Vec3:
    """LPS centre (mm) of the MR voxel at ``column``, ``row`` of ascending slice ``k``."""
    x, y0, z0 = mr_slice_position(k)
    return (x, y0 + column * MR_PIXEL_SPACING[1], z0 - row * MR_PIXEL_SPACING[0])


def _ct_landmark(column: int, row: int, k: int, hu: float) -> tuple[Vec3, float]:
    return (ct_voxel_center(column, row, k), hu)


CT_LANDMARKS: dict[str, tuple[Vec3, float]] = {
    "air": _ct_landmark(128, 14, 100, -1000.0),
    "subcutaneous_fat": _ct_landmark(235, 114, 100, -100.0),
    "paraspinal_muscle": _ct_landmark(100, 176, 100, 45.0),
    "lung": _ct_landmark(60, 117, 170, -820.0),
    "vertebral_body": _ct_landmark(128, 154, 140, 700.0),
    "liver": _ct_landmark(85, 107, 96, 60.0),
    "kidney": _ct_landmark(185, 143, 48, 30.0),
    "aorta": _ct_landmark(135, 132, 48, 200.0),
}
"""Named voxel centres (LPS mm) inside homogeneous phantom regions, with their noise-free HU.

Each point lies at least 3 mm inside its structure, so the mean over a 5 x 5 voxel ROI around
it is the value +- noise/5 (the noise is Gaussian with sigma :data:`CT_NOISE_HU`)."""
CT_NOISE_HU = 8.0

MR_LANDMARKS: dict[str, tuple[Vec3, float]] = {
    "ventricle_csf": (mr_voxel_center(122, 91, 11), 1700.0),
    "white_matter": (mr_voxel_center(145, 70, 13), 520.0),
}
"""Named MR voxel centres with their noise-free signal (before the mild coil bias field)."""

# Fixed acquisition details (not part of the public contract).
_UUID_NAMESPACE = uuid.UUID("6f0c3a4e-2b1d-5a8e-9c47-1d2e3f405a6b")
_SEED = 20240122
_MANUFACTURER = "dicom-viewer demo"


# ============================================================================================
# Public entry points
# ============================================================================================
def write_demo_study(out_dir: Path) -> Path:
    """Write the demo file-set into ``out_dir`` (created if needed) and return its DICOMDIR.

    ``out_dir`` must be new or empty: the DICOMDIR must reference every file and nothing else.
    The files are written through :class:`pydicom.fileset.FileSet` (Basic Directory IOD,
    PS3.3 F), which names them ``PTxxxxxx/STxxxxxx/SExxxxxx/IMxxxxxx``.
    """
    return write_file_set(
        _all_instances(), out_dir, file_set_id=FILE_SET_ID, file_set_uid=_uid("file-set")
    )


def default_demo_dir() -> Path:
    """The per-user cache folder for the demo: ``<cache>/dicom-viewer/demo-v1``, in
    :func:`viewer.core.user_dirs.cache_dir` (``$XDG_CACHE_HOME`` when set to an absolute path, so
    tests and sandboxes can redirect it, else the platform's cache folder)."""
    return cache_dir() / f"demo-v{DEMO_VERSION}"


def ensure_demo_study() -> Path:
    """Return :func:`default_demo_dir`, writing the demo there first if it is not complete.

    The study is written into a sibling temporary folder which is then renamed into place, so
    the target folder only ever appears complete (the rename is the commit; no marker file is
    needed and the folder holds nothing but the file-set). A folder counts as complete when its
    DICOMDIR reads and every file it references exists. Concurrent callers are safe: whoever
    renames second finds a complete folder and discards its own copy.
    """
    target = default_demo_dir()
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        write_demo_study(tmp)
        if target.exists() and not _is_complete(target):
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_complete(target):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _is_complete(folder: Path) -> bool:
    """True if ``folder/DICOMDIR`` reads and every File ID it references exists."""
    dicomdir = folder / "DICOMDIR"
    if not dicomdir.is_file():
        return False
    try:
        ds = dcmread(dicomdir)
        records = list(ds.DirectoryRecordSequence)
    except (InvalidDicomError, OSError, AttributeError, ValueError):
        return False
    ids = [r.ReferencedFileID for r in records if "ReferencedFileID" in r]
    if len(ids) != sum(s.instances for s in DEMO_SERIES):
        return False
    return all(folder.joinpath(*([i] if isinstance(i, str) else list(i))).is_file() for i in ids)


def _all_instances() -> Iterator[Dataset]:
    """Every instance, studies in date order. The CT slices come in a seeded shuffled order, so
    their File IDs follow neither Instance Number nor position (as after a PACS export)."""
    yield _cr_dataset()
    for n in np.random.default_rng([_SEED, 1]).permutation(CT_SLICES):
        yield _ct_dataset(int(n) + 1)
    yield from _mr_datasets()
    yield _us_dataset()


# ============================================================================================
# Shared modules
# ============================================================================================
def _uid(*names: str) -> UID:
    """A fixed UID for ``names``: ``2.25.<name-based UUID>`` (PS3.5 B.2, ISO/IEC 9834-8)."""
    key = "/".join(("dicom-viewer demo", f"v{DEMO_VERSION}", *names))
    return UID(f"2.25.{uuid.uuid5(_UUID_NAMESPACE, key).int}")


def _ds(value: float) -> str:
    """Decimal String text for ``value`` (PS3.5 6.2, at most 16 characters, no ``-0``)."""
    text = f"{value + 0.0:.10g}"
    if len(text) > 16:
        raise ValueError(f"DS value too long: {text}")
    return text


@dataclass(frozen=True, slots=True)
class _Study:
    """General Study (C.7.2.1) values; ``key`` seeds the Study Instance UID."""

    key: str
    date: str
    time: str
    description: str
    study_id: str
    accession: str
    age: str


@dataclass(frozen=True, slots=True)
class _Series:
    """General Series (C.7.3.1) values; ``key`` seeds the Series and SOP Instance UIDs."""

    study: _Study
    key: str
    modality: str
    number: int
    description: str
    time: str
    body_part: str


_CR_STUDY = _Study("cr", CR_STUDY_DATE, "091200", CR_STUDY_DESCRIPTION, "1001", "A24011501", "052Y")
_CT_STUDY = _Study("ct", CT_STUDY_DATE, "140300", CT_STUDY_DESCRIPTION, "1002", "A24012203", "052Y")
_MR_STUDY = _Study("mr", MR_STUDY_DATE, "103000", MR_STUDY_DESCRIPTION, "1003", "A24020507", "052Y")
_US_STUDY = _Study("us", US_STUDY_DATE, "114500", US_STUDY_DESCRIPTION, "1004", "A24022002", "052Y")
_CR_SERIES = _Series(
    _CR_STUDY, "cr1", "CR", CR_SERIES_NUMBER, CR_SERIES_DESCRIPTION, "091512", "CHEST"
)
_CT_SERIES = _Series(
    _CT_STUDY, "ct2", "CT", CT_SERIES_NUMBER, CT_SERIES_DESCRIPTION, "140812", "CHESTABDOMEN"
)
_MR_SERIES = _Series(
    _MR_STUDY, "mr4", "MR", MR_SERIES_NUMBER, MR_SERIES_DESCRIPTION, "104205", "HEAD"
)
_US_SERIES = _Series(
    _US_STUDY, "us1", "US", US_SERIES_NUMBER, US_SERIES_DESCRIPTION, "115130", "HEART"
)


def _new_instance(series: _Series, sop_class: UID, instance: int) -> Dataset:
    """A dataset with File Meta (PS3.10 7.1), SOP Common (C.12.1), Patient (C.7.1.1),
    General Study (C.7.2.1), Patient Study (C.7.2.2), General Series (C.7.3.1),
    General Equipment (C.7.5.1) and the instance-level part of General Image (C.7.6.1)."""
    sop_instance = _uid(series.key, "instance", str(instance))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = _uid("implementation")
    meta.ImplementationVersionName = f"DCMVIEWDEMO{DEMO_VERSION}"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = SPECIFIC_CHARACTER_SET
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.InstanceCreationDate = series.study.date
    ds.InstanceCreationTime = series.time
    _add_patient_and_study(ds, series.study)
    _add_series_and_equipment(ds, series)
    ds.InstanceNumber = instance
    ds.ContentDate = series.study.date
    ds.ContentTime = series.time
    ds.AcquisitionDate = series.study.date
    ds.AcquisitionTime = series.time
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    return ds


def _add_patient_and_study(ds: Dataset, study: _Study) -> None:
    """Patient (C.7.1.1), General Study (C.7.2.1) and Patient Study (C.7.2.2) modules."""
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = PATIENT_BIRTH_DATE
    ds.PatientSex = PATIENT_SEX
    ds.StudyInstanceUID = _uid(study.key, "study")
    ds.StudyDate = study.date
    ds.StudyTime = study.time
    ds.ReferringPhysicianName = "Hausarzt^Hans^^Dr."
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession
    ds.StudyDescription = study.description
    ds.PatientAge = study.age
    ds.PatientSize = "1.68"
    ds.PatientWeight = "64"


def _add_series_and_equipment(ds: Dataset, series: _Series) -> None:
    """General Series (C.7.3.1) and General Equipment (C.7.5.1) modules."""
    ds.Modality = series.modality
    ds.SeriesInstanceUID = _uid(series.key, "series")
    ds.SeriesNumber = series.number
    ds.SeriesDate = series.study.date
    ds.SeriesTime = series.time
    ds.SeriesDescription = series.description
    ds.BodyPartExamined = series.body_part
    ds.OperatorsName = "MTRA^Demo"
    ds.Manufacturer = _MANUFACTURER
    ds.InstitutionName = INSTITUTION_NAME
    ds.StationName = f"{series.modality}01"
    ds.ManufacturerModelName = f"Phantom {series.modality}"
    ds.DeviceSerialNumber = "0001"
    ds.SoftwareVersions = f"demo-v{DEMO_VERSION}"


def _add_frame_of_reference(ds: Dataset, name: str) -> None:
    """Frame of Reference module (C.7.4.1)."""
    ds.FrameOfReferenceUID = _uid(name, "frame-of-reference")
    ds.PositionReferenceIndicator = ""


def _add_plane(
    ds: Dataset,
    orientation: Orientation,
    position: Vec3,
    spacing: tuple[float, float],
    thickness: float,
    location: float,
) -> None:
    """Image Plane module (C.7.6.2)."""
    ds.PixelSpacing = [_ds(v) for v in spacing]
    ds.ImageOrientationPatient = [_ds(v) for v in orientation]
    ds.ImagePositionPatient = [_ds(v) for v in position]
    ds.SliceThickness = _ds(thickness)
    ds.SliceLocation = _ds(location)


def _add_mono_pixels(
    ds: Dataset, pixels: NDArray[np.int16] | NDArray[np.uint16], bits: int
) -> None:
    """Image Pixel module (C.7.6.3) for one grayscale frame of 16-bit words."""
    ds.SamplesPerPixel = 1
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if pixels.dtype == np.int16 else 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<")).tobytes()


def _add_windows(ds: Dataset, windows: tuple[tuple[float, float, str], ...]) -> None:
    """VOI LUT module (C.11.2): one or more windows with explanations."""
    centers = [_ds(c) for c, _, _ in windows]
    widths = [_ds(w) for _, w, _ in windows]
    ds.WindowCenter = centers if len(centers) > 1 else centers[0]
    ds.WindowWidth = widths if len(widths) > 1 else widths[0]
    names = [n for _, _, n in windows]
    ds.WindowCenterWidthExplanation = names if len(names) > 1 else names[0]


# ============================================================================================
# Anti-aliased 2D painting (used by the CT and MR phantoms)
# ============================================================================================
class _Canvas:
    """A float image over plane coordinates ``u`` (per column) and ``v`` (per row), in mm.

    Shapes are composited "later wins" with soft (partial-volume) edges one pixel wide.
    """

    def __init__(
        self,
        us: NDArray[np.floating],
        vs: NDArray[np.floating],
        fill: float,
        image: Float32Array | None = None,
    ) -> None:
        self.us = us.astype(np.float32)
        self.vs = vs.astype(np.float32)
        self.px = float(abs(us[1] - us[0]))
        self.img: Float32Array = (
            np.full((len(vs), len(us)), fill, dtype=np.float32) if image is None else image
        )

    def _window(self, lo: float, hi: float, axis: NDArray[np.float32]) -> slice:
        """Index range of ``axis`` (ascending) covering [lo, hi] plus a two-pixel margin."""
        start = int(np.searchsorted(axis, lo - 2 * self.px))
        return slice(start, int(np.searchsorted(axis, hi + 2 * self.px)))

    def ellipse_weight(
        self, cu: float, cv: float, au: float, av: float
    ) -> tuple[slice, slice, Float32Array] | None:
        """Coverage (0..1) of the ellipse within its bounding box, or None if it is empty."""
        if au <= 0.3 * self.px or av <= 0.3 * self.px:
            return None
        rs = self._window(cv - av, cv + av, self.vs)
        cs = self._window(cu - au, cu + au, self.us)
        if rs.start >= rs.stop or cs.start >= cs.stop:
            return None
        du = ((self.us[cs] - cu) / au)[None, :]
        dv = ((self.vs[rs] - cv) / av)[:, None]
        f = du * du + dv * dv
        grad = 2.0 * np.sqrt((du / au) ** 2 + (dv / av) ** 2) + np.float32(1e-6)
        w = np.clip((1.0 - f) / grad / self.px + 0.5, 0.0, 1.0).astype(np.float32)
        return rs, cs, w

    def ellipse(
        self, cu: float, cv: float, au: float, av: float, value: float, v_below: float | None = None
    ) -> None:
        """Paint an axis-aligned ellipse; with ``v_below`` only where ``v < v_below``."""
        hit = self.ellipse_weight(cu, cv, au, av)
        if hit is None:
            return
        rs, cs, w = hit
        if v_below is not None:
            w = w * np.clip((v_below - self.vs[rs])[:, None] / self.px + 0.5, 0.0, 1.0)
        self.blend(rs, cs, w, value)

    def blend(self, rs: slice, cs: slice, w: Float32Array, value: float) -> None:
        """``img = img + w (value - img)`` on the window ``rs`` x ``cs``."""
        sub = self.img[rs, cs]
        sub += w * (np.float32(value) - sub)

    def ellipsoid(self, center: Vec3, semi: Vec3, axis: int, at: float, value: float) -> None:
        """Paint the section of an axis-aligned ellipsoid with the plane ``coord[axis] == at``.

        The plane's ``u``/``v`` are the two remaining axes in order (the MR phantom passes -z as
        the third coordinate, so that ``v`` runs head -> feet like its rows).
        """
        t = (at - center[axis]) / semi[axis]
        if abs(t) >= 1.0:
            return
        s = float(np.sqrt(1.0 - t * t))
        (cu, cv), (au, av) = _drop(center, axis), _drop(semi, axis)
        self.ellipse(cu, cv, au * s, av * s, value)


def _drop(v: Vec3, axis: int) -> tuple[float, float]:
    a, b = (c for i, c in enumerate(v) if i != axis)
    return a, b


def _smoothstep(x: NDArray[np.float32] | float) -> NDArray[np.float32] | float:
    """0 below 0, 1 above 1, smooth in between."""
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


# ============================================================================================
# CT phantom (values in HU)
# ============================================================================================
_AIR, _FAT, _MUSCLE, _BONE, _BLOOD_CONTRAST = -1000.0, -100.0, 45.0, 700.0, 200.0
_LUNG, _LIVER, _KIDNEY, _SPLEEN, _FLUID = -820.0, 60.0, 30.0, 50.0, 10.0
_VISCERAL_FAT = -90.0

# Lung vessels: (side sign, du, dv, phase) relative to the lung centre, in mm.
_LUNG_VESSELS = (
    (-1, 20.0, -30.0, 0.0),
    (-1, 30.0, 25.0, 1.3),
    (-1, 0.0, -5.0, 2.1),
    (-1, 10.0, 45.0, 2.9),
    (-1, -10.0, -45.0, 4.2),
    (1, -20.0, -30.0, 0.7),
    (1, -30.0, 25.0, 1.9),
    (1, 0.0, 0.0, 2.6),
    (1, -5.0, 45.0, 3.7),
    (1, 15.0, -40.0, 5.1),
)

# Bowel loops below the kidneys' upper poles: (cx, cy, radius, phase, air-filled?)
_BOWEL = (
    (-40.0, -50.0, 16.0, 0.0, False),
    (0.0, -60.0, 15.0, 1.0, True),
    (40.0, -45.0, 17.0, 2.0, False),
    (-20.0, -15.0, 14.0, 3.0, False),
    (25.0, -10.0, 13.0, 4.0, True),
    (-65.0, -35.0, 13.0, 5.0, False),
)


def _ct_axes() -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """x per column and y per row (mm, LPS) of every CT slice."""
    xs = CT_ORIGIN[0] + np.arange(CT_COLUMNS) * CT_PIXEL_SPACING[1]
    ys = CT_ORIGIN[1] + np.arange(CT_ROWS) * CT_PIXEL_SPACING[0]
    return xs, ys


@functools.cache
def _ct_body() -> Float32Array:
    """The parts of every slice that do not change along z (treat as read-only)."""
    c = _Canvas(*_ct_axes(), _AIR)
    c.ellipse(0.0, 135.0, 175.0, 3.0, 250.0)  # table
    c.ellipse(0.0, 0.0, 160.0, 115.0, _FAT)  # skin and subcutaneous fat
    c.ellipse(0.0, 2.0, 142.0, 98.0, _MUSCLE)  # body wall
    c.ellipse(0.0, 4.0, 131.0, 87.0, _VISCERAL_FAT)  # mediastinal / intra-abdominal fat
    for sign in (-1.0, 1.0):
        c.ellipse(sign * 38.0, 86.0, 26.0, 20.0, _MUSCLE)  # erector spinae
    return c.img


def _ct_hu(z: float) -> Float32Array:
    """Noise-free HU of the axial slice at height ``z`` (mm, LPS)."""
    c = _Canvas(*_ct_axes(), _AIR, image=_ct_body().copy())
    _ct_abdomen(c, z)
    _ct_thorax(c, z)
    _ct_vessels(c, z)
    _ct_spine(c, z)
    _ct_ribs(c, z)
    return c.img


def _ct_abdomen(c: _Canvas, z: float) -> None:
    """Liver, gallbladder, spleen, stomach with an air-fluid level, kidneys and bowel."""
    c.ellipsoid((-45.0, -2.0, -135.0), (85.0, 78.0, 62.0), 2, z, _LIVER)
    for dx, dy, r in ((-30.0, 10.0, 6.0), (-65.0, -20.0, 5.0), (-20.0, 35.0, 5.0)):
        c.ellipsoid((-45.0 + dx, -2.0 + dy, -130.0), (r, r, 45.0), 2, z, 150.0)  # portal veins
    c.ellipsoid((-35.0, -55.0, -150.0), (14.0, 18.0, 25.0), 2, z, _FLUID)  # gallbladder
    c.ellipsoid((88.0, 35.0, -120.0), (30.0, 46.0, 30.0), 2, z, _SPLEEN)
    c.ellipsoid((50.0, -40.0, -125.0), (45.0, 35.0, 35.0), 2, z, _MUSCLE)  # stomach wall
    t = (z + 125.0) / 35.0
    if abs(t) < 1.0:
        s = float(np.sqrt(1.0 - t * t))
        c.ellipse(50.0, -40.0, 40.0 * s, 30.0 * s, _FLUID)
        c.ellipse(50.0, -40.0, 40.0 * s, 30.0 * s, _AIR, v_below=-52.0)  # air anterior
    for sign in (-1.0, 1.0):
        c.ellipsoid((sign * 70.0, 42.0, -190.0), (24.0, 32.0, 48.0), 2, z, _KIDNEY)
        c.ellipsoid((sign * 58.0, 40.0, -190.0), (6.0, 9.0, 25.0), 2, z, _VISCERAL_FAT)
    if z < -145.0:
        fade = float(_smoothstep((-145.0 - z) / 15.0))
        for cx, cy, r, ph, air in _BOWEL:
            x = cx + 10.0 * np.sin(z / 17.0 + ph)
            y = cy + 6.0 * np.cos(z / 13.0 + ph)
            c.ellipse(x, y, r * fade, r * fade, _MUSCLE)
            c.ellipse(x, y, (r - 3.0) * fade, (r - 3.0) * fade, _AIR if air else _FLUID)
        for sign, air in ((-1.0, True), (1.0, False)):  # ascending / descending colon
            c.ellipse(sign * 100.0, -5.0, 20.0 * fade, 18.0 * fade, _MUSCLE)
            c.ellipse(sign * 100.0, -5.0, 16.0 * fade, 14.0 * fade, _AIR if air else -40.0)


def _ct_thorax(c: _Canvas, z: float) -> None:
    """Lungs with vessels, trachea and main bronchi, pericardial fat and the heart."""
    for sign, base, cx in ((-1.0, -95.0, -68.0), (1.0, -105.0, 70.0)):
        s = float(np.sqrt(np.clip((z - base) / 35.0, 0.0, 1.0)))
        if s <= 0.0:
            continue
        c.ellipse(cx, 4.0, 55.0 * s, 68.0 * s, _LUNG)
        for side, du, dv, ph in _LUNG_VESSELS:
            if side == sign:
                u = cx + s * (du + 6.0 * np.sin(z / 23.0 + ph))
                v = 4.0 + s * (dv + 6.0 * np.cos(z / 19.0 + ph))
                c.ellipse(u, v, 2.5, 2.5, 40.0)
    if z > -45.0:
        c.ellipse(0.0, -8.0, 10.0, 9.0, _MUSCLE)
        c.ellipse(0.0, -8.0, 8.0, 7.0, _AIR)  # trachea
    elif z > -75.0:
        off = 8.0 + (-45.0 - z) * 0.9
        for sign in (-1.0, 1.0):
            c.ellipse(sign * off, -5.0, 7.0, 6.0, _MUSCLE)
            c.ellipse(sign * off, -5.0, 5.0, 4.5, _AIR)  # main bronchi
    c.ellipsoid((15.0, -28.0, -68.0), (66.0, 56.0, 44.0), 2, z, _VISCERAL_FAT)  # pericardial fat
    c.ellipsoid((15.0, -28.0, -68.0), (60.0, 50.0, 40.0), 2, z, _MUSCLE)  # myocardium
    c.ellipsoid((32.0, -30.0, -70.0), (22.0, 24.0, 30.0), 2, z, 170.0)  # left ventricle
    c.ellipsoid((-5.0, -45.0, -72.0), (20.0, 14.0, 28.0), 2, z, 160.0)  # right ventricle
    c.ellipsoid((5.0, 0.0, -50.0), (25.0, 16.0, 18.0), 2, z, 165.0)  # left atrium


def _ct_vessels(c: _Canvas, z: float) -> None:
    """Aorta (descending thoracic -> abdominal, ascending above the heart), IVC and SVC."""
    t = float(_smoothstep((z + 140.0) / 40.0))  # 0 abdomen, 1 thorax
    c.ellipse(10.0 + 18.0 * t, 25.0 + 15.0 * t, 11.0 + t, 11.0 + t, _BLOOD_CONTRAST)
    if z > -58.0:
        c.ellipse(2.0, -32.0, 15.0, 15.0, _BLOOD_CONTRAST)  # ascending aorta
        c.ellipse(-28.0, -28.0, 10.0, 10.0, 150.0)  # superior vena cava
    if z < -85.0:
        c.ellipse(-24.0, 28.0, 11.0, 9.0, 120.0)  # inferior vena cava


def _ct_spine(c: _Canvas, z: float) -> None:
    """Vertebral body (700 HU) or disc, spinal canal, arch with transverse/spinous processes."""
    disc = (z + 247.0) % 30.0 < 6.0
    c.ellipse(0.0, 55.0, 19.0, 16.0, 80.0 if disc else _BONE)
    if not disc:
        c.ellipse(0.0, 80.0, 34.0, 5.0, _BONE)  # transverse processes and laminae
        c.ellipse(0.0, 98.0, 5.0, 13.0, _BONE)  # spinous process
    c.ellipse(0.0, 80.0, 8.0, 8.0, 15.0)  # spinal canal (CSF)
    if z > -120.0:
        c.ellipse(0.0, -93.0, 14.0, 6.0, 600.0)  # sternum


@functools.cache
def _ct_rib_ring() -> tuple[slice, slice, Float32Array, Float32Array]:
    """Rows, columns, coverage and "cosine towards posterior" of the ring the ribs lie in."""
    c = _Canvas(*_ct_axes(), 0.0)
    c.ellipse(0.0, 4.0, 138.0, 94.0, 1.0)
    c.ellipse(0.0, 4.0, 133.0, 89.0, 0.0)
    rows, cols = np.nonzero(c.img > 0.0)
    rs = slice(int(rows.min()), int(rows.max()) + 1)
    cs = slice(int(cols.min()), int(cols.max()) + 1)
    x = c.us[cs][None, :]
    y = c.vs[rs][:, None] - 4.0
    cos_post = (y / np.sqrt(x * x + y * y + 1e-6)).astype(np.float32)  # 1 posterior
    ring = c.img[rs, cs] * ((cos_post > -0.9) & ((np.abs(x) > 45.0) | (y < 0.0)))
    return rs, cs, ring.astype(np.float32), cos_post


def _ct_ribs(c: _Canvas, z: float) -> None:
    """Ribs: a ring at the inner body wall, present where the oblique rib bands pass (their
    anterior ends are lower than the posterior ones), not at the spine or the sternum."""
    if z < -180.0:
        return
    rs, cs, ring, cos_post = _ct_rib_ring()
    band = ((z + 20.0 * (1.0 - cos_post)) % 26.0) < 9.0
    c.blend(rs, cs, ring * band, _BONE)


def _ct_dataset(instance: int) -> Dataset:
    """One CT Image (PS3.3 A.3): General/CT Image (C.8.2.1), Contrast/Bolus (C.7.6.4)."""
    k = CT_SLICES - instance  # ascending index
    x, y, z = ct_slice_position(k)
    noise = np.random.default_rng([_SEED, 2, k]).standard_normal((CT_ROWS, CT_COLUMNS), np.float32)
    hu = _ct_hu(z) + np.float32(CT_NOISE_HU) * noise
    raw = np.clip(np.rint(hu - CT_RESCALE_INTERCEPT), 0, 4095).astype(np.int16)

    ds = _new_instance(_CT_SERIES, CTImageStorage, instance)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.PatientPosition = "HFS"
    _add_frame_of_reference(ds, "ct")
    ds.AcquisitionNumber = 1
    _add_plane(ds, CT_ORIENTATION, (x, y, z), CT_PIXEL_SPACING, CT_SLICE_THICKNESS, z)
    ds.PhotometricInterpretation = "MONOCHROME2"
    _add_mono_pixels(ds, raw, 16)
    ds.RescaleIntercept = _ds(CT_RESCALE_INTERCEPT)
    ds.RescaleSlope = _ds(CT_RESCALE_SLOPE)
    ds.RescaleType = "HU"
    _add_windows(ds, CT_WINDOWS)
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = _ds(CT_COLUMNS * CT_PIXEL_SPACING[1])
    ds.DistanceSourceToDetector = "1040"
    ds.DistanceSourceToPatient = "570"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "160"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = 180
    ds.Exposure = 90
    ds.FilterType = "BODY"
    ds.ConvolutionKernel = "STANDARD"
    ds.SpiralPitchFactor = 0.984
    ds.CTDIvol = 7.9
    ds.ContrastBolusAgent = "Iohexol 350 mg I/ml"
    ds.ContrastBolusRoute = "IV"
    ds.ContrastBolusVolume = "80"
    return ds


# ============================================================================================
# MR phantom (arbitrary signal units, T2-like contrast)
# ============================================================================================
_CSF, _GM, _WM, _SCALP, _SKULL, _SOFT = 1700.0, 760.0, 520.0, 900.0, 40.0, 380.0


def _mr_signal(x: float) -> Float32Array:
    """Noise-free signal of the sagittal slice at ``x`` (mm, LPS)."""
    ys = MR_ORIGIN[1] + np.arange(MR_COLUMNS) * MR_PIXEL_SPACING[1]
    neg_z = -MR_ORIGIN[2] + np.arange(MR_ROWS) * MR_PIXEL_SPACING[0]
    c = _Canvas(ys, neg_z, 0.0)

    def blob(center: Vec3, semi: Vec3, value: float) -> None:
        cx, cy, cz = center
        c.ellipsoid((cx, cy, -cz), semi, 0, x, value)

    # neck: an elliptic cylinder from the skull base down, with a fat rim
    t = x / 58.0
    if abs(t) < 1.0:
        s = float(np.sqrt(1.0 - t * t))
        c.ellipse(20.0, 60.0, 60.0 * s, 90.0, _SCALP)
        c.ellipse(20.0, 60.0, 54.0 * s, 90.0, _SOFT)
    blob((0.0, -78.0, 5.0), (42.0, 32.0, 45.0), _SOFT)  # face
    blob((0.0, -85.0, 15.0), (10.0, 16.0, 20.0), 0.0)  # nasal cavity (air)
    for sign in (-1.0, 1.0):
        blob((sign * 25.0, -68.0, 8.0), (12.0, 15.0, 15.0), 0.0)  # maxillary sinuses
    blob((0.0, 0.0, 55.0), (72.0, 95.0, 85.0), _SCALP)
    blob((0.0, 0.0, 55.0), (67.0, 90.0, 80.0), _SKULL)
    blob((0.0, 0.0, 56.0), (62.0, 85.0, 75.0), _CSF)
    blob((0.0, 0.0, 57.0), (60.0, 83.0, 72.0), _GM)
    blob((0.0, 2.0, 62.0), (48.0, 66.0, 56.0), _WM)
    blob((0.0, 40.0, 12.0), (45.0, 26.0, 21.0), _GM)  # cerebellum
    blob((0.0, 40.0, 12.0), (20.0, 12.0, 10.0), _WM)
    blob((0.0, 12.0, 0.0), (14.0, 14.0, 38.0), 620.0)  # brainstem
    blob((0.0, 18.0, -60.0), (9.0, 9.0, 40.0), _CSF)  # spinal canal
    blob((0.0, 18.0, -60.0), (5.0, 5.0, 40.0), 620.0)  # cord
    for sign in (-1.0, 1.0):
        blob((sign * 10.0, -5.0, 65.0), (7.0, 30.0, 12.0), _CSF)  # lateral ventricles
        blob((sign * 32.0, -74.0, 40.0), (12.0, 12.0, 12.0), 1500.0)  # eye (vitreous)
        blob((sign * 32.0, -85.0, 40.0), (5.0, 2.0, 5.0), 150.0)  # lens
    blob((0.0, 5.0, 45.0), (2.5, 12.0, 8.0), _CSF)  # third ventricle
    return c.img


def _mr_datasets() -> Iterator[Dataset]:
    """The sagittal MR slices in Instance Number order (patient left first)."""
    for k in range(MR_SLICES):
        yield _mr_dataset(k)


def _mr_dataset(k: int) -> Dataset:
    """One MR Image (PS3.3 A.4): MR Image module (C.8.3.1)."""
    x, y, z = mr_slice_position(k)
    rng = np.random.default_rng([_SEED, 3, k])
    bias = 1.0 + 0.12 * (np.arange(MR_COLUMNS, dtype=np.float32) / MR_COLUMNS - 0.5)[None, :]
    signal = (_mr_signal(x) * bias).astype(np.float32)  # mild coil sensitivity, brighter posterior
    n1, n2 = np.float32(14.0) * rng.standard_normal((2, MR_ROWS, MR_COLUMNS), np.float32)
    mag = np.sqrt((signal + n1) ** 2 + n2**2)  # Rician magnitude noise
    raw = np.clip(np.rint(mag), 0, 2**MR_BITS_STORED - 1).astype(np.uint16)

    ds = _new_instance(_MR_SERIES, MRImageStorage, k + 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.PatientPosition = "HFS"
    _add_frame_of_reference(ds, "mr")
    ds.AcquisitionNumber = 1
    _add_plane(ds, MR_ORIENTATION, (x, y, z), MR_PIXEL_SPACING, MR_SLICE_THICKNESS, -x)
    ds.PhotometricInterpretation = "MONOCHROME2"
    _add_mono_pixels(ds, raw, MR_BITS_STORED)
    _add_windows(ds, ((MR_WINDOW[0], MR_WINDOW[1], "T2"),))
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = ["SK", "SP"]
    ds.ScanOptions = "PFP"
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = "tse2d1_16"
    ds.SpacingBetweenSlices = _ds(MR_SLICE_SPACING)
    ds.RepetitionTime = "4000"
    ds.EchoTime = "98"
    ds.EchoTrainLength = 16
    ds.NumberOfAverages = "2"
    ds.ImagingFrequency = "63.68"
    ds.ImagedNucleus = "1H"
    ds.MagneticFieldStrength = "1.5"
    ds.FlipAngle = "150"
    ds.ReceiveCoilName = "Head_12"
    ds.InPlanePhaseEncodingDirection = "ROW"
    ds.AcquisitionMatrix = [0, 256, 256, 0]
    return ds


# ============================================================================================
# US cine (8-bit RGB)
# ============================================================================================
_US_APEX = (160.0, 14.0)
_US_DEPTH_PX = 200.0
_US_HALF_ANGLE = np.radians(38.0)
_US_COLOR_BOX = (np.radians(-2.0), np.radians(20.0), 110.0, 196.0)  # theta0, theta1, r0, r1


def _cardiac_volume(phase: float) -> float:
    """Ventricular size (1 end-diastole, 0 end-systole) at ``phase`` in [0, 1) after the R wave."""
    if phase < 0.35:
        return 0.5 * (1.0 + float(np.cos(np.pi * phase / 0.35)))
    return min(1.0, 0.5 * (1.0 - float(np.cos(np.pi * (phase - 0.35) / 0.5))))


def _ecg(phase: NDArray[np.float64]) -> NDArray[np.float64]:
    """A P-QRS-T complex per beat (arbitrary units, R = 1) at ``phase`` after the R wave."""
    p = np.mod(phase + 0.25, 1.0)  # P at 0.1, R at 0.25 in this frame
    waves = ((0.10, 0.025, 0.15), (0.22, 0.008, -0.12), (0.25, 0.009, 1.0), (0.28, 0.01, -0.25))
    out = sum(a * np.exp(-(((p - m) / w) ** 2)) for m, w, a in waves)
    return np.asarray(out + 0.3 * np.exp(-(((p - 0.55) / 0.05) ** 2)))


@dataclass(frozen=True, slots=True)
class _UsGrid:
    """Everything about a US frame that does not change with time, computed once."""

    xs: Float32Array  # column coordinate per column (pixels)
    ys: Float32Array  # row coordinate per row
    sector: NDArray[np.bool_]
    speckle: Float32Array  # fixed speckle pattern with depth attenuation
    background: Float32Array  # echo strength of the static tissue (pericardium, chest wall)
    box: tuple[slice, slice]  # bounding box of the colour-flow box
    box_inside: NDArray[np.bool_]  # colour-flow box within ``box``
    overlay: NDArray[np.bool_]  # static graphics: colour bar, depth scale, ECG trace
    overlay_rgb: Float32Array


def _us_grid() -> _UsGrid:
    """Sector geometry about the transducer apex, speckle, static tissue and graphics."""
    xs = np.arange(US_COLUMNS, dtype=np.float32)
    ys = np.arange(US_ROWS, dtype=np.float32)
    dx, dy = xs[None, :] - _US_APEX[0], ys[:, None] - _US_APEX[1]
    r = np.hypot(dx, dy)
    theta = np.arctan2(dx, dy)
    sector = (r < _US_DEPTH_PX) & (np.abs(theta) < _US_HALF_ANGLE) & (r > 3.0)
    raw = np.random.default_rng([_SEED, 4]).rayleigh(1.0, (US_ROWS, US_COLUMNS + 2))
    speckle = (raw[:, :-2] + raw[:, 1:-1] + raw[:, 2:]) / 3.0  # laterally elongated speckle
    speckle = (speckle * np.exp(-r / 600.0)).astype(np.float32)
    background = np.full(r.shape, 0.22, dtype=np.float32)
    _fill(background, xs, ys, (156.0, 142.0, 92.0, 110.0), 0.85)  # pericardium
    _fill(background, xs, ys, (156.0, 142.0, 86.0, 104.0), 0.3)
    t0, t1, r0, r1 = _US_COLOR_BOX
    in_box = sector & (theta > t0) & (theta < t1) & (r > r0) & (r < r1)
    x0, y0, x1, y1 = _bounding_box(in_box)
    box = (slice(y0, y1 + 1), slice(x0, x1 + 1))
    overlay_rgb = np.zeros((US_ROWS, US_COLUMNS, 3), dtype=np.float32)
    overlay = np.zeros((US_ROWS, US_COLUMNS), dtype=bool)
    _us_static_graphics(overlay, overlay_rgb)
    inner = (theta > t0 + 0.012) & (theta < t1 - 0.012) & (r > r0 + 1.2) & (r < r1 - 1.2)
    edge = in_box & ~inner
    overlay[edge] = True
    overlay_rgb[edge] = 170.0
    return _UsGrid(xs, ys, sector, speckle, background, box, in_box[box], overlay, overlay_rgb)


def _ellipse_mask(
    xs: Float32Array, ys: Float32Array, e: tuple[float, float, float, float]
) -> tuple[slice, slice, NDArray[np.bool_]]:
    """Pixels inside the ellipse ``e = (cx, cy, ax, ay)``, within its bounding box."""
    cx, cy, ax, ay = e
    rs = slice(max(int(cy - ay), 0), min(int(cy + ay) + 2, len(ys)))
    cs = slice(max(int(cx - ax), 0), min(int(cx + ax) + 2, len(xs)))
    inside = ((xs[cs][None, :] - cx) / ax) ** 2 + ((ys[rs][:, None] - cy) / ay) ** 2 < 1.0
    return rs, cs, inside


def _fill(
    img: Float32Array, xs: Float32Array, ys: Float32Array, e: tuple[float, ...], v: float
) -> None:
    """Set the pixels inside the ellipse ``e = (cx, cy, ax, ay)`` to ``v``."""
    rs, cs, inside = _ellipse_mask(xs, ys, (e[0], e[1], e[2], e[3]))
    img[rs, cs][inside] = v


def _us_phase_image(g: _UsGrid, phase: float) -> NDArray[np.uint8]:
    """The RGB image (without ECG cursor) at ``phase`` of the heart cycle: B-mode sector with
    an apical four-chamber view, colour flow, static graphics."""
    v = _cardiac_volume(phase)
    a = 1.0 - v  # the atria fill while the ventricles empty
    chambers = (
        ((182.0, 105.0, 28.0 + 6.0 * v, 60.0 + 6.0 * v), 11.0 + 4.0 * a),  # LV
        ((128.0, 112.0, 20.0 + 5.0 * v, 48.0 + 4.0 * v), 6.0),  # RV
        ((184.0, 182.0, 22.0 + 5.0 * a, 17.0 + 4.0 * a), 5.0),  # LA
        ((128.0, 184.0, 19.0 + 4.0 * a, 16.0 + 3.0 * a), 5.0),  # RA
    )
    echo = g.background.copy()
    for (cx, cy, ax, ay), wall in chambers:
        _fill(echo, g.xs, g.ys, (cx, cy, ax + wall, ay + wall), 0.6)  # myocardium
    blood = np.zeros(echo.shape, dtype=bool)
    for cavity, _ in chambers:
        rs, cs, inside = _ellipse_mask(g.xs, g.ys, cavity)
        blood[rs, cs] |= inside
    echo[blood] = 0.008
    gray = np.log1p(40.0 * echo * g.speckle) * np.float32(235.0 / np.log1p(64.0))
    gray = np.where(g.sector, np.minimum(gray, 235.0), 0.0).astype(np.float32)
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    _us_color_flow(g, rgb, blood, phase)
    rgb[g.overlay] = g.overlay_rgb[g.overlay]
    return np.rint(rgb).astype(np.uint8)


def _us_color_flow(g: _UsGrid, rgb: Float32Array, blood: NDArray[np.bool_], phase: float) -> None:
    """Colour Doppler in the box: red mitral inflow towards the apex in diastole, a blue-cyan
    regurgitant jet into the left atrium in systole (flow away from the transducer)."""
    rs, cs = g.box
    x, y = g.xs[cs][None, :], g.ys[rs][:, None]
    if phase < 0.35:
        strength = float(np.sin(np.pi * phase / 0.35))
        jet = np.exp(-(((x - 184.0) / 8.0) ** 2)) * np.clip(1.0 - (y - 168.0) / 35.0, 0.0, 1.0)
        vel = -1.3 * strength * jet * (y > 164.0)
    else:
        strength = float(np.sin(np.pi * (phase - 0.35) / 0.65))
        inflow = np.exp(-(((x - 182.0) / 14.0) ** 2)) * np.clip((y - 110.0) / 50.0, 0.0, 1.0)
        vel = 1.1 * strength * inflow * (y < 178.0)
    flow = g.box_inside & blood[rs, cs] & (np.abs(vel) > 0.12)
    mag = np.clip(np.abs(vel), 0.0, 1.0)
    red = np.stack([255.0 * mag, 200.0 * mag**3, 20.0 * mag], axis=-1)
    blue = np.stack([30.0 * mag, 220.0 * mag**3, 255.0 * mag], axis=-1)
    colour = np.where((vel > 0)[:, :, None], red, blue)
    rgb[rs, cs][flow] = colour[flow]


def _us_static_graphics(mask: NDArray[np.bool_], rgb: Float32Array) -> None:
    """Colour bar, depth scale (1 cm ticks, longer every 5 cm) and two beats of ECG trace."""
    level = np.linspace(1.0, -1.0, 80, dtype=np.float32)[:, None]
    mag = np.abs(level)
    rgb[40:120, 8:14, 0] = np.where(level > 0, 255.0 * mag, 30.0 * mag)
    rgb[40:120, 8:14, 1] = np.where(level > 0, 200.0 * mag**3, 220.0 * mag**3)
    rgb[40:120, 8:14, 2] = np.where(level > 0, 20.0 * mag, 255.0 * mag)
    mask[40:120, 8:14] = True
    per_cm = 1.0 / US_PHYSICAL_DELTA_CM
    for i in range(int(_US_DEPTH_PX / per_cm) + 1):
        row = round(_US_APEX[1] + i * per_cm)
        end = 304 if i % 5 else 308
        rgb[row, 300:end] = 220.0
        mask[row, 300:end] = True
    cols = np.arange(20, 300)
    trace = 228.0 - 9.0 * _ecg((cols - 20) / 280.0 * 2.0)
    on = np.abs(np.arange(212, US_ROWS)[:, None] - trace[None, :]) < 1.0
    rgb[212:, 20:300][on] = (40.0, 220.0, 90.0)
    mask[212:, 20:300] |= on


def _us_frames(g: _UsGrid) -> NDArray[np.uint8]:
    """All frames (frame, row, column, RGB): two identical beats plus a sweeping ECG cursor."""
    beat = US_FRAMES // 2
    images = [_us_phase_image(g, f / beat) for f in range(beat)]
    frames = np.empty((US_FRAMES, US_ROWS, US_COLUMNS, 3), dtype=np.uint8)
    for f in range(US_FRAMES):
        frames[f] = images[f % beat]
        cursor = 20 + round(280.0 * f / US_FRAMES)
        frames[f, 214:, cursor : cursor + 2] = (240, 220, 60)
    return frames


def _us_dataset() -> Dataset:
    """The US Multi-frame Image (PS3.3 A.7): US Image (C.8.5.6), Multi-frame (C.7.6.6),
    Cine (C.7.6.5) and US Region Calibration (C.8.5.5)."""
    g = _us_grid()
    frames = _us_frames(g)
    ds = _new_instance(_US_SERIES, UltrasoundMultiFrameImageStorage, 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "", "0011"]
    ds.PatientOrientation = ""
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.NumberOfFrames = US_FRAMES
    ds.FrameIncrementPointer = Tag("FrameTime")
    ds.Rows, ds.Columns = US_ROWS, US_COLUMNS
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.FrameTime = _ds(US_FRAME_TIME_MS)
    ds.CineRate = US_FRAME_RATE
    ds.RecommendedDisplayFrameRate = US_FRAME_RATE
    ds.ActualFrameDuration = 33
    ds.FrameDelay = "0"
    ds.EffectiveDuration = _ds(US_FRAMES * US_FRAME_TIME_MS / 1000.0)
    ds.PreferredPlaybackSequencing = 0
    ds.StartTrim = 1
    ds.StopTrim = US_FRAMES
    ds.HeartRate = US_HEART_RATE
    ds.TransducerData = ["P4-2", "", ""]
    ds.ProcessingFunction = "Cardiac"
    ds.SequenceOfUltrasoundRegions = Sequence(_us_regions(g))
    ds.PixelData = frames.tobytes()
    return ds


def _bounding_box(mask: NDArray[np.bool_]) -> tuple[int, int, int, int]:
    """(min x, min y, max x, max y) of the true pixels of ``mask``."""
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def _us_regions(g: _UsGrid) -> list[Dataset]:
    """The 2D tissue sector and the colour-flow box (US Region Calibration, C.8.5.5)."""
    apex_x, apex_y = int(_US_APEX[0]), int(_US_APEX[1])
    rs, cs = g.box
    regions = []
    for data_type, box in (
        (1, _bounding_box(g.sector)),
        (2, (cs.start, rs.start, cs.stop - 1, rs.stop - 1)),
    ):
        item = Dataset()
        item.RegionSpatialFormat = 1  # 2D
        item.RegionDataType = data_type  # 1 tissue, 2 colour flow
        item.RegionFlags = 0
        item.RegionLocationMinX0, item.RegionLocationMinY0 = box[0], box[1]
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = box[2], box[3]
        item.ReferencePixelX0, item.ReferencePixelY0 = apex_x, apex_y
        item.PhysicalUnitsXDirection = 3  # cm
        item.PhysicalUnitsYDirection = 3
        item.ReferencePixelPhysicalValueX = 0.0
        item.ReferencePixelPhysicalValueY = 0.0
        item.PhysicalDeltaX = US_PHYSICAL_DELTA_CM
        item.PhysicalDeltaY = US_PHYSICAL_DELTA_CM
        regions.append(item)
    return regions


# ============================================================================================
# CR chest radiograph (MONOCHROME1: high values are dark)
# ============================================================================================
# Linear attenuation coefficients (1/mm) of the projection model.
_MU_SOFT, _MU_LUNG, _MU_BONE = 0.02, 0.004, 0.05
_CR_DIRECT = 3900.0  # pixel value of unattenuated exposure (black on MONOCHROME1)
_CR_GAIN = 520.0  # pixel values per unit of attenuation (log response of the plate)


def _cr_axes() -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """X (mm, + towards the image right = patient left) per column, Y (mm, + feet) per row."""
    dx, dy = CR_PIXEL_SPACING[1], CR_PIXEL_SPACING[0]
    xs = ((np.arange(CR_COLUMNS) - (CR_COLUMNS - 1) / 2) * dx).astype(np.float32)
    ys = ((np.arange(CR_ROWS) - (CR_ROWS - 1) / 2) * dy).astype(np.float32)
    return xs, ys


def _ellipsoid_path(
    xs: NDArray[np.float32],
    ys: NDArray[np.float32],
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    depth: float,
) -> tuple[slice, slice, Float32Array]:
    """Path length (mm) through an ellipsoid seen along the beam, within its bounding box."""
    cs = slice(int(np.searchsorted(xs, cx - ax)), int(np.searchsorted(xs, cx + ax)))
    rs = slice(int(np.searchsorted(ys, cy - ay)), int(np.searchsorted(ys, cy + ay)))
    q = 1.0 - ((xs[cs][None, :] - cx) / ax) ** 2 - ((ys[rs][:, None] - cy) / ay) ** 2
    return rs, cs, (2.0 * depth * np.sqrt(np.clip(q, 0.0, None))).astype(np.float32)


def _tube_path(
    xs: NDArray[np.float32],
    ys: NDArray[np.float32],
    rs: slice,
    cs: slice,
    centre_y: Float32Array,
    radius: float,
) -> Float32Array:
    """Path length through a horizontal-ish tube of ``radius`` following ``centre_y(x)``."""
    d = ys[rs][:, None] - centre_y[None, :]
    return (2.0 * np.sqrt(np.clip(radius * radius - d * d, 0.0, None))).astype(np.float32)


def _cr_attenuation() -> Float32Array:
    """Line integral of attenuation (dimensionless) for every detector pixel."""
    xs, ys = _cr_axes()
    rise = (1.0 / (1.0 + np.exp(-(ys + 165.0) / 12.0))).astype(np.float32)  # neck -> shoulders
    half_width = (55.0 + 100.0 * rise)[:, None]
    depth = (60.0 + 50.0 * rise)[:, None]
    body = 2.0 * depth * np.sqrt(np.clip(1.0 - (xs[None, :] / half_width) ** 2, 0.0, None))
    att = (_MU_SOFT * body).astype(np.float32)

    lung = np.zeros_like(att)
    for cx, dome in ((-72.0, 88.0), (74.0, 100.0)):
        rs, cs, path = _ellipsoid_path(xs, ys, cx, -25.0, 64.0, 155.0, 62.0)
        dome_y = dome + 0.012 * (xs[cs] - cx) ** 2
        below = np.clip((dome_y[None, :] - ys[rs][:, None]) / 3.0, 0.0, 1.0)
        lung[rs, cs] += path * below
    for cx, cy, ax, ay, d in ((22.0, 55.0, 74.0, 62.0, 58.0), (28.0, -62.0, 18.0, 16.0, 18.0)):
        rs, cs, path = _ellipsoid_path(xs, ys, cx, cy, ax, ay, d)  # heart, aortic knob
        lung[rs, cs] -= path
    att -= (_MU_SOFT - _MU_LUNG) * np.clip(lung, 0.0, None)

    rs, cs, gas = _ellipsoid_path(xs, ys, 78.0, 128.0, 32.0, 18.0, 25.0)  # gastric bubble
    att[rs, cs] -= _MU_SOFT * gas
    _cr_bones(att, xs, ys)
    return att


def _cr_bones(att: Float32Array, xs: NDArray[np.float32], ys: NDArray[np.float32]) -> None:
    """Spine (with discs), clavicles, posterior and anterior ribs (added in place)."""
    spine_x = np.abs(xs) < 21.0
    spine = 2.0 * np.sqrt(np.clip(441.0 - xs[spine_x] ** 2, 0.0, None))
    segment = np.where((ys + 200.0) % 27.0 < 5.0, 0.7, 1.0).astype(np.float32)
    att[:, spine_x] += (_MU_BONE * 0.45) * segment[:, None] * spine[None, :]
    for sign in (-1.0, 1.0):
        for i in range(10):
            top = -150.0 + 25.0 * i
            _cr_rib(att, xs, ys, sign, top)
        cs = _col_range(xs, sign, 18.0, 150.0)
        s = np.abs(xs[cs]) - 18.0
        centre = (-148.0 - 0.18 * s + 0.0008 * s * s).astype(np.float32)
        rs = _row_range(ys, -200.0, -120.0)
        att[rs, cs] += (_MU_BONE * _taper(s, 132.0)) * _tube_path(xs, ys, rs, cs, centre, 7.0)


def _cr_rib(
    att: Float32Array, xs: NDArray[np.float32], ys: NDArray[np.float32], sign: float, top: float
) -> None:
    """One posterior rib (from the spine outwards) and its fainter anterior arc (back inwards)."""
    cs = _col_range(xs, sign, 15.0, 150.0)
    s = np.abs(xs[cs]) - 15.0
    posterior = (top - 0.25 * s + 0.0022 * s * s).astype(np.float32)
    rs = _row_range(ys, top - 30.0, top + 25.0)
    weight = (_MU_BONE * 0.8) * _taper(s, 135.0)
    att[rs, cs] += weight * _tube_path(xs, ys, rs, cs, posterior, 5.0)
    cs = _col_range(xs, sign, 45.0, 150.0)
    s = np.abs(xs[cs]) - 15.0
    anterior = (top + 12.0 + 0.42 * (135.0 - s)).astype(np.float32)
    rs = _row_range(ys, top, top + 75.0)
    weight = (_MU_BONE * 0.4) * _taper(s - 30.0, 105.0)
    att[rs, cs] += weight * _tube_path(xs, ys, rs, cs, anterior, 6.0)


def _taper(s: NDArray[np.floating], length: float) -> Float32Array:
    """Per-column weight along a bone of ``length`` mm: fades in and out at both ends."""
    ends = np.minimum(s / 10.0, (length - s) / 25.0)
    return np.asarray(_smoothstep(ends), dtype=np.float32)[None, :]


def _col_range(xs: NDArray[np.float32], sign: float, lo: float, hi: float) -> slice:
    a, b = (lo, hi) if sign > 0 else (-hi, -lo)
    return slice(int(np.searchsorted(xs, a)), int(np.searchsorted(xs, b)))


def _row_range(ys: NDArray[np.float32], lo: float, hi: float) -> slice:
    return slice(int(np.searchsorted(ys, lo)), int(np.searchsorted(ys, hi)))


def _cr_pixels() -> NDArray[np.uint16]:
    """Stored values: log-exposure response, collimated edges, a lead "L" marker, noise."""
    att = _cr_attenuation()
    xs, ys = _cr_axes()
    value = _CR_DIRECT - _CR_GAIN * att
    lx, ly = 150.0, -190.0  # lead marker at the patient's left shoulder (image right)
    value[_row_range(ys, ly, ly + 14.0), _col_range(xs, 1.0, lx, lx + 3.0)] = 60.0
    value[_row_range(ys, ly + 11.0, ly + 14.0), _col_range(xs, 1.0, lx, lx + 9.0)] = 60.0
    rng = np.random.default_rng([_SEED, 5])
    value += np.float32(12.0) * rng.standard_normal(value.shape, np.float32)
    edge = round(6.0 / CR_PIXEL_SPACING[0])  # 6 mm unexposed by the collimator
    value[:edge, :] = value[-edge:, :] = 90.0
    value[:, :edge] = value[:, -edge:] = 90.0
    return np.clip(np.rint(value), 0, 2**CR_BITS_STORED - 1).astype(np.uint16)


def _cr_dataset() -> Dataset:
    """The CR Image (PS3.3 A.2): CR Series (C.8.1.1) and CR Image (C.8.1.2) modules."""
    ds = _new_instance(_CR_SERIES, ComputedRadiographyImageStorage, 1)
    ds.ViewPosition = "PA"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PatientOrientation = list(CR_PATIENT_ORIENTATION)
    ds.PhotometricInterpretation = "MONOCHROME1"
    _add_mono_pixels(ds, _cr_pixels(), CR_BITS_STORED)
    ds.ImagerPixelSpacing = [_ds(v) for v in CR_PIXEL_SPACING]
    ds.PixelSpacing = [_ds(v) for v in CR_PIXEL_SPACING]
    _add_windows(ds, ((CR_WINDOW[0], CR_WINDOW[1], "DEFAULT"),))
    ds.KVP = "125"
    ds.DistanceSourceToDetector = "1800"
    ds.ExposureTime = "8"
    ds.XRayTubeCurrent = 320
    ds.Exposure = 3
    ds.PlateID = "P35X43-01"
    ds.RelativeXRayExposure = 210
    ds.SensitivityValue = 200.0
    return ds
