"""Send from the study tree (issue 16): its context menu's "Send to…" sends the selected
patients, studies or series (several with Ctrl/Shift) to a node chosen among the configured
ones; "Send measurements to…" sends the viewer's own SR, GSPS and KO objects. The
Query/Retrieve dock runs the send and lists each instance's result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from viewer.net.nodes import Node, NodeBook, load_nodes
from viewer.qt.study_tree import SERIES_UID_ROLE, STUDY_UID_ROLE

if TYPE_CHECKING:
    from viewer.dicom.catalog.catalog import Catalog
    from viewer.qt.query_retrieve import QueryRetrieveDock
    from viewer.qt.series_tree import SeriesTreeView


class SendHost(Protocol):
    """What the menu needs of the main window."""

    tree: SeriesTreeView
    catalog: Catalog

    def show_message(self, text: str) -> None: ...

    def show_query_retrieve(self) -> QueryRetrieveDock: ...

    def measurement_objects(self) -> tuple[str, Callable[[str], list[str]]] | None: ...


#: Chooses a node among the book's (None: the user cancelled); a dialog unless replaced.
NodeChooser = Callable[[QWidget, NodeBook], Node | None]


def ask_for_node(parent: QWidget, book: NodeBook) -> Node | None:
    """A list of the configured nodes to pick one from."""
    names = [node.name for node in book.nodes]
    if not names:
        return None
    name, chosen = QInputDialog.getItem(parent, "Send to", "Node:", names, 0, False)
    return book.find(name) if chosen else None


def selected_uids(tree: Any) -> tuple[list[str], list[str]]:
    """The study and series UIDs the tree's selection names (a patient row: its studies);
    a series inside a selected study is not named again."""
    studies: list[str] = []
    series: list[str] = []
    for index in tree.selectionModel().selectedRows(0):
        _collect(index, studies, series)
    return list(dict.fromkeys(studies)), list(dict.fromkeys(series))


def _collect(index: QModelIndex, studies: list[str], series: list[str]) -> None:
    series_uid = index.data(SERIES_UID_ROLE)
    study_uid = index.data(STUDY_UID_ROLE)
    if series_uid:
        series.append(str(series_uid))
    elif study_uid:
        studies.append(str(study_uid))
    else:  # a patient row: its studies
        model = index.model()
        for row in range(model.rowCount(index)):
            _collect(model.index(row, 0, index), studies, series)


def files_of(catalog: Catalog, studies: list[str], series: list[str]) -> tuple[str, list[str]]:
    """A label and the files (each once) of the named studies and series."""
    paths: list[str] = []
    labels: list[str] = []
    wanted_series = set(series)
    for patient in catalog.patients.values():
        for study in patient.studies.values():
            whole = study.info.uid in studies
            if whole:
                labels.append(study.info.description or study.info.uid)
            for node in study.sorted_series():
                if whole or node.uid in wanted_series:
                    if not whole:
                        labels.append(node.info.description or node.uid)
                    paths.extend(instance.path for instance in node.instances)
    label = labels[0] if len(labels) == 1 else f"{len(labels)} studies/series"
    return label, list(dict.fromkeys(paths))


class TreeSend:
    """The study tree's "Send to…" entries for ``window``'s tree context menu
    (:meth:`add_actions`; the window builds the one menu)."""

    def __init__(self, window: SendHost, choose: NodeChooser = ask_for_node) -> None:
        self.window = window
        self.choose = choose

    def make_menu(self) -> QMenu:
        """A menu of just the send entries."""
        menu = QMenu(self.window.tree)
        self.add_actions(menu)
        return menu

    def add_actions(self, menu: QMenu) -> None:
        send = menu.addAction("Send to…")
        send.setEnabled(self.window.tree.selectionModel().hasSelection())
        send.triggered.connect(lambda _checked=False: self.send_selected())
        objects = menu.addAction("Send measurements to…")
        objects.setToolTip(
            "The viewer's own objects: measurements (SR), annotations (GSPS), key images (KO)"
        )
        objects.triggered.connect(lambda _checked=False: self.send_measurements())

    def _node(self) -> Node | None:
        book = load_nodes()
        if not book.nodes:
            self.window.show_message("No node to send to: add one in Preferences > Network")
            return None
        return self.choose(self.window.tree, book)

    def send_selected(self) -> bool:
        """Send the selection's files to a node the user picks; False when nothing went."""
        studies, series = selected_uids(self.window.tree)
        label, paths = files_of(self.window.catalog, studies, series)
        if not paths:
            self.window.show_message("Select studies or series in the tree to send")
            return False
        node = self._node()
        if node is None:
            return False
        self.window.show_query_retrieve().send_files(label, paths, node)
        return True

    def send_measurements(self) -> bool:
        """Write and send the viewer's own SR/GSPS/KO objects to a node the user picks."""
        found = self.window.measurement_objects()
        if found is None:
            self.window.show_message("Nothing to send: draw a measurement or flag a key image")
            return False
        node = self._node()
        if node is None:
            return False
        self.window.show_query_retrieve().send_objects(*found, node=node)
        return True
