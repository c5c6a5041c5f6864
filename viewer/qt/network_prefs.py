"""Preferences > Network: the remote nodes, the viewer's own AE, and "Test" (issue 16 item 1).

The page edits a copy of the node book (:mod:`viewer.net.nodes`, ``nodes.json``); the dialog
writes it on OK. "Test" runs C-ECHO (DIMSE) or a QIDO-RS ping (DICOMweb) in the background
with the values as typed, and shows the one-line answer: success, or what failed (connection
refused, timed out, association rejected and why, HTTP status).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.net.nodes import LocalAE, Node, NodeBook, nodes_path
from viewer.qt.net_jobs import NetJob

NODE_COLUMNS = ("Name", "Kind", "AE title / URL")
KIND_TEXT = {"dimse": "DIMSE", "dicomweb": "DICOMweb"}
METHOD_TEXT = {"": "Default", "get": "C-GET", "move": "C-MOVE", "wado": "WADO-RS"}
OK_STYLE = "color: #4caf50;"
ERROR_STYLE = "color: #ff6b6b;"


class NetworkPage(QWidget):
    """The Network tab: a node table with an editor below it, and the local AE."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._nodes: list[Node] = []
        self._showing = False
        self._job: NetJob | None = None
        self.table = QTableWidget(0, len(NODE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(NODE_COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.currentCellChanged.connect(lambda row, *_: self._show_node(row))
        add = QPushButton("Add")
        add.clicked.connect(self.add_node)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_node)
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("C-ECHO (DIMSE) or a QIDO-RS request (DICOMweb)")
        self.test_button.clicked.connect(self.test_node)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (add, remove, self.test_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        nodes = QVBoxLayout()
        nodes.addWidget(self.table, 1)
        nodes.addLayout(buttons)
        nodes.addWidget(self.test_result)
        side_by_side = QHBoxLayout()
        side_by_side.addLayout(nodes, 1)
        side_by_side.addWidget(self._make_editor(), 1)
        layout = QVBoxLayout(self)
        layout.addLayout(side_by_side, 1)
        layout.addWidget(self._make_local())
        where = QLabel(f"Nodes are kept in {nodes_path()} (readable by you only).")
        where.setWordWrap(True)
        layout.addWidget(where)

    # --- construction ---------------------------------------------------------------------
    def _make_editor(self) -> QGroupBox:
        self.name = QLineEdit()
        self.kind = QComboBox()
        for kind, text in KIND_TEXT.items():
            self.kind.addItem(text, kind)
        self.aet = QLineEdit()
        self.aet.setMaxLength(16)
        self.host = QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://pacs.example/dicom-web")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.tls = QCheckBox("TLS (DICOM over TLS; for DICOMweb use an https:// URL)")
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("CA bundle to verify the server (empty: the system's)")
        self.method = QComboBox()
        for method, text in METHOD_TEXT.items():
            self.method.addItem(text, method)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Kind:", self.kind)
        form.addRow("AE title:", self.aet)
        form.addRow("Host:", self.host)
        form.addRow("Port:", self.port)
        form.addRow("Base URL:", self.url)
        form.addRow("Bearer token:", self.token)
        form.addRow("User:", self.username)
        form.addRow("Password:", self.password)
        form.addRow(self.tls)
        form.addRow("CA file:", self.ca_file)
        form.addRow("Retrieve with:", self.method)
        for edit in (self.name, self.aet, self.host, self.url, self.token, self.username):
            edit.textEdited.connect(self._edited)
        for edit in (self.password, self.ca_file):
            edit.textEdited.connect(self._edited)
        self.port.valueChanged.connect(self._edited)
        self.kind.currentIndexChanged.connect(self._edited)
        self.method.currentIndexChanged.connect(self._edited)
        self.tls.toggled.connect(self._edited)
        self.editor = QGroupBox("Node")
        self.editor.setLayout(form)
        return self.editor

    def _make_local(self) -> QGroupBox:
        self.local_aet = QLineEdit()
        self.local_aet.setMaxLength(16)
        self.local_port = QSpinBox()
        self.local_port.setRange(1, 65535)
        self.listen = QCheckBox("Listen for C-STORE while the viewer runs (receive pushes)")
        self.accept_aets = QLineEdit()
        self.accept_aets.setPlaceholderText(
            "empty: any calling AE; else AE titles, comma separated"
        )
        form = QFormLayout()
        form.addRow("Our AE title:", self.local_aet)
        form.addRow("Our C-STORE port:", self.local_port)
        form.addRow(self.listen)
        form.addRow("Accept from:", self.accept_aets)
        box = QGroupBox("This viewer (the C-MOVE destination; the server must know it)")
        box.setLayout(form)
        return box

    # --- the book <-> the widgets ---------------------------------------------------------
    def show_book(self, book: NodeBook) -> None:
        self._nodes = list(book.nodes)
        self.local_aet.setText(book.local.aet)
        self.local_port.setValue(book.local.port)
        self.listen.setChecked(book.local.listen)
        self.accept_aets.setText(", ".join(book.local.accept_aets))
        self._fill_table()
        self.table.setCurrentCell(0 if self._nodes else -1, 0)
        self._show_node(self.table.currentRow())

    def book(self) -> NodeBook:
        local = LocalAE(
            aet=self.local_aet.text().strip(),
            port=self.local_port.value(),
            listen=self.listen.isChecked(),
            accept_aets=tuple(
                aet.strip() for aet in self.accept_aets.text().split(",") if aet.strip()
            ),
        )
        return NodeBook(list(self._nodes), local)

    def problems(self) -> list[str]:
        """What keeps the page from being saved (each names the node)."""
        found = [
            f"{node.name or 'a node'}: {problem}"
            for node in self._nodes
            for problem in node.problems()
        ]
        names = [node.name.casefold() for node in self._nodes]
        found.extend(
            f"two nodes are named {name!r}"
            for name in sorted({n for n in names if names.count(n) > 1})
        )
        found.extend(self.book().local.problems())
        return found

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self._nodes))
        for row, node in enumerate(self._nodes):
            self._fill_row(row, node)

    def _fill_row(self, row: int, node: Node) -> None:
        dimse = node.kind == "dimse"
        cells = (
            node.name,
            "DIMSE" if dimse else "DICOMweb",
            f"{node.aet}@{node.host}:{node.port}" if dimse else node.url,
        )
        for column, text in enumerate(cells):
            self.table.setItem(row, column, QTableWidgetItem(text))

    def _show_node(self, row: int) -> None:
        self._showing = True
        node = self._nodes[row] if 0 <= row < len(self._nodes) else Node(name="")
        self.editor.setEnabled(0 <= row < len(self._nodes))
        self.test_button.setEnabled(0 <= row < len(self._nodes))
        self.name.setText(node.name)
        self.kind.setCurrentIndex(max(0, self.kind.findData(node.kind)))
        self.aet.setText(node.aet)
        self.host.setText(node.host)
        self.port.setValue(node.port)
        self.url.setText(node.url)
        self.token.setText(node.token)
        self.username.setText(node.username)
        self.password.setText(node.password)
        self.tls.setChecked(node.tls)
        self.ca_file.setText(node.ca_file)
        self.method.setCurrentIndex(max(0, self.method.findData(node.method)))
        self._enable_fields()
        self._showing = False

    def _enable_fields(self) -> None:
        dimse = self.kind.currentData() == "dimse"
        for widget in (self.aet, self.host, self.port, self.tls):
            widget.setEnabled(dimse)
        for widget in (self.url, self.token, self.username, self.password):
            widget.setEnabled(not dimse)

    def _edited(self, *_args: object) -> None:
        if self._showing:
            return
        row = self.table.currentRow()
        if not 0 <= row < len(self._nodes):
            return
        self._enable_fields()
        node = self._editor_node()
        self._nodes[row] = node
        self._fill_row(row, node)
        self.test_result.clear()

    def _editor_node(self) -> Node:
        return Node(
            name=self.name.text().strip(),
            kind=str(self.kind.currentData()),
            aet=self.aet.text().strip(),
            host=self.host.text().strip(),
            port=self.port.value(),
            url=self.url.text().strip().rstrip("/"),
            token=self.token.text().strip(),
            username=self.username.text().strip(),
            password=self.password.text(),
            tls=self.tls.isChecked(),
            ca_file=self.ca_file.text().strip(),
            method=str(self.method.currentData()),
        )

    # --- buttons --------------------------------------------------------------------------
    def add_node(self) -> None:
        taken = {node.name for node in self._nodes}
        number = 1
        while f"PACS {number}" in taken:
            number += 1
        self._nodes.append(Node(name=f"PACS {number}", aet="ORTHANC", host="localhost", port=4242))
        self._fill_table()
        self.table.setCurrentCell(len(self._nodes) - 1, 0)
        self.name.setFocus()

    def remove_node(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._nodes):
            del self._nodes[row]
            self._fill_table()
            self.table.setCurrentCell(min(row, len(self._nodes) - 1), 0)
            self._show_node(self.table.currentRow())

    def test_node(self) -> None:
        """C-ECHO or QIDO-RS ping with the node as typed, in the background."""
        from viewer.net.client import connect

        row = self.table.currentRow()
        if not 0 <= row < len(self._nodes):
            return
        node = self._nodes[row]
        problems = node.problems()
        local = self.book().local
        problems += local.problems()
        if problems:
            self._show_result(False, problems[0])
            return
        if self._job is not None:
            self._job.cancel()
        node = replace(node)
        self.test_result.setStyleSheet("")
        self.test_result.setText(f"Testing {node.describe()}…")
        self.test_button.setEnabled(False)
        job = NetJob("test", lambda _job: connect(node, local, timeout=10).echo())
        job.bridge.done.connect(lambda text: self._show_result(True, str(text)))
        job.bridge.failed.connect(lambda text: self._show_result(False, text))
        self._job = job.start()

    def _show_result(self, ok: bool, text: str) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.test_result.setText(text)

    def shutdown(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job.wait(12)
