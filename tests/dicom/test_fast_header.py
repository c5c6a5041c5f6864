"""The lean header reader (viewer.dicom.io.fast_header) gives exactly the pydicom path's records.

Every file both readers accept must give equal ScannedFile records: pydicom's bundled test and
character-set files, the demo study, and synthetic series in every encoding the lean reader
walks (explicit/implicit VR, big endian, undefined-length sequences, private tags, names in
Latin-1 and Japanese). What it is unsure of it hands to pydicom (returns None).
"""

from __future__ import annotations

import dataclasses
import gc
import os
import tracemalloc
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from tests import factories
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.records import ScannedFile
from viewer.dicom.io.fast_header import read_instance_fast
from viewer.dicom.io.scan import read_instance, read_instance_pydicom

DATA = Path(pydicom.__file__).parent / "data"


def files_below(folder: Path) -> list[str]:
    return sorted(str(Path(root) / name) for root, _, names in os.walk(folder) for name in names)


def assert_same_as_pydicom(paths: list[str]) -> int:
    """Fast and pydicom records are equal wherever the fast reader answers; how many did."""
    answered = 0
    for path in paths:
        fast = read_instance_fast(path)
        if fast is None:
            continue
        answered += 1
        assert fast == read_instance_pydicom(path), path
    return answered


def test_every_bundled_pydicom_file_gives_the_same_records():
    paths = files_below(DATA / "test_files") + files_below(DATA / "charset_files")
    answered = assert_same_as_pydicom(paths)
    with_preamble = [p for p in paths if Path(p).read_bytes()[128:132] == b"DICM"]
    # The lean reader is the usual path, not a rare one.
    assert answered >= 0.9 * len(with_preamble)


def test_charset_files_give_readable_names():
    for name, expected in [
        ("chrFren.dcm", "Buc, Jérôme"),
        ("chrJapMulti.dcm", "やまだ, たろう"),
        ("chrX1.dcm", "Wang, XiaoDong (王, 小東)"),
    ]:
        item = read_instance(str(DATA / "charset_files" / name))
        assert isinstance(item, ScannedFile)
        assert item.patient.name == expected


def test_demo_study_gives_the_same_records(demo_study: Path):
    paths = [p for p in files_below(demo_study) if not p.endswith("DICOMDIR")]
    assert assert_same_as_pydicom(paths) == len(paths)


def undefined_length_sequences(k: int, ds: Dataset) -> None:
    """A private creator, a private element and nested sequences of undefined length."""
    inner = Dataset()
    inner.CodeValue = "T-D0050"
    inner.CodingSchemeDesignator = "SRT"
    item = Dataset()
    item.CodeMeaning = "Tissue"
    item.ConceptNameCodeSequence = DicomSequence([inner])
    ds.AnatomicRegionSequence = DicomSequence([item, Dataset()])
    ds.AnatomicRegionSequence.is_undefined_length = True
    ds.AnatomicRegionSequence[0].is_undefined_length_sequence_item = True
    ds[0x00090010] = pydicom.DataElement(0x00090010, "LO", "SYNTHETIC PRIVATE")
    ds[0x00091001] = pydicom.DataElement(0x00091001, "OB", bytes(300))


def to_syntax(syntax: str):
    def hook(k: int, ds: Dataset) -> None:
        ds.file_meta.TransferSyntaxUID = syntax

    return hook


@pytest.mark.parametrize(
    "hook",
    [
        None,
        undefined_length_sequences,
        to_syntax(ImplicitVRLittleEndian),
        to_syntax(ExplicitVRBigEndian),
    ],
    ids=["explicit", "undefined-length-sequences", "implicit", "big-endian"],
)
def test_factory_series_in_each_encoding(tmp_path, hook):
    truth = factories.write_series(tmp_path, slices=3, per_slice=hook)
    assert assert_same_as_pydicom(truth.paths) == 3


def test_names_in_latin1_and_japanese(tmp_path):
    def latin1(k: int, ds: Dataset) -> None:
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName = "Müller^Jürgen"
        ds.SeriesDescription = "Schädel nativ"

    def japanese(k: int, ds: Dataset) -> None:
        ds.SpecificCharacterSet = ["ISO 2022 IR 6", "ISO 2022 IR 87"]
        ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"

    a = factories.write_series(tmp_path / "a", slices=1, per_slice=latin1)
    b = factories.write_series(tmp_path / "b", slices=1, per_slice=japanese)
    assert assert_same_as_pydicom(a.paths + b.paths) == 2
    names = [read_instance(p).patient.name for p in a.paths + b.paths]  # type: ignore[union-attr]
    assert names == ["Müller, Jürgen", "Yamada, Tarou (山田, 太郎; やまだ, たろう)"]


def test_multiframe_cine_and_rt_dose_grid(tmp_path):
    cine = factories.write_cine(tmp_path / "cine.dcm", frames=5)
    assert assert_same_as_pydicom([cine, str(DATA / "test_files" / "rtdose.dcm")]) == 2
    record = read_instance_fast(str(DATA / "test_files" / "rtdose.dcm"))
    assert record is not None and record.instance.frame_offsets is not None  # type: ignore[union-attr]


def decimal_comma(k: int, ds: Dataset) -> None:
    """Slice Thickness written as "1,5" verbatim, as some scanners do (not a valid DS)."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    ds[0x00180050] = RawDataElement(Tag(0x00180050), "DS", 4, b"1,5 ", 0, False, True)


def test_unusual_files_are_left_to_pydicom(tmp_path):
    enhanced = factories.write_enhanced(tmp_path / "enhanced.dcm", factories.enhanced_frames())
    odd = factories.write_series(tmp_path / "odd", slices=1, per_slice=decimal_comma)
    deflated = str(DATA / "test_files" / "image_dfl.dcm")
    for path in (enhanced.path, odd.paths[0], deflated):
        assert read_instance_fast(path) is None, path
        assert isinstance(read_instance(path), ScannedFile)  # pydicom reads it


def test_truncated_header_is_never_an_exception(tmp_path):
    truth = factories.write_series(tmp_path, slices=1)
    data = Path(truth.paths[0]).read_bytes()
    for cut in (140, 300, 700, len(data) // 2):
        path = tmp_path / f"cut{cut}.dcm"
        path.write_bytes(data[:cut])
        read_instance_fast(str(path))  # a record or None, never an exception
        read_instance(str(path))


def test_memory_per_indexed_instance_is_under_2_kib(tmp_path):
    """10,000 instances (each with its own path, UID and position) in a catalog."""
    truth = factories.write_series(tmp_path, slices=1)
    template = read_instance(truth.paths[0])
    assert isinstance(template, ScannedFile)
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        catalog = Catalog()
        for k in range(10_000):
            record = dataclasses.replace(
                template.instance,
                path=f"{tmp_path}/study/series/IM{k:06d}.dcm",
                sop_instance_uid=f"1.2.826.0.1.3680043.8.498.{k}.{10**20 + k}",
                position=(-158.1, -179.0, -75.7 + 1.25 * k),
                slice_location=-75.7 + 1.25 * k,
                instance_number=k + 1,
            )
            catalog.add(dataclasses.replace(template, instance=record))
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert catalog.instance_count == 10_000
    assert (used - start) / 10_000 < 2048
