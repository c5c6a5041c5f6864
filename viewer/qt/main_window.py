"""The main window: study browser on the left, the image viewport in the centre.

Opening paths (menu, command line, drag-and-drop) starts an IndexTask; its batches merge into
the Catalog on the GUI thread and the tree fills as they come. The first displayable series is
shown as soon as it has frames and indexing has finished.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from viewer.core.scratch import remove_stale_folders_in_background
from viewer.dicom.catalog.catalog import Added, Catalog, SeriesNode
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.dicomdir import DirectoryPreview
from viewer.dicom.io.zips import shown_path
from viewer.model.display import ViewState
from viewer.model.linking import link_sentence
from viewer.model.problems import UNSORTED, Problem, SeriesOfPath, group_label
from viewer.model.series_choice import (
    best_stack,
    displayable_in_order,
    first_to_show,
    prior_to_compare,
)
from viewer.qt.annotation_persistence import AnnotationPersistence
from viewer.qt.database_browser import DatabaseDock
from viewer.qt.dates import format_date
from viewer.qt.documents import DocumentViews
from viewer.qt.image_view import ImageViewport
from viewer.qt.listener import StorageListener
from viewer.qt.mpr_view import MprView
from viewer.qt.presentation_states import PresentationStates
from viewer.qt.problems import ProblemsDock
from viewer.qt.query_retrieve import QueryRetrieveDock
from viewer.qt.series_tree import SERIES_ROW, SeriesTreeView
from viewer.qt.study_tree import (
    COLUMNS,
    SERIES_UID_ROLE,
    STACK_ROLE,
    StudyFilterProxy,
    StudyTreeModel,
    stack_key,
    study_date,
)
from viewer.qt.tasks import FrameLoader, IndexTask
from viewer.qt.thumbnails import THUMBNAIL_SIZE, Thumbnails, middle_image
from viewer.qt.tree_send import TreeSend
from viewer.qt.view_controls import ViewControls
from viewer.qt.viewport_grid import ViewportGrid
from viewer.qt.volume_view import VolumeView3D
from viewer.qt.window_host import WindowHost
from viewer.qt.window_settings import WindowSettings

if TYPE_CHECKING:  # the dialog (and the writers) load on first use
    from viewer.qt.export_dialog import ExportDialog
    from viewer.qt.import_copy import ImportAndCopy

log = logging.getLogger(__name__)

#: A valid DICOMDIR read as a plain file (not named DICOMDIR, so not used as the index) is
#: reported as skipped with this reason; it is no problem of the data (the walk covers its
#: folder). A DICOMDIR read as the index is never reported at all.
DICOMDIR_NOTE = "DICOMDIR (media index"
#: The widest list of modalities a study row shows whole ("CT, SR" and the like); longer
#: lists elide (the study's tooltip has them).
MODALITY_ROOM = "CT, SR"
#: The study tree's first column never gets narrower than this (px); a dock narrower than
#: the columns need scrolls sideways.
FIRST_COLUMN_MIN = 160
#: The note viewer.dicom.catalog.stack gives every phase of a run ("4 phases by echo").
PHASE_NOTE = re.compile(r"^\d+ phases by ")
#: Thumbnails wait for the first image after an open, this long at most (ms).
THUMBNAIL_WAIT_MS = 1000
#: ... and start this long after it was shown (its paint and the tree's layout come first).
THUMBNAIL_AFTER_FRAME_MS = 100


class MainWindow(WindowHost):
    """The viewer's one window."""

    indexing_finished = Signal()
    tree: SeriesTreeView

    def __init__(self, database: str | None = None) -> None:
        """``database``: the study database file to use (None: the user's)."""
        super().__init__()
        self.setWindowTitle("DICOM Viewer")
        self._database_path = database
        self.setAcceptDrops(True)
        self.catalog = Catalog()
        self.loader = FrameLoader()
        self.current_series: SeriesNode | None = None
        self.query_retrieve: QueryRetrieveDock | None = None
        self.listener = StorageListener(self)
        self.listener.received.connect(self.add_retrieved)
        self.listener.message.connect(self.show_message)
        self._tasks: list[IndexTask] = []
        self._import_jobs: list[ImportAndCopy] = []
        #: Every path opened (folders, files, zips, DICOMDIRs): an export never writes there.
        self.opened_paths: list[str] = []
        #: Show the most useful series once indexing has finished (off: the caller chooses).
        self.auto_select = True
        self._show_study: dict[IndexTask, str] = {}  # reopened from the database: show it
        self.viewports = ViewportGrid(self.loader, self)
        self.tree_model = StudyTreeModel(self)
        self.tree_proxy = StudyFilterProxy(self.tree_model, self)
        self.thumbnails = Thumbnails()
        self.thumbnails.bridge.ready.connect(self.tree_model.set_thumbnail)
        self._thumbnail_timer = QTimer(self)
        self._thumbnail_timer.setSingleShot(True)
        self._thumbnail_timer.setInterval(THUMBNAIL_WAIT_MS)
        self._thumbnail_timer.timeout.connect(self._request_thumbnails)
        self._thumbnail_delay = QTimer(self)
        self._thumbnail_delay.setSingleShot(True)
        self._thumbnail_delay.setInterval(THUMBNAIL_AFTER_FRAME_MS)
        self._thumbnail_delay.timeout.connect(self._request_thumbnails)
        self.tree = self._make_tree()
        self.tree_send = TreeSend(self)
        self._make_layout()
        self._make_status_bar()
        self._make_menus()
        self.view_controls = ViewControls(self, self.viewports)
        self.documents = DocumentViews(self)  # SR, KO and PDF rows of the tree (issue 17)
        self.presentation_states = PresentationStates(self, self.viewports)
        self.viewports.status.connect(self.show_message)
        self.viewports.active_changed.connect(self._mark_shown)
        self.viewports.active_shows.connect(self._mark_shown)
        self._make_problems_dock()
        self._make_database_dock()
        self.annotations_db = AnnotationPersistence(
            self, self.viewports.annotations, self.library, self
        )
        self.window_settings = WindowSettings(self, self.view_controls)
        remove_stale_folders_in_background()  # zips unpacked by viewers that died
        self._make_mpr_action()
        self._make_3d_action()
        self._make_compare_action()
        QTimer.singleShot(0, self.apply_network)

    @property
    def viewport(self) -> ImageViewport:
        """The active image viewport (series chosen in the tree show here)."""
        return self.viewports.active

    @property
    def state(self) -> ViewState:
        """The active viewport's state."""
        return self.viewports.active.state

    # --- construction ---------------------------------------------------------------------
    def _make_tree(self) -> SeriesTreeView:
        tree = SeriesTreeView()
        tree.setModel(self.tree_proxy)
        tree.setUniformRowHeights(False)  # series rows are as tall as their thumbnails
        tree.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        tree.setAlternatingRowColors(True)
        # A description too long for the column keeps its start and end ("#5 DCE…points");
        # the row's tooltip has it whole.
        tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        tree.setSortingEnabled(False)  # the proxy sorts: studies newest first, series by number
        header = tree.header()
        header.setStretchLastSection(False)
        # Sized when rows arrive and when the panel resizes (:meth:`_fit_columns`), not on
        # every count change (ResizeToContents would measure every row each time a count
        # changes while indexing).
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        tree.resized.connect(self._fit_columns)
        tree.chosen.connect(self._on_tree_chosen)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._show_tree_menu)
        return tree

    def _show_tree_menu(self, point: Any) -> None:
        menu = self.tree_menu(self.tree.indexAt(point))
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(point))

    def tree_menu(self, index: Any) -> QMenu | None:
        """The tree's context menu: on a series (or stack) row, show it or compare it with
        the prior; on any row, send the selection (:class:`TreeSend`)."""
        if not index.isValid():
            return None
        first = index.siblingAtColumn(0)
        uid = first.data(SERIES_UID_ROLE)
        menu = QMenu(self.tree)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if uid:
            stack = first.data(STACK_ROLE)
            number = int(stack) if stack is not None else SERIES_ROW
            menu.addAction("Show", lambda: self._on_tree_chosen(str(uid), number, True))
            menu.addAction("Compare with prior", lambda: self._compare_row(str(uid), number))
            menu.addSeparator()
        self.tree_send.add_actions(menu)
        return menu

    def _compare_row(self, uid: str, stack: int) -> None:
        self._on_tree_chosen(uid, stack, True)
        self.compare_with_prior()

    def _tree_panel(self) -> QWidget:
        """The filter box above the study tree."""
        self.tree_filter = QLineEdit()
        self.tree_filter.setPlaceholderText("Filter: name, ID, description…")
        self.tree_filter.setClearButtonEnabled(True)
        self.tree_filter.textChanged.connect(self._on_filter_text)
        # Only a click (or Ctrl+F) puts the cursor here: keys meant for the image (presets,
        # W/L) must never type into the filter and empty the tree.
        self.tree_filter.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.tree_filter)
        layout.addWidget(self.tree)
        return panel

    def _on_filter_text(self, text: str) -> None:
        self.tree_proxy.set_filter_text(text)
        self.tree.expandAll()

    def _make_layout(self) -> None:
        dock = QDockWidget("Studies", self)
        dock.setObjectName("studies")
        dock.setWidget(self._tree_panel())
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [470], Qt.Orientation.Horizontal)
        splitter = QSplitter()
        splitter.addWidget(self.viewports)
        self.setCentralWidget(splitter)

    def _make_problems_dock(self) -> None:
        """Skipped files and frames that failed to decode, each with its reason, by series."""
        self.problems = ProblemsDock(self)
        self.problems.label_for = self._problem_group_label
        self._series_of_path = SeriesOfPath(self.catalog)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.problems)
        self.problems.hide()
        self.loader.bridge.failed.connect(self._on_frame_failed)
        for action in self.menuBar().actions():
            menu = action.menu()
            if action.text() == "&View" and isinstance(menu, QMenu):
                menu.addAction(self.problems.toggleViewAction())

    def _make_database_dock(self) -> None:
        """The study database (issue 15): what is opened is recorded in the background; its
        browser is a tab beside the study tree; a study opens from its rows."""
        self.database_dock = DatabaseDock(self, path=self._database_path)
        self.library = self.database_dock.library
        self.database_dock.signals.problem.connect(
            lambda text: self.show_message(f"Study database unavailable ({text}); not recording")
        )
        self.database_dock.browser.open_requested.connect(self.open_study)
        studies = self.findChild(QDockWidget, "studies")
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.database_dock)
        if studies is not None:
            self.tabifyDockWidget(studies, self.database_dock)
            studies.raise_()
        for action in self.menuBar().actions():
            menu = action.menu()
            if action.text() == "&View" and isinstance(menu, QMenu):
                menu.addAction(self.database_dock.toggleViewAction())

    def _on_frame_failed(self, request: Any, reason: str) -> None:
        reason = reason.removeprefix(f"{request.path}: ")  # the dock shows the file already
        log.warning("frame %d of %s failed: %s", request.frame, shown_path(request.path), reason)
        where = f"frame {request.frame + 1}"
        self.add_problem(Problem(request.path, where, reason, self._series_of_path(request.path)))
        self.problems.show()

    def add_problem(self, problem: Problem) -> None:
        """List ``problem`` in the dock; its series' row in the tree shows the count."""
        if self.problems.add_problem(problem) and problem.series_uid != UNSORTED:
            count = self.problems.log.count(problem.series_uid)
            self.tree_model.set_problem_count(problem.series_uid, count)
            self._fit_columns()  # room for the warning sign

    def _problem_group_label(self, series_uid: str) -> str:
        series = self.catalog.series(series_uid) if series_uid else None
        return group_label(series.info if series is not None else None)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)  # the label says it; repainting text costs
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_indexing)
        self.progress_timer = QTimer(self)
        self.progress_timer.setInterval(200)
        self.progress_timer.timeout.connect(self._show_progress)
        bar.addPermanentWidget(self.progress_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Open &Folder…", self.choose_folder, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open F&iles…", self.choose_files, None)
        self._action(file_menu, "Open &DICOMDIR…", self.choose_dicomdir, None)
        self._action(file_menu, "Import and &Copy…", self.choose_import_and_copy, None)
        file_menu.addSeparator()
        self._action(file_menu, "&Export…", self.show_export_dialog, None)
        self._action(file_menu, "&Query/Retrieve…", self.show_query_retrieve, None)
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

    def show_export_dialog(self) -> ExportDialog:
        """File > Export...: what the active viewport shows (or everything opened)."""
        from viewer.qt.export_dialog import ExportDialog, Shown

        state = self.state
        series = self.catalog.series(state.series_uid) if state.series_uid else None
        stack = state.stack
        number = next((k for k, s in enumerate(self.catalog.all_stacks()) if s is stack), None)
        window = (state.voi.center, state.voi.width) if state.voi is not None else None
        dialog = ExportDialog(
            self.catalog, Shown(series, stack, number, window), self.opened_paths, self
        )
        dialog.setModal(True)
        dialog.show()
        return dialog

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

    def choose_import_and_copy(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Import and copy: a CD, USB stick or folder to copy into the viewer's store"
        )
        if folder:
            self.import_and_copy([folder])

    def import_and_copy(self, paths: Sequence[str]) -> ImportAndCopy:
        """Copy ``paths``' studies into the managed store (a worker, a progress dialog with
        Cancel); the Database tab then lists them as "copied". Sources are only read."""
        from viewer.qt.import_copy import ImportAndCopy

        job = ImportAndCopy(self.library, paths, self)
        self._import_jobs.append(job)

        def finished(text: str) -> None:
            self._import_jobs.remove(job)
            self.show_message(text)
            self.database_dock.show()
            self.database_dock.raise_()
            self.database_dock.browser.refresh()

        job.done.connect(finished)
        job.start()
        return job

    def open_paths(
        self, paths: Sequence[str], prepare: Callable[[], list[str]] | None = None
    ) -> None:
        """Index ``paths`` in the background; the tree fills as results arrive."""
        self.window_settings.remember(paths)
        self.opened_paths.extend(paths)
        self._start_task(IndexTask(paths, prepare, library=self.library))

    def open_study(self, study_uid: str) -> None:
        """Open a study from the database: its tree is built from the rows (no header is
        read) and its first displayable series shown."""
        task = IndexTask([], library=self.library, reopen=study_uid)
        self._show_study[task] = study_uid
        self._start_task(task)

    def _start_task(self, task: IndexTask) -> None:
        self.library.hold()  # recording waits: the first image first
        if task in self._show_study:  # from the rows: one batch, then finished at once
            task.bridge.batch.connect(lambda items: self._on_batch(items, fit=False))
        else:
            task.bridge.batch.connect(self._on_batch)
        task.bridge.preview.connect(self._on_preview)
        task.bridge.progress.connect(self._show_progress)
        task.bridge.message.connect(self.show_message)
        task.bridge.finished.connect(lambda cancelled: self._on_index_finished(task, cancelled))
        self._tasks.append(task)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.progress_label.setText("Indexing…")
        self.progress_timer.start()
        task.start()

    def cancel_indexing(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _on_batch(self, items: list[ScannedFile | Skipped], fit: bool = True) -> None:
        """Records into the catalog and the tree; ``fit`` False: the tree's rows are expanded
        and its columns sized later (a reopened study's one batch: after its first image is
        asked for)."""
        changes: list[Added] = []
        for item in items:
            change = self.catalog.add(item)
            if change is not None:
                changes.append(change)
            elif isinstance(item, Skipped):
                log.info("skipped %s: %s", item.path, item.reason)
                if not item.reason.startswith(DICOMDIR_NOTE):
                    self.add_problem(Problem(item.path, "indexing", item.reason))
        if self.tree_model.apply_batch(changes) and fit:
            self._show_new_rows()

    def _show_new_rows(self) -> None:
        self.tree.expandAll()
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Modality, date and count as wide as their contents (a study's list of modalities
        at most :data:`MODALITY_ROOM`), the first column the room left (at least
        :data:`FIRST_COLUMN_MIN` px): at the default dock width every column shows, long
        descriptions elide in the middle (their tooltip has them whole), and only a dock
        narrower than that scrolls sideways."""
        tree, header = self.tree, self.tree.header()
        metrics = tree.fontMetrics()
        caps = {1: metrics.horizontalAdvance(MODALITY_ROOM) + 2 * metrics.averageCharWidth()}
        for column in range(1, len(COLUMNS)):
            wanted = max(tree.sizeHintForColumn(column), header.sectionSizeHint(column))
            header.resizeSection(column, min(wanted, caps.get(column, wanted)))
        others = sum(header.sectionSize(c) for c in range(1, len(COLUMNS)))
        header.resizeSection(0, max(FIRST_COLUMN_MIN, tree.viewport().width() - others))

    def _on_preview(self, preview: DirectoryPreview) -> None:
        """A DICOMDIR's tree, shown before its files are read (then checked against them)."""
        self.tree_model.apply_preview(preview)
        self._show_new_rows()
        self.show_message(
            f"DICOMDIR lists {preview.instance_count} instance(s) in {len(preview.series)} "
            "series; reading their headers…"
        )

    def _show_progress(self, *_args: Any) -> None:
        """Files found, files indexed and the rate, over every running indexing task."""
        found = sum(task.progress.found for task in self._tasks)
        indexed = sum(task.progress.indexed for task in self._tasks)
        rate = sum(task.progress.rate for task in self._tasks)
        if not self._tasks:
            return
        self.progress.setRange(0, max(found, indexed, 1))
        self.progress.setValue(indexed)
        self.progress_label.setText(f"Found {found:,} · indexed {indexed:,} · {rate:,.0f} files/s")

    def _on_index_finished(self, task: IndexTask, cancelled: bool) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
            self.library.release()
        # A study reopened from the database reads these folders: an export never writes there.
        self.opened_paths.extend(p for p in task.sources if p not in self.opened_paths)
        study_uid = self._show_study.pop(task, "")
        if not self._tasks:
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)
            self.progress_timer.stop()
            self.tree_model.finish_previews()
        # The first image first: its frame is asked for before the tree's columns, warnings
        # and stack rows are worked out (they are done while it decodes).
        if study_uid:
            self._select_first_displayable(study_uid)
        elif self.auto_select and self.current_series is None:
            self._select_first_displayable()
        if not self._tasks:
            self._list_series_warnings()
            self._show_new_rows()
        elif study_uid:
            self._show_new_rows()  # its batch left them for now
        skipped = sum(not s.reason.startswith(DICOMDIR_NOTE) for s in self.catalog.skipped)
        summary = (
            f"{self.catalog.instance_count} instances in "
            f"{len(self.catalog.all_series())} series; {skipped} file(s) skipped"
        )
        self.progress_label.setText(("Cancelled: " if cancelled else "") + summary)
        self.statusBar().clearMessage()
        if task.failure:
            self.show_message(task.failure)
        if self.problems.total:
            self.problems.show()
        self._show_stack_rows()
        self._thumbnails_after_first_frame()
        self.indexing_finished.emit()

    def _thumbnails_after_first_frame(self) -> None:
        """Thumbnails are read and rendered in this process: they wait until the active
        viewport has shown its next frame (the first image's decode and paint come first),
        or :data:`THUMBNAIL_WAIT_MS` when no frame comes."""
        if self._thumbnail_timer.isActive():
            return
        self._thumbnail_timer.start()
        self.viewport.frame_shown.connect(
            self._thumbnail_timer_fired, Qt.ConnectionType.SingleShotConnection
        )

    def _thumbnail_timer_fired(self) -> None:
        if self._thumbnail_timer.isActive():
            self._thumbnail_timer.stop()
            self._thumbnail_delay.start()  # after its paint

    @property
    def thumbnails_settled(self) -> bool:
        """No thumbnail is waiting to be asked for or being made (screenshots wait for it)."""
        timers = (self._thumbnail_timer, self._thumbnail_delay)
        return not any(timer.isActive() for timer in timers) and not self.thumbnails.pending

    def _list_series_warnings(self) -> None:
        """Series whose files disagree on the patient: in Problems, under that series."""
        for series in self.catalog.all_series():
            for index, warning in enumerate(series.warnings):
                where = f"series header {index + 1}"
                self.add_problem(Problem(series.instances[0].path, where, warning, series.uid))

    def _request_thumbnails(self) -> None:
        """A thumbnail of each series' middle image (and of each stack of a series of
        several), made in the background."""
        for series in self.catalog.all_series():
            if not self.tree_model.has_thumbnail(series.uid):
                middle = middle_image(series.instances)
                if middle is not None:
                    self.thumbnails.request(series.uid, *middle)
            stacks = series.stacks
            for number, stack in enumerate(stacks if len(stacks) > 1 else []):
                if not self.tree_model.has_stack_thumbnail(series.uid, number):
                    self.thumbnails.request(
                        stack_key(series.uid, number), *stack.sources[stack.frames // 2]
                    )

    def _show_stack_rows(self) -> None:
        """Under each series of several stacks, one row per stack: what splits it, frames."""
        changed = False
        for series in self.catalog.all_series():
            rows = [(stack.title or stack.label, stack.frames) for stack in series.stacks]
            changed = self.tree_model.set_stacks(series.uid, rows) or changed
        if changed:
            self.tree.expandAll()

    def _select_first_displayable(self, study_uid: str = "") -> None:
        """Open on the most useful series (viewer.model.series_choice; of ``study_uid``
        when given); in a layout of several viewports, fill them in series order."""
        choice = first_to_show(self.catalog, study_uid)
        if choice is None:
            return
        series, number = choice
        self.select_series(series.uid, number)
        self.fill_empty_viewports()
        self.viewport.setFocus()  # keys go to the image, not to the tree's filter

    def fill_empty_viewports(self) -> None:
        """Empty viewports of the layout get the displayable series in series order (each
        at its largest volume), after those already shown."""
        shown = {viewport.state.series_uid for viewport in self.viewports.visible_viewports()}
        queue = [s for s in displayable_in_order(self.catalog) if s.uid not in shown]
        active = self.viewports.active
        for viewport in self.viewports.visible_viewports():
            if viewport.state.stack is not None or not queue:
                continue
            series = queue.pop(0)
            self.viewports.set_active(viewport)
            self.show_series(series.uid, best_stack(series) or 0)
        self.viewports.set_active(active)

    # --- showing -------------------------------------------------------------------------
    def select_series(self, uid: str, stack: int | None = None) -> None:
        """Show stack ``stack`` of a series (default: its largest volume) in the active
        viewport and make its row current."""
        if stack is None:
            series = self.catalog.series(uid)
            stack = (best_stack(series) or 0) if series is not None else 0
        self.show_series(uid, stack)
        item = self.tree_model.series_item(uid)
        shown = self.tree_proxy.mapFromSource(item.index()) if item is not None else None
        if shown is not None and shown.isValid():
            self.tree.set_current_quietly(shown)

    def _on_tree_chosen(self, uid: str, stack: int, by_mouse: bool) -> None:
        """A row clicked (on release), entered or reached by keys: show it in the active
        viewport; after a click the image takes the keys."""
        if self.documents.open_series(uid, by_mouse) or self.presentation_states.open_series(uid):
            return  # a report, key images, a PDF or a presentation state
        if stack == SERIES_ROW:
            series = self.catalog.series(uid)
            stack = (best_stack(series) or 0) if series is not None else 0
        if self.show_series(uid, stack) and by_mouse:
            self.viewport.setFocus()

    def show_series(self, uid: str, stack: int = 0, index: int | None = None) -> bool:
        """Show stack ``stack`` of the series ``uid`` in the active viewport (slice ``index``,
        else the middle one); False when there is nothing to show."""
        series = self.catalog.series(uid)
        if series is None:
            return False
        stacks = series.stacks
        if not stacks:
            self.show_message(f"Series {series.info.description!r} has no displayable images")
            return False
        stack = min(max(stack, 0), len(stacks) - 1)
        self.current_series = series
        self.viewport.patient_text = self._overlay_text(series)
        info = series.info
        patient = self._patient_key(uid)
        self.state.set_series(
            stacks, stack, index, info.frame_of_reference_uid, info.modality, uid, patient
        )
        shown = stacks[stack]
        # How the series splits into phases is no warning: the tree and the phase bar say it.
        warnings = [w for w in shown.warnings if not PHASE_NOTE.search(w)]
        for warning in warnings:
            log.warning("series %s: %s", uid, warning)
        if warnings:
            self.show_message("Warning: " + "; ".join(warnings))
        return True

    def _patient_key(self, series_uid: str) -> str:
        for patient in self.catalog.patients.values():
            if any(series_uid in study.series for study in patient.studies.values()):
                return patient.info.key
        return ""

    def _mark_shown(self, *_args: Any) -> None:
        """Bold the tree rows of the series (and stack) the active viewport shows; Problems'
        "Selected series only" follows it."""
        state = self.state
        several = len(state.stacks) > 1
        self.tree_model.mark_shown(state.series_uid, state.stack_number if several else None)
        if state.series_uid:
            self.problems.select_series(state.series_uid)

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
                        "date": study_date(study.info),
                        "series": f"Se: {info.number if info.number is not None else '-'} "
                        f"{info.modality} {info.description}",
                    }
        return {}

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # --- prior comparison -------------------------------------------------------------------
    def _make_compare_action(self) -> None:
        """View > Compare with prior (and the tree's context menu on a series)."""
        self.compare_action = QAction("Compare with &prior", self)
        self.compare_action.setToolTip(
            "The same patient's previous study beside this one, scrolling together"
        )
        self.compare_action.triggered.connect(self.compare_with_prior)
        for action in self.menuBar().actions():
            menu = action.menu()
            if action.text() == "&View" and isinstance(menu, QMenu):
                menu.insertAction(self.view_controls.sync_action, self.compare_action)

    def compare_with_prior(self) -> bool:
        """The active viewport's series on the left and the same patient's previous study's
        series of the same modality and plane on the right (1x2), at the same relative slice,
        scrolling together (by position with an offset when they share no Frame of
        Reference); False (with a message) when there is none."""
        state = self.state
        if not state.series_uid:
            self.show_message("Compare with prior: show a series first")
            return False
        choice = prior_to_compare(self.catalog, state.series_uid, state.stack_number)
        if choice is None:
            self.show_message("Compare with prior: no other study of this patient has a series "
                              "of the same modality and plane")  # fmt: skip
            return False
        prior, number = choice
        grid, current = self.viewports, self.viewport
        sync = self.view_controls.sync_action
        sync.setChecked(False)  # on again below: the offset is what is shown then
        self.view_controls.set_layout("1x2")
        grid.put_first(current)
        left, right = grid.visible_viewports()
        fraction = state.index / max(state.frame_count - 1, 1)
        grid.set_active(right)
        frames = prior.stacks[number].frames
        self.show_series(prior.uid, number, round(fraction * (frames - 1)))
        grid.set_active(left)
        sync.setChecked(True)
        left.setFocus()
        study = self._overlay_text(prior).get("date", "")
        how = link_sentence(grid.links.link(left.state, right.state))
        what = prior.info.description or "the prior"
        self.show_message(f"Comparing with {what} of {study}" + (f": {how}" if how else ""))
        return True

    # --- MPR ------------------------------------------------------------------------------
    def _make_mpr_action(self) -> None:
        """The MPR toggle (toolbar button and key M): three linked views of the shown stack."""
        self.mpr_view: MprView | None = None
        self.mpr_action = QAction("MPR", self)
        self.mpr_action.setCheckable(True)
        self.mpr_action.setShortcut(QKeySequence("M"))
        self.mpr_action.setToolTip("MPR: axial, coronal and sagittal views of the volume (M)")
        self.mpr_action.toggled.connect(self.set_mpr)
        self.addAction(self.mpr_action)  # the key works wherever the focus is
        self.view_controls.toolbar.addAction(self.mpr_action)
        self.window_settings.apply_keys()  # the user's MPR key (Preferences > Keys)
        self.view_controls.refresh_icons()
        self.viewports.active_shows.connect(self._mpr_follow_series)

    def set_mpr(self, on: bool) -> None:
        """Show the active viewport's stack as MPR (on), or the viewports again (off)."""
        self._close_mpr()
        if not on:
            return
        self.vr_action.setChecked(False)
        stack = self._volume_stack("MPR", self.mpr_action)
        if stack is None:
            return
        view = MprView(stack, self.state.voi, self.state.modality, self)
        view.patient_text = dict(self.viewport.patient_text)
        view.interaction = self.viewports.interaction
        view.preset_store = self.window_settings.settings
        view.status.connect(self.show_message)
        view.voi_changed.connect(self.state.set_voi)
        view.measure.set_tool(self.viewports.active_tool)
        self.mpr_view = view
        self._put_up(view)

    def open_mpr_on_first_volume(self, keep_shown: bool = False) -> MprView | None:
        """Show the first series that is a volume as MPR (``screenshot --layout mpr``);
        ``keep_shown``: the stack shown now (``--series``/``--stack``) instead."""
        if keep_shown or self._select_first_volume():
            self.mpr_action.setChecked(True)
        return self.mpr_view

    def _mpr_follow_series(self, *_args: Any) -> None:
        """MPR shows the stack (the phase) the active viewport shows."""
        if self.mpr_view is not None and self.state.stack is not self.mpr_view.stack:
            self.set_mpr(True)

    def _close_mpr(self) -> None:
        view, self.mpr_view = self.mpr_view, None
        self._take_down(view)

    # --- the layouts that replace the viewports (MPR, 3D) ---------------------------------
    def _volume_stack(self, what: str, action: QAction) -> Stack | None:
        """The shown stack if it is a volume; else a message and ``action`` unchecked."""
        stack = self.state.stack
        if stack is None or not stack.has_volume_geometry:
            self.show_message(f"{what} needs a series of positioned slices (a volume)")
            action.setChecked(False)
            return None
        return stack

    def _select_first_volume(self) -> bool:
        """Select the first series that is a volume (the screenshot layouts); False: none."""
        for series in self.catalog.all_series():
            stacks = [stack for stack in series.stacks if stack.frames]
            if stacks and stacks[0].has_volume_geometry:
                self.select_series(series.uid)
                return True
        return False

    def _put_up(self, view: MprView | VolumeView3D) -> None:
        splitter = self.centralWidget()
        assert isinstance(splitter, QSplitter)
        splitter.addWidget(view)
        self.viewports.hide()
        view.start()
        view.setFocus()

    def _take_down(self, view: MprView | VolumeView3D | None) -> None:
        if view is not None:
            view.shutdown()
            view.hide()
            view.setParent(None)
            view.deleteLater()
        self.viewports.show()
        if view is not None:
            self.viewport.setFocus()  # the keys work on the viewports again

    # --- 3D -------------------------------------------------------------------------------
    def _make_3d_action(self) -> None:
        """The 3D toggle (toolbar button and key D): volume rendering of the shown stack."""
        self.vr_view: VolumeView3D | None = None
        self.vr_action = QAction("3D", self)
        self.vr_action.setCheckable(True)
        self.vr_action.setShortcut(QKeySequence("D"))
        self.vr_action.setToolTip("3D: volume rendering and MIP of the volume (D)")
        self.vr_action.toggled.connect(self.set_3d)
        self.addAction(self.vr_action)
        self.view_controls.toolbar.addAction(self.vr_action)
        self.tree.selectionModel().currentChanged.connect(self._3d_follow_series)

    def set_3d(self, on: bool) -> None:
        """Show the active viewport's stack in 3D (on), or the viewports again (off)."""
        self._close_3d()
        if not on:
            return
        self.mpr_action.setChecked(False)
        stack = self._volume_stack("3D", self.vr_action)
        if stack is None:
            return
        store = self.window_settings.settings
        view = VolumeView3D(stack, self.state.voi, self.state.modality, self, store=store)
        view.status.connect(self.show_message)
        self.vr_view = view
        self._put_up(view)

    def open_3d_on_first_volume(self, keep_shown: bool = False) -> VolumeView3D | None:
        """Show the first series that is a volume in 3D (``screenshot --layout 3d``);
        ``keep_shown``: the stack shown now (``--series``/``--stack``) instead."""
        if keep_shown or self._select_first_volume():
            self.vr_action.setChecked(True)
        return self.vr_view

    def _3d_follow_series(self, *_args: Any) -> None:
        if self.vr_view is not None and self.state.stack is not self.vr_view.stack:
            self.set_3d(True)

    def _close_3d(self) -> None:
        view, self.vr_view = self.vr_view, None
        self._take_down(view)

    # --- drag and drop, keys, close ----------------------------------------------------------
    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    # --- PACS -----------------------------------------------------------------------------
    def show_query_retrieve(self) -> QueryRetrieveDock:
        """The Query/Retrieve dock (made on first use), shown and raised."""
        if self.query_retrieve is None:
            self.query_retrieve = QueryRetrieveDock(
                self,
                listener=self.listener,
                to_send=self.shown_study_files,
                to_send_objects=self.measurement_objects,
            )
            self.query_retrieve.retrieved.connect(self.add_retrieved)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.query_retrieve)
            self.resizeDocks([self.query_retrieve], [520], Qt.Orientation.Horizontal)
        else:
            self.query_retrieve.reload_nodes()
        self.query_retrieve.show()
        self.query_retrieve.raise_()
        return self.query_retrieve

    def apply_network(self) -> None:
        """Start, restart or stop the storage SCP as Preferences > Network says (at start
        and after the nodes are saved); the dock reloads its nodes."""
        from viewer.net.errors import NetError
        from viewer.net.nodes import load_nodes

        local = load_nodes().local
        if self.query_retrieve is not None:
            self.query_retrieve.reload_nodes()
        if not local.listen:
            if self.listener.running:
                self.listener.stop()
                self.show_message("Stopped listening for C-STORE")
            return
        if self.listener.running and self.listener.local == local:
            return
        try:
            self.listener.start(local)
        except NetError as error:
            log.warning("storage SCP: %s", error)
            self.show_message(str(error))

    def measurement_objects(self) -> tuple[str, Callable[[str], list[str]]] | None:
        """What "Send measurements" sends: a label and a writer of the session's SR, GSPS
        and KO objects into a folder (run in the send's worker thread); None if none."""
        from viewer.model.annotations.export import write_study_objects

        store = self.viewports.annotations
        annotations = [a for a in store if a.visible]
        keys = list(store.key_images.values())
        if not annotations and not keys:
            return None
        voi = self.state.voi
        window = ((voi.lower + voi.upper) / 2, voi.upper - voi.lower) if voi else None
        return "measurements (SR, GSPS, KO)", lambda folder: write_study_objects(
            annotations, keys, folder, window
        )

    def shown_study_files(self) -> tuple[str, list[str]]:
        """The study of the series shown (its description) and its files, for Send."""
        uid = self.state.series_uid
        for patient in self.catalog.patients.values():
            for study in patient.studies.values():
                if uid in study.series:
                    paths = [
                        instance.path
                        for series in study.sorted_series()
                        for instance in series.instances
                    ]
                    label = study.info.description or study.info.uid
                    return label, list(dict.fromkeys(paths))
        return "", []

    def add_retrieved(self, items: list[ScannedFile]) -> None:
        """Instances a retrieve just landed: into the tree, and onto the screen while the
        retrieve runs: the first series to arrive is shown when nothing is, and the series
        shown grows as its slices come (window, slice position and zoom kept)."""
        self._on_batch(list(items))
        touched = list(dict.fromkeys(item.series.uid for item in items))
        shown = self.state.series_uid
        if shown in touched:
            series = self.catalog.series(shown)
            if series is not None and series.stacks:
                self.state.refresh_series(series.stacks, best_stack(series))
        elif self.current_series is None and touched:
            series = self.catalog.series(touched[0])
            if series is not None:
                self.show_series(series.uid, best_stack(series) or 0)
        self._request_thumbnails()

    def shutdown(self) -> None:
        """Stop workers (call before the window goes away)."""
        if self.query_retrieve is not None:
            self.query_retrieve.shutdown()
        self.listener.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            task.wait(5)
        for job in list(self._import_jobs):  # a copy in flight stops between files
            job.cancel()
            job.wait(5)
        if self.mpr_view is not None:
            self.mpr_view.shutdown()
        if self.vr_view is not None:
            self.vr_view.shutdown()
        self.view_controls.shutdown()
        self.documents.shutdown()
        self.presentation_states.shutdown()
        self.thumbnails.shutdown()
        self.loader.shutdown()
        self.annotations_db.shutdown()  # before the database closes
        self.database_dock.shutdown()

    def closeEvent(self, event: Any) -> None:
        self.window_settings.save_layout()
        self.shutdown()
        super().closeEvent(event)
