"""The indexer (viewer.dicom.io.indexer): worker processes give what the calling thread gives,
progress counts are true, cancel stops, and ``inspect`` reports scanned and skipped truly."""

from __future__ import annotations

import json
import os
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests import factories
from viewer.__main__ import main
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io import indexer
from viewer.dicom.io.indexer import IndexProgress, index_paths, index_rate_probe, index_stream


@pytest.fixture
def small_pool_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the worker processes from the 5th file on (once they are up), 4 files per task."""
    indexer.warm_index_pool(2)  # up and answering, so the test uses them
    monkeypatch.setattr(indexer, "POOL_MIN_FILES", 4)
    monkeypatch.setattr(indexer, "CHUNK_FILES", 4)


def junk_and_series(root: Path) -> list[str]:
    truth = factories.write_series(root / "ct", slices=12)
    factories.write_series(root / "mr", slices=9, modality="MR", series_number=2)
    (root / "notes.txt").write_text("not dicom")
    (root / "empty.dcm").write_bytes(b"")
    return truth.paths


def test_worker_processes_give_the_same_results(tmp_path, small_pool_thresholds, monkeypatch):
    junk_and_series(tmp_path)
    chunks: list[int] = []
    submit = indexer._ChunkReader._submit
    monkeypatch.setattr(
        indexer._ChunkReader, "_submit", lambda self, c: chunks.append(len(c)) or submit(self, c)
    )
    progress = IndexProgress()
    parallel = list(index_stream([tmp_path], progress=progress, workers=2))
    assert chunks  # the workers read some of them
    inline = list(index_stream([tmp_path], workers=0))
    assert sorted(map(repr, parallel)) == sorted(map(repr, inline))
    assert (progress.found, progress.indexed) == (23, 23)
    assert sum(isinstance(item, Skipped) for item in parallel) == 2


def test_catalog_through_workers_orders_stacks(tmp_path, small_pool_thresholds):
    ct_paths = junk_and_series(tmp_path)
    catalog = index_paths([tmp_path], workers=2)
    assert catalog.instance_count == 21
    ct = next(s for s in catalog.all_series() if s.info.modality == "CT")
    assert [path for path, _ in ct.stacks[0].sources] == ct_paths


def test_cancel_stops_indexing(tmp_path, small_pool_thresholds):
    junk_and_series(tmp_path)
    seen: list[object] = []
    for item in index_stream([tmp_path], cancel=lambda: len(seen) >= 5, workers=2):
        seen.append(item)
    assert 5 <= len(seen) < 23


def test_rate_probe_counts_files_per_second(tmp_path):
    junk_and_series(tmp_path)
    assert index_rate_probe(tmp_path, workers=0) > 0


def test_inspect_reports_scanned_and_skipped_truthfully(tmp_path, capsys):
    junk_and_series(tmp_path)
    assert main(["inspect", "--json", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    files = sum(len(names) for _, _, names in os.walk(tmp_path))
    assert report["scanned"] == files == 23
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert reasons == {"empty.dcm": "empty file", "notes.txt": "not a DICOM file (no DICM marker)"}
    (patient,) = report["patients"]
    series = [s for study in patient["studies"] for s in study["series"]]
    assert sorted(len(s["stacks"][0]["sources"]) for s in series) == [9, 12]


def test_results_are_records_or_reasons(tmp_path):
    junk_and_series(tmp_path)
    assert all(isinstance(item, ScannedFile | Skipped) for item in index_stream([tmp_path]))


def test_cancel_with_chunks_still_queued_ends_the_stream():
    """Cancelled while a queued chunk is unfinished: ``ready`` must return, not spin.

    (CI once hung here: ``_take`` gives up on cancel without dequeuing, so ``ready``'s
    loop saw the same head forever.)
    """
    reader = indexer._ChunkReader(2, cancel=lambda: True)
    for _ in range(2 * indexer.TASKS_PER_WORKER + 1):
        reader._queue.append((Future(), ["never-read"]))
    assert list(reader.ready()) == []
    assert list(reader.rest()) == []
