"""The study database on real files and a real SQLite file (issue 15)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from tests.factories import write_series
from viewer.dicom.catalog.records import ScannedFile
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.scan import read_instance
from viewer.store import managed
from viewer.store.database import StudyDatabase, default_database_path
from viewer.store.importer import import_paths
from viewer.store.query import StudyQuery, fold_text, last_days, parse_date_range
from viewer.store.record_codec import decode_record, encode_record
from viewer.store.schema import SCHEMA_VERSION, DatabaseError, connect


@pytest.fixture
def database(tmp_path: Path) -> StudyDatabase:
    db = StudyDatabase(tmp_path / "studies.sqlite", check=True)
    yield db
    db.close()


@pytest.fixture
def demo_copy(demo_study: Path, tmp_path: Path) -> Path:
    """A private copy of the demo study that a test may change."""
    target = tmp_path / "demo"
    shutil.copytree(demo_study, target)
    return target


def _scanned(paths: list[str]) -> list[ScannedFile]:
    return [item for item in map(read_instance, paths) if isinstance(item, ScannedFile)]


def test_default_file_is_in_the_user_data_folder(tmp_path: Path) -> None:
    path = default_database_path()
    assert path.name == "studies.sqlite"
    assert str(path).startswith(os.environ["XDG_DATA_HOME"])


def test_schema_is_versioned_and_in_wal(tmp_path: Path) -> None:
    StudyDatabase(tmp_path / "a.sqlite").close()
    raw = sqlite3.connect(tmp_path / "a.sqlite")
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"patients", "studies", "series", "instances", "viewer_objects"} <= tables
    raw.close()


def test_a_newer_schema_is_refused_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(DatabaseError, match="newer viewer"):
        StudyDatabase(path)


def test_a_corrupt_file_is_set_aside_at_the_start_up_check(tmp_path: Path) -> None:
    path = tmp_path / "bad.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    StudyDatabase(path, check=True).close()
    assert (tmp_path / "bad.sqlite.corrupt").exists()
    assert StudyDatabase(path).counts()["studies"] == 0


def test_import_by_reference_records_the_demo_study(
    database: StudyDatabase, demo_study: Path
) -> None:
    summary = import_paths(database, [demo_study])
    catalog = index_paths([demo_study])
    assert summary.recorded == catalog.instance_count
    studies = database.list_studies()
    assert len(studies) == 4
    assert [s.date for s in studies] == sorted((s.date for s in studies), reverse=True)
    ct = next(s for s in studies if s.modalities == ("CT",))
    assert ct.instances == 192 and ct.series == 1 and ct.location == "file"
    assert ct.patient_name == "DEMO, Anna" and ct.patient_id == "DEMO-0001"
    assert all(s.shown_location() == "file" for s in studies)
    # by reference: nothing was copied anywhere
    assert not managed.store_root().exists()


def test_rows_give_back_exactly_the_records_indexing_gives(
    database: StudyDatabase, demo_study: Path
) -> None:
    """Instant reopen: records from the rows equal a fresh header read, field for field."""
    import_paths(database, [demo_study])
    fresh = {
        item.instance.sop_instance_uid: item
        for item in _scanned(
            [r.path for s in index_paths([demo_study]).all_series() for r in s.instances]
        )
    }
    for study in database.list_studies():
        for item in database.scanned_files(study.uid):
            assert item == fresh[item.instance.sop_instance_uid]


#: pydicom's bundled test files (vendor files, odd syntaxes), read offline.
PYDICOM_DATA = Path(get_testdata_file("CT_small.dcm") or "").parent


def _pydicom_files() -> list[str]:
    return sorted(str(p) for p in PYDICOM_DATA.rglob("*") if p.is_file() and p.suffix != ".py")


def test_record_codec_round_trips_every_pydicom_test_file() -> None:
    """Vendor files we did not write (enhanced multi-frame, odd VRs): encode -> decode is
    the identity on the records."""
    checked = 0
    for item in _scanned(_pydicom_files()):
        record = item.instance
        back = decode_record(
            encode_record(record),
            record.path,
            record.sop_instance_uid,
            record.series_uid,
            record.study_uid,
        )
        assert back == record, record.path
        checked += 1
    assert checked > 50


def test_pydicom_files_reopen_from_the_rows(database: StudyDatabase, tmp_path: Path) -> None:
    items = _scanned(_pydicom_files())
    unique = {item.instance.sop_instance_uid: item for item in items}
    database.add_scanned(unique.values())
    from_rows = {
        item.instance.sop_instance_uid: item
        for study in database.list_studies()
        for item in database.scanned_files(study.uid)
    }
    assert set(from_rows) == set(unique)
    for uid, item in unique.items():
        assert from_rows[uid].instance == item.instance
        assert from_rows[uid].series.uid == item.series.uid


def test_reopening_a_known_folder_reads_only_changed_files(
    database: StudyDatabase, demo_copy: Path
) -> None:
    first = import_paths(database, [demo_copy])
    again = import_paths(database, [demo_copy])
    assert again.recorded == 0 and again.unchanged == first.recorded
    changed = sorted(demo_copy.rglob("*"))[-1]
    assert changed.is_file()
    stamp = changed.stat()
    os.utime(changed, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 5_000_000_000))
    third = import_paths(database, [demo_copy])
    assert third.recorded == 1 and third.unchanged == first.recorded - 1


def test_import_and_copy_fills_the_managed_store_and_never_touches_the_source(
    database: StudyDatabase, demo_copy: Path
) -> None:
    before = {p: p.stat().st_mtime_ns for p in demo_copy.rglob("*")}
    summary = import_paths(database, [demo_copy], copy=True)
    assert summary.copied == summary.recorded == 221
    assert {p: p.stat().st_mtime_ns for p in demo_copy.rglob("*")} == before
    studies = database.list_studies()
    assert {s.location for s in studies} == {"copied"}
    shutil.rmtree(demo_copy)  # the CD is ejected: the copies still open
    assert {s.shown_location() for s in studies} == {"copied"}
    ct = next(s for s in studies if s.modalities == ("CT",))
    files = database.scanned_files(ct.uid)
    assert all(managed.is_managed(item.instance.path) for item in files)
    assert all(Path(item.instance.path).is_file() for item in files)
    assert database.remove_study(ct.uid) == 192
    assert not any(Path(item.instance.path).exists() for item in files)
    assert len(database.list_studies()) == 3


def test_removing_a_referenced_study_keeps_its_files(
    database: StudyDatabase, demo_copy: Path
) -> None:
    import_paths(database, [demo_copy])
    files = sorted(p for p in demo_copy.rglob("*") if p.is_file())
    for study in database.list_studies():
        assert database.remove_study(study.uid) > 0
    assert database.counts() == dict.fromkeys(
        ("patients", "studies", "series", "instances", "viewer_objects"), 0
    )
    assert sorted(p for p in demo_copy.rglob("*") if p.is_file()) == files
    assert database.remove_study("1.2.3.4") == 0


def test_files_deleted_after_import_show_as_missing(
    database: StudyDatabase, demo_copy: Path
) -> None:
    import_paths(database, [demo_copy])
    shutil.rmtree(demo_copy)
    assert {s.shown_location() for s in database.list_studies()} == {"missing"}
    assert {s.as_json()["location"] for s in database.list_studies()} == {"missing"}


def test_a_copy_replaces_the_reference_it_was_made_from(
    database: StudyDatabase, demo_copy: Path
) -> None:
    import_paths(database, [demo_copy])
    import_paths(database, [demo_copy], copy=True)
    assert database.counts()["instances"] == 221
    assert {s.location for s in database.list_studies()} == {"copied"}


@pytest.fixture
def searchable(database: StudyDatabase, tmp_path: Path) -> StudyDatabase:
    people = [
        ("Müller^Hans", "ID-100", "20240105", "CT"),
        ("Mueller^Jo", "ID-101", "20240210", "MR"),
        ("O'Brien^Siobhán", "XY-7", "20231231", "CR"),
        ("Doe^Jane^Ann", "ID-200", "20240301", "US"),
    ]
    for n, (name, pid, date, modality) in enumerate(people):
        write_series(
            tmp_path / f"p{n}",
            slices=2,
            patient_name=name,
            patient_id=pid,
            study_date=date,
            modality=modality,
            rows=4,
            columns=4,
        )
    import_paths(database, [tmp_path / f"p{n}" for n in range(len(people))])
    return database


def _ids(database: StudyDatabase, **terms: str) -> list[str]:
    return sorted(s.patient_id for s in database.list_studies(StudyQuery(**terms)))


def test_search_folds_accents_and_matches_word_prefixes(searchable: StudyDatabase) -> None:
    assert _ids(searchable, patient_name="muller") == ["ID-100"]
    assert _ids(searchable, patient_name="MÜLLER") == ["ID-100"]
    assert _ids(searchable, patient_name="mu*ler") == ["ID-100", "ID-101"]
    assert _ids(searchable, patient_name="m?eller") == ["ID-101"]
    assert _ids(searchable, patient_name="siobhan") == ["XY-7"]
    assert _ids(searchable, patient_name="ann") == ["ID-200"]
    assert _ids(searchable, patient_name="nothing") == []
    assert _ids(searchable, patient_name="100%") == []  # LIKE metacharacters are literal


def test_search_by_id_date_and_modality(searchable: StudyDatabase) -> None:
    assert _ids(searchable, patient_id="ID-1") == ["ID-100", "ID-101"]
    assert _ids(searchable, patient_id="*7") == ["XY-7"]
    assert _ids(searchable, date_from="20240101", date_to="20240229") == ["ID-100", "ID-101"]
    assert _ids(searchable, date_to="20231231") == ["XY-7"]
    assert _ids(searchable, modality="mr") == ["ID-101"]
    assert _ids(searchable, patient_name="m", modality="CT") == ["ID-100"]
    assert _ids(searchable, accession_number="A00") == ["ID-100", "ID-101", "ID-200", "XY-7"]


def test_date_ranges_and_presets() -> None:
    assert parse_date_range("20240101-20240131") == ("20240101", "20240131")
    assert parse_date_range("20240101-") == ("20240101", "")
    assert parse_date_range("-20240101") == ("", "20240101")
    assert parse_date_range("20240101") == ("20240101", "20240101")
    for bad in ("2024", "20241301", "abc-def", "-", ""):
        with pytest.raises(ValueError):
            parse_date_range(bad)
    import datetime

    assert last_days(7, datetime.date(2024, 3, 10)) == ("20240304", "20240310")
    assert last_days(1, datetime.date(2024, 3, 10)) == ("20240310", "20240310")
    assert fold_text("Ångström^Zoë") == "angstrom zoe"


def test_viewer_objects_are_kept_per_study_and_frame_of_reference(
    database: StudyDatabase,
) -> None:
    first = database.add_viewer_object(
        "1.2.3",
        "length",
        {"points": [[0, 0], [3, 4]], "mm": 5.0},
        frame_of_reference_uid="1.2.3.9",
        sop_instance_uid="1.2.3.4",
        frame=0,
    )
    database.add_viewer_object("1.2.3", "text", {"text": "note"})
    assert [o.kind for o in database.viewer_objects("1.2.3")] == ["length", "text"]
    assert database.update_viewer_object(first, {"mm": 6.0})
    found = database.viewer_objects(frame_of_reference_uid="1.2.3.9")
    assert len(found) == 1 and found[0].payload == {"mm": 6.0} and found[0].frame == 0
    assert found[0].modified >= found[0].created
    assert database.delete_viewer_object(first)
    assert not database.delete_viewer_object(first)
    assert len(database.viewer_objects(sop_instance_uid="1.2.3.4")) == 0


def test_a_read_only_data_folder_gives_one_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root ignores permissions: use an impossible path
            target = Path("/proc/dicom-viewer-test/studies.sqlite")
        else:
            target = folder / "studies.sqlite"
        with pytest.raises(DatabaseError) as caught:
            connect(target)
        message = str(caught.value)
        assert "\n" not in message and str(target.parent) in message
    finally:
        folder.chmod(0o755)
