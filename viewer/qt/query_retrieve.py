"""File > Query/Retrieve: search a PACS, retrieve studies or series into the study database
while their images appear (issue 16 items 2 and 3).

Queries and retrieves run in :class:`~viewer.qt.net_jobs.NetJob` threads, cancellable. Results
are listed at study level; expanding a study asks for its series (C-FIND SERIES level or
QIDO-RS series). A retrieve (C-GET, C-MOVE into our own C-STORE SCP, or WADO-RS) lands each
instance in the managed store and the database (:class:`~viewer.net.landing.Landing`) and
hands it to the main window as it arrives (:attr:`QueryRetrieveDock.retrieved`), so the study
tree and the viewport fill in while it runs. Each series row shows done / total and failed;
"Retry failed" fetches only what has not arrived.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom.catalog.records import ScannedFile
from viewer.net.nodes import METHODS, Node, NodeBook, SendResult, load_nodes
from viewer.net.query import DEFAULT_LIMIT, QueryAnswer, QueryFilter, QueryResult
from viewer.qt.net_jobs import NetJob

if TYPE_CHECKING:
    from viewer.qt.listener import StorageListener

COLUMNS = ("Patient", "Date", "Modality", "Retrieved", "Instances", "Description", "ID")
RETRIEVED_COLUMN = COLUMNS.index("Retrieved")
RESULT_ROLE = Qt.ItemDataRole.UserRole
DATE_PRESETS = ("Any date", "Today", "Yesterday", "Last 7 days", "Range")
METHOD_TEXT = {"get": "C-GET", "move": "C-MOVE", "wado": "WADO-RS"}
#: Arrived instances are handed to the main window at most this often (ms).
ARRIVAL_INTERVAL_MS = 150


def date_filter(preset: str, start: datetime.date, end: datetime.date, today: datetime.date) -> str:
    """The study date matching value (PS3.4 C.2.2.2.5) for a preset; "" for any date."""
    day = datetime.timedelta(days=1)
    if preset == "Today":
        return today.strftime("%Y%m%d")
    if preset == "Yesterday":
        return (today - day).strftime("%Y%m%d")
    if preset == "Last 7 days":
        return f"{(today - 6 * day).strftime('%Y%m%d')}-{today.strftime('%Y%m%d')}"
    if preset == "Range":
        low, high = sorted((start, end))
        return f"{low.strftime('%Y%m%d')}-{high.strftime('%Y%m%d')}"
    return ""


class QueryRetrieveDock(QDockWidget):
    """The Query/Retrieve dock."""

    #: Instances landed by a retrieve (list[ScannedFile]), for the study tree and viewport.
    retrieved = Signal(object)
    #: A query or retrieve finished (its one-line outcome).
    finished = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        database: str | None = None,
        listener: StorageListener | None = None,
        to_send: Callable[[], tuple[str, list[str]]] | None = None,
        to_send_objects: Callable[[], tuple[str, Callable[[str], list[str]]] | None] | None = None,
    ) -> None:
        super().__init__("Query/Retrieve", parent)
        #: What "Send measurements" sends: (a label, a writer of the objects into a folder),
        #: or None when there is nothing to send.
        self.to_send_objects = to_send_objects
        #: What "Send shown study" sends: (a label, the files); the window's shown study.
        self.to_send = to_send
        #: The window's storage SCP: a C-MOVE goes through it while it listens.
        self.listener = listener
        self.setObjectName("query-retrieve")
        self.database = database
        self.book = NodeBook()
        self._jobs: list[NetJob] = []
        self._retrieve_job: NetJob | None = None
        self._landing: Any = None
        self._last_retrieve: tuple[Node, str, list[tuple[str, list[str]]]] | None = None
        self._pending: list[ScannedFile] = []
        self._handed = 0  # instances of this retrieve handed to the window so far
        self._series_items: dict[str, QTreeWidgetItem] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(ARRIVAL_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush_arrivals)
        self.setWidget(self._make_panel())
        self.reload_nodes()
        self.node_box.currentIndexChanged.connect(self._follow_node_method)

    # --- construction ---------------------------------------------------------------------
    def _make_panel(self) -> QWidget:
        self.node_box = QComboBox()
        self.node_box.setToolTip("Nodes are set in Settings > Preferences > Network")
        self.patient_name = QLineEdit()
        self.patient_name.setPlaceholderText("e.g. DOE^J*  (* and ? wildcards)")
        self.patient_id = QLineEdit()
        self.accession = QLineEdit()
        self.modality = QLineEdit()
        self.modality.setPlaceholderText("CT, MR…")
        self.description = QLineEdit()
        self.description.setPlaceholderText("* and ? wildcards")
        self.date_preset = QComboBox()
        self.date_preset.addItems(DATE_PRESETS)
        self.date_from = QDateEdit(QDate.currentDate().addDays(-7))
        self.date_to = QDateEdit(QDate.currentDate())
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        self.date_preset.currentTextChanged.connect(self._date_preset_changed)
        self.limit = QSpinBox()
        self.limit.setRange(1, 100_000)
        self.limit.setValue(DEFAULT_LIMIT)
        dates = QHBoxLayout()
        dates.addWidget(self.date_preset)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.date_to)
        form = QFormLayout()
        form.addRow("Node:", self.node_box)
        form.addRow("Patient name:", self.patient_name)
        form.addRow("Patient ID:", self.patient_id)
        form.addRow("Accession:", self.accession)
        form.addRow("Study date:", dates)
        form.addRow("Modality:", self.modality)
        form.addRow("Description:", self.description)
        form.addRow("At most:", self.limit)
        for line in (
            self.patient_name,
            self.patient_id,
            self.accession,
            self.modality,
            self.description,
        ):
            line.returnPressed.connect(self.search)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        self.results = QTreeWidget()
        self.results.setColumnCount(len(COLUMNS))
        self.results.setHeaderLabels(list(COLUMNS))
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.setAlternatingRowColors(True)
        self.results.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.results.header().setStretchLastSection(True)
        self.results.itemExpanded.connect(self._on_expanded)
        self.results.itemDoubleClicked.connect(lambda *_: self.retrieve_selected())
        self.method_box = QComboBox()
        for method in METHODS:
            self.method_box.addItem(METHOD_TEXT[method], method)
        self.retrieve_button = QPushButton("Retrieve")
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.retry_button = QPushButton("Retry failed")
        self.retry_button.setEnabled(False)
        self.retry_button.clicked.connect(self.retry)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.send_button = QPushButton("Send shown study")
        self.send_button.setToolTip(
            "C-STORE or STOW-RS the study shown in the viewport (and the viewer's own "
            "objects in it) to this node"
        )
        self.send_button.clicked.connect(self.send_shown)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.send_objects_button = QPushButton("Send measurements")
        self.send_objects_button.setToolTip(
            "Write the viewer's own objects (measurements as SR, annotations as GSPS, key "
            "images as KO) and C-STORE or STOW-RS them to this node"
        )
        self.send_objects_button.clicked.connect(self._send_measurements)
        self.send_progress = QProgressBar()
        self.send_progress.hide()
        self.sent_list = QTreeWidget()
        self.sent_list.setHeaderLabels(["File", "SOP Instance UID", "Result"])
        self.sent_list.setRootIsDecorated(False)
        self.sent_list.hide()
        actions = QHBoxLayout()
        actions.addWidget(self.search_button)
        actions.addWidget(self.send_button)
        actions.addWidget(self.send_objects_button)
        actions.addStretch(1)
        actions.addWidget(self.method_box)
        actions.addWidget(self.retrieve_button)
        actions.addWidget(self.retry_button)
        actions.addWidget(self.cancel_button)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.addLayout(form)
        layout.addLayout(actions)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.send_progress)
        layout.addWidget(self.sent_list)
        return panel

    def _send_measurements(self) -> None:
        found = self.to_send_objects() if self.to_send_objects is not None else None
        if found is None:
            self.status.setText("Nothing to send: draw a measurement or flag a key image")
            return
        self.send_objects(*found)

    def _date_preset_changed(self, text: str) -> None:
        for edit in (self.date_from, self.date_to):
            edit.setEnabled(text == "Range")

    def reload_nodes(self) -> None:
        """The node list from ``nodes.json`` (after Preferences changed it)."""
        chosen = self.node_box.currentText()
        self.book = load_nodes()
        self.node_box.clear()
        for node in self.book.nodes:
            self.node_box.addItem(node.name)
        if chosen:
            self.node_box.setCurrentIndex(max(0, self.node_box.findText(chosen)))
        if not self.book.nodes:
            self.status.setText("No nodes yet: add one in Settings > Preferences > Network.")
        self._follow_node_method()

    def _follow_node_method(self, *_args: object) -> None:
        node = self.node()
        if node is not None:
            self.method_box.setCurrentIndex(max(0, self.method_box.findData(node.default_method())))

    def node(self) -> Node | None:
        return self.book.find(self.node_box.currentText()) if self.node_box.count() else None

    # --- query ----------------------------------------------------------------------------
    def query_filter(self, level: str = "study", study_uid: str = "") -> QueryFilter:
        return QueryFilter(
            level=level,
            patient_name=self.patient_name.text().strip() if level == "study" else "",
            patient_id=self.patient_id.text().strip() if level == "study" else "",
            accession=self.accession.text().strip() if level == "study" else "",
            date=date_filter(
                self.date_preset.currentText(),
                self.date_from.date().toPython(),  # type: ignore[arg-type]
                self.date_to.date().toPython(),  # type: ignore[arg-type]
                datetime.date.today(),
            )
            if level == "study"
            else "",
            modality=self.modality.text().strip() if level == "study" else "",
            description=self.description.text().strip() if level == "study" else "",
            study_uid=study_uid,
            limit=self.limit.value() if level == "study" else 100_000,
        )

    def search(self) -> None:
        """Query the chosen node at study level, in the background."""
        node = self.node()
        if node is None:
            self.status.setText("Choose a node (Settings > Preferences > Network).")
            return
        query = self.query_filter()
        problems = query.problems()
        if problems:
            self.status.setText(problems[0])
            return
        local = self.book.local
        self.results.clear()
        self._series_items.clear()
        self.status.setText(f"Searching {node.describe()}…")

        def work(job: NetJob) -> QueryAnswer:
            from viewer.net.client import connect

            return connect(node, local).find(query, cancel=job.cancelled)

        job = self._start(NetJob("query", work))
        job.bridge.done.connect(self._show_studies)

    def _show_studies(self, answer: QueryAnswer) -> None:
        for result in answer.results:
            item = QTreeWidgetItem(self.results, _cells(result))
            item.setData(0, RESULT_ROLE, result)
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        for column in range(len(COLUMNS)):
            self.results.resizeColumnToContents(column)
        text = f"{len(answer.results)} stud{'y' if len(answer.results) == 1 else 'ies'} found"
        if answer.truncated:
            text += f" ({answer.truncated})"
        self.status.setText(text)
        self.finished.emit(text)

    def _on_expanded(self, item: QTreeWidgetItem) -> None:
        result = item.data(0, RESULT_ROLE)
        if not isinstance(result, QueryResult) or result.level != "study" or item.childCount():
            return
        node = self.node()
        if node is None:
            return
        query = self.query_filter("series", result.study_uid)
        local = self.book.local

        def work(job: NetJob) -> QueryAnswer:
            from viewer.net.client import connect

            return connect(node, local).find(query, cancel=job.cancelled)

        job = self._start(NetJob("series query", work))
        job.bridge.done.connect(lambda answer: self._show_series(item, answer))

    def _show_series(self, study: QTreeWidgetItem, answer: QueryAnswer) -> None:
        for result in sorted(answer.results, key=lambda r: (r.series_number or 0, r.series_uid)):
            if result.series_uid in self._series_items:
                continue
            self._add_series_item(study, result)
        study.setChildIndicatorPolicy(
            QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless
        )
        self.status.setText(f"{len(answer.results)} series")

    def _add_series_item(self, study: QTreeWidgetItem, result: QueryResult) -> QTreeWidgetItem:
        item = QTreeWidgetItem(study, _cells(result))
        item.setData(0, RESULT_ROLE, result)
        self._series_items[result.series_uid] = item
        return item

    # --- retrieve -------------------------------------------------------------------------
    def selection(self) -> list[tuple[str, list[str]]]:
        """(study UID, series UIDs; empty: the whole study) for the selected rows."""
        chosen: dict[str, list[str]] = {}
        whole: set[str] = set()
        for item in self.results.selectedItems():
            result = item.data(0, RESULT_ROLE)
            if not isinstance(result, QueryResult):
                continue
            if result.level == "study":
                whole.add(result.study_uid)
            else:
                chosen.setdefault(result.study_uid, []).append(result.series_uid)
        studies = list(dict.fromkeys([*whole, *chosen]))
        return [(uid, [] if uid in whole else chosen[uid]) for uid in studies]

    def retrieve_selected(self) -> None:
        node = self.node()
        groups = self.selection()
        if node is None or not groups:
            self.status.setText("Select a study or series to retrieve.")
            return
        self.start_retrieve(node, str(self.method_box.currentData()), groups)

    def retry(self) -> None:
        if self._last_retrieve is not None and self._landing is not None:
            node, method, groups = self._last_retrieve
            self.start_retrieve(node, method, groups, retry=True)

    def start_retrieve(
        self, node: Node, method: str, groups: Sequence[tuple[str, list[str]]], retry: bool = False
    ) -> None:
        """Retrieve ``groups`` from ``node`` in the background (``retry``: only what the last
        retrieve did not receive)."""
        from viewer.net.landing import Landing

        if self._retrieve_job is not None and self._retrieve_job.running():
            self.status.setText("A retrieve is running: cancel it first.")
            return
        local = self.book.local
        groups = list(groups)
        self._last_retrieve = (node, method, groups)
        if not retry or self._landing is None:
            self._landing = None
        landing_box: list[Landing] = []
        reuse = self._landing
        server = self.listener.server if self.listener is not None else None

        def work(job: NetJob) -> list[Any]:
            from viewer.net.client import connect, retrieve
            from viewer.store.database import StudyDatabase

            database = StudyDatabase(self.database, check=True)
            try:
                landing = reuse or Landing(database=database)
                landing.database = database
                landing.on_arrived = job.bridge.arrived.emit
                landing_box.append(landing)
                client = connect(node, local)
                reports = []
                for study_uid, series_uids in groups:
                    if job.cancelled():
                        break
                    reports.append(
                        retrieve(
                            client,
                            study_uid,
                            landing,
                            method,
                            series_uids,
                            cancel=job.cancelled,
                            progress=job.bridge.progress.emit,
                            retry=retry,
                            listener=server,
                        )
                    )
                landing.close()
                return reports
            finally:
                database.close()

        job = self._start(NetJob("retrieve", work))
        self._retrieve_job = job
        self._landing_box = landing_box
        job.bridge.arrived.connect(self._on_arrived)
        job.bridge.progress.connect(self._show_counts)
        job.bridge.done.connect(self._retrieve_done)
        job.bridge.failed.connect(lambda _text: self._flush_arrivals())
        self.retry_button.setEnabled(False)
        self.status.setText(f"Retrieving from {node.describe()} with {METHOD_TEXT[method]}…")
        self._handed = 0
        self._flush_timer.start()

    def _current_landing(self) -> Any:
        box = getattr(self, "_landing_box", [])
        return box[0] if box else self._landing

    def _on_arrived(self, item: ScannedFile) -> None:
        self._pending.append(item)
        if not self._handed:  # the first image goes on screen at once, not at the next tick
            self._flush_arrivals()

    def _flush_arrivals(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._handed += len(batch)
            self.retrieved.emit(batch)
        self._show_counts()
        if self._retrieve_job is None or not self._retrieve_job.running():
            self._flush_timer.stop()

    def _show_counts(self) -> None:
        landing = self._current_landing()
        if landing is None:
            return
        for count in landing.snapshot():
            item = self._series_items.get(count.series_uid)
            if item is None:
                parent = self._study_item_of(count.series_uid)
                if parent is None:
                    continue
                item = self._add_series_item(
                    parent,
                    QueryResult(
                        level="series",
                        study_uid="",
                        series_uid=count.series_uid,
                        description=count.label,
                        instances=count.total,
                    ),
                )
            total = "?" if count.total is None else str(count.total)
            text = f"{count.done}/{total}" + (f", {count.failed} failed" if count.failed else "")
            item.setText(RETRIEVED_COLUMN, text)

    def _study_item_of(self, series_uid: str) -> QTreeWidgetItem | None:
        """The study row a retrieved series belongs to (from the landing's records)."""
        last = self._last_retrieve
        if last is None or len(last[2]) != 1:
            return None
        study_uid = last[2][0][0]
        for row in range(self.results.topLevelItemCount()):
            item = self.results.topLevelItem(row)
            result = item.data(0, RESULT_ROLE) if item is not None else None
            found = isinstance(result, QueryResult) and result.study_uid == study_uid
            if item is not None and found:
                return item
        return None

    def _retrieve_done(self, reports: list[Any]) -> None:
        self._landing = self._current_landing()
        self._flush_arrivals()
        done = sum(report.done for report in reports)
        missing = sum(report.failed for report in reports)
        errors = [report.error for report in reports if report.error]
        text = f"Retrieved {done} instance(s)"
        if missing:
            text += f"; {missing} did not arrive (Retry failed fetches them)"
        if errors:
            text += f": {errors[0]}"
        self.retry_button.setEnabled(bool(missing or errors))
        self.status.setText(text)
        self.finished.emit(text)

    # --- send ---------------------------------------------------------------------------
    def send_shown(self) -> None:
        """Send the shown study's files to the chosen node."""
        label, paths = self.to_send() if self.to_send is not None else ("", [])
        if not paths:
            self.status.setText("Show a study first, and choose a node.")
            return
        self.send_files(label, paths)

    def send_files(self, label: str, paths: Sequence[str], node: Node | None = None) -> None:
        """Send ``paths`` (C-STORE or STOW-RS, each file as stored) to ``node`` (default:
        the dock's), in the background: a progress bar, and each instance's outcome listed
        as it comes (file, SOP Instance UID, "sent" or why not)."""
        node = node or self.node()
        if node is None or not paths:
            self.status.setText("Nothing to send, or no node: set nodes in Preferences > Network.")
            return
        files = list(dict.fromkeys(paths))
        self._send_job(label, len(files), node, lambda job: self._send_work(node, files, job))

    def send_objects(
        self, label: str, write: Callable[[str], list[str]], node: Node | None = None
    ) -> None:
        """Send the viewer's own objects (SR, GSPS, KO): ``write(folder)`` writes them into a
        temporary folder (in the worker thread), they are sent, the folder is removed."""
        node = node or self.node()
        if node is None:
            self.status.setText("Choose a node: set nodes in Preferences > Network.")
            return

        def work(job: NetJob) -> list[SendResult]:
            import shutil
            import tempfile

            folder = tempfile.mkdtemp(prefix="dicom-viewer-send-")
            try:
                return self._send_work(node, write(folder), job)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        self._send_job(label, None, node, work)

    def _send_work(self, node: Node, files: list[str], job: NetJob) -> list[SendResult]:
        from viewer.net.client import connect

        job.bridge.arrived.emit(len(files))  # the total, once known
        return connect(node, self.book.local).send(
            files, cancel=job.cancelled, on_result=job.bridge.sent.emit
        )

    def _send_job(
        self,
        label: str,
        total: int | None,
        node: Node,
        work: Callable[[NetJob], list[SendResult]],
    ) -> None:
        self.sent_list.clear()
        self.sent_list.show()
        self.send_progress.setRange(0, total or 0)
        self.send_progress.setValue(0)
        self.send_progress.show()
        count = f"{total} file(s) of " if total is not None else ""
        self.status.setText(f"Sending {count}{label} to {node.describe()}…")
        job = self._start(NetJob("send", work))
        job.bridge.arrived.connect(lambda n: self.send_progress.setRange(0, int(n)))
        job.bridge.sent.connect(lambda result: self._one_sent(node, result))
        job.bridge.done.connect(lambda results: self._sent(node, results))
        job.bridge.failed.connect(lambda _text: self.send_progress.hide())

    def _one_sent(self, node: Node, result: SendResult) -> None:
        item = QTreeWidgetItem(
            [Path(result.path).name, result.sop_instance_uid, result.problem or "sent"]
        )
        item.setToolTip(0, result.path)
        if result.problem:
            item.setToolTip(2, result.problem)
        self.sent_list.addTopLevelItem(item)
        done = self.sent_list.topLevelItemCount()
        self.send_progress.setValue(done)
        self.status.setText(f"Sending to {node.describe()}: {done}/{self.send_progress.maximum()}")

    def sent_results(self) -> list[tuple[str, str, str]]:
        """The per-instance list of the last send: (file name, SOP Instance UID, result)."""
        rows = []
        for number in range(self.sent_list.topLevelItemCount()):
            item = self.sent_list.topLevelItem(number)
            if item is not None:
                rows.append((item.text(0), item.text(1), item.text(2)))
        return rows

    def _sent(self, node: Node, results: list[SendResult]) -> None:
        self.send_progress.hide()
        failed = [result for result in results if result.problem]
        text = f"Sent {len(results) - len(failed)} of {len(results)} to {node.describe()}"
        if failed:
            first = failed[0]
            text += f"; {len(failed)} failed, e.g. {Path(first.path).name}: {first.problem}"
        self.status.setText(text)
        self.finished.emit(text)

    # --- jobs -----------------------------------------------------------------------------
    def _start(self, job: NetJob) -> NetJob:
        self._jobs.append(job)
        self.cancel_button.setEnabled(True)
        job.bridge.failed.connect(self._failed)
        job.bridge.done.connect(lambda _result: self._forget(job))
        job.bridge.failed.connect(lambda _text: self._forget(job))
        return job.start()

    def _failed(self, text: str) -> None:
        self._landing = self._current_landing()
        self.retry_button.setEnabled(self._last_retrieve is not None and self._landing is not None)
        self.status.setText("Cancelled." if text == "cancelled" else text)
        self.finished.emit(text)

    def _forget(self, job: NetJob) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        self.cancel_button.setEnabled(bool(self._jobs))

    def cancel(self) -> None:
        for job in self._jobs:
            job.cancel()

    def shutdown(self) -> None:
        """Cancel what runs and wait for it (before the window goes away)."""
        self.cancel()
        for job in list(self._jobs):
            job.wait(10)
        self._flush_timer.stop()


def _cells(result: QueryResult) -> list[str]:
    """The row's texts, in :data:`COLUMNS` order."""
    count = "" if result.instances is None else str(result.instances)
    modalities = "/".join(result.modalities)
    if result.level == "series":
        number = "" if result.series_number is None else f"#{result.series_number} "
        label = f"{number}{result.description}".strip() or result.series_uid
        return [label, "", modalities, "", count, result.description, ""]
    name = result.patient_name.replace("^", " ").strip() or "(no name)"
    return [
        name,
        _shown_date(result.date),
        modalities,
        "",
        count,
        result.description,
        result.patient_id,
    ]


def _shown_date(value: str) -> str:
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value
