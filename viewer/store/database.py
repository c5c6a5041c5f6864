"""The study database: patients > studies > series > instances, and the viewer's own objects.

:class:`StudyDatabase` is the one way in. Writes go in batches, each one transaction
(``BEGIN IMMEDIATE``: a second process waits for the lock, see :mod:`viewer.store.schema`),
so a process killed mid-import loses at most the batch in flight and leaves a consistent
file. Reads are plain queries over the WAL snapshot, never blocked by a writer.

An instance row holds its file's URI (an absolute path; a zip's member as ``ZIP!/MEMBER``),
how it is stored (``file``: by reference, ``copied``: in the managed store, ``pacs``:
retrieved into the managed store), size and mtime (a re-open re-reads only changed files),
transfer syntax, frames, and the rest of its record as JSON (:mod:`viewer.store.record_codec`),
so a study reopens without reading a header.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from viewer.core.user_dirs import data_dir
from viewer.dicom.catalog.records import PatientInfo, ScannedFile, SeriesInfo, StudyInfo
from viewer.dicom.io.zips import MEMBER_SEPARATOR, shown_path
from viewer.store import managed
from viewer.store.query import StudyQuery, fold_text, where_clause
from viewer.store.record_codec import decode_record, encode_record
from viewer.store.schema import DatabaseError, connect, describe

#: How a file is held: by reference, copied into the managed store, retrieved from a PACS.
STORED_KINDS = ("file", "copied", "pacs")
#: Attempts at a write transaction that met "database is locked" after the busy timeout.
WRITE_ATTEMPTS = 3
#: The database file's name in the user data folder.
DATABASE_NAME = "studies.sqlite"

T = TypeVar("T")


def default_database_path() -> Path:
    """``studies.sqlite`` in the user data folder (:func:`viewer.core.user_dirs.data_dir`)."""
    return data_dir() / DATABASE_NAME


@dataclass(frozen=True, slots=True)
class StudyRow:
    """One study as a listing shows it."""

    uid: str
    patient_name: str
    patient_id: str
    birth_date: str
    date: str
    time: str
    description: str
    accession_number: str
    modalities: tuple[str, ...]
    series: int
    instances: int
    location: str  # file | copied | pacs
    sample_uri: str

    def files_missing(self) -> bool:
        """Whether the study's files are gone (a CD ejected, a folder deleted): one check on
        one of its files (a zip's member: the zip)."""
        path = self.sample_uri.split(MEMBER_SEPARATOR, 1)[0]
        return not path or not os.path.exists(path)

    def shown_location(self) -> str:
        """``file``, ``copied``, ``pacs`` or ``missing``."""
        return "missing" if self.files_missing() else self.location

    def as_json(self) -> dict[str, Any]:
        """The object ``db list --json`` prints for it (shared/cli-contract.md)."""
        return {
            "uid": self.uid,
            "patient_name": self.patient_name,
            "patient_id": self.patient_id,
            "date": self.date,
            "description": self.description,
            "modalities": list(self.modalities),
            "series": self.series,
            "instances": self.instances,
            "location": self.shown_location(),
        }


@dataclass(frozen=True, slots=True)
class ViewerObject:
    """A measurement or annotation the viewer made (issue 17), stored as JSON."""

    id: int
    study_uid: str
    frame_of_reference_uid: str
    sop_instance_uid: str
    frame: int | None
    kind: str
    payload: Any
    created: float
    modified: float


@dataclass(frozen=True, slots=True)
class _KnownFile:
    size: int
    mtime_ns: int
    row: tuple[Any, ...]


class KnownFiles:
    """The files below some folders that the database already knows, for a re-open.

    :meth:`lookup` (an indexer's ``known`` hook) answers a path whose size and mtime are
    unchanged with its records from the rows, so its header is not read again; anything else
    (new, changed, unreadable) is ``None`` and goes to the header reader.
    """

    def __init__(self, rows: dict[str, _KnownFile]) -> None:
        self._rows = rows
        #: Paths :meth:`lookup` answered from the rows (nothing new to record for them).
        self.given: set[str] = set()

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, path: str) -> ScannedFile | None:
        known = self._rows.get(path)
        if known is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        if info.st_size != known.size or info.st_mtime_ns != known.mtime_ns:
            return None
        self.given.add(path)
        return _scanned(path, known.row)


class StudyDatabase:
    """The study database in one SQLite file (default: :func:`default_database_path`).

    Thread-safe: one connection, used under a lock (SQLite serialises writers anyway; the
    GUI reads and the background recorder writes through the same object).
    Raises :class:`~viewer.store.schema.DatabaseError` (one clear line) when the file cannot
    be opened or written.

    The import API for other parts of the viewer (PACS retrievals, issue 16):

    - :meth:`add_scanned` records indexed files by reference (``stored="file"``);
    - :func:`viewer.store.importer.import_paths` indexes paths and records them, copying
      them into the managed store with ``copy=True``;
    - a retrieval writes each instance to :func:`viewer.store.managed.instance_path` (or
      anywhere inside :func:`viewer.store.managed.store_root`) and then calls
      :meth:`add_instance` (or :meth:`add_scanned` for a batch) with ``stored="pacs"``.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, check: bool = False) -> None:
        self.path = Path(path) if path is not None else default_database_path()
        self._lock = threading.RLock()
        self._connection = connect(self.path, check=check)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> StudyDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------
    def add_scanned(
        self, items: Iterable[ScannedFile], stored: str = "file", uris: Sequence[str] = ()
    ) -> int:
        """Record indexed files in one transaction; returns how many rows were written.

        ``uris`` (optional, one per item): where each file lives, when not at its record's
        path (a copy in the managed store). A SOP Instance already known is updated to this
        file (the newest import wins: a copy replaces the reference it was made from).
        """
        if stored not in STORED_KINDS:
            raise ValueError(f"stored must be one of {STORED_KINDS}, not {stored!r}")
        batch = list(items)
        if not batch:
            return 0
        rows = [
            _instance_values(item, uris[n] if uris else _uri(item.instance.path), stored)
            for n, item in enumerate(batch)
        ]
        return self._write(lambda cursor: _write_batch(cursor, batch, rows))

    def add_instance(
        self, path_in_store: str | os.PathLike[str], item: ScannedFile, stored: str = "pacs"
    ) -> None:
        """Record one file already written into the managed store (a PACS retrieval)."""
        self.add_scanned([item], stored=stored, uris=[os.fspath(path_in_store)])

    def remove_study(self, uid: str) -> int:
        """Forget a study: its rows go; its files in the managed store are deleted, files held
        by reference are never touched. Returns the number of instances it had (0: unknown).
        The viewer's own objects (measurements) are kept: they come back with a re-import."""

        def remove(cursor: sqlite3.Cursor) -> tuple[int, list[str]]:
            found = cursor.execute(
                "SELECT id, instance_count FROM studies WHERE uid = ?", (uid,)
            ).fetchone()
            if found is None:
                return 0, []
            copied = [
                row[0]
                for row in cursor.execute(
                    "SELECT i.uri FROM instances i JOIN series se ON i.series = se.id "
                    "WHERE se.study = ? AND i.stored <> 'file'",
                    (found[0],),
                )
            ]
            cursor.execute("DELETE FROM studies WHERE id = ?", (found[0],))
            cursor.execute("DELETE FROM patients WHERE id NOT IN (SELECT patient FROM studies)")
            return int(found[1]), copied

        count, copied = self._write(remove)
        managed.delete_files(copied)
        return count

    # --- reading ---------------------------------------------------------------------------
    def list_studies(self, query: StudyQuery | None = None) -> list[StudyRow]:
        """Studies matching ``query``, newest first."""
        query = query or StudyQuery()
        where, values = where_clause(query)
        sql = (
            f"SELECT {_STUDY_COLUMNS} FROM studies s JOIN patients p ON s.patient = p.id{where} "
            "ORDER BY s.date DESC, s.time DESC, s.id DESC"
        )
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        return [_study_row(row) for row in self._read(sql, values)]

    def study(self, uid: str) -> StudyRow | None:
        rows = self._read(
            f"SELECT {_STUDY_COLUMNS} FROM studies s JOIN patients p ON s.patient = p.id "
            "WHERE s.uid = ?",
            [uid],
        )
        return _study_row(rows[0]) if rows else None

    def scanned_files(self, study_uid: str) -> list[ScannedFile]:
        """The study's instances as indexing would give them, built from the rows alone (no
        header is read): the GUI's instant reopen."""
        rows = self._read(f"{_SCANNED_SELECT} WHERE s.uid = ? ORDER BY i.id", [study_uid])
        return [_scanned(row[0], row) for row in rows]

    def study_sources(self, study_uid: str) -> list[str]:
        """The files to open for a study: its paths, a zip's members as the zip (once)."""
        rows = self._read(
            "SELECT DISTINCT i.uri FROM instances i JOIN series se ON i.series = se.id "
            "JOIN studies s ON se.study = s.id WHERE s.uid = ? ORDER BY i.id",
            [study_uid],
        )
        sources = (row[0].split(MEMBER_SEPARATOR, 1)[0] for row in rows)
        return list(dict.fromkeys(sources))

    def known_files(self, roots: Iterable[str | os.PathLike[str]]) -> KnownFiles:
        """Files the database knows by reference below (or at) ``roots``, for a re-open."""
        known: dict[str, _KnownFile] = {}
        for root in roots:
            base = os.path.abspath(os.fspath(root))
            prefix = base.rstrip(os.sep) + os.sep
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = self._read(
                f"{_SCANNED_SELECT} WHERE i.stored = 'file' "
                "AND (i.uri = ? OR i.uri LIKE ? ESCAPE '\\')",
                [base, escaped + "%"],
            )
            for row in rows:
                if MEMBER_SEPARATOR not in row[0]:
                    known[row[0]] = _KnownFile(int(row[_SIZE]), int(row[_MTIME]), row)
        return KnownFiles(known)

    def counts(self) -> dict[str, int]:
        """Rows per table (patients, studies, series, instances, viewer_objects)."""
        tables = ("patients", "studies", "series", "instances", "viewer_objects")
        return {
            table: int(self._read(f"SELECT count(*) FROM {table}", [])[0][0]) for table in tables
        }

    # --- the viewer's own objects (issue 17) ----------------------------------------------
    def add_viewer_object(
        self,
        study_uid: str,
        kind: str,
        payload: Any,
        frame_of_reference_uid: str = "",
        sop_instance_uid: str = "",
        frame: int | None = None,
    ) -> int:
        """Store a measurement or annotation (``payload``: anything JSON can hold); its id."""
        now = time.time()
        text = json.dumps(payload, separators=(",", ":"))

        def insert(cursor: sqlite3.Cursor) -> int:
            cursor.execute(
                "INSERT INTO viewer_objects (study_uid, frame_of_reference_uid, "
                "sop_instance_uid, frame, kind, payload, created, modified) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (study_uid, frame_of_reference_uid, sop_instance_uid, frame, kind, text, now, now),
            )
            return int(cursor.lastrowid or 0)

        return self._write(insert)

    def update_viewer_object(self, object_id: int, payload: Any) -> bool:
        text = json.dumps(payload, separators=(",", ":"))
        return bool(
            self._write(
                lambda cursor: (
                    cursor.execute(
                        "UPDATE viewer_objects SET payload = ?, modified = ? WHERE id = ?",
                        (text, time.time(), object_id),
                    ).rowcount
                )
            )
        )

    def delete_viewer_object(self, object_id: int) -> bool:
        return bool(
            self._write(
                lambda cursor: (
                    cursor.execute("DELETE FROM viewer_objects WHERE id = ?", (object_id,)).rowcount
                )
            )
        )

    def viewer_objects(
        self, study_uid: str = "", frame_of_reference_uid: str = "", sop_instance_uid: str = ""
    ) -> list[ViewerObject]:
        """Objects of a study, a Frame of Reference or an instance (the given keys must all
        match), oldest first."""
        terms, values = [], []
        for column, value in (
            ("study_uid", study_uid),
            ("frame_of_reference_uid", frame_of_reference_uid),
            ("sop_instance_uid", sop_instance_uid),
        ):
            if value:
                terms.append(f"{column} = ?")
                values.append(value)
        where = (" WHERE " + " AND ".join(terms)) if terms else ""
        rows = self._read(
            "SELECT id, study_uid, frame_of_reference_uid, sop_instance_uid, frame, kind, "
            f"payload, created, modified FROM viewer_objects{where} ORDER BY id",
            values,
        )
        return [
            ViewerObject(
                id=row[0],
                study_uid=row[1],
                frame_of_reference_uid=row[2],
                sop_instance_uid=row[3],
                frame=row[4],
                kind=row[5],
                payload=json.loads(row[6]),
                created=row[7],
                modified=row[8],
            )
            for row in rows
        ]

    # --- plumbing --------------------------------------------------------------------------
    def _read(self, sql: str, values: Sequence[object]) -> list[tuple[Any, ...]]:
        with self._lock, self._errors():
            return self._connection.execute(sql, tuple(values)).fetchall()

    def _write(self, work: Callable[[sqlite3.Cursor], T]) -> T:
        """Run ``work`` in one write transaction, again if the lock stayed taken too long."""
        for attempt in range(WRITE_ATTEMPTS):
            with self._lock, self._errors():
                try:
                    cursor = self._connection.cursor()
                    cursor.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as error:
                    if "locked" in str(error) and attempt + 1 < WRITE_ATTEMPTS:
                        continue
                    raise
                try:
                    result = work(cursor)
                    cursor.execute("COMMIT")
                except BaseException:
                    if self._connection.in_transaction:
                        self._connection.execute("ROLLBACK")
                    raise
                return result
        raise AssertionError("unreachable")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            raise DatabaseError(describe(error, self.path)) from error


def _uri(path: str) -> str:
    """Where a file indexed at ``path`` can be found again (a zip's member: ``ZIP!/MEMBER``)."""
    return shown_path(path)


_STUDY_COLUMNS = (
    "s.uid, p.name, p.patient_id, p.birth_date, s.date, s.time, s.description, "
    "s.accession_number, s.modalities, s.series_count, s.instance_count, s.location, "
    "s.sample_uri"
)


def _study_row(row: tuple[Any, ...]) -> StudyRow:
    return StudyRow(
        uid=row[0],
        patient_name=row[1],
        patient_id=row[2],
        birth_date=row[3],
        date=row[4],
        time=row[5],
        description=row[6],
        accession_number=row[7],
        modalities=tuple(row[8].split()),
        series=row[9],
        instances=row[10],
        location=row[11],
        sample_uri=row[12],
    )


# uri, sop, record, series uid, study uid, patient (4), study (5), series (7), size, mtime
_SCANNED_SELECT = (
    "SELECT i.uri, i.sop_instance_uid, i.record, se.uid, s.uid, "
    "p.patient_id, p.name, p.birth_date, p.sex, "
    "s.date, s.time, s.description, s.accession_number, s.study_id, "
    "se.number, se.modality, se.description, se.body_part, se.date, se.time, "
    "se.frame_of_reference_uid, i.size, i.mtime_ns "
    "FROM instances i JOIN series se ON i.series = se.id JOIN studies s ON se.study = s.id "
    "JOIN patients p ON s.patient = p.id"
)
_SIZE, _MTIME = 21, 22


def _scanned(path: str, row: tuple[Any, ...]) -> ScannedFile:
    record = decode_record(row[2], path, row[1], row[3], row[4])
    return ScannedFile(
        instance=record,
        series=SeriesInfo(row[3], *row[14:21]),
        study=StudyInfo(row[4], *row[9:14]),
        patient=PatientInfo(*row[5:9]),
    )


def _instance_values(item: ScannedFile, uri: str, stored: str) -> tuple[Any, ...]:
    record = item.instance
    path = uri.split(MEMBER_SEPARATOR, 1)[0] if MEMBER_SEPARATOR in uri else uri
    try:
        info = os.stat(record.path if MEMBER_SEPARATOR in uri else path)
        size, mtime_ns = info.st_size, info.st_mtime_ns
    except OSError:
        size, mtime_ns = -1, -1
    return (
        record.sop_instance_uid,
        record.sop_class_uid,
        record.instance_number,
        uri,
        stored,
        size,
        mtime_ns,
        record.transfer_syntax,
        record.frames,
        record.rows,
        record.columns,
        encode_record(record),
    )


def _write_batch(
    cursor: sqlite3.Cursor, batch: list[ScannedFile], rows: list[tuple[Any, ...]]
) -> int:
    now = time.time()
    patients: dict[tuple[str, str], int] = {}
    studies: dict[str, int] = {}
    series: dict[str, int] = {}
    values = []
    for item, row in zip(batch, rows, strict=True):
        patient_key = (item.patient.patient_id, item.patient.name)
        patient_id = patients.get(patient_key)
        if patient_id is None:
            patient_id = patients[patient_key] = _patient_id(cursor, item.patient)
        study_id = studies.get(item.study.uid)
        if study_id is None:
            study_id = studies[item.study.uid] = _study_id(cursor, item.study, patient_id, now)
        series_id = series.get(item.series.uid)
        if series_id is None:
            series_id = series[item.series.uid] = _series_id(cursor, item.series, study_id)
        values.append((series_id, *row))
    cursor.executemany(
        "INSERT INTO instances (series, sop_instance_uid, sop_class_uid, instance_number, uri, "
        "stored, size, mtime_ns, transfer_syntax, frames, rows, columns, record) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (sop_instance_uid) DO UPDATE SET series = excluded.series, "
        "sop_class_uid = excluded.sop_class_uid, instance_number = excluded.instance_number, "
        "uri = excluded.uri, stored = excluded.stored, size = excluded.size, "
        "mtime_ns = excluded.mtime_ns, transfer_syntax = excluded.transfer_syntax, "
        "frames = excluded.frames, rows = excluded.rows, columns = excluded.columns, "
        "record = excluded.record",
        values,
    )
    _refresh_counts(cursor, list(studies.values()), now)
    return len(values)


def _patient_id(cursor: sqlite3.Cursor, info: PatientInfo) -> int:
    row = cursor.execute(
        "INSERT INTO patients (patient_id, name, name_folded, birth_date, sex) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (patient_id, name) DO UPDATE SET "
        "birth_date = CASE WHEN birth_date = '' THEN excluded.birth_date ELSE birth_date END, "
        "sex = CASE WHEN sex = '' THEN excluded.sex ELSE sex END RETURNING id",
        (info.patient_id, info.name, fold_text(info.name), info.birth_date, info.sex),
    ).fetchone()
    return int(row[0])


def _study_id(cursor: sqlite3.Cursor, info: StudyInfo, patient_id: int, now: float) -> int:
    row = cursor.execute(
        "INSERT INTO studies (uid, patient, date, time, description, accession_number, "
        "study_id, added, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (uid) DO UPDATE SET updated = excluded.updated RETURNING id",
        (
            info.uid,
            patient_id,
            info.date,
            info.time,
            info.description,
            info.accession_number,
            info.study_id,
            now,
            now,
        ),
    ).fetchone()
    return int(row[0])


def _series_id(cursor: sqlite3.Cursor, info: SeriesInfo, study_id: int) -> int:
    row = cursor.execute(
        "INSERT INTO series (uid, study, number, modality, description, body_part, date, time, "
        "frame_of_reference_uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (uid) DO UPDATE SET study = study RETURNING id",
        (
            info.uid,
            study_id,
            info.number,
            info.modality,
            info.description,
            info.body_part,
            info.date,
            info.time,
            info.frame_of_reference_uid,
        ),
    ).fetchone()
    return int(row[0])


def _refresh_counts(cursor: sqlite3.Cursor, study_ids: list[int], now: float) -> None:
    """Counts, modalities, location and a sample file of the studies touched and their
    series."""
    marks = ",".join("?" * len(study_ids))
    cursor.execute(
        "UPDATE series SET instance_count = (SELECT count(*) FROM instances "
        f"WHERE instances.series = series.id) WHERE study IN ({marks})",
        study_ids,
    )
    cursor.execute(
        "UPDATE studies SET "
        "series_count = (SELECT count(*) FROM series WHERE series.study = studies.id), "
        "instance_count = (SELECT coalesce(sum(instance_count), 0) FROM series "
        "  WHERE series.study = studies.id), "
        "modalities = coalesce((SELECT group_concat(modality, ' ') FROM (SELECT DISTINCT "
        "  modality FROM series WHERE series.study = studies.id AND modality <> '' "
        "  ORDER BY modality)), ''), "
        "location = coalesce((SELECT CASE WHEN min(i.stored) = max(i.stored) THEN "
        "  min(i.stored) ELSE 'file' END FROM instances i JOIN series se ON i.series = se.id "
        "  WHERE se.study = studies.id), 'file'), "
        "sample_uri = coalesce((SELECT i.uri FROM instances i JOIN series se "
        "  ON i.series = se.id WHERE se.study = studies.id LIMIT 1), ''), "
        f"updated = ? WHERE id IN ({marks})",
        [now, *study_ids],
    )


__all__ = [
    "DatabaseError",
    "KnownFiles",
    "StudyDatabase",
    "StudyQuery",
    "StudyRow",
    "ViewerObject",
    "default_database_path",
]
