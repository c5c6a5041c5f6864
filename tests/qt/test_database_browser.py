"""The study database in the real main window (issue 15): what is opened is recorded in the
background, the browser dock searches as the user types, double-click reopens from the rows
without reading a header, Delete forgets a study, gone files show as missing.

Real files (the demo study, generated series), a real SQLite file in the test's user data
folder, real key and mouse events (pytest-qt).
"""

from __future__ import annotations

import datetime
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from tests import gui_driving
from tests.factories import write_series
from tests.gui_driving import shown_main_window
from viewer.dicom.io import indexer
from viewer.qt.app import make_application
from viewer.qt.database_browser import DATE_PRESETS, DatabaseBrowser
from viewer.qt.main_window import MainWindow
from viewer.store import managed
from viewer.store.database import StudyDatabase, default_database_path
from viewer.store.importer import import_paths

TODAY = datetime.date.today()


def _day(days_ago: int) -> str:
    return (TODAY - datetime.timedelta(days=days_ago)).strftime("%Y%m%d")


#: name, patient ID, accession, study date, modality
PEOPLE = [
    ("Müller^Hans", "ID-100", "ACC-1", _day(0), "CT"),
    ("Mueller^Jo", "ID-101", "ACC-2", _day(3), "MR"),
    ("O'Brien^Siobhán", "XY-7", "B-77", _day(30), "CR"),
    ("Doe^Jane^Ann", "ID-200", "ACC-3", "20190301", "US"),
    ("Ødegård^Åse", "NO-1", "N-1", _day(6), "CT"),
]


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """One small real study per person, recorded by reference in the user's database."""
    folder = tmp_path / "people"
    for n, (name, pid, accession, date, modality) in enumerate(PEOPLE):
        write_series(
            folder / f"p{n}",
            slices=3,
            patient_name=name,
            patient_id=pid,
            study_date=date,
            modality=modality,
            rows=8,
            columns=8,
            extra={"AccessionNumber": accession},
        )
    with StudyDatabase(default_database_path(), check=True) as database:
        import_paths(database, [folder])
    return folder


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def show_browser(qtbot, window: MainWindow) -> DatabaseBrowser:  # type: ignore[no-untyped-def]
    window.database_dock.show()
    window.database_dock.raise_()
    browser = window.database_dock.browser
    qtbot.waitUntil(lambda: browser.shown, timeout=5000)
    return browser


def listed_ids(browser: DatabaseBrowser) -> list[str]:
    return sorted(
        browser.model.study(row).row.patient_id  # type: ignore[union-attr]
        for row in range(browser.model.rowCount())
    )


def wait_listing(qtbot, browser: DatabaseBrowser, ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: listed_ids(browser) == sorted(ids), timeout=10_000)


def type_into(qtbot, field, text: str) -> None:  # type: ignore[no-untyped-def]
    """Clear ``field`` and type ``text`` key by key (real key events)."""
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def double_click_row(qtbot, browser: DatabaseBrowser, row: int) -> None:  # type: ignore[no-untyped-def]
    rect = browser.table.visualRect(browser.model.index(row, 0))
    qtbot.mouseClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_opening_records_the_study_and_the_browser_lists_it(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    demo_study: Path,
) -> None:
    gui_driving.open_and_wait(qtbot, window, [str(demo_study)])
    qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=30_000)
    assert window.library.flush()
    with StudyDatabase(default_database_path()) as database:
        assert database.counts()["instances"] == window.catalog.instance_count
        assert {s.location for s in database.list_studies()} == {"file"}
    browser = show_browser(qtbot, window)
    qtbot.waitUntil(lambda: browser.model.rowCount() == 4, timeout=10_000)
    assert "4 studies" in browser.status.text()


def test_reopening_a_known_folder_reads_only_what_changed(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    demo_study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo_study, folder)
    with StudyDatabase(default_database_path(), check=True) as database:
        import_paths(database, [folder])
    changed = next(p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "DICOMDIR")
    info = changed.stat()
    os.utime(changed, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))  # touched
    read: list[str] = []
    real = indexer.read_instance
    monkeypatch.setattr(indexer, "read_instance", lambda path: read.append(path) or real(path))
    gui_driving.open_and_wait(qtbot, window, [str(folder)])
    assert read == [str(changed)]
    assert window.catalog.instance_count == 221


def test_search_as_you_type(qtbot, people: Path, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    browser = show_browser(qtbot, window)
    everyone = [pid for _, pid, *_ in PEOPLE]
    wait_listing(qtbot, browser, everyone)
    type_into(qtbot, browser.name_field, "mull")  # accents folded: Müller
    wait_listing(qtbot, browser, ["ID-100"])
    type_into(qtbot, browser.name_field, "m*ller")  # wildcard: Müller, Mueller
    wait_listing(qtbot, browser, ["ID-100", "ID-101"])
    type_into(qtbot, browser.name_field, "ase")  # a later word, Å folded
    wait_listing(qtbot, browser, ["NO-1"])
    type_into(qtbot, browser.name_field, "")
    type_into(qtbot, browser.id_field, "ID-1")
    wait_listing(qtbot, browser, ["ID-100", "ID-101"])
    type_into(qtbot, browser.id_field, "")
    type_into(qtbot, browser.accession_field, "b-7")
    wait_listing(qtbot, browser, ["XY-7"])
    type_into(qtbot, browser.accession_field, "")
    wait_listing(qtbot, browser, everyone)


def test_date_presets_and_modality(qtbot, people: Path, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    browser = show_browser(qtbot, window)
    wait_listing(qtbot, browser, [pid for _, pid, *_ in PEOPLE])
    browser.date_preset.setCurrentIndex(DATE_PRESETS.index("Today"))
    wait_listing(qtbot, browser, ["ID-100"])
    browser.date_preset.setCurrentIndex(DATE_PRESETS.index("Last 7 days"))
    wait_listing(qtbot, browser, ["ID-100", "ID-101", "NO-1"])
    browser.date_preset.setCurrentIndex(DATE_PRESETS.index("Custom…"))
    assert browser.date_from.isVisible() and browser.date_to.isVisible()
    browser.date_from.setDate(datetime.date(2019, 1, 1))
    browser.date_to.setDate(datetime.date(2019, 12, 31))
    wait_listing(qtbot, browser, ["ID-200"])
    browser.date_preset.setCurrentIndex(DATE_PRESETS.index("Any date"))
    assert not browser.date_from.isVisible()
    line = browser.modality.lineEdit()
    assert line is not None
    type_into(qtbot, line, "ct")
    wait_listing(qtbot, browser, ["ID-100", "NO-1"])


def test_double_click_reopens_from_the_rows_without_reading_a_header(
    qtbot,  # type: ignore[no-untyped-def]
    people: Path,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[str] = []
    monkeypatch.setattr(indexer, "read_instance", read.append)
    monkeypatch.setattr(indexer, "read_chunk", read.extend)
    browser = show_browser(qtbot, window)
    wait_listing(qtbot, browser, [pid for _, pid, *_ in PEOPLE])
    type_into(qtbot, browser.id_field, "XY")
    wait_listing(qtbot, browser, ["XY-7"])
    double_click_row(qtbot, browser, 0)
    qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=30_000)
    assert read == []
    assert window.catalog.instance_count == 3
    series = window.current_series
    assert series is not None and series.info.modality == "CR"
    assert window.viewport.patient_text["id"] == "XY-7"
    # The export guard ("never write into a folder it reads") knows the reopened folder.
    qtbot.waitUntil(lambda: str(people / "p2") in window.opened_paths, timeout=10_000)
    assert window.opened_paths == [str(people / "p2")]


def test_a_window_on_another_database_file_reopens_from_it(
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``db open --db FILE UID`` starts a window on FILE (run_gui's ``database``): the study
    comes from FILE's rows, the user's database is not created."""
    write_series(tmp_path / "elsewhere", slices=4, patient_id="OTHER-1", rows=8, columns=8)
    other = tmp_path / "other.sqlite"
    with StudyDatabase(other) as database:
        (uid,) = import_paths(database, [tmp_path / "elsewhere"]).study_uids
    read: list[str] = []
    monkeypatch.setattr(indexer, "read_instance", read.append)
    monkeypatch.setattr(indexer, "read_chunk", read.extend)
    make_application()
    window = MainWindow(database=str(other))
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.library.path == other
        window.open_study(uid)
        qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=30_000)
        assert read == []
        assert window.catalog.instance_count == 4
        assert window.viewport.patient_text["id"] == "OTHER-1"
        assert window.opened_paths == [str(tmp_path / "elsewhere")]
    finally:
        window.shutdown()
    assert not default_database_path().exists()


def test_delete_removes_from_the_database_and_the_managed_store_only(
    qtbot,  # type: ignore[no-untyped-def]
    people: Path,
    window: MainWindow,
) -> None:
    with StudyDatabase(default_database_path()) as database:  # one study copied, the rest not
        import_paths(database, [people / "p1"], copy=True)
        copies = [p for p in managed.store_root().rglob("*") if p.is_file()]
    assert len(copies) == 3
    sources = sorted(p for p in people.rglob("*") if p.is_file())
    browser = show_browser(qtbot, window)
    asked: list[str] = []
    browser.confirm_removal = lambda study: asked.append(study.row.patient_id) or True
    wait_listing(qtbot, browser, [pid for _, pid, *_ in PEOPLE])
    for pid in ("ID-101", "ID-100"):  # copied, then by reference
        type_into(qtbot, browser.id_field, pid)
        wait_listing(qtbot, browser, [pid])
        browser.table.setFocus()
        browser.table.selectRow(0)
        qtbot.keyClick(browser.table, Qt.Key.Key_Delete)
        qtbot.waitUntil(lambda: browser.model.rowCount() == 0, timeout=10_000)
    assert asked == ["ID-101", "ID-100"]
    assert not any(p.exists() for p in copies)
    assert sorted(p for p in people.rglob("*") if p.is_file()) == sources  # never the source
    with StudyDatabase(default_database_path()) as database:
        assert sorted(s.patient_id for s in database.list_studies()) == ["ID-200", "NO-1", "XY-7"]


def test_the_removal_question_is_a_real_dialog(qtbot, people: Path, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    browser = show_browser(qtbot, window)
    wait_listing(qtbot, browser, [pid for _, pid, *_ in PEOPLE])
    browser.table.selectRow(0)
    answered: list[str] = []

    def answer_no() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            qtbot.wait(20)
            return answer_no()
        answered.append(dialog.windowTitle())
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        return None

    from PySide6.QtCore import QTimer

    QTimer.singleShot(50, answer_no)
    browser.remove_current()
    assert answered == ["Remove from database"]
    assert browser.model.rowCount() == len(PEOPLE)


def test_studies_whose_files_are_gone_show_as_missing(
    qtbot,  # type: ignore[no-untyped-def]
    people: Path,
    window: MainWindow,
) -> None:
    shutil.rmtree(people / "p2")  # O'Brien's CD ejected
    browser = show_browser(qtbot, window)
    wait_listing(qtbot, browser, [pid for _, pid, *_ in PEOPLE])
    row = next(r for r in range(len(PEOPLE)) if browser.model.study(r).row.patient_id == "XY-7")  # type: ignore[union-attr]
    assert browser.model.index(row, 8).data() == "missing"
    assert browser.model.index(row, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "1 missing" in browser.status.text()
    double_click_row(qtbot, browser, row)
    qtbot.wait(200)
    assert window.catalog.instance_count == 0
    assert "missing" in browser.status.text()


def test_a_read_only_data_folder_leaves_the_viewer_working(
    qtbot,  # type: ignore[no-untyped-def]
    demo_study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    # root ignores permissions: then a folder that cannot be made (below /proc)
    data = locked if not os.access(locked, os.W_OK) else Path("/proc/dicom-viewer-test")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    try:
        windows = shown_main_window(qtbot)
        window = next(windows)
        messages: list[str] = []
        window.database_dock.signals.problem.connect(messages.append)
        gui_driving.open_and_wait(qtbot, window, [str(demo_study)])
        qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=30_000)
        qtbot.waitUntil(lambda: bool(messages), timeout=10_000)
        assert len(messages) == 1 and str(data) in messages[0] and "\n" not in messages[0]
        assert window.catalog.instance_count == 221
        browser = show_browser(qtbot, window)
        qtbot.waitUntil(lambda: "unavailable" in browser.status.text(), timeout=10_000)
        next(windows, None)
    finally:
        locked.chmod(stat.S_IRWXU)


def test_context_menu_offers_open_and_remove(qtbot, people: Path, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    browser = show_browser(qtbot, window)
    wait_listing(qtbot, browser, [pid for _, pid, *_ in PEOPLE])
    actions = [action.text() for action in browser.table.actions()]
    assert actions == ["Open", "Remove from database…"]
    assert browser.table.indexAt(QPoint(-5, -5)).isValid() is False
