"""The built-in demo study, checked the way a clinician or a PACS admin would check a CD."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet
from pydicom.pixels import apply_modality_lut
from pydicom.tag import Tag
from pydicom.uid import (
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
    UltrasoundMultiFrameImageStorage,
)

from viewer import demo
from viewer.core import user_dirs
from viewer.dicom.write.fileset import discard_file_set_stage

TOTAL_INSTANCES = sum(s.instances for s in demo.DEMO_SERIES)


# ------------------------------------------------------------------------------------------
# helpers and module fixtures
# ------------------------------------------------------------------------------------------
def _files(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in _files(folder)
    }


def _floats(value: object) -> list[float]:
    return [float(v) for v in value]  # type: ignore[attr-defined]


def _normal(ds: Dataset) -> NDArray[np.float64]:
    iop = np.array(_floats(ds.ImageOrientationPatient))
    return np.cross(iop[:3], iop[3:])


def _along_normal(ds: Dataset) -> float:
    return float(np.dot(_floats(ds.ImagePositionPatient), _normal(ds)))


@pytest.fixture(scope="module")
def headers(demo_study: Path) -> dict[str, list[tuple[Path, Dataset]]]:
    """Every instance header (no pixels), by modality."""
    out: dict[str, list[tuple[Path, Dataset]]] = {}
    for path in sorted(_files(demo_study)):
        if path.name != "DICOMDIR":
            ds = dcmread(path, stop_before_pixels=True)
            out.setdefault(ds.Modality, []).append((path, ds))
    return out


@pytest.fixture(scope="module")
def ct_stack(headers: dict[str, list[tuple[Path, Dataset]]]) -> tuple[list[Dataset], np.ndarray]:
    """CT datasets sorted along the slice normal and their HU volume (slice, row, column)."""
    datasets = sorted((dcmread(p) for p, _ in headers["CT"]), key=_along_normal)
    volume = np.stack([apply_modality_lut(ds.pixel_array, ds) for ds in datasets])
    return datasets, volume


# ------------------------------------------------------------------------------------------
# the file-set
# ------------------------------------------------------------------------------------------
def test_dicomdir_references_every_file_and_nothing_else(demo_study: Path) -> None:
    dicomdir = dcmread(demo_study / "DICOMDIR")
    records = list(dicomdir.DirectoryRecordSequence)
    referenced = {}
    for record in records:
        if "ReferencedFileID" in record:
            parts = record.ReferencedFileID
            parts = [parts] if isinstance(parts, str) else list(parts)
            referenced["/".join(parts)] = record
    on_disk = {p.relative_to(demo_study).as_posix() for p in _files(demo_study)}
    assert on_disk - {"DICOMDIR"} == set(referenced)
    assert len(referenced) == TOTAL_INSTANCES
    kinds = [r.DirectoryRecordType for r in records]
    assert (kinds.count("PATIENT"), kinds.count("STUDY"), kinds.count("SERIES")) == (1, 4, 4)
    for file_id, record in referenced.items():
        assert all(re.fullmatch(r"[A-Z0-9_]{1,8}", part) for part in file_id.split("/"))
        ds = dcmread(demo_study / file_id, stop_before_pixels=True)
        assert ds.SOPInstanceUID == record.ReferencedSOPInstanceUIDInFile
        assert ds.SOPClassUID == record.ReferencedSOPClassUIDInFile
        assert record.ReferencedTransferSyntaxUIDInFile == ExplicitVRLittleEndian


def test_dicomdir_loads_as_pydicom_fileset(demo_study: Path) -> None:
    fs = FileSet(dcmread(demo_study / "DICOMDIR"))
    try:
        assert len(fs) == TOTAL_INSTANCES
        assert all(Path(instance.path).is_file() for instance in fs)
        assert {i.SOPClassUID for i in fs} == {
            ComputedRadiographyImageStorage,
            CTImageStorage,
            MRImageStorage,
            UltrasoundMultiFrameImageStorage,
        }
        assert fs.find_values("PatientID") == [demo.PATIENT_ID]
    finally:
        discard_file_set_stage(fs)  # pydicom leaks a TemporaryDirectory otherwise


def test_every_file_is_part10_explicit_vr_little_endian(
    headers: dict[str, list[tuple[Path, Dataset]]],
) -> None:
    for path, ds in (item for items in headers.values() for item in items):
        assert path.read_bytes()[128:132] == b"DICM"
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.SpecificCharacterSet == demo.SPECIFIC_CHARACTER_SET
        assert ds.InstitutionName == demo.INSTITUTION_NAME  # Latin-1 "ü" decoded
        assert "Süd".encode("latin-1") in path.read_bytes()[:4096]


def test_one_patient_with_four_dated_studies(
    headers: dict[str, list[tuple[Path, Dataset]]],
) -> None:
    all_ds = [ds for items in headers.values() for _, ds in items]
    patients = {
        (str(ds.PatientName), ds.PatientID, ds.PatientBirthDate, ds.PatientSex) for ds in all_ds
    }
    assert patients == {
        (demo.PATIENT_NAME, demo.PATIENT_ID, demo.PATIENT_BIRTH_DATE, demo.PATIENT_SEX)
    }
    for spec in demo.DEMO_SERIES:
        series = [ds for _, ds in headers[spec.modality]]
        assert len(series) == spec.instances
        assert len({ds.StudyInstanceUID for ds in series}) == 1
        assert len({ds.SeriesInstanceUID for ds in series}) == 1
        first = series[0]
        assert first.StudyDate == spec.study_date
        assert first.StudyDescription == spec.study_description
        assert first.SeriesNumber == spec.series_number
        assert first.SeriesDescription == spec.series_description
        assert first.get("NumberOfFrames", 1) == spec.frames_per_instance
    assert len({ds.StudyInstanceUID for ds in all_ds}) == 4
    assert len({ds.StudyDate for ds in all_ds}) == 4
    ct, mr = headers["CT"][0][1], headers["MR"][0][1]
    assert ct.FrameOfReferenceUID != mr.FrameOfReferenceUID


# ------------------------------------------------------------------------------------------
# CT
# ------------------------------------------------------------------------------------------
def test_ct_geometry(headers: dict[str, list[tuple[Path, Dataset]]]) -> None:
    slices = sorted((ds for _, ds in headers["CT"]), key=_along_normal)
    assert len(slices) == demo.CT_SLICES >= 160
    positions = np.array([_floats(ds.ImagePositionPatient) for ds in slices])
    assert tuple(positions[0]) == demo.CT_ORIGIN
    assert np.all(np.diff(positions[:, 2]) == demo.CT_SLICE_SPACING)  # exact, not approximate
    assert np.all(positions[:, :2] == positions[0, :2])
    for k, ds in enumerate(slices):
        assert tuple(_floats(ds.ImageOrientationPatient)) == demo.CT_ORIENTATION
        assert tuple(_floats(ds.PixelSpacing)) == demo.CT_PIXEL_SPACING
        assert float(ds.SliceThickness) == demo.CT_SLICE_THICKNESS
        assert float(ds.SliceLocation) == positions[k, 2]
        assert (ds.Rows, ds.Columns) == (demo.CT_ROWS, demo.CT_COLUMNS)
        assert tuple(_floats(ds.ImagePositionPatient)) == demo.ct_slice_position(k)
    assert tuple(_normal(slices[0])) == demo.CT_NORMAL


def test_ct_instance_one_is_the_top_slice_and_files_are_unordered(
    headers: dict[str, list[tuple[Path, Dataset]]],
) -> None:
    ascending = sorted(headers["CT"], key=lambda item: _along_normal(item[1]))
    numbers = [ds.InstanceNumber for _, ds in ascending]
    assert numbers == list(range(demo.CT_SLICES, 0, -1))
    by_name = [p for p, _ in sorted(headers["CT"])]
    in_z_order = [p for p, _ in ascending]
    assert by_name not in (in_z_order, in_z_order[::-1])


def test_ct_pixel_and_voi_modules(headers: dict[str, list[tuple[Path, Dataset]]]) -> None:
    ds = headers["CT"][0][1]
    assert ds.SOPClassUID == CTImageStorage
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 16, 15, 1)
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert (float(ds.RescaleIntercept), float(ds.RescaleSlope), ds.RescaleType) == (-1024, 1, "HU")
    assert _floats(ds.WindowCenter) == [40.0, -600.0]
    assert _floats(ds.WindowWidth) == [400.0, 1500.0]
    assert list(ds.WindowCenterWidthExplanation) == ["ABDOMEN", "LUNG"]
    assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert ds.PatientPosition == "HFS"


# Clinically plausible HU ranges for the ROI means.
CLINICAL_HU = {
    "air": (-1010.0, -990.0),
    "subcutaneous_fat": (-130.0, -70.0),
    "paraspinal_muscle": (30.0, 60.0),
    "lung": (-850.0, -750.0),
    "vertebral_body": (600.0, 800.0),
    "liver": (45.0, 75.0),
    "kidney": (15.0, 45.0),
    "aorta": (150.0, 300.0),
}


@pytest.mark.parametrize("name", sorted(demo.CT_LANDMARKS))
def test_ct_hounsfield_units_at_landmarks(
    name: str, ct_stack: tuple[list[Dataset], np.ndarray]
) -> None:
    datasets, volume = ct_stack
    point, expected = demo.CT_LANDMARKS[name]
    # voxel index from the files' own geometry, not from the module constants
    origin = np.array(_floats(datasets[0].ImagePositionPatient))
    row_spacing, col_spacing = _floats(datasets[0].PixelSpacing)
    z = np.array([_floats(ds.ImagePositionPatient)[2] for ds in datasets])
    k = int(np.argmin(np.abs(z - point[2])))
    col = round((point[0] - origin[0]) / col_spacing)
    row = round((point[1] - origin[1]) / row_spacing)
    assert z[k] == point[2]
    roi = volume[k, row - 2 : row + 3, col - 2 : col + 3]
    lo, hi = CLINICAL_HU[name]
    assert lo <= roi.mean() <= hi
    assert abs(roi.mean() - expected) < 10.0
    assert roi.std() < 3.0 * demo.CT_NOISE_HU  # a homogeneous region, not an edge


def test_ct_anatomy_changes_along_z(ct_stack: tuple[list[Dataset], np.ndarray]) -> None:
    _, volume = ct_stack
    lung_voxels = ((volume > -900.0) & (volume < -700.0)).sum(axis=(1, 2))
    liver_k = round((demo.CT_LANDMARKS["liver"][0][2] - demo.CT_ORIGIN[2]) / demo.CT_SLICE_SPACING)
    assert lung_voxels[-1] > 10_000  # thorax at the top: lungs fill much of the slice
    assert lung_voxels[0] < 0.05 * lung_voxels[-1]  # abdomen at the bottom: only air-gas edges
    liver_voxels = ((volume > 45.0) & (volume < 75.0)).sum(axis=(1, 2))
    assert liver_voxels[liver_k] > 3 * liver_voxels[-1]
    assert volume.min() >= -1024.0
    assert volume.max() <= 3071.0


# ------------------------------------------------------------------------------------------
# MR
# ------------------------------------------------------------------------------------------
def test_mr_is_sagittal_with_its_own_spacing(
    headers: dict[str, list[tuple[Path, Dataset]]],
) -> None:
    slices = sorted((ds for _, ds in headers["MR"]), key=_along_normal)
    assert len(slices) == demo.MR_SLICES
    normal = _normal(slices[0])
    assert tuple(normal) == demo.MR_NORMAL
    assert abs(normal[0]) == 1.0  # sagittal: the normal is the patient's left-right axis
    assert tuple(_floats(slices[0].ImagePositionPatient)) == demo.MR_ORIGIN
    steps = np.diff([_along_normal(ds) for ds in slices])
    assert np.all(steps == demo.MR_SLICE_SPACING)
    for k, ds in enumerate(slices):
        assert tuple(_floats(ds.ImageOrientationPatient)) == demo.MR_ORIENTATION
        assert tuple(_floats(ds.ImagePositionPatient)) == demo.mr_slice_position(k)
        assert ds.InstanceNumber == k + 1
        assert float(ds.SpacingBetweenSlices) == demo.MR_SLICE_SPACING
        assert float(ds.SliceThickness) == demo.MR_SLICE_THICKNESS
    ds = slices[0]
    assert ds.SOPClassUID == MRImageStorage
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0)
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == demo.MR_WINDOW


def test_mr_signal_at_landmarks(headers: dict[str, list[tuple[Path, Dataset]]]) -> None:
    slices = sorted((ds for _, ds in headers["MR"]), key=_along_normal)
    values = {}
    for name, (point, expected) in demo.MR_LANDMARKS.items():
        k = next(
            i for i, ds in enumerate(slices) if _floats(ds.ImagePositionPatient)[0] == point[0]
        )
        ds = dcmread(
            next(p for p, h in headers["MR"] if h.SOPInstanceUID == slices[k].SOPInstanceUID)
        )
        origin = demo.mr_slice_position(k)
        col = round((point[1] - origin[1]) / demo.MR_PIXEL_SPACING[1])
        row = round((origin[2] - point[2]) / demo.MR_PIXEL_SPACING[0])
        values[name] = float(ds.pixel_array[row - 2 : row + 3, col - 2 : col + 3].mean())
        assert abs(values[name] - expected) < 0.15 * expected
        assert ds.pixel_array.max() < 2**12
    assert values["ventricle_csf"] > 2 * values["white_matter"]  # T2: CSF bright


# ------------------------------------------------------------------------------------------
# US and CR
# ------------------------------------------------------------------------------------------
def test_us_is_an_rgb_cine(headers: dict[str, list[tuple[Path, Dataset]]]) -> None:
    [(path, header)] = headers["US"]
    assert header.SOPClassUID == UltrasoundMultiFrameImageStorage
    assert (header.SamplesPerPixel, header.PhotometricInterpretation) == (3, "RGB")
    assert header.PlanarConfiguration == 0
    assert (header.BitsAllocated, header.BitsStored, header.HighBit) == (8, 8, 7)
    assert header.NumberOfFrames == demo.US_FRAMES >= 30
    assert float(header.FrameTime) == demo.US_FRAME_TIME_MS
    assert header.FrameIncrementPointer == Tag(0x0018, 0x1063)
    assert header.CineRate == header.RecommendedDisplayFrameRate == demo.US_FRAME_RATE
    regions = header.SequenceOfUltrasoundRegions
    assert [r.RegionDataType for r in regions] == [1, 2]
    assert all(r.PhysicalDeltaX == demo.US_PHYSICAL_DELTA_CM for r in regions)
    frames = dcmread(path).pixel_array
    assert frames.shape == (demo.US_FRAMES, demo.US_ROWS, demo.US_COLUMNS, 3)
    chroma = frames.max(axis=-1).astype(int) - frames.min(axis=-1)
    coloured_per_frame = (chroma > 80).sum(axis=(1, 2))
    assert coloured_per_frame.max() > 500  # colour Doppler, not just gray
    assert not np.array_equal(frames[0], frames[6])  # the heart beats


def test_cr_is_a_monochrome1_chest_radiograph(
    headers: dict[str, list[tuple[Path, Dataset]]],
) -> None:
    [(path, header)] = headers["CR"]
    assert header.SOPClassUID == ComputedRadiographyImageStorage
    assert header.PhotometricInterpretation == "MONOCHROME1"
    assert (header.BitsAllocated, header.BitsStored, header.HighBit) == (16, 12, 11)
    assert header.PixelRepresentation == 0
    assert header.get("PresentationLUTShape", "IDENTITY") == "IDENTITY"
    assert header.ViewPosition == "PA"
    assert tuple(_floats(header.ImagerPixelSpacing)) == demo.CR_PIXEL_SPACING
    assert tuple(header.PatientOrientation) == demo.CR_PATIENT_ORIENTATION
    assert (float(header.WindowCenter), float(header.WindowWidth)) == demo.CR_WINDOW
    pixels = dcmread(path).pixel_array
    assert pixels.shape == (demo.CR_ROWS, demo.CR_COLUMNS)
    assert pixels.max() < 2**12

    def at(x_mm: float, y_mm: float) -> float:
        """Mean around a point given in mm from the image centre (x right, y down)."""
        row = round(y_mm / demo.CR_PIXEL_SPACING[0] + (demo.CR_ROWS - 1) / 2)
        col = round(x_mm / demo.CR_PIXEL_SPACING[1] + (demo.CR_COLUMNS - 1) / 2)
        return float(pixels[row - 10 : row + 10, col - 10 : col + 10].mean())

    right_lung, heart, abdomen = at(-80.0, -60.0), at(40.0, 60.0), at(-60.0, 170.0)
    # MONOCHROME1: lungs (little attenuation, dark on film) have the highest values
    assert right_lung > heart + 800
    assert right_lung > abdomen + 800


# ------------------------------------------------------------------------------------------
# determinism, the cache folder, argument checks
# ------------------------------------------------------------------------------------------
def test_rewriting_gives_identical_bytes(headers: dict[str, list[tuple[Path, Dataset]]]) -> None:
    """Regenerate a subset in memory (a full second write takes seconds) and compare bytes."""
    by_uid = {ds.SOPInstanceUID: path for items in headers.values() for path, ds in items}
    again = [demo._cr_dataset(), demo._us_dataset(), demo._mr_dataset(0), demo._mr_dataset(26)]
    again += [demo._ct_dataset(n) for n in (1, 2, demo.CT_SLICES // 2, demo.CT_SLICES)]
    for ds in again:
        buffer = BytesIO()
        ds.save_as(buffer, enforce_file_format=True)  # what FileSet.add does
        assert buffer.getvalue() == by_uid[ds.SOPInstanceUID].read_bytes()


def test_identifiers_are_fixed(
    demo_study: Path, headers: dict[str, list[tuple[Path, Dataset]]]
) -> None:
    dicomdir = dcmread(demo_study / "DICOMDIR")
    assert dicomdir.file_meta.MediaStorageSOPInstanceUID == demo._uid("file-set")
    assert dicomdir.FileSetID == demo.FILE_SET_ID
    for items in headers.values():
        for _, ds in items:
            assert ds.SOPInstanceUID.startswith("2.25.")
            assert ds.SOPInstanceUID == demo._uid(
                _series_key(ds), "instance", str(ds.InstanceNumber)
            )


def _series_key(ds: Dataset) -> str:
    return {"CR": "cr1", "CT": "ct2", "MR": "mr4", "US": "us1"}[ds.Modality]


def test_ensure_writes_once_into_the_cache(
    demo_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls: list[Path] = []

    def fake_write(out_dir: Path) -> Path:  # as the real one, but a fast copy
        assert out_dir.is_dir() and not any(out_dir.iterdir())
        calls.append(out_dir)
        shutil.copytree(demo_study, out_dir, dirs_exist_ok=True)
        return out_dir / "DICOMDIR"

    monkeypatch.setattr(demo, "write_demo_study", fake_write)
    folder = demo.ensure_demo_study()
    assert folder == demo.default_demo_dir() == tmp_path / "cache" / "dicom-viewer" / "demo-v1"
    assert len(calls) == 1 and calls[0].parent == folder.parent  # a sibling, then renamed
    assert _digests(folder) == _digests(demo_study)
    assert [p.name for p in folder.parent.iterdir()] == ["demo-v1"]  # no temp folder left
    assert demo.ensure_demo_study() == folder
    assert len(calls) == 1  # complete: reused, not rewritten


def test_ensure_replaces_an_incomplete_cache(
    demo_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    target = demo.default_demo_dir()
    shutil.copytree(demo_study, target)
    victim = next(p for p in sorted(_files(target)) if p.name != "DICOMDIR")
    victim.unlink()
    calls: list[Path] = []

    def fake_write(out_dir: Path) -> Path:  # as the real one, but a fast copy
        calls.append(out_dir)
        shutil.copytree(demo_study, out_dir, dirs_exist_ok=True)
        return out_dir / "DICOMDIR"

    monkeypatch.setattr(demo, "write_demo_study", fake_write)
    assert demo.ensure_demo_study() == target
    assert len(calls) == 1 and calls[0].parent == target.parent
    assert victim.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["demo-v1"]


def test_cache_base_per_platform(tmp_path: Path) -> None:
    """The demo's cache is the user cache of :mod:`viewer.core.user_dirs` on every platform."""
    _cache_base = user_dirs._cache_base
    home = tmp_path / "home"
    assert _cache_base("linux", {}, home) == home / ".cache"
    assert _cache_base("linux", {"XDG_CACHE_HOME": "relative"}, home) == home / ".cache"
    assert _cache_base("darwin", {}, home) == home / "Library" / "Caches"
    assert _cache_base("win32", {}, home) == home / "AppData" / "Local"
    assert _cache_base("win32", {"LOCALAPPDATA": str(tmp_path)}, home) == tmp_path
    xdg = str(tmp_path / "xdg")
    assert _cache_base("darwin", {"XDG_CACHE_HOME": xdg}, home) == Path(xdg)


def test_write_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "README.TXT").write_text("not a demo")
    with pytest.raises(FileExistsError):
        demo.write_demo_study(tmp_path)


def test_documented_constants_agree() -> None:
    assert demo.ct_slice_position(0) == demo.CT_ORIGIN
    assert demo.ct_slice_position(demo.CT_SLICES - 1)[2] == -11.25
    assert demo.mr_slice_position(0) == demo.MR_ORIGIN
    assert demo.mr_slice_position(13)[0] == 0.0  # mid-sagittal
    assert demo.ct_voxel_center(0, 0, 0) == demo.CT_ORIGIN
    assert TOTAL_INSTANCES == 221
