"""The study browser in the real main window: it fills while indexing runs, shows a DICOMDIR's
tree before any file is read, filters, cancels, labels non-image objects, makes thumbnails."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import QModelIndex

from tests import factories, media
from tests.gui_driving import open_and_wait, shown_main_window
from viewer.dicom.io import indexer
from viewer.dicom.io.scan import read_instance
from viewer.qt import tasks
from viewer.qt.main_window import MainWindow
from viewer.qt.study_tree import SERIES_UID_ROLE

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def visible_rows(window: MainWindow, parent: QModelIndex | None = None) -> list[str]:
    """Texts of the rows the tree shows (through the sorting/filtering proxy), depth first."""
    model = window.tree_proxy
    parent = parent if parent is not None else QModelIndex()
    rows: list[str] = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        rows.append(str(index.data()))
        rows.extend(visible_rows(window, index))
    return rows


def shown_series(window: MainWindow) -> list[str]:
    model = window.tree_proxy
    found: list[str] = []

    def walk(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if index.data(SERIES_UID_ROLE):
                found.append(str(index.data()).split("\n")[0])
            walk(index)

    walk(QModelIndex())
    return found


def slow_reads(monkeypatch: pytest.MonkeyPatch, gate: threading.Event | None = None) -> None:
    """Header reads that take a while (or wait for ``gate``), so a test can act mid-way."""

    def read(path: str):  # type: ignore[no-untyped-def]
        if gate is not None:
            gate.wait(30)
        time.sleep(0.01)
        return read_instance(path)

    monkeypatch.setattr(indexer, "read_instance", read)


def test_tree_fills_while_indexing_runs(qtbot, window, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    first = factories.write_series(tmp_path / "b", slices=20, series_number=2, modality="MR")
    factories.write_series(tmp_path / "a", slices=20, study_uid=first.study_uid)
    monkeypatch.setattr(tasks, "BATCH_SIZE", 5)
    slow_reads(monkeypatch)
    window.open_paths([str(tmp_path)])
    task = window._tasks[0]
    qtbot.waitUntil(lambda: len(shown_series(window)) >= 1, timeout=20_000)
    assert task.running  # rows are there before indexing finished
    assert 0 < window.catalog.instance_count < 40
    qtbot.waitUntil(lambda: "Found" in window.progress_label.text(), timeout=20_000)
    qtbot.waitUntil(lambda: not window._tasks, timeout=30_000)
    assert window.catalog.instance_count == 40
    assert [row.split()[0] for row in shown_series(window)] == ["#1", "#2"]
    assert window.progress_label.text() == "40 instances in 2 series; 0 file(s) skipped"


def test_studies_newest_first_and_series_by_number(qtbot, window, tmp_path):  # type: ignore[no-untyped-def]
    old = factories.write_series(tmp_path / "old", slices=1, study_date="20190305")
    factories.write_series(
        tmp_path / "old2", slices=1, study_uid=old.study_uid, study_date="20190305",
        series_number=10, series_description="late",
    )  # fmt: skip
    factories.write_series(
        tmp_path / "old3", slices=1, study_uid=old.study_uid, study_date="20190305",
        series_number=2, series_description="early",
    )  # fmt: skip
    factories.write_series(tmp_path / "new", slices=1, study_date="20230111")
    open_and_wait(qtbot, window, [str(tmp_path)])
    rows = visible_rows(window)
    assert rows[0].startswith("Test, Patient  [P0001, 1970-01-01, O]")
    study_rows = [row for row in rows if row.startswith("Synthetic study")]
    assert len(study_rows) == 2
    assert shown_series(window) == ["#1 synthetic", "#1 synthetic", "#2 early", "#10 late"]


def test_filter_keeps_matching_rows(qtbot, window, demo_study):  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, [str(demo_study)])
    everything = shown_series(window)
    assert len(everything) == 4
    window.tree_filter.setText("mr")
    assert [row.split()[0] for row in shown_series(window)] == ["#4"]
    window.tree_filter.setText("demo-0001 thorax")  # ID and description, both must match
    assert len(shown_series(window)) == 2
    window.tree_filter.setText("no such patient")
    assert visible_rows(window) == []
    window.tree_filter.clear()
    assert shown_series(window) == everything


def test_cancel_stops_indexing(qtbot, window, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    factories.write_series(tmp_path, slices=60)
    monkeypatch.setattr(tasks, "BATCH_SIZE", 3)
    slow_reads(monkeypatch)
    window.open_paths([str(tmp_path)])
    qtbot.waitUntil(lambda: window.catalog.instance_count >= 3, timeout=20_000)
    assert window.cancel_button.isVisible()
    with qtbot.waitSignal(window.indexing_finished, timeout=20_000):
        window.cancel_button.click()
    assert window.catalog.instance_count < 60
    assert window.progress_label.text().startswith("Cancelled")
    assert not window.cancel_button.isVisible()


def test_dicomdir_counts_show_before_files_are_read(qtbot, window, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    factories.write_series(tmp_path / "cd" / "A", slices=4)
    factories.write_series(tmp_path / "cd" / "B", slices=3, series_number=2, modality="MR")
    media.write_dicomdir(tmp_path / "cd")
    gate = threading.Event()
    slow_reads(monkeypatch, gate)
    window.open_paths([str(tmp_path / "cd" / "DICOMDIR")])
    try:
        qtbot.waitUntil(lambda: len(shown_series(window)) == 2, timeout=20_000)
        assert window.catalog.instance_count == 0  # no header read yet
        counts = sorted(map(window.tree_model.series_count_text, shown_series_uids(window)))
        assert counts == ["0/3", "0/4"]
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not window._tasks, timeout=30_000)
    counts = sorted(window.tree_model.series_count_text(s.uid) for s in window.catalog.all_series())
    assert counts == ["3", "4"]


def shown_series_uids(window: MainWindow) -> list[str]:
    model = window.tree_proxy
    uids: list[str] = []

    def walk(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if index.data(SERIES_UID_ROLE):
                uids.append(str(index.data(SERIES_UID_ROLE)))
            walk(index)

    walk(QModelIndex())
    return uids


def test_non_image_objects_are_listed_as_what_they_are(qtbot, window):  # type: ignore[no-untyped-def]
    paths = [str(TEST_FILES / name) for name in ("test-SR.dcm", "rtstruct.dcm", "rtplan.dcm")]
    open_and_wait(qtbot, window, paths)
    labels = "\n".join(visible_rows(window))
    assert "Structured report" in labels
    assert "RT structure set" in labels
    assert "RT plan" in labels


def test_thumbnails_of_the_middle_image(qtbot, window, demo_study):  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, [str(demo_study)])
    uids = [s.uid for s in window.catalog.all_series()]
    qtbot.waitUntil(
        lambda: all(window.tree_model.has_thumbnail(uid) for uid in uids), timeout=30_000
    )
    ct = next(s for s in window.catalog.all_series() if s.info.modality == "CT")
    image = window.thumbnails.cached(ct.uid)
    assert image is not None and max(image.width(), image.height()) == 48
