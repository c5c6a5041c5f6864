"""The study database's file: its schema, its migrations and how a connection is opened.

One SQLite file (the standard library's ``sqlite3``, no server) in the user data folder. The
schema version is SQLite's ``PRAGMA user_version``; :data:`MIGRATIONS` holds one script per
version, applied in order in one transaction each, so a file written by an older viewer is
brought up to date when it is opened and a newer one is refused (never rewritten).

Every connection uses WAL (readers never block the one writer, a crash loses at most the
transaction in flight), a busy timeout (a second viewer process waits for the write lock
instead of failing) and foreign keys (deleting a study deletes its series and instances).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

#: Milliseconds a connection waits for another process's write lock before giving up.
BUSY_TIMEOUT_MS = 15_000

_V1 = """
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,          -- accents removed, case folded, for search
    birth_date TEXT NOT NULL DEFAULT '',
    sex TEXT NOT NULL DEFAULT '',
    UNIQUE (patient_id, name)
);
CREATE INDEX patients_name_folded ON patients (name_folded);
CREATE INDEX patients_patient_id ON patients (patient_id);

CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    date TEXT NOT NULL DEFAULT '',
    time TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    accession_number TEXT NOT NULL DEFAULT '',
    study_id TEXT NOT NULL DEFAULT '',
    -- Kept up to date at the end of every write (a listing never counts instance rows):
    modalities TEXT NOT NULL DEFAULT '',  -- space separated, sorted
    series_count INTEGER NOT NULL DEFAULT 0,
    instance_count INTEGER NOT NULL DEFAULT 0,
    location TEXT NOT NULL DEFAULT 'file', -- file | copied | pacs
    sample_uri TEXT NOT NULL DEFAULT '',   -- one instance's file: gone means "missing"
    added REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX studies_patient ON studies (patient);
CREATE INDEX studies_date ON studies (date);
CREATE INDEX studies_accession ON studies (accession_number);

CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    study INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    number INTEGER,
    modality TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    body_part TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL DEFAULT '',
    time TEXT NOT NULL DEFAULT '',
    frame_of_reference_uid TEXT NOT NULL DEFAULT '',
    instance_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX series_study ON series (study);
CREATE INDEX series_modality ON series (modality);

CREATE TABLE instances (
    id INTEGER PRIMARY KEY,
    sop_instance_uid TEXT NOT NULL UNIQUE,
    series INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    sop_class_uid TEXT NOT NULL DEFAULT '',
    instance_number INTEGER,
    uri TEXT NOT NULL,                  -- an absolute path, or ZIP!/MEMBER for a zip's member
    stored TEXT NOT NULL DEFAULT 'file',-- file (by reference) | copied (managed store) | pacs
    size INTEGER NOT NULL DEFAULT -1,   -- bytes, and mtime: a re-open re-reads only changes
    mtime_ns INTEGER NOT NULL DEFAULT -1,
    transfer_syntax TEXT NOT NULL DEFAULT '',
    frames INTEGER NOT NULL DEFAULT 1,
    rows INTEGER NOT NULL DEFAULT 0,
    columns INTEGER NOT NULL DEFAULT 0,
    record TEXT NOT NULL                -- the rest of the instance record (JSON, record_codec)
);
CREATE INDEX instances_series ON instances (series);
CREATE INDEX instances_uri ON instances (uri);

-- The viewer's own objects (measurements, annotations: issue 17), per Frame of Reference.
-- Keyed by UIDs, not row ids: they outlive a study's removal and re-import.
CREATE TABLE viewer_objects (
    id INTEGER PRIMARY KEY,
    study_uid TEXT NOT NULL,
    frame_of_reference_uid TEXT NOT NULL DEFAULT '',
    sop_instance_uid TEXT NOT NULL DEFAULT '',
    frame INTEGER,                      -- 0-based frame in that instance, NULL: all frames
    kind TEXT NOT NULL,                 -- e.g. length, angle, ellipse, polygon, text
    payload TEXT NOT NULL,              -- JSON
    created REAL NOT NULL,
    modified REAL NOT NULL
);
CREATE INDEX viewer_objects_study ON viewer_objects (study_uid);
CREATE INDEX viewer_objects_instance ON viewer_objects (sop_instance_uid, frame);
CREATE INDEX viewer_objects_frame_of_reference ON viewer_objects (frame_of_reference_uid);
"""

#: Script that brings a database from version i to version i + 1 (index i).
MIGRATIONS: tuple[str, ...] = (_V1,)
#: The version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


class DatabaseError(Exception):
    """The database cannot be used; the message is one line a person can act on."""


def connect(path: str | os.PathLike[str], check: bool = False) -> sqlite3.Connection:
    """Open (creating it and its folder when needed) the database at ``path``, migrated to
    :data:`SCHEMA_VERSION`.

    ``check``: run ``PRAGMA quick_check`` first (start-up of the GUI, imports); a file that
    fails it is set aside as ``NAME.corrupt`` and a new one is started. Raises
    :class:`DatabaseError` with a clear reason (read-only folder, full disk, newer schema).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        connection = _checked_open(target) if check else _open(target)
        migrate(connection)
    except sqlite3.Error as error:
        raise DatabaseError(describe(error, target)) from error
    except OSError as error:
        raise DatabaseError(f"cannot create {target.parent}: {error.strerror or error}") from error
    return connection


def _open(target: Path) -> sqlite3.Connection:
    # Autocommit mode: every write goes through an explicit BEGIN IMMEDIATE ... COMMIT.
    connection = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"cannot use WAL journaling (got {mode})")
    connection.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never torn
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def _checked_open(target: Path) -> sqlite3.Connection:
    """Open after ``PRAGMA quick_check``; a damaged file is set aside and a new one begun."""
    try:
        connection = _open(target)
    except sqlite3.DatabaseError as error:
        if not _damaged(error):
            raise
        _set_aside(target)
        return _open(target)
    try:
        healthy = connection.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    except sqlite3.DatabaseError as error:
        if not _damaged(error):
            connection.close()
            raise
        healthy = False
    if healthy:
        return connection
    connection.close()
    _set_aside(target)
    return _open(target)


def _damaged(error: sqlite3.DatabaseError) -> bool:
    text = str(error).lower()
    return "not a database" in text or "malformed" in text


def _set_aside(target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        source = target.with_name(target.name + suffix)
        if source.exists():
            os.replace(source, target.with_name(target.name + ".corrupt" + suffix))


def migrate(connection: sqlite3.Connection) -> None:
    """Apply the migrations the file lacks, each in its own transaction."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database was written by a newer viewer (schema {version}, "
            f"this one knows {SCHEMA_VERSION})"
        )
    for index in range(version, SCHEMA_VERSION):
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Checked again under the write lock: another process may have just migrated.
            if int(connection.execute("PRAGMA user_version").fetchone()[0]) != index:
                connection.execute("ROLLBACK")
                continue
            for statement in _statements(MIGRATIONS[index]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {index + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """A migration script as single statements (``executescript`` would commit on its own)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def describe(error: BaseException, target: Path) -> str:
    """One line saying why the database at ``target`` could not be used."""
    text = str(error)
    lowered = text.lower()
    if "full" in lowered:
        return f"the disk holding {target} is full: the study database is not updated"
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return f"cannot write the study database {target} (read-only folder or no permission)"
    if "not a database" in lowered or "malformed" in lowered:
        return f"{target} is not a usable study database ({text})"
    return f"study database {target}: {text}"
