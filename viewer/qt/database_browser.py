"""The study database browser: a dock beside the study tree (issue 15, item 3).

:class:`StudyTableModel` is a ``QAbstractTableModel`` over a listing of the database (one row
per study: PS3.3 C.7.1.1 patient and C.7.2.1 study attributes, the modalities of its series,
its instance count and where its files are). :class:`DatabaseBrowser` searches as the user
types: patient name (word prefixes, ``*``/``?`` wildcards of PS3.4 C.2.2.2.4, accents
ignored), patient ID, accession number, a study date range (any, today, last 7 days, custom;
PS3.4 C.2.2.2.5) and modality. Every query runs in a worker thread (:class:`LatestCall`:
only the newest answer is shown, so typing never waits for a stale one); the GUI thread only
swaps the rows in.

Double-click (or Enter) opens a study; Delete removes it from the database, and its copies
from the managed store, never a file held by reference. A study whose files are gone (media
ejected, folder deleted) shows as "missing" and is greyed out.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDockWidget,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from viewer.qt.dates import format_date
from viewer.qt.latest_call import LatestCall
from viewer.store.library import ListedStudy, StudyLibrary
from viewer.store.query import StudyQuery, last_days

log = logging.getLogger(__name__)

COLUMNS = (
    "Patient",
    "Patient ID",
    "Birth date",
    "Study date",
    "Modalities",
    "Description",
    "Accession",
    "Instances",
    "Location",
)
STUDY_UID_ROLE = Qt.ItemDataRole.UserRole + 1
#: Date presets of the search bar; "Custom" shows two date fields.
DATE_PRESETS = ("Any date", "Today", "Last 7 days", "Custom…")
#: Modalities offered in the search bar (PS3.3 C.7.3.1.1.1); any other may be typed.
MODALITIES = ("", "CT", "MR", "US", "CR", "DX", "MG", "XA", "RF", "NM", "PT", "OT", "SEG", "SR")
#: Milliseconds between the last key typed and the query.
SEARCH_DELAY_MS = 80
ModelIndex = QModelIndex | QPersistentModelIndex


class StudyTableModel(QAbstractTableModel):
    """The studies of the current listing, newest first (header clicks sort)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._studies: list[ListedStudy] = []

    def set_studies(self, studies: list[ListedStudy]) -> None:
        self.beginResetModel()
        self._studies = list(studies)
        self.endResetModel()

    def study(self, row: int) -> ListedStudy | None:
        return self._studies[row] if 0 <= row < len(self._studies) else None

    def row_of(self, study_uid: str) -> int:
        """The row showing ``study_uid``, or -1."""
        for row, study in enumerate(self._studies):
            if study.row.uid == study_uid:
                return row
        return -1

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's API)
        return 0 if parent.isValid() else len(self._studies)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        study = self.study(index.row()) if index.isValid() else None
        if study is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = _cell(study, index.column())
            if role == Qt.ItemDataRole.ToolTipRole and study.missing:
                return f"{text}\nThe study's files are missing (media ejected or folder deleted)"
            return text
        if role == STUDY_UID_ROLE:
            return study.row.uid
        if role == Qt.ItemDataRole.ForegroundRole and study.missing:
            return QColor(128, 128, 128)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 7:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        def key(study: ListedStudy) -> Any:
            if column == 7:
                return study.row.instances
            if column == 3:
                return (study.row.date, study.row.time)
            return _cell(study, column).casefold()

        self.layoutAboutToBeChanged.emit()
        self._studies.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()


def _cell(study: ListedStudy, column: int) -> str:
    row = study.row
    values = (
        row.patient_name,
        row.patient_id,
        format_date(row.birth_date),
        format_date(row.date),
        " ".join(row.modalities),
        row.description,
        row.accession_number,
        str(row.instances),
        study.location,
    )
    return values[column]


class DatabaseSignals(QObject):
    """Carries the library's news from its worker threads to the GUI thread."""

    problem = Signal(str)
    written = Signal()
    removed = Signal(str, int)  # study UID, instances it had


class DatabaseBrowser(QWidget):
    """Search bar and table of the study database; ``open_requested`` carries a Study UID."""

    open_requested = Signal(str)
    listed = Signal(int)  # studies shown after a query (tests and the status line)

    def __init__(
        self, library: StudyLibrary, signals: DatabaseSignals, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.model = StudyTableModel(self)
        self._queries = LatestCall(self)
        self._queries.result.connect(self._on_listing)
        self.signals = signals
        self.signals.removed.connect(self._on_removed)
        self.signals.written.connect(self.refresh_when_shown)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        #: Asks before a removal; tests may replace it (it gets the study and returns yes/no).
        self.confirm_removal: Callable[[ListedStudy], bool] = self._ask_removal
        self._make_search_bar()
        self._make_table()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._search_layout)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        #: Whether the browser's tab is current (the dock's visibility, see set_shown).
        self.shown = False

    # --- construction ---------------------------------------------------------------------
    def _make_search_bar(self) -> None:
        self.name_field = self._field("Patient name (* ? wildcards)")
        self.id_field = self._field("Patient ID")
        self.accession_field = self._field("Accession")
        self.date_preset = QComboBox()
        self.date_preset.addItems(DATE_PRESETS)
        self.date_preset.currentIndexChanged.connect(self._on_preset)
        today = QDate.currentDate()
        self.date_from = self._date_field(today.addDays(-30))
        self.date_to = self._date_field(today)
        self.modality = QComboBox()
        self.modality.setEditable(True)
        self.modality.addItems(MODALITIES)
        self.modality.setToolTip("Modality (any series of the study)")
        line = self.modality.lineEdit()
        if line is not None:
            line.setPlaceholderText("Modality")
        self.modality.editTextChanged.connect(self._schedule)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addWidget(self.name_field, 0, 0, 1, 2)
        grid.addWidget(self.id_field, 1, 0)
        grid.addWidget(self.accession_field, 1, 1)
        grid.addWidget(self.date_preset, 2, 0)
        grid.addWidget(self.modality, 2, 1)
        grid.addWidget(self.date_from, 3, 0)
        grid.addWidget(self.date_to, 3, 1)
        self._search_layout = grid
        self._on_preset(0)

    def _field(self, placeholder: str) -> QLineEdit:
        field = QLineEdit()
        field.setPlaceholderText(placeholder)
        field.setClearButtonEnabled(True)
        field.textChanged.connect(self._schedule)
        return field

    def _date_field(self, date: QDate) -> QDateEdit:
        field = QDateEdit(date)
        field.setCalendarPopup(True)
        field.setDisplayFormat("yyyy-MM-dd")
        field.dateChanged.connect(self._schedule)
        return field

    def _make_table(self) -> None:
        table = QTableView()
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setSortingEnabled(False)  # the listing comes newest first; header clicks sort
        table.horizontalHeader().setSectionsClickable(True)
        table.horizontalHeader().sectionClicked.connect(self._sort_by)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
        table.setWordWrap(False)
        table.doubleClicked.connect(self._on_double_click)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        self.open_action = QAction("Open", table)
        self.open_action.setShortcuts(
            [QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)]
        )
        self.open_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.open_action.triggered.connect(self.open_current)
        self.remove_action = QAction("Remove from database…", table)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.remove_action.triggered.connect(self.remove_current)
        table.addAction(self.open_action)
        table.addAction(self.remove_action)
        self.table = table
        self._sort_order: dict[int, Qt.SortOrder] = {}
        self.status = QLabel("")

    # --- searching ------------------------------------------------------------------------
    def _on_preset(self, index: int) -> None:
        custom = DATE_PRESETS[index] == "Custom…"
        self.date_from.setVisible(custom)
        self.date_to.setVisible(custom)
        self._schedule()

    def _schedule(self, *_args: Any) -> None:
        self._search_timer.start()

    def query(self, today: datetime.date | None = None) -> StudyQuery:
        """What the search bar asks for now."""
        preset = DATE_PRESETS[self.date_preset.currentIndex()]
        start = end = ""
        if preset == "Today":
            start, end = last_days(1, today)
        elif preset == "Last 7 days":
            start, end = last_days(7, today)
        elif preset == "Custom…":
            start = self.date_from.date().toString("yyyyMMdd")
            end = self.date_to.date().toString("yyyyMMdd")
            start, end = min(start, end), max(start, end)
        return StudyQuery(
            patient_name=self.name_field.text(),
            patient_id=self.id_field.text(),
            accession_number=self.accession_field.text(),
            date_from=start,
            date_to=end,
            modality=self.modality.currentText(),
        )

    def refresh(self) -> None:
        """List the studies matching the search bar (in the worker thread)."""
        self._search_timer.stop()
        self._queries.submit(self.library.list_studies, self.query())

    def refresh_when_shown(self) -> None:
        """The database changed: list again now if shown (else when next shown)."""
        if self.shown:
            self._schedule()

    def set_shown(self, shown: bool) -> None:
        """The browser's tab became current (or not): listed afresh whenever it shows (new
        records, and where the files are now: media ejected or inserted since)."""
        self.shown = shown
        if shown:
            self.refresh()

    def _on_listing(self, value: object) -> None:
        if isinstance(value, Exception):
            log.warning("listing the study database failed: %s", value)
            self.status.setText(f"Cannot list the studies: {value}")
            return
        assert isinstance(value, list)
        current = self.current_study()
        self.model.set_studies(value)
        if current is not None and (row := self.model.row_of(current.row.uid)) >= 0:
            self.table.selectRow(row)
        problem = self.library.problem
        if problem:
            self.status.setText(f"Study database unavailable: {problem}")
        else:
            missing = sum(study.missing for study in value)
            text = f"{len(value):,} stud{'y' if len(value) == 1 else 'ies'}"
            self.status.setText(text + (f" ({missing:,} missing)" if missing else ""))
        if len(value) and not any(self.table.columnWidth(c) > 100 for c in range(3)):
            self.table.resizeColumnsToContents()
        self.listed.emit(len(value))

    def _sort_by(self, column: int) -> None:
        order = self._sort_order.get(column, Qt.SortOrder.DescendingOrder)
        order = (
            Qt.SortOrder.AscendingOrder
            if order == Qt.SortOrder.DescendingOrder
            else Qt.SortOrder.DescendingOrder
        )
        self._sort_order[column] = order
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setSortIndicator(column, order)
        self.model.sort(column, order)

    # --- acting ---------------------------------------------------------------------------
    def current_study(self) -> ListedStudy | None:
        index = self.table.currentIndex()
        return self.model.study(index.row()) if index.isValid() else None

    def _on_double_click(self, index: QModelIndex) -> None:
        study = self.model.study(index.row())
        if study is not None:
            self._open(study)

    def open_current(self) -> None:
        study = self.current_study()
        if study is not None:
            self._open(study)

    def _open(self, study: ListedStudy) -> None:
        if study.missing:
            self.status.setText(
                "The study's files are missing (media ejected or folder deleted); "
                "insert the media or remove the study"
            )
            return
        self.open_requested.emit(study.row.uid)

    def remove_current(self) -> None:
        """Remove the selected study from the database (after asking)."""
        study = self.current_study()
        if study is None or not self.confirm_removal(study):
            return
        uid = study.row.uid
        self.status.setText("Removing…")

        def remove() -> None:
            count = self.library.remove_study(uid)
            self.signals.removed.emit(uid, count)

        threading.Thread(target=remove, name="study-db-remove", daemon=True).start()

    def _on_removed(self, _uid: str, count: int) -> None:
        self.status.setText(f"Removed a study of {count} instance(s) from the database")
        self.refresh()

    def _ask_removal(self, study: ListedStudy) -> bool:
        where = {
            "copied": "Its copies in the viewer's store are deleted.",
            "pacs": "Its retrieved files in the viewer's store are deleted.",
        }.get(study.row.location, "Its files stay where they are; only the record goes.")
        answer = QMessageBox.question(
            self,
            "Remove from database",
            f"Remove the study of {study.row.patient_name or '(no name)'} "
            f"({format_date(study.row.date) or 'no date'}) from the database?\n{where}",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _context_menu(self, point: Any) -> None:
        index = self.table.indexAt(point)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        menu = QMenu(self.table)
        menu.addAction(self.open_action)
        menu.addAction(self.remove_action)
        menu.exec(self.table.viewport().mapToGlobal(point))

    def shutdown(self) -> None:
        self._search_timer.stop()
        self._queries.shutdown()


class DatabaseDock(QDockWidget):
    """The browser in a dock (tabbed with the study tree), and the window's
    :class:`StudyLibrary` (the user's database, or the one at ``path``), whose news arrive
    through ``signals`` on the GUI thread."""

    def __init__(self, parent: QWidget | None = None, path: str | None = None) -> None:
        super().__init__("Database", parent)
        self.setObjectName("database")
        self.signals = DatabaseSignals(self)
        self.library = StudyLibrary(
            path, on_problem=self.signals.problem.emit, on_written=self.signals.written.emit
        )
        self.browser = DatabaseBrowser(self.library, self.signals, self)
        self.visibilityChanged.connect(self.browser.set_shown)
        self.setWidget(self.browser)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )

    def shutdown(self) -> None:
        """Stop the queries, write what is queued (bounded), close the database."""
        self.browser.shutdown()
        self.library.close()
