"""Where retrieved instances land, one at a time as they arrive.

Into the study database (the default): each file goes to the managed store
(:func:`viewer.store.managed.instance_path`) and is recorded with ``stored="pacs"``; rows are
written in small batches, each one transaction, so the study browser and an open viewport see
the series fill in while the retrieve runs, and a retrieve that dies keeps what arrived. Into
a folder (``--out DIR``): the same ``STUDY/SERIES/SOP.dcm`` layout below it, no database.

A file is written under a temporary name first and renamed once complete, so a partial file
is never seen under its final name. Nothing is written anywhere else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io.scan import read_instance
from viewer.store.database import StudyDatabase
from viewer.store.managed import instance_path, store_root

#: Rows per database transaction while a retrieve runs, and the longest a row waits.
BATCH_INSTANCES = 32
BATCH_SECONDS = 0.25

Arrived = Callable[[ScannedFile], None]


@dataclass
class SeriesCount:
    """Per series: instances expected (None: unknown), arrived, failed."""

    series_uid: str
    total: int | None = None
    done: int = 0
    failed: int = 0
    failed_uids: list[str] = field(default_factory=list)
    label: str = ""  # "CT 3 description" for messages


class Landing:
    """Receives encoded DICOM files (preamble, meta, dataset) and lands them.

    Thread-safe: C-GET and C-MOVE deliver on pynetdicom's threads. ``on_arrived`` runs for
    each instance once it is on disk (and, with a database, recorded or queued to be).
    """

    def __init__(
        self,
        database: StudyDatabase | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        on_arrived: Arrived | None = None,
    ) -> None:
        if (database is None) == (out_dir is None):
            raise ValueError("a landing goes into a database or a folder, not both or neither")
        self.database = database
        self.root = Path(out_dir) if out_dir is not None else None
        self.on_arrived = on_arrived
        self._lock = threading.Lock()
        self._pending: list[tuple[Path, ScannedFile]] = []
        self._last_flush = time.monotonic()
        self._names = itertools.count()
        self._made: set[Path] = set()  # folders made (not asked for again per instance)
        self._root_or_store: Path | None = None
        #: Set once the first instance has landed (a C-GET's extra associations wait for it).
        self.first_landed = threading.Event()
        #: SOP Instance UIDs landed, and per series counts.
        self.arrived: set[str] = set()
        self.series: dict[str, SeriesCount] = {}
        self.problems: list[str] = []

    # --- counting ---------------------------------------------------------------------
    def expect(self, series_uid: str, total: int | None, label: str = "") -> SeriesCount:
        with self._lock:
            count = self.series.setdefault(series_uid, SeriesCount(series_uid))
            count.total = total
            count.label = label or count.label
            return count

    def count(self, series_uid: str) -> SeriesCount:
        with self._lock:
            return self.series.setdefault(series_uid, SeriesCount(series_uid))

    def fail(self, series_uid: str, sop_uids: list[str], how_many: int = 0) -> None:
        """Record instances the server could not send (``how_many`` when their UIDs are
        unknown)."""
        with self._lock:
            count = self.series.setdefault(series_uid, SeriesCount(series_uid))
            count.failed += max(len(sop_uids), how_many)
            count.failed_uids.extend(sop_uids)

    # --- receiving --------------------------------------------------------------------
    def receive(self, *parts: bytes | memoryview) -> ScannedFile | Skipped:
        """Land one instance from its encoded DICOM file, given whole or in consecutive
        parts (written as they are: no copy joins them); the record, or why it was not
        kept (a file that is not readable DICOM is deleted)."""
        partial = self._incoming_dir() / (
            f"{os.getpid()}-{threading.get_ident()}-{next(self._names)}.part"
        )
        with open(partial, "wb") as stream:
            for part in parts:
                stream.write(part)
        return self._land(partial)

    def receive_file(self, write: Callable[[Path], None]) -> ScannedFile | Skipped:
        """Land one instance that ``write(path)`` writes (WADO-RS: a dataset's save)."""
        partial = self._incoming_dir() / (
            f"{os.getpid()}-{threading.get_ident()}-{next(self._names)}.part"
        )
        write(partial)
        return self._land(partial)

    def _land(self, partial: Path) -> ScannedFile | Skipped:
        item = read_instance(str(partial))
        if isinstance(item, Skipped):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            with self._lock:
                self.problems.append(item.reason)
            return item
        record = item.instance
        target = instance_path(
            record.study_uid, record.series_uid, record.sop_instance_uid, root=self._base()
        )
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        os.replace(partial, target)
        item = dataclasses.replace(item, instance=dataclasses.replace(record, path=str(target)))
        flush: list[tuple[Path, ScannedFile]] = []
        with self._lock:
            new = record.sop_instance_uid not in self.arrived
            self.arrived.add(record.sop_instance_uid)
            if new:
                self.series.setdefault(record.series_uid, SeriesCount(record.series_uid)).done += 1
            if self.database is not None:
                self._pending.append((target, item))
                now = time.monotonic()
                if len(self._pending) >= BATCH_INSTANCES or now - self._last_flush >= BATCH_SECONDS:
                    flush, self._pending = self._pending, []
                    self._last_flush = now
        self._record(flush)
        if self.on_arrived is not None:
            self.on_arrived(item)
        self.first_landed.set()
        return item

    def flush(self) -> None:
        """Record whatever waits for its batch (call when a retrieve ends, however it ends)."""
        with self._lock:
            flush, self._pending = self._pending, []
            self._last_flush = time.monotonic()
        self._record(flush)

    def _record(self, batch: list[tuple[Path, ScannedFile]]) -> None:
        if batch and self.database is not None:
            self.database.add_scanned(
                [item for _, item in batch], stored="pacs", uris=[str(path) for path, _ in batch]
            )

    def _base(self) -> Path:
        """The folder instances land below (the managed store, looked up once)."""
        if self._root_or_store is None:
            self._root_or_store = self.root or store_root()
        return self._root_or_store

    def _incoming_dir(self) -> Path:
        folder = self._base() / ".incoming"
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        return folder

    def close(self) -> None:
        """Flush, and remove the temporary folder if it is empty."""
        self.flush()
        self._made.clear()
        with contextlib.suppress(OSError):
            (self._base() / ".incoming").rmdir()

    # --- reporting --------------------------------------------------------------------
    def snapshot(self) -> list[SeriesCount]:
        """Copies of the per-series counts (for another thread to show)."""
        with self._lock:
            return [
                dataclasses.replace(c, failed_uids=list(c.failed_uids))
                for c in self.series.values()
            ]

    def failed_total(self) -> int:
        with self._lock:
            return sum(count.failed for count in self.series.values())
