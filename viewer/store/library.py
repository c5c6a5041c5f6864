"""The study database as the GUI uses it: what is opened is recorded in the background, the
browser searches it, a study reopens from its rows (issue 15, items 2 to 4). No Qt.

:class:`StudyLibrary` owns two connections to one database file, both opened on first use in
a worker thread (never the GUI thread): one for the background writer, one for reads
(listings, a re-opened folder's known files, a study's rows). WAL lets the reads go on while
the writer commits.

Recording never slows the first image: :meth:`StudyLibrary.record` only queues (the records
are the catalog's own objects, so the queue costs references); the writer thread writes them
in batches of :data:`~viewer.store.importer.BATCH_FILES` once no open is in progress
(:meth:`StudyLibrary.hold` / :meth:`StudyLibrary.release`) and :data:`SETTLE_S` has passed,
so the first frame's decode has the machine to itself. A database that cannot be opened or
written (read-only folder, full disk, a newer viewer's schema) is reported once through
``on_problem`` (one line) and the viewer goes on without it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from viewer.dicom.catalog.records import ScannedFile
from viewer.dicom.io.zips import MEMBER_SEPARATOR
from viewer.store.database import KnownFiles, StudyDatabase, StudyRow, default_database_path
from viewer.store.importer import BATCH_FILES
from viewer.store.query import StudyQuery
from viewer.store.schema import DatabaseError

log = logging.getLogger(__name__)

#: Seconds the writer waits after the last open finished before it writes (the first image's
#: decode and paint come first).
SETTLE_S = 0.5
#: Seconds :meth:`StudyLibrary.close` waits for queued records to be written.
CLOSE_WAIT_S = 10.0
#: Studies a browser listing holds at most (the newest first).
LISTING_LIMIT = 10_000

Notify = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ListedStudy:
    """A study as the browser shows it: its row and where its files are now (``file``,
    ``copied``, ``pacs`` or ``missing``, checked when listed)."""

    row: StudyRow
    location: str

    @property
    def missing(self) -> bool:
        return self.location == "missing"


@dataclass
class Reopen:
    """How to open a study from the database: its records (no header read), or, when its
    files are in a zip (unpacked afresh each time), the paths to index; ``problem`` says why
    it cannot be opened (one line)."""

    items: list[ScannedFile] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    problem: str = ""


class StudyLibrary:
    """The user's study database (or the one at ``path``) for one window; thread-safe.

    ``on_problem``: called once, from a worker thread, with one line when the database cannot
    be used. ``on_written``: called from the writer thread after each batch is committed.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        on_problem: Notify | None = None,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_database_path()
        self.problem = ""
        self._on_problem = on_problem
        self._on_written = on_written
        self._open_lock = threading.Lock()
        self._reader: StudyDatabase | None = None
        self._writer: StudyDatabase | None = None
        self._checked = False
        self._condition = threading.Condition()
        self._pending: list[ScannedFile] = []
        self._holds = 0
        self._released_at = 0.0
        self._closing = False
        self._writing = False
        self._thread: threading.Thread | None = None

    # --- state -----------------------------------------------------------------------------
    @property
    def usable(self) -> bool:
        return not self.problem

    def _fail(self, error: DatabaseError) -> None:
        first = not self.problem
        self.problem = str(error)
        if first:
            log.warning("study database unavailable: %s", self.problem)
            if self._on_problem is not None:
                self._on_problem(self.problem)

    def _connection(self, writer: bool) -> StudyDatabase | None:
        """The reader or writer connection, opened on first use (the first one runs the quick
        integrity check); None once the database has failed."""
        with self._open_lock:
            if self.problem:
                return None
            current = self._writer if writer else self._reader
            if current is not None:
                return current
            try:
                current = StudyDatabase(self.path, check=not self._checked)
            except DatabaseError as error:
                self._fail(error)
                return None
            self._checked = True
            if writer:
                self._writer = current
            else:
                self._reader = current
            return current

    # --- reading (worker threads) ------------------------------------------------------------
    def known_files(self, paths: Sequence[str]) -> KnownFiles | None:
        """Files below ``paths`` recorded by reference, for a re-open that reads only changed
        files (None: no database)."""
        database = self._connection(writer=False)
        if database is None:
            return None
        try:
            return database.known_files(paths)
        except DatabaseError as error:
            self._fail(error)
            return None

    def list_studies(self, query: StudyQuery) -> list[ListedStudy]:
        """Studies matching ``query`` (at most :data:`LISTING_LIMIT`), each with where its files
        are now (one ``stat`` per study: a missing CD shows as ``missing``)."""
        database = self._connection(writer=False)
        if database is None:
            return []
        if query.limit is None:
            query = dataclasses.replace(query, limit=LISTING_LIMIT)
        try:
            rows = database.list_studies(query)
        except DatabaseError as error:
            self._fail(error)
            return []
        return [ListedStudy(row, row.shown_location()) for row in rows]

    def reopen(self, study_uid: str) -> Reopen:
        """What opening ``study_uid`` from the database needs (see :class:`Reopen`)."""
        database = self._connection(writer=False)
        if database is None:
            return Reopen(problem=self.problem or "the study database is not available")
        try:
            row = database.study(study_uid)
            if row is None:
                return Reopen(problem="this study is no longer in the database")
            if row.files_missing():
                return Reopen(
                    problem="the study's files are missing (media ejected or folder deleted)"
                )
            items = database.scanned_files(study_uid)
            if any(MEMBER_SEPARATOR in item.instance.path for item in items):
                return Reopen(paths=database.study_sources(study_uid))
        except DatabaseError as error:
            self._fail(error)
            return Reopen(problem=self.problem)
        return Reopen(items=items)

    def remove_study(self, study_uid: str) -> int:
        """Forget a study (its copies in the managed store are deleted, never a source file);
        the number of instances it had."""
        database = self._connection(writer=True)
        if database is None:
            return 0
        try:
            return database.remove_study(study_uid)
        except DatabaseError as error:
            self._fail(error)
            return 0

    def use(self, work: Callable[[StudyDatabase], T], writer: bool = True) -> T | None:
        """``work(database)`` on the writer (or reader) connection, from a worker thread (the
        viewer's own objects, issue 17); None when the database cannot be used."""
        database = self._connection(writer=writer)
        if database is None:
            return None
        try:
            return work(database)
        except DatabaseError as error:
            self._fail(error)
            return None

    # --- recording ---------------------------------------------------------------------------
    def hold(self) -> None:
        """An open started: queued records wait until it finishes (the first image first)."""
        with self._condition:
            self._holds += 1

    def release(self) -> None:
        """An open finished; the writer starts :data:`SETTLE_S` after the last one."""
        with self._condition:
            self._holds = max(0, self._holds - 1)
            self._released_at = time.monotonic()
            self._condition.notify_all()

    def record(self, items: Sequence[ScannedFile]) -> None:
        """Queue indexed files to be recorded by reference (any thread; never blocks)."""
        if not items or self.problem:
            return
        with self._condition:
            if self._closing:
                return
            self._pending.extend(items)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_loop, name="study-db", daemon=True
                )
                self._thread.start()
            self._condition.notify_all()

    def flush(self, timeout: float = CLOSE_WAIT_S) -> bool:
        """Write what is queued now, holds or not; True once nothing is left (tests, close)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            self._holds = 0
            self._released_at = 0.0
            self._condition.notify_all()
            while (self._pending or self._writing) and not self.problem:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._condition.wait(min(left, 0.05))
        return True

    def _next_batch(self) -> list[ScannedFile] | None:
        """Wait until a batch may be written (None: closing and nothing left)."""
        with self._condition:
            while True:
                if self.problem or (self._closing and not self._pending):
                    self._pending.clear()
                    return None
                if self._pending and (self._holds == 0 or self._closing):
                    wait = self._released_at + SETTLE_S - time.monotonic()
                    if wait <= 0 or self._closing:
                        batch = self._pending[:BATCH_FILES]
                        del self._pending[:BATCH_FILES]
                        self._writing = True
                        return batch
                    self._condition.wait(wait)
                    continue
                self._condition.wait()

    def _write_loop(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                database = self._connection(writer=True)
                if database is not None:
                    database.add_scanned(batch)
                    if self._on_written is not None:
                        self._on_written()
            except DatabaseError as error:
                self._fail(error)
            except Exception:  # the writer must never die silently
                log.exception("recording into the study database failed")
            finally:
                with self._condition:
                    self._writing = False
                    self._condition.notify_all()
            time.sleep(0)  # let the GUI thread in between batches

    def close(self, timeout: float = CLOSE_WAIT_S) -> None:
        """Write what is queued (bounded wait), then close both connections."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the study database writer did not finish within %g s", timeout)
                return  # it still holds the writer connection; it is a daemon thread
        with self._open_lock:
            for database in (self._reader, self._writer):
                if database is not None:
                    database.close()
            self._reader = self._writer = None
