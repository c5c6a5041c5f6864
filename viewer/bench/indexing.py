"""Header indexing rate: our indexer against GDCM's Scanner on the same folder and tags.

Both include walking the folder. GDCM reads the attributes the viewer's records hold
(viewer.dicom.io.header_fields), so neither side is asked for less than the other.
"""

from __future__ import annotations

from pathlib import Path

from pydicom.datadict import tag_for_keyword

from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, interleaved_rates

#: The top-level attributes the viewer's instance, series, study and patient records hold.
INDEXED_KEYWORDS = (
    "TransferSyntaxUID", "SpecificCharacterSet", "ImageType", "SOPClassUID", "SOPInstanceUID",
    "StudyDate", "SeriesDate", "StudyTime", "SeriesTime", "AccessionNumber", "Modality",
    "StudyDescription", "SeriesDescription", "PatientName", "PatientID", "PatientBirthDate",
    "PatientSex", "BodyPartExamined", "SliceThickness", "EchoNumbers", "TriggerTime",
    "FrameTime", "StudyInstanceUID", "SeriesInstanceUID", "StudyID", "SeriesNumber",
    "AcquisitionNumber", "InstanceNumber", "ImagePositionPatient", "ImageOrientationPatient",
    "FrameOfReferenceUID", "TemporalPositionIdentifier", "SliceLocation", "SamplesPerPixel",
    "PhotometricInterpretation", "NumberOfFrames", "Rows", "Columns", "PixelSpacing",
    "BitsAllocated",
)  # fmt: skip


def index_with_viewer(folder: Path) -> int:
    """Index ``folder`` as the GUI and ``inspect`` do; the number of instances found."""
    from viewer.dicom.io.indexer import index_paths

    return index_paths([str(folder)]).instance_count


def index_with_gdcm(folder: Path) -> int:
    """Walk ``folder`` and read INDEXED_KEYWORDS with gdcm.Scanner; files it could read."""
    import gdcm

    directory = gdcm.Directory()
    directory.Load(str(folder), True)
    scanner = gdcm.Scanner()
    for keyword in INDEXED_KEYWORDS:
        tag = tag_for_keyword(keyword)
        assert tag is not None, keyword
        scanner.AddTag(gdcm.Tag(tag >> 16, tag & 0xFFFF))
    if not scanner.Scan(directory.GetFilenames()):
        return 0
    return len(scanner.GetKeys())


def measure_indexing(folder: Path, files: int, sizes: BenchSizes) -> dict[str, Figure]:
    """index_files_per_s and index_gdcm_files_per_s, runs interleaved."""
    counters = {
        "index_files_per_s": lambda: index_with_viewer(folder),
        "index_gdcm_files_per_s": lambda: index_with_gdcm(folder),
    }
    return interleaved_rates(counters, files, "files/s", sizes.runs, sizes.warmups)
