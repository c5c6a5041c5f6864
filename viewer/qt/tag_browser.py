"""The tag browser: the header of the file behind the active viewport's frame, as a tree.

Columns: tag, keyword (or, for private tags, the dictionary name and the Private Creator,
PS3.5 7.8.1), VR, VM, value. Sequences expand into items. In an enhanced multi-frame file the
Per-frame Functional Groups Sequence (5200,9230, PS3.3 C.7.6.16) shows only the current frame's
item. The header is read in a worker (:class:`viewer.qt.latest_call.LatestCall`): the GUI thread
only builds the Qt model from plain rows. A filter matches tag numbers (with or without
punctuation), keywords and values; Ctrl+C copies the selected rows.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import (
    QGuiApplication,
    QKeySequence,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom import decoding_stack, reasons
from viewer.dicom.io import bounded
from viewer.qt.latest_call import LatestCall

if TYPE_CHECKING:  # pydicom is imported in the worker that reads a header, after first paint
    from pydicom.dataelem import DataElement
    from pydicom.dataset import Dataset

COLUMNS = ("Tag", "Keyword", "VR", "VM", "Value")
#: Values longer than this are cut (the full value is in the file, and in the copy).
MAX_VALUE_CHARS = 256
PER_FRAME_GROUPS = 0x52009230
MATCH_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True, slots=True)
class TagRow:
    """One element (or sequence item) as text, with its children."""

    tag: str
    keyword: str
    vr: str
    vm: str
    value: str
    children: tuple[TagRow, ...] = ()


@dataclass(frozen=True, slots=True)
class TagTree:
    path: str
    frame: int
    rows: tuple[TagRow, ...]
    error: str = ""


class _HeaderCache:
    """The last header read (scrolling an enhanced file re-reads nothing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[str, Dataset] | None = None

    def read(self, path: str) -> Dataset:
        with self._lock:
            if self._last is not None and self._last[0] == path:
                return self._last[1]
        decoding_stack.load()
        from pydicom import dcmread

        dataset = bounded.bounded(dcmread, path, stop_before_pixels=True, force=True)
        with self._lock:
            self._last = (path, dataset)
        return dataset


_HEADERS = _HeaderCache()


def read_tag_tree(path: str, frame: int) -> TagTree:
    """The rows for ``path`` with frame ``frame`` (0-based) chosen in per-frame groups."""
    try:
        dataset = _HEADERS.read(path)
        meta = getattr(dataset, "file_meta", None)
        rows = [*dataset_rows(meta, frame)] if meta else []
        rows += dataset_rows(dataset, frame)
        return TagTree(path, frame, tuple(rows))
    except Exception as error:  # a file we cannot read is one line, not a crash
        return TagTree(path, frame, (), f"{reasons.explain(error)}")


def dataset_rows(dataset: Dataset, frame: int | None = None) -> list[TagRow]:
    return [element_row(element, frame, dataset) for element in dataset]


def element_row(
    element: DataElement, frame: int | None = None, dataset: Dataset | None = None
) -> TagRow:
    """One element's row; ``dataset`` (the element's own) lets a textual value read as UN
    (too long for its VR's 16-bit length, PS3.5 6.2.2) show as the text it is."""
    tag = f"({element.tag.group:04X},{element.tag.element:04X})"
    vr = str(element.VR)
    if vr == "SQ":
        items = list(element.value or [])
        if element.tag == PER_FRAME_GROUPS and frame is not None and items:
            children = _current_frame_item(items, frame)
        else:
            children = tuple(_item_row(n, item) for n, item in enumerate(items))
        return TagRow(tag, _keyword(element), vr, str(len(items)), f"{len(items)} item(s)",
                      children)  # fmt: skip
    value = element.value
    if vr == "UN" and dataset is not None and isinstance(value, bytes):
        from viewer.dicom.io.header_fields import textual

        value = textual(dataset, element.tag)
    return TagRow(tag, _keyword(element), vr, str(element.VM), _value_text(element, value))


def _item_row(number: int, item: Dataset, note: str = "") -> TagRow:
    return TagRow(f"Item {number + 1}", note, "", "", "", tuple(dataset_rows(item)))


def _current_frame_item(items: list[Dataset], frame: int) -> tuple[TagRow, ...]:
    frame = min(max(frame, 0), len(items) - 1)
    rows = [_item_row(frame, items[frame], "this frame")]
    if len(items) > 1:
        rows.append(TagRow("", "", "", "", f"{len(items) - 1} other frame(s) not shown"))
    return tuple(rows)


def _keyword(element: DataElement) -> str:
    if not element.tag.is_private:
        return element.keyword or element.name
    if element.tag.element < 0x0100:
        return "Private Creator"
    decoding_stack.load()
    from pydicom.datadict import private_dictionary_description

    creator = getattr(element, "private_creator", None) or ""
    try:
        name = private_dictionary_description(element.tag, creator)
    except KeyError:
        name = "Unknown private"
    return f"{name} [{creator or 'no creator'}]"


def _value_text(element: DataElement, value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if value is None:
        return ""
    many = element.VM > 1 or (not isinstance(value, str) and isinstance(value, Sequence))
    text = "\\".join(str(v) for v in value) if many else str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _search_text(row: TagRow) -> str:
    digits = row.tag.strip("()").replace(",", "")
    return " ".join((row.tag, digits, row.keyword, row.vr, row.value)).casefold()


class TagFilter(QSortFilterProxyModel):
    """Keeps rows whose tag, keyword or value contains the filter text (and their parents)."""

    def __init__(self) -> None:
        super().__init__()
        self.setRecursiveFilteringEnabled(True)
        self._needle = ""

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self._needle:
            return True
        haystack = str(self.sourceModel().index(row, 0, parent).data(MATCH_ROLE) or "")
        compact = self._needle.replace(",", "").replace("(", "").replace(")", "")
        return self._needle in haystack or (len(compact) >= 4 and compact in haystack)


class TagBrowser(QDockWidget):
    """A dock listing the header of the file shown in the active viewport."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Tags", parent)
        self.setObjectName("tags")
        self.model = QStandardItemModel()
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = TagFilter()
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: tag number, keyword or value")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._on_filter)
        self.caption = QLabel("")
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.tree = self._make_tree()
        self.shown: tuple[str, int] | None = None
        self._reader = LatestCall(self)
        self._reader.result.connect(self._on_tree)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.caption)
        layout.addWidget(self.tree)
        self.setWidget(body)

    def _make_tree(self) -> QTreeView:
        tree = QTreeView()
        tree.setModel(self.proxy)
        tree.setUniformRowHeights(True)
        tree.setAlternatingRowColors(True)
        tree.setSelectionMode(QTreeView.SelectionMode.ExtendedSelection)
        header = tree.header()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._context_menu)
        copy = QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), tree)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_selection)
        return tree

    def show_frame(self, path: str, frame: int) -> None:
        """Show the header of ``path`` for frame ``frame`` (read in the worker)."""
        if (path, frame) == self.shown:
            return
        self.shown = (path, frame)
        self._reader.submit(read_tag_tree, path, frame)

    def clear(self) -> None:
        self.shown = None
        self.model.removeRows(0, self.model.rowCount())
        self.caption.setText("")

    def _on_tree(self, tree: object) -> None:
        if not isinstance(tree, TagTree) or (tree.path, tree.frame) != self.shown:
            return
        self.model.removeRows(0, self.model.rowCount())
        root = self.model.invisibleRootItem()
        for row in tree.rows:
            _append(root, row)
        name = Path(tree.path).name
        self.caption.setText(tree.error or f"{name}, frame {tree.frame + 1}")
        self.caption.setToolTip(tree.path)
        if self.filter.text():
            self.tree.expandAll()

    def _on_filter(self, text: str) -> None:
        self.proxy.set_text(text)
        if text.strip():
            self.tree.expandAll()

    def selected_text(self) -> str:
        """Selected rows in tree order as tab-separated lines (tag, keyword, VR, VM, value)."""
        rows = sorted(self.tree.selectionModel().selectedRows(0), key=_tree_position)
        lines = []
        for index in rows:
            cells = [index.siblingAtColumn(c).data() or "" for c in range(len(COLUMNS))]
            lines.append("\t".join(str(cell) for cell in cells))
        return "\n".join(lines)

    def copy_selection(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def _context_menu(self, position: Any) -> None:
        menu = QMenu(self)
        menu.addAction("Copy", self.copy_selection)
        menu.exec(self.tree.viewport().mapToGlobal(position))

    def shutdown(self) -> None:
        self._reader.shutdown()


def _tree_position(index: QModelIndex) -> list[int]:
    """Row numbers from the root down to ``index`` (sorts rows in the order shown)."""
    path: list[int] = []
    while index.isValid():
        path.insert(0, index.row())
        index = index.parent()
    return path


def _append(parent: QStandardItem, row: TagRow) -> None:
    items = [QStandardItem(text) for text in (row.tag, row.keyword, row.vr, row.vm, row.value)]
    for item in items:
        item.setEditable(False)
    items[0].setData(_search_text(row), MATCH_ROLE)
    items[4].setToolTip(row.value if len(row.value) > 60 else "")
    parent.appendRow(items)
    for child in row.children:
        _append(items[0], child)
