"""Importing into the study database: index paths as the GUI does and record what was found.

By reference (the default) the rows point at the files where they are; ``copy=True`` ("Import
and copy", for media that will be ejected) first copies each file into the managed store
(:mod:`viewer.store.managed`). Sources are only read. A path the database already knows, with
the same size and mtime, is not read again: its records come from the rows.

Rows are written in batches of :data:`BATCH_FILES`, each one transaction: a kill mid-import
loses at most the batch in flight.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io.dicomdir import DirectoryPreview
from viewer.dicom.io.indexer import IndexProgress, index_stream
from viewer.dicom.io.scan import Cancel, never_cancelled
from viewer.store.database import StudyDatabase
from viewer.store.managed import copy_into_store

#: Files per write transaction.
BATCH_FILES = 500


@dataclass
class ImportSummary:
    """What an import did."""

    recorded: int = 0  # instance rows written
    unchanged: int = 0  # known files whose header was not read again
    copied: int = 0  # files copied into the managed store
    skipped: list[Skipped] = field(default_factory=list)
    study_uids: set[str] = field(default_factory=set)


def import_paths(
    database: StudyDatabase,
    paths: Iterable[str | os.PathLike[str]],
    copy: bool = False,
    cancel: Cancel = never_cancelled,
    progress: IndexProgress | None = None,
    stored: str | None = None,
    on_batch: Callable[[ImportSummary], None] | None = None,
    summary: ImportSummary | None = None,
) -> ImportSummary:
    """Index ``paths`` (folders, files, zips, DICOMDIRs) and record every instance found.

    ``copy``: copy each file into the managed store and record the copy (``stored`` defaults
    to ``copied``; a PACS retrieval may pass ``pacs``); ``cancel`` is asked between files, and
    the rows written are those of the files copied. ``on_batch`` runs after each batch is
    committed (progress); ``summary`` (optional) is filled as the import goes, so another
    thread may read its counts. Raises :class:`~viewer.store.schema.DatabaseError`, and
    OSError when a copy cannot be written (a full disk).
    """
    paths = [os.fspath(path) for path in paths]
    summary = summary if summary is not None else ImportSummary()
    kind = stored or ("copied" if copy else "file")
    known = None if copy else database.known_files(paths)
    batch: list[ScannedFile] = []
    stream = index_stream(paths, cancel, progress, known=known.lookup if known else None)
    for item in stream:
        if isinstance(item, DirectoryPreview):
            continue
        if isinstance(item, Skipped):
            summary.skipped.append(item)
            continue
        summary.study_uids.add(item.study.uid)
        if known is not None and item.instance.path in known.given:  # from the rows
            summary.unchanged += 1
            continue
        batch.append(item)
        if len(batch) >= BATCH_FILES:
            _write(database, batch, copy, kind, summary, on_batch, cancel)
            batch = []
    if batch and not cancel():
        _write(database, batch, copy, kind, summary, on_batch, cancel)
    return summary


def _write(
    database: StudyDatabase,
    batch: list[ScannedFile],
    copy: bool,
    kind: str,
    summary: ImportSummary,
    on_batch: Callable[[ImportSummary], None] | None,
    cancel: Cancel = never_cancelled,
) -> None:
    uris: list[str] = []
    if copy:
        for item in batch:
            if cancel():  # the files copied so far are recorded, no other
                batch = batch[: len(uris)]
                break
            record = item.instance
            target = copy_into_store(
                record.path, record.study_uid, record.series_uid, record.sop_instance_uid
            )
            uris.append(str(target))
            summary.copied += 1
    summary.recorded += database.add_scanned(batch, stored=kind, uris=uris)
    if on_batch is not None:
        on_batch(summary)
