"""File > Import and Copy… in the real main window (issue 15, item 2): a folder's files are
copied into the managed store by a worker with a progress dialog, recorded as "copied" and
listed so in the Database tab; the sources are only read; Cancel keeps what was copied, and
only that is recorded.

Real files (generated series), a real SQLite file in the test's user data folder, the real
menu action (the folder chooser answered by the test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMenu

from tests.factories import write_series
from tests.gui_driving import shown_main_window
from viewer.qt.main_window import MainWindow
from viewer.store import managed
from viewer.store.database import StudyDatabase, default_database_path


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A "USB stick": one study of two series (3 + 4 files)."""
    stick = tmp_path / "stick"
    write_series(stick / "s1", slices=3, study_uid="1.2.826.0.1.3680043.10.1015.7",
                 series_number=1, rows=8, columns=8)  # fmt: skip
    write_series(stick / "s2", slices=4, study_uid="1.2.826.0.1.3680043.10.1015.7",
                 series_number=2, rows=8, columns=8)  # fmt: skip
    return stick


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


def _store_files() -> list[Path]:
    root = managed.store_root()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _menu_action(window: MainWindow, text: str):  # type: ignore[no-untyped-def]
    for action in window.menuBar().actions():
        menu = action.menu()
        if action.text() == "&File" and isinstance(menu, QMenu):
            return next(a for a in menu.actions() if a.text() == text)
    raise AssertionError("no File menu")


def test_import_and_copy_from_the_file_menu(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _snapshot(media)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(media))
    _menu_action(window, "Import and &Copy…").trigger()
    assert window._import_jobs, "the menu action started no copy"
    job = window._import_jobs[0]
    assert job.dialog.isVisible()
    qtbot.waitUntil(lambda: job.finished, timeout=30_000)
    assert not job.dialog.isVisible()
    copies = _store_files()
    assert len(copies) == 7
    assert all(p.suffix == ".dcm" for p in copies)
    assert _snapshot(media) == before  # sources only read: same bytes, same mtimes
    assert "Copied 7 file(s) of 1 study" in window.statusBar().currentMessage()
    with StudyDatabase(default_database_path()) as database:
        (study,) = database.list_studies()
        assert study.location == "copied" and study.instances == 7
        assert sorted(f.instance.path for f in database.scanned_files(study.uid)) == [
            str(p) for p in copies
        ]
    browser = window.database_dock.browser
    qtbot.waitUntil(lambda: browser.model.rowCount() == 1, timeout=10_000)
    listed = browser.model.study(0)
    assert listed is not None and listed.location == "copied"


def test_cancel_keeps_and_records_only_what_was_copied(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    media: Path,
) -> None:
    before = _snapshot(media)
    job = window.import_and_copy([str(media)])
    job.cancel()  # at once: it stops between files, wherever it was
    qtbot.waitUntil(lambda: job.finished, timeout=30_000)
    assert window.statusBar().currentMessage().startswith("Cancelled: copied")
    copies = _store_files()
    assert not any(p.name.endswith(".partial") for p in copies)
    assert _snapshot(media) == before
    with StudyDatabase(default_database_path()) as database:
        recorded = sorted(
            item.instance.path
            for study in database.list_studies()
            for item in database.scanned_files(study.uid)
        )
    assert recorded == [str(p) for p in copies]  # every copy recorded, nothing else
    assert all(os.path.isfile(path) for path in recorded)
