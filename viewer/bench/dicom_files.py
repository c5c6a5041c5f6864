"""pydicom datasets for the benchmark data: CT slices, a radiograph and an RGB cine.

Headers carry what a scanner writes (patient, study, series, equipment, image plane, pixel
module, windows), so header parsing costs what it costs on real files. UIDs are name-based
(``2.25.<uuid5>``, PS3.5 B.2): the same names give the same files on every run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    CTImageStorage,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    UltrasoundMultiFrameImageStorage,
)

from viewer.bench.phantom import CT_INTERCEPT

_NAMESPACE = uuid.UUID("5d1b1c86-5a55-4f39-9a4e-2b7c3c0b2f11")
CT_PIXEL_SPACING_MM = 0.7
CT_SLICE_SPACING_MM = 1.25
CINE_FRAME_TIME_MS = 1000.0 / 30.0


def name_uid(*names: str) -> UID:
    """A fixed UID for ``names`` (2.25 + name-based UUID)."""
    return UID(f"2.25.{uuid.uuid5(_NAMESPACE, '/'.join(('bench', *names))).int}")


@dataclass(frozen=True)
class SeriesIdentity:
    """Who and what a generated series is; ``key`` seeds all its UIDs."""

    key: str
    patient_name: str
    patient_id: str
    study_key: str
    series_number: int
    description: str


def _new_dataset(series: SeriesIdentity, sop_class: UID, instance: int) -> Dataset:
    sop_instance = name_uid(series.key, "instance", str(instance))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = name_uid("implementation")
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    _add_patient_study_series(ds, series)
    ds.InstanceNumber = instance
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = "101500"
    ds.LossyImageCompression = "00"
    return ds


def _add_patient_study_series(ds: Dataset, series: SeriesIdentity) -> None:
    ds.PatientName = series.patient_name
    ds.PatientID = series.patient_id
    ds.PatientBirthDate = "19650101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = name_uid(series.study_key, "study")
    ds.StudyDate = "20240603"
    ds.StudyTime = "101010"
    ds.StudyID = "1"
    ds.AccessionNumber = series.study_key[-16:]
    ds.StudyDescription = "Benchmark study"
    ds.ReferringPhysicianName = ""
    ds.SeriesInstanceUID = name_uid(series.key, "series")
    ds.SeriesNumber = series.series_number
    ds.SeriesDescription = series.description
    ds.SeriesDate = ds.StudyDate
    ds.SeriesTime = "101200"
    ds.Manufacturer = "dicom-viewer bench"
    ds.InstitutionName = "Benchmark"
    ds.StationName = "BENCH01"


def _add_mono_pixels(ds: Dataset, pixels: NDArray[np.int16] | NDArray[np.uint16]) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if pixels.dtype == np.int16 else 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<")).tobytes()


def ct_dataset(series: SeriesIdentity, k: int, pixels: NDArray[np.int16]) -> Dataset:
    """CT slice ``k`` (0 = lowest z) of an axial series, Instance Number ``k + 1``."""
    ds = _new_dataset(series, CTImageStorage, k + 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Modality = "CT"
    ds.BodyPartExamined = "CHEST"
    ds.FrameOfReferenceUID = name_uid(series.key, "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.AcquisitionNumber = 1
    ds.KVP = "120"
    ds.SliceThickness = str(CT_SLICE_SPACING_MM)
    ds.PatientPosition = "HFS"
    rows, columns = pixels.shape
    spacing = CT_PIXEL_SPACING_MM * 512 / columns
    z = round(-300.0 + k * CT_SLICE_SPACING_MM, 4)
    ds.ImagePositionPatient = [f"{-spacing * columns / 2:.4f}", f"{-spacing * rows / 2:.4f}", z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceLocation = z
    ds.PixelSpacing = [f"{spacing:.6g}", f"{spacing:.6g}"]
    _add_mono_pixels(ds, pixels)
    ds.RescaleIntercept = str(int(CT_INTERCEPT))
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = ["40", "-600"]
    ds.WindowWidth = ["400", "1500"]
    return ds


def radiograph_dataset(pixels: NDArray[np.uint16]) -> Dataset:
    """A DX For Presentation image, MONOCHROME1, 12 bits stored."""
    series = SeriesIdentity("radiograph", "BENCH^Radiograph", "BENCH-RX", "radiograph", 1, "PA")
    ds = _new_dataset(series, DigitalXRayImageStorageForPresentation, 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.Modality = "DX"
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.BodyPartExamined = "CHEST"
    ds.ImagerPixelSpacing = ["0.143", "0.143"]
    ds.PixelSpacing = ["0.143", "0.143"]
    _add_mono_pixels(ds, pixels)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.WindowCenter = "2048"
    ds.WindowWidth = "4096"
    return ds


def cine_dataset(frames: NDArray[np.uint8]) -> Dataset:
    """An RGB ultrasound multi-frame at 30 frames/s (Frame Time, Cine Rate)."""
    series = SeriesIdentity("cine", "BENCH^Cine", "BENCH-US", "cine", 1, "Cine 30 fps")
    ds = _new_dataset(series, UltrasoundMultiFrameImageStorage, 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.Modality = "US"
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.NumberOfFrames, ds.Rows, ds.Columns = frames.shape[:3]
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.FrameTime = f"{CINE_FRAME_TIME_MS:.4f}"
    ds.FrameIncrementPointer = 0x00181063
    ds.CineRate = 30
    ds.RecommendedDisplayFrameRate = 30
    ds.PixelData = np.ascontiguousarray(frames).tobytes()
    return ds
