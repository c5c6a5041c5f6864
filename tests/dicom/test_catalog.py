"""The patient > study > series tree (viewer.dicom.catalog.catalog): merging, de-duplication, order,
and patient names as people read them, including pydicom's character-set files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
import pydicom.data
import pytest

from tests import factories
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.person_name import format_component_group, format_person_name
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.scan import read_instance

# ---------------------------------------------------------------------------------------------
# Merging and order


def write_two_studies(root: Path) -> dict[str, factories.SeriesTruth]:
    old = factories.write_series(
        root / "old", slices=3, study_date="20190305", series_number=2, series_description="B"
    )
    old_2 = factories.write_series(
        root / "old2",
        slices=2,
        study_uid=old.study_uid,
        study_date="20190305",
        series_number=1,
        series_description="A",
        modality="MR",
    )
    new = factories.write_series(root / "new", slices=4, study_date="20230111")
    other = factories.write_series(
        root / "other", slices=2, patient_name="Other^Person", patient_id="P0002"
    )
    return {"old": old, "old_2": old_2, "new": new, "other": other}


def test_tree_merges_by_uid_and_orders_for_reading(tmp_path):
    truths = write_two_studies(tmp_path)
    catalog = index_paths([tmp_path / "new", tmp_path / "old", tmp_path / "other", tmp_path])
    assert catalog.instance_count == 11
    patients = catalog.sorted_patients()
    assert [p.info.name for p in patients] == ["Other, Person", "Test, Patient"]
    studies = patients[1].sorted_studies()
    assert [s.info.uid for s in studies] == [truths["new"].study_uid, truths["old"].study_uid]
    assert [s.info.description for s in studies[1].sorted_series()] == ["A", "B"]
    assert studies[1].modalities == ["CT", "MR"]
    series = catalog.series(truths["old"].series_uid)
    assert series is not None and series.frame_count == 3
    # Depth-first, the order inspect lists stacks and ``volume --stack K`` counts them.
    assert [s.frames for s in catalog.all_stacks()] == [2, 4, 2, 3]


def test_same_instances_from_several_paths_are_kept_once(tmp_path):
    truth = factories.write_series(tmp_path / "a", slices=3)
    copy = factories.write_fileset(truth.paths, tmp_path / "copy")
    catalog = index_paths([tmp_path / "a", copy, tmp_path / "copy", truth.paths[0]])
    assert catalog.instance_count == 3
    (series,) = catalog.all_series()
    assert len(series.instances) == 3
    assert [p for p, _ in series.stacks[0].sources] == truth.paths  # the first copy seen wins


def test_added_reports_what_is_new_and_stacks_rebuild(tmp_path):
    truth = factories.write_series(tmp_path, slices=3)
    catalog = Catalog()
    first = catalog.add(read_instance(truth.paths[1]))
    assert first is not None and (first.new_patient, first.new_study, first.new_series) == (
        True,
        True,
        True,
    )
    assert [s.frames for s in first.series.stacks] == [1]  # built, then cached
    again = catalog.add(read_instance(truth.paths[0]))
    assert again is not None and not (again.new_patient or again.new_study or again.new_series)
    assert [s.frames for s in again.series.stacks] == [2]  # rebuilt after the change
    assert catalog.add(read_instance(truth.paths[0])) is None  # duplicate SOP Instance UID
    assert catalog.scanned == 3


def test_skipped_items_are_counted_and_kept(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    catalog = index_paths([tmp_path])
    assert catalog.scanned == 1
    assert catalog.instance_count == 0
    assert catalog.skipped[0].path == str(tmp_path / "notes.txt")


def test_same_patient_id_with_another_name_is_another_patient(tmp_path):
    factories.write_series(tmp_path / "a", slices=1, patient_name="Doe^John", patient_id="1")
    factories.write_series(tmp_path / "b", slices=1, patient_name="Roe^Jane", patient_id="1")
    catalog = index_paths([tmp_path])
    assert [p.info.name for p in catalog.sorted_patients()] == ["Doe, John", "Roe, Jane"]


def test_undated_study_sorts_last(tmp_path):
    dated = factories.write_series(tmp_path / "a", slices=1, study_date="20000101")
    undated = factories.write_series(tmp_path / "b", slices=1, study_date="")
    catalog = index_paths([tmp_path])
    (patient,) = catalog.patients.values()
    assert [s.info.uid for s in patient.sorted_studies()] == [dated.study_uid, undated.study_uid]


# ---------------------------------------------------------------------------------------------
# Person names


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("Doe^John", "Doe, John"),
        ("Doe^John^Q^Dr^Jr", "Doe, Dr John Q, Jr"),
        ("Doe", "Doe"),
        ("^John", "John"),
        ("", ""),
        ("^^^^III", "III"),
        ("Doe^^^^MD", "Doe, MD"),
    ],
)
def test_component_group(group, expected):
    assert format_component_group(group) == expected


def test_person_name_groups():
    assert format_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう") == (
        "Yamada, Tarou (山田, 太郎; やまだ, たろう)"
    )
    assert format_person_name("Yamada^Tarou==やまだ^たろう") == "Yamada, Tarou (やまだ, たろう)"
    assert format_person_name("=山田^太郎") == "山田, 太郎"
    assert format_person_name(None) == ""
    assert format_person_name("") == ""


#: pydicom's character-set test files -> the name as the tree shows it.
CHARSET_NAMES = {
    "chrArab.dcm": "قباني, لنزار",
    "chrFren.dcm": "Buc, Jérôme",
    "chrFrenMulti.dcm": "Buc, Jérôme",
    "chrGerm.dcm": "Äneas, Rüdiger",
    "chrGreek.dcm": "Διονυσιος",
    "chrH31.dcm": "Yamada, Tarou (山田, 太郎; やまだ, たろう)",
    "chrH32.dcm": "ﾔﾏﾀﾞ, ﾀﾛｳ (山田, 太郎; やまだ, たろう)",
    "chrHbrw.dcm": "שרון, דבורה",
    "chrI2.dcm": "Hong, Gildong (洪, 吉洞; 홍, 길동)",
    "chrJapMulti.dcm": "やまだ, たろう",
    "chrJapMultiExplicitIR6.dcm": "やまだ, たろう",
    "chrKoreanMulti.dcm": "김희중",
    "chrRuss.dcm": "Люкceмбypг",
    "chrX1.dcm": "Wang, XiaoDong (王, 小東)",
    "chrX2.dcm": "Wang, XiaoDong (王, 小东)",
}


def charset_file(name: str) -> str:
    for path in pydicom.data.get_charset_files(name):
        return path
    pytest.skip(f"{name} is not bundled with this pydicom")


@pytest.mark.parametrize(("name", "expected"), sorted(CHARSET_NAMES.items()))
def test_charset_patient_names(name, expected):
    item = read_instance(charset_file(name))
    assert item.patient.name == expected  # type: ignore[union-attr]


def test_charset_folder_indexes_without_raising():
    folder = os.path.dirname(charset_file("chrGerm.dcm"))
    catalog = index_paths([folder])
    names = {p.info.name for p in catalog.patients.values()}
    assert set(CHARSET_NAMES.values()) <= names
    # The two files without study/series UIDs (sequence encoding tests) are listed, not lost.
    skipped = {os.path.basename(s.path) for s in catalog.skipped}
    assert {"chrSQEncoding.dcm", "chrSQEncoding1.dcm", "FileInfo.txt"} <= skipped


def test_undecodable_name_does_not_cost_the_file(tmp_path):
    truth = factories.write_series(tmp_path, slices=1)
    ds = pydicom.dcmread(truth.paths[0])
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds["PatientName"].value = b"\xff\xfe^\xc3"  # not UTF-8
    ds.save_as(truth.paths[0])
    item = read_instance(truth.paths[0])
    assert item.instance.sop_instance_uid  # type: ignore[union-attr]
    assert isinstance(item.patient.name, str)  # type: ignore[union-attr]
