"""The main window: study browser on the left, the image viewport in the centre.

Opening paths (menu, command line, drag-and-drop) starts an IndexTask; its batches merge into
the Catalog on the GUI thread and the tree fills as they come. The first displayable series is
shown as soon as it has frames and indexing has finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeView,
)

from viewer.dicom.catalog import Catalog, SeriesNode
from viewer.dicom.records import ScannedFile, Skipped
from viewer.model.display import ViewState
from viewer.qt.image_view import ImageViewport
from viewer.qt.study_tree import SERIES_UID_ROLE, StudyTreeModel, format_date
from viewer.qt.tasks import FrameLoader, IndexTask

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The viewer's one window."""

    indexing_finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("DICOM Viewer")
        self.setAcceptDrops(True)
        self.catalog = Catalog()
        self.loader = FrameLoader()
        self.state = ViewState()
        self.current_series: SeriesNode | None = None
        self._tasks: list[IndexTask] = []
        self._auto_select = True
        self.viewport = ImageViewport(self.state, self.loader, self)
        self.tree_model = StudyTreeModel()
        self.tree = self._make_tree()
        self._make_layout()
        self._make_status_bar()
        self._make_menus()
        self.viewport.status.connect(self.show_message)

    # --- construction ---------------------------------------------------------------------
    def _make_tree(self) -> QTreeView:
        tree = QTreeView()
        tree.setModel(self.tree_model)
        tree.setUniformRowHeights(True)
        tree.setAlternatingRowColors(True)
        tree.setSortingEnabled(False)
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        tree.selectionModel().currentChanged.connect(self._on_tree_current)
        return tree

    def _make_layout(self) -> None:
        dock = QDockWidget("Studies", self)
        dock.setObjectName("studies")
        dock.setWidget(self.tree)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [470], Qt.Orientation.Horizontal)
        splitter = QSplitter()
        splitter.addWidget(self.viewport)
        self.setCentralWidget(splitter)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_indexing)
        bar.addPermanentWidget(self.progress_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Open &Folder…", self.choose_folder, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open F&iles…", self.choose_files, None)
        self._action(file_menu, "Open &DICOMDIR…", self.choose_dicomdir, None)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

    def _action(
        self,
        menu: Any,
        text: str,
        slot: Callable[[], Any],
        shortcut: QKeySequence.StandardKey | None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # --- opening ---------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder")
        if folder:
            self.open_paths([folder])

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files or zips")
        if files:
            self.open_paths(files)

    def choose_dicomdir(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open DICOMDIR", "", "DICOMDIR (DICOMDIR dicomdir DICOMDIR;1);;All files (*)"
        )
        if path:
            self.open_paths([path])

    def open_paths(
        self, paths: Sequence[str], prepare: Callable[[], list[str]] | None = None
    ) -> None:
        """Index ``paths`` in the background; the tree fills as results arrive."""
        task = IndexTask(paths, prepare)
        task.bridge.batch.connect(self._on_batch)
        task.bridge.progress.connect(self._on_progress)
        task.bridge.message.connect(self.show_message)
        task.bridge.finished.connect(lambda cancelled: self._on_index_finished(task, cancelled))
        self._tasks.append(task)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.progress_label.setText("Indexing…")
        task.start()

    def cancel_indexing(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _on_batch(self, items: list[ScannedFile | Skipped]) -> None:
        for item in items:
            change = self.catalog.add(item)
            if change is not None:
                self.tree_model.apply(change)
            elif isinstance(item, Skipped):
                log.info("skipped %s: %s", item.path, item.reason)
        self.tree_model.sort(0)
        self.tree.expandAll()

    def _on_progress(self, count: int, rate: float) -> None:
        self.progress_label.setText(f"{count} files indexed ({rate:.0f}/s)")

    def _on_index_finished(self, task: IndexTask, cancelled: bool) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        if not self._tasks:
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)
        skipped = len(self.catalog.skipped)
        summary = (
            f"{self.catalog.instance_count} instances in "
            f"{len(self.catalog.all_series())} series; {skipped} file(s) skipped"
        )
        self.progress_label.setText(("Cancelled: " if cancelled else "") + summary)
        self.statusBar().clearMessage()
        if self._auto_select and self.current_series is None:
            self._select_first_displayable()
        self.indexing_finished.emit()

    def _select_first_displayable(self) -> None:
        for series in self.catalog.all_series():
            if any(stack.frames for stack in series.stacks):
                self.select_series(series.uid)
                return

    # --- showing -------------------------------------------------------------------------
    def select_series(self, uid: str) -> None:
        """Select a series in the tree (which shows its first stack)."""
        match = self.tree_model.match(
            self.tree_model.index(0, 0),
            SERIES_UID_ROLE,
            uid,
            1,
            Qt.MatchFlag.MatchRecursive | Qt.MatchFlag.MatchExactly,
        )
        if match:
            self.tree.setCurrentIndex(match[0])
        else:
            self.show_series(uid)

    def _on_tree_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        uid = current.siblingAtColumn(0).data(SERIES_UID_ROLE)
        if uid:
            self.show_series(str(uid))

    def show_series(self, uid: str) -> None:
        series = self.catalog.series(uid)
        if series is None:
            return
        stacks = [stack for stack in series.stacks if stack.frames]
        if not stacks:
            self.show_message(f"Series {series.info.description!r} has no displayable images")
            return
        self.current_series = series
        self.viewport.patient_text = self._overlay_text(series)
        self.state.set_stack(stacks[0])
        for warning in stacks[0].warnings:
            log.warning("series %s: %s", uid, warning)
        if stacks[0].warnings:
            self.show_message("Warning: " + "; ".join(stacks[0].warnings))

    def _overlay_text(self, series: SeriesNode) -> dict[str, str]:
        for patient in self.catalog.patients.values():
            for study in patient.studies.values():
                if series.uid in study.series:
                    info = series.info
                    return {
                        "name": patient.info.name,
                        "id": patient.info.patient_id,
                        "birth": " ".join(
                            v for v in (format_date(patient.info.birth_date), patient.info.sex) if v
                        ),
                        "study": study.info.description,
                        "date": format_date(study.info.date),
                        "series": f"Se: {info.number if info.number is not None else '-'} "
                        f"{info.modality} {info.description}",
                    }
        return {}

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # --- drag and drop, keys, close ----------------------------------------------------------
    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    def keyPressEvent(self, event: Any) -> None:
        key = event.key()
        step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        moves = {
            Qt.Key.Key_Up: -step,
            Qt.Key.Key_Down: step,
            Qt.Key.Key_PageUp: -step,
            Qt.Key.Key_PageDown: step,
        }
        if key in moves:
            self.state.step(moves[key])
        elif key == Qt.Key.Key_Home:
            self.state.set_index(0)
        elif key == Qt.Key.Key_End:
            self.state.set_index(self.state.frame_count - 1)
        else:
            super().keyPressEvent(event)

    def shutdown(self) -> None:
        """Stop workers (call before the window goes away)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            task.wait(5)
        self.loader.shutdown()

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)
