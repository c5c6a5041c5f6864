"""Media as CDs and PACS exports write them: DICOMDIRs with the full record hierarchy.

:func:`write_dicomdir` indexes the files under a folder and writes a DICOMDIR whose PATIENT >
STUDY > SERIES > IMAGE records (PS3.3 F.5) are linked by byte offsets (PS3.3 F.3.2.1), the
way media creators do: written once to learn where each record lands, then again with the
offsets filled in (UL values keep their size, so nothing moves). Hooks let a test break it
(a record cycle, a reference to a missing file) or name files as ISO 9660 CDs do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pydicom
from pydicom import config
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

from viewer.dicom.catalog.records import ScannedFile
from viewer.dicom.io.scan import iter_files, read_instance

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
FileId = Callable[[str], list[str]]


def relative_ids(root: Path) -> FileId:
    """Referenced File IDs as the files' paths below ``root``, one component per folder."""
    return lambda path: list(Path(path).relative_to(root).parts)


def write_dicomdir(
    root: Path | str,
    files: Sequence[str] | None = None,
    file_id: FileId | None = None,
    name: str = "DICOMDIR",
    link: bool = True,
) -> Path:
    """A DICOMDIR in ``root`` for ``files`` (default: every DICOM file below ``root``).

    ``link=False`` leaves every offset 0: records nest by their order only.
    """
    root = Path(root)
    paths = files if files is not None else [p for p in iter_files([root]) if isinstance(p, str)]
    scanned = [item for item in map(read_instance, paths) if isinstance(item, ScannedFile)]
    ids = file_id or relative_ids(root)
    dataset = _directory(scanned, ids)
    target = root / name
    _save(dataset, target)
    if link:
        _link(dataset, target)
        _save(dataset, target)
    return target


def _directory(scanned: list[ScannedFile], file_id: FileId) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DICOMDIR_SOP_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.FileSetID = "TEST"
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    ds.SpecificCharacterSet = "ISO_IR 100"
    records: list[Dataset] = []
    tree: dict[str, dict[str, dict[str, list[ScannedFile]]]] = {}
    for item in scanned:
        patient = tree.setdefault(item.patient.key, {})
        study = patient.setdefault(item.instance.study_uid, {})
        study.setdefault(item.instance.series_uid, []).append(item)
    for studies in tree.values():
        first = next(iter(next(iter(studies.values())).values()))[0]
        raw_name = pydicom.dcmread(first.instance.path, stop_before_pixels=True).PatientName
        records.append(_record("PATIENT", PatientName=raw_name, PatientID=first.patient.patient_id))
        for series_map in studies.values():
            one = next(iter(series_map.values()))[0]
            records.append(
                _record(
                    "STUDY",
                    StudyInstanceUID=one.study.uid,
                    StudyDate=one.study.date,
                    StudyTime=one.study.time,
                    StudyDescription=one.study.description,
                    AccessionNumber=one.study.accession_number,
                    StudyID=one.study.study_id,
                )
            )
            for members in series_map.values():
                info = members[0].series
                records.append(
                    _record(
                        "SERIES",
                        SeriesInstanceUID=info.uid,
                        Modality=info.modality,
                        SeriesNumber=info.number if info.number is not None else "",
                    )
                )
                for member in members:
                    record = _record(
                        "IMAGE",
                        ReferencedSOPClassUIDInFile=member.instance.sop_class_uid,
                        ReferencedSOPInstanceUIDInFile=member.instance.sop_instance_uid,
                        ReferencedTransferSyntaxUIDInFile=member.instance.transfer_syntax,
                        InstanceNumber=member.instance.instance_number or 1,
                    )
                    with config.disable_value_validation():
                        record.add_new(0x00041500, "CS", file_id(member.instance.path))
                    records.append(record)
    ds.DirectoryRecordSequence = DicomSequence(records)
    return ds


def _record(kind: str, **attributes: object) -> Dataset:
    record = Dataset()
    record.OffsetOfTheNextDirectoryRecord = 0
    record.RecordInUseFlag = 0xFFFF
    record.OffsetOfReferencedLowerLevelDirectoryEntity = 0
    record.DirectoryRecordType = kind
    for keyword, value in attributes.items():
        setattr(record, keyword, value)
    return record


LEVELS = {"PATIENT": 0, "STUDY": 1, "SERIES": 2, "IMAGE": 3}


def _link(dataset: Dataset, path: Path) -> None:
    """Fill the offsets from where pydicom read each record (the file was just written)."""
    written = pydicom.dcmread(path)
    offsets = [item.seq_item_tell for item in written.DirectoryRecordSequence]
    records = list(dataset.DirectoryRecordSequence)
    last_at_level: dict[int, int] = {}
    parent_at_level: dict[int, int] = {}
    roots: list[int] = []
    for index, record in enumerate(records):
        level = LEVELS[record.DirectoryRecordType]
        for deeper in [lvl for lvl in last_at_level if lvl > level]:
            del last_at_level[deeper]
        previous = last_at_level.get(level)
        if previous is not None:
            records[previous].OffsetOfTheNextDirectoryRecord = offsets[index]
        elif level > 0:
            records[
                parent_at_level[level - 1]
            ].OffsetOfReferencedLowerLevelDirectoryEntity = offsets[index]
        if level == 0:
            roots.append(index)
        last_at_level[level] = index
        parent_at_level[level] = index
    dataset.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = offsets[roots[0]]
    dataset.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = offsets[roots[-1]]


def _save(dataset: Dataset, path: Path) -> None:
    with config.disable_value_validation():
        dataset.save_as(path, enforce_file_format=True)


def record_offsets(path: Path | str) -> list[tuple[int, str]]:
    """(offset, record type) of each record, as stored."""
    written = pydicom.dcmread(path)
    return [
        (item.seq_item_tell, item.DirectoryRecordType) for item in written.DirectoryRecordSequence
    ]


def make_cycle(path: Path | str) -> None:
    """Point the last SERIES record's next-record offset back at the first SERIES record."""
    dataset = pydicom.dcmread(path)
    records = list(dataset.DirectoryRecordSequence)
    series = [i for i, record in enumerate(records) if record.DirectoryRecordType == "SERIES"]
    records[series[-1]].OffsetOfTheNextDirectoryRecord = records[series[0]].seq_item_tell
    _save(dataset, Path(path))


def cd_names(root: Path) -> FileId:
    """Rename everything below ``root`` as a mounted CD may show it (lower case, ``;1`` on
    every other file) and return File IDs as they were burned: upper case, no version."""
    for folder, subfolders, names in os.walk(root, topdown=False):
        for index, name in enumerate(sorted(names)):
            target = name.lower() + (";1" if index % 2 else "")
            os.replace(os.path.join(folder, name), os.path.join(folder, target))
        for sub in subfolders:
            os.replace(os.path.join(folder, sub), os.path.join(folder, sub.lower()))
    return lambda path: [part.upper().split(";")[0] for part in Path(path).relative_to(root).parts]


def directory_record(kind: str, file_id: Sequence[str] = (), **attributes: object) -> Dataset:
    """One directory record; ``file_id`` (components, written verbatim) may name a file."""
    record = _record(kind, **attributes)
    if file_id:
        with config.disable_value_validation():
            record.add_new(0x00041500, "CS", list(file_id) if len(file_id) > 1 else file_id[0])
    return record


def write_directory_file(path: Path | str, records: Sequence[tuple[int, Dataset]]) -> Path:
    """A directory file (Media Storage Directory Storage) holding ``records``: (depth, record)
    pairs in stored order, linked by offsets (each record's children are the records right
    after it one level deeper), whatever record types they are, as nested media indexes
    (Philips DIRFILEs: STUDY records at the root, no PATIENT) are."""
    dataset = _directory([], relative_ids(Path(path).parent))
    dataset.DirectoryRecordSequence = DicomSequence([record for _, record in records])
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _save(dataset, target)
    offsets = [item.seq_item_tell for item in pydicom.dcmread(target).DirectoryRecordSequence]
    depths = [depth for depth, _ in records]
    for index, (depth, record) in enumerate(records):
        later = range(index + 1, len(records))
        sibling = next((j for j in later if depths[j] <= depth), None)
        if sibling is not None and depths[sibling] == depth:
            record.OffsetOfTheNextDirectoryRecord = offsets[sibling]
        if index + 1 < len(records) and depths[index + 1] == depth + 1:
            record.OffsetOfReferencedLowerLevelDirectoryEntity = offsets[index + 1]
    roots = [offsets[i] for i, depth in enumerate(depths) if depth == min(depths)]
    dataset.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = roots[0]
    dataset.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = roots[-1]
    _save(dataset, target)
    return target
