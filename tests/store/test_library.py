"""The GUI's way into the study database (viewer.store.library), without Qt: recording waits
for opens to finish, closing writes what is queued, a database that cannot be used is one
message and no exception, reopening gives back the records indexing gives."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.factories import write_series, write_zip
from viewer.dicom.catalog.records import ScannedFile
from viewer.dicom.io.indexer import index_paths
from viewer.store import library as library_module
from viewer.store.database import StudyDatabase
from viewer.store.importer import import_paths
from viewer.store.library import StudyLibrary
from viewer.store.query import StudyQuery


def _records(folder: Path) -> list[ScannedFile]:
    from viewer.dicom.io.indexer import index_stream

    return [item for item in index_stream([folder]) if isinstance(item, ScannedFile)]


def _count(path: Path) -> int:
    with StudyDatabase(path) as database:
        return database.counts()["instances"]


def test_recording_waits_for_the_open_then_writes_everything(
    tmp_path: Path, demo_study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library_module, "SETTLE_S", 0.05)
    path = tmp_path / "studies.sqlite"
    written = threading.Event()
    library = StudyLibrary(path, on_written=written.set)
    items = _records(demo_study)
    library.hold()
    library.record(items)
    assert not written.wait(0.3)  # held: nothing written while the open runs
    library.release()
    assert written.wait(10)
    assert library.flush()
    assert _count(path) == len(items) == 221
    library.close()


def test_closing_writes_what_is_queued_even_while_held(tmp_path: Path, demo_study: Path) -> None:
    path = tmp_path / "studies.sqlite"
    library = StudyLibrary(path)
    library.hold()
    library.record(_records(demo_study))
    library.close()
    assert _count(path) == 221
    library.record(_records(demo_study))  # after close: ignored, no thread, no error


def test_an_unusable_database_is_one_message_and_no_exception(
    tmp_path: Path, demo_study: Path
) -> None:
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    problems: list[str] = []
    library = StudyLibrary(target / "studies.sqlite", on_problem=problems.append)
    library.record(_records(demo_study))
    assert library.flush(5)
    assert library.known_files([str(demo_study)]) is None
    assert library.list_studies(StudyQuery()) == []
    assert library.reopen("1.2.3").problem
    assert library.remove_study("1.2.3") == 0
    assert len(problems) == 1 and "\n" not in problems[0] and not library.usable
    library.close()


def test_reopen_gives_back_the_records_indexing_gives(tmp_path: Path, demo_study: Path) -> None:
    path = tmp_path / "studies.sqlite"
    with StudyDatabase(path) as database:
        import_paths(database, [demo_study])
    library = StudyLibrary(path)
    catalog = index_paths([demo_study])
    studies = library.list_studies(StudyQuery())
    assert len(studies) == 4
    for listed in studies:
        plan = library.reopen(listed.row.uid)
        assert not plan.problem and not plan.paths
        expected = [
            series.instances for series in catalog.all_series()
            if series.instances[0].study_uid == listed.row.uid
        ]  # fmt: skip
        by_sop = {item.instance.sop_instance_uid: item.instance for item in plan.items}
        assert sorted(by_sop) == sorted(r.sop_instance_uid for rs in expected for r in rs)
        for records in expected:
            for record in records:
                assert by_sop[record.sop_instance_uid] == record
    library.close()


def test_reopen_says_when_files_are_missing_or_the_study_is_gone(
    tmp_path: Path, demo_study: Path
) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo_study, folder)
    path = tmp_path / "studies.sqlite"
    with StudyDatabase(path) as database:
        import_paths(database, [folder])
    library = StudyLibrary(path)
    uid = library.list_studies(StudyQuery())[0].row.uid
    shutil.rmtree(folder)
    assert {study.location for study in library.list_studies(StudyQuery())} == {"missing"}
    assert "missing" in library.reopen(uid).problem
    assert library.remove_study(uid) > 0
    assert "no longer" in library.reopen(uid).problem
    library.close()


def test_a_zipped_study_reopens_by_indexing_its_zip(tmp_path: Path) -> None:
    series = tmp_path / "series"
    write_series(series, slices=4)
    archive = write_zip(tmp_path / "study.zip", series, "CD")
    path = tmp_path / "studies.sqlite"
    with StudyDatabase(path) as database:
        import_paths(database, [archive])
    library = StudyLibrary(path)
    uids = {study.row.uid for study in library.list_studies(StudyQuery())}
    assert len(uids) == 1
    for uid in uids:
        assert library.reopen(uid).paths == [str(archive)]
    library.close()


def test_the_writer_does_not_wait_forever_for_a_release(tmp_path: Path, demo_study: Path) -> None:
    path = tmp_path / "studies.sqlite"
    library = StudyLibrary(path)
    library.hold()
    library.record(_records(demo_study)[:10])
    started = time.monotonic()
    assert library.flush(10)  # flush (tests, close) writes regardless of holds
    assert time.monotonic() - started < 10
    assert _count(path) == 10
    library.close()


def test_a_damaged_file_is_set_aside_and_the_library_starts_anew(tmp_path: Path) -> None:
    """The start-up check runs off the reading path; a file that cannot even be opened as a
    database is set aside by a checked open on first use, and the library works."""
    bad = tmp_path / "studies.sqlite"
    bad.write_bytes(b"this is not a database" * 200)
    library = StudyLibrary(bad)
    try:
        assert library.list_studies(StudyQuery()) == []
        assert library.usable
        assert (tmp_path / "studies.sqlite.corrupt").exists()
    finally:
        library.close()
