"""The study database (issue 15): import, search and reopen, beside their peers.

- ``db_import_files_per_s``: :func:`viewer.store.importer.import_paths` by reference into a
  fresh database file (indexing and writing the rows), beside ``db_import_gdcm_files_per_s``:
  GDCM's Scanner reading the same attributes of the same files (:mod:`viewer.bench.indexing`),
  the two runs alternating.
- ``db_query_ms.{name,date,modality}``: what ``db list`` does (the listing and each study's
  location) over a generated database of ``db_studies`` studies and ``db_instances`` instance
  rows (10,000 and 1,000,000; small with --quick), written once into the bench data folder:
  a patient name prefix, a 30-day date range, one modality.
- ``reopen_slices_per_s.<encoding>``: the CT reopened from the database's rows (no header
  read) and loaded as a volume from the decoded-frame cache (filled by one load before), beside
  ``reopen_simpleitk_slices_per_s.<encoding>``: SimpleITK's load of the same files, alternating.
- ``db_reopen_first_image_ms`` (and ``open_first_image_ms``, the first open of the same
  folder): a GUI figure, see :mod:`viewer.bench.gui_probe`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from viewer.bench.indexing import index_with_gdcm
from viewer.bench.loading import has_simpleitk, load_with_simpleitk
from viewer.bench.sizes import DATA_VERSION, BenchSizes
from viewer.bench.stats import Figure, interleaved_rates, milliseconds, timed_runs

Log = Callable[[str], None]

#: Version of the generated query database's content (bump when the generator changes).
QUERY_DB_VERSION = 1
#: Series per generated study (its instances are split between them).
SERIES_PER_STUDY = 2
#: The searches of ``db_query_ms``: key -> StudyQuery fields.
QUERIES: dict[str, dict[str, str]] = {
    "name": {"patient_name": "mul"},
    "date": {"date_from": "20240101", "date_to": "20240130"},
    "modality": {"modality": "MR"},
}
_SURNAMES = (
    "Müller", "Mueller", "Schmidt", "Meyer", "Smith", "Jones", "Brown", "Garcia", "Martin",
    "Dubois", "Rossi", "Bianchi", "Nakamura", "Sato", "Kowalski", "Nowak", "Larsen", "Jensen",
    "Åse", "O'Brien", "Murphy", "Kelly", "Novak", "Horvat",
)  # fmt: skip
_GIVEN = ("Anna", "Hans", "Jo", "Maria", "Luis", "Yuki", "Piotr", "Siobhán", "Lars", "Ana")
_MODALITIES = ("CT", "MR", "US", "CR", "DX", "MG", "PT", "NM", "XA")


def measure_database(
    data_root: Path,
    index_folder: Path,
    index_files: int,
    ct: dict[str, Path],
    sizes: BenchSizes,
    log: Log,
) -> dict[str, Figure]:
    """db_import_*, db_query_ms.* and reopen_*_slices_per_s.* (each failing alone)."""
    figures: dict[str, Figure] = {}
    steps: list[tuple[str, Callable[[], dict[str, Figure]]]] = [
        ("import", lambda: measure_import(index_folder, index_files, sizes)),
        ("query", lambda: measure_queries(data_root, sizes, log)),
        ("reopen", lambda: measure_reopen(ct, sizes, log)),
    ]
    for name, step in steps:
        try:
            figures.update(step())
        except Exception as error:  # one failing must not hide the others
            log(f"database {name} failed: {type(error).__name__}: {error}")
    return figures


# --- import ---------------------------------------------------------------------------------
def import_by_reference(folder: Path, database_file: Path) -> int:
    """Import ``folder`` into a new database at ``database_file``; instance rows written."""
    from viewer.store.database import StudyDatabase
    from viewer.store.importer import import_paths

    database_file.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{database_file}{suffix}").unlink(missing_ok=True)
    with StudyDatabase(database_file) as database:
        return import_paths(database, [folder]).recorded


def measure_import(folder: Path, files: int, sizes: BenchSizes) -> dict[str, Figure]:
    """db_import_files_per_s and db_import_gdcm_files_per_s, runs interleaved."""
    with tempfile.TemporaryDirectory(prefix="dicom-viewer-bench-db-") as scratch:
        target = Path(scratch) / "studies.sqlite"
        counters = {
            "db_import_files_per_s": lambda: import_by_reference(folder, target),
            "db_import_gdcm_files_per_s": lambda: index_with_gdcm(folder),
        }
        return interleaved_rates(counters, files, "files/s", sizes.runs, sizes.warmups)


# --- queries --------------------------------------------------------------------------------
def ensure_query_database(root: Path, studies: int, instances: int, log: Log) -> Path:
    """The generated database in ``root`` (written once; a marker beside it says for what)."""
    target = root / f"db-{studies}x{instances}.sqlite"
    marker = root / f"{target.name}.complete"
    stamp = {"version": DATA_VERSION, "db": QUERY_DB_VERSION, "studies": studies,
             "instances": instances}  # fmt: skip
    with contextlib.suppress(OSError, ValueError):
        if json.loads(marker.read_text()) == stamp and target.exists():
            return target
    log(f"generating a study database of {studies:,} studies, {instances:,} instances in {root}")
    marker.unlink(missing_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        write_query_database(partial, studies, instances)
        target.unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        for path in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            path.unlink(missing_ok=True)
    marker.write_text(json.dumps(stamp))
    return target


def write_query_database(path: Path, studies: int, instances: int) -> None:
    """``studies`` studies of seeded patients, dates and modalities, ``instances`` rows in all
    (files that do not exist: the listing checks one path per study, as for ejected media)."""
    from viewer.dicom.catalog.records import (
        InstanceRecord,
        PatientInfo,
        ScannedFile,
        SeriesInfo,
        StudyInfo,
    )
    from viewer.store.database import StudyDatabase
    from viewer.store.importer import BATCH_FILES

    chooser = random.Random(15)
    per_study = max(SERIES_PER_STUDY, instances // max(studies, 1))
    batch: list[ScannedFile] = []
    with StudyDatabase(path) as database:
        for number in range(studies):
            name = f"{chooser.choice(_SURNAMES)}^{chooser.choice(_GIVEN)}"
            patient = PatientInfo(f"BENCH-{number // 2:05d}", name, "19600101", "O")
            year, day = 2015 + chooser.randrange(10), chooser.randrange(365)
            date = f"{year}{1 + day // 31 % 12:02d}{1 + day % 28:02d}"
            study_uid = f"1.2.826.0.1.3680043.10.1015.{number}"
            study = StudyInfo(study_uid, date, "101500", f"Study {number}", f"A{number:07d}")
            modalities = chooser.sample(_MODALITIES, SERIES_PER_STUDY)
            for k in range(per_study):
                series_number = k % SERIES_PER_STUDY
                series_uid = f"{study_uid}.{series_number + 1}"
                series = SeriesInfo(series_uid, series_number + 1, modalities[series_number])
                sop = f"{series_uid}.{k + 1}"
                record = InstanceRecord(
                    f"/nonexistent/dicom-viewer-bench/{number}/{k}.dcm",
                    sop, "1.2.840.10008.5.1.4.1.1.2", series_uid, study_uid, k + 1, 512, 512,
                )  # fmt: skip
                batch.append(ScannedFile(record, series, study, patient))
                if len(batch) >= BATCH_FILES * 100:
                    database.add_scanned(batch)
                    batch = []
        database.add_scanned(batch)


def list_like_the_cli(database: object, terms: dict[str, str]) -> int:
    """What ``db list`` does before printing: the listing, and each study's location."""
    from viewer.store.database import StudyDatabase
    from viewer.store.query import StudyQuery

    assert isinstance(database, StudyDatabase)
    rows = database.list_studies(StudyQuery(**terms))  # type: ignore[arg-type]
    return sum(1 for row in rows if row.shown_location())


def measure_queries(root: Path, sizes: BenchSizes, log: Log) -> dict[str, Figure]:
    """db_query_ms.<search> over the generated database."""
    from viewer.store.database import StudyDatabase

    path = ensure_query_database(root, sizes.db_studies, sizes.db_instances, log)
    figures: dict[str, Figure] = {}
    with StudyDatabase(path) as database:
        if database.counts()["instances"] != sizes.db_instances:
            raise RuntimeError(f"the generated database {path} has the wrong instance count")
        for key, terms in QUERIES.items():
            if not list_like_the_cli(database, terms):
                raise RuntimeError(f"the {key} search found no study")
            samples = timed_runs(
                functools.partial(list_like_the_cli, database, terms),
                max(sizes.runs, 5),
                sizes.warmups,
            )
            figures[f"db_query_ms.{key}"] = milliseconds(samples)
    return figures


# --- reopen from the rows and the decoded-frame cache ---------------------------------------
@contextlib.contextmanager
def private_frame_store(limit: int) -> Iterator[Path]:
    """The decoded-frame cache in a temporary folder for the duration (then off again)."""
    from viewer.dicom.pixels import frame_store

    before, folder = frame_store.max_bytes(), Path(tempfile.mkdtemp(prefix="dv-bench-frames-"))
    frame_store.set_max_bytes(limit, folder)
    try:
        yield folder
    finally:
        frame_store.set_max_bytes(before)
        shutil.rmtree(folder, ignore_errors=True)


def reopen_with_viewer(database: object, study_uid: str) -> int:
    """The study's tree from the rows (no header read), then its one stack as a volume."""
    from viewer.dicom.catalog.catalog import Catalog
    from viewer.dicom.pixels.volume import load_volume
    from viewer.store.database import StudyDatabase

    assert isinstance(database, StudyDatabase)
    catalog = Catalog()
    for item in database.scanned_files(study_uid):
        catalog.add(item)
    stacks = catalog.all_stacks()
    if len(stacks) != 1:
        raise RuntimeError(f"expected one stack in study {study_uid}, found {len(stacks)}")
    return int(load_volume(stacks[0]).voxels.shape[0])


def measure_reopen(ct: dict[str, Path], sizes: BenchSizes, log: Log) -> dict[str, Figure]:
    """reopen_slices_per_s.<encoding> (and SimpleITK's load beside it), per encoding."""
    figures: dict[str, Figure] = {}
    for encoding, folder in ct.items():
        log(f"reopening {encoding} from the database")
        try:
            figures.update(_reopen_one(encoding, folder, sizes))
        except Exception as error:  # one codec failing must not hide the others
            log(f"reopening {encoding} failed: {type(error).__name__}: {error}")
    return figures


def _reopen_one(encoding: str, folder: Path, sizes: BenchSizes) -> dict[str, Figure]:
    from viewer.store.database import StudyDatabase
    from viewer.store.importer import import_paths

    slices = sum(1 for _ in folder.iterdir())
    with (
        tempfile.TemporaryDirectory(prefix="dicom-viewer-bench-db-") as scratch,
        private_frame_store(4 * 1024**3),
        StudyDatabase(Path(scratch) / "studies.sqlite") as database,
    ):
        summary = import_paths(database, [folder])
        if len(summary.study_uids) != 1:
            raise RuntimeError(f"{folder} holds {len(summary.study_uids)} studies")
        study_uid = next(iter(summary.study_uids))
        reopen_with_viewer(database, study_uid)  # decodes and fills the cache (untimed)
        counters = {
            f"reopen_slices_per_s.{encoding}": lambda: reopen_with_viewer(database, study_uid)
        }
        if has_simpleitk():
            reference = f"reopen_simpleitk_slices_per_s.{encoding}"
            counters[reference] = lambda: load_with_simpleitk(folder)
        return interleaved_rates(counters, slices, "slices/s", sizes.runs, sizes.warmups)
