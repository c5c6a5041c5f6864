"""The measurement tools on the toolbar and keys, and the Measurements panel.

Each tool is a checkable QAction made from :data:`viewer.qt.help_keys.KEY_BINDINGS` (group
"Measure", so its keys are remappable and on the help page); choosing one gives the left
button to it in every viewport (:meth:`ViewportGrid.set_active_tool`), Esc gives the left
button back to the user's mouse mapping. The panel lists every measurement of the session
(label, value, series, slice), a check box shows or hides each, a double click shows its
image. The annotations themselves live in the grid's
:class:`~viewer.model.annotations.store.AnnotationStore`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
)

from viewer.dicom import reasons
from viewer.model.annotations.export import ExportRefused, write_study_objects
from viewer.model.annotations.shapes import Annotation
from viewer.model.annotations.store import AnnotationStore
from viewer.model.tools import draw, edit
from viewer.qt.latest_call import LatestCall
from viewer.qt.viewport_grid import ViewportGrid
from viewer.qt.window_host import WindowHost

#: Command -> (tool name, icon) of the toolbar's measurement tools, in toolbar order.
TOOL_COMMANDS: dict[str, tuple[str, str]] = {
    "tool_default": ("", "window-level"),
    "tool_edit": (edit.NAME, "measure-pointer"),
    "tool_length": (draw.LENGTH, "measure-length"),
    "tool_angle": (draw.ANGLE, "measure-angle"),
    "tool_ellipse": (draw.ELLIPSE, "measure-ellipse"),
    "tool_rectangle": (draw.RECTANGLE, "measure-rectangle"),
    "tool_probe": (draw.PROBE, "measure-probe"),
    "tool_arrow": (draw.ARROW, "measure-arrow"),
    "tool_text": (draw.TEXT, "measure-text"),
    "tool_cobb": (draw.COBB, "measure-cobb"),
    "tool_bidirectional": (draw.BIDIRECTIONAL, "measure-bidirectional"),
    "tool_polygon": (draw.POLYGON, "measure-polygon"),
    "tool_freehand": (draw.FREEHAND, "measure-freehand"),
}
#: Screen pixels the Measurements panel opens with (a value's lines and the slice fit).
PANEL_WIDTH = 420
KIND_NAMES = {
    "length": "Length",
    "angle": "Angle",
    "ellipse": "Ellipse",
    "rectangle": "Rectangle",
    "polygon": "Polygon",
    "freehand": "Freehand",
    "cobb": "Cobb angle",
    "bidirectional": "Bidirectional",
    "point": "Probe",
    "arrow": "Arrow",
    "text": "Text",
}


class MeasureControls(QObject):
    """The measurement actions' handlers, their toolbar and the Measurements panel."""

    def __init__(self, window: WindowHost, grid: ViewportGrid) -> None:
        super().__init__(window)
        self.window = window
        self.grid = grid
        self.toolbar: QToolBar | None = None
        self.panel: QDockWidget | None = None
        self.table: QTableWidget | None = None
        self._rows: list[str] = []  # annotation id per table row
        self._widened = False
        self._tool_actions: dict[str, QAction] = {}
        self._writer = LatestCall(self)
        self._writer.result.connect(self._on_written)
        #: The files the last save wrote (tests read them).
        self.last_written: list[str] = []

    def handlers(self) -> dict[str, Callable[[], object]]:
        handlers: dict[str, Callable[[], object]] = {
            command: self._chooser(name) for command, (name, _icon) in TOOL_COMMANDS.items()
        }
        handlers.update(
            {
                "delete_annotation": self.delete_selected,
                "undo": lambda: self._store().undo(),
                "redo": lambda: self._store().redo(),
                "copy_measurement": self.copy_selected,
                "toggle_annotations": self.toggle_visible,
                "measurements_panel": self.toggle_panel,
                "key_image": self.grid.on_active("toggle_key_image"),
            }
        )
        return handlers

    def build(
        self, actions: dict[str, QAction], add: Callable[[QToolBar, QAction, str], None]
    ) -> None:
        """The toolbar (tools exclusive and checkable) and the panel, once actions exist."""
        bar = QToolBar("Measure", self.window)
        bar.setObjectName("measure-toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        group = QActionGroup(self)
        group.setExclusive(True)
        for command, (name, icon) in TOOL_COMMANDS.items():
            action = actions[command]
            action.setCheckable(True)
            action.setChecked(name == self.grid.active_tool)
            group.addAction(action)
            add(bar, action, icon)
            self._tool_actions[name] = action
        self.window.addToolBar(Qt.ToolBarArea.LeftToolBarArea, bar)
        self.toolbar = bar
        self._make_panel()
        self._make_menu(actions)
        self.grid.annotations.changed.connect(lambda _ids: self.refresh_panel())

    # --- commands ---------------------------------------------------------------------------
    def _chooser(self, name: str) -> Callable[[], None]:
        return lambda: self.choose(name)

    def _mpr(self) -> Any:
        """The MPR view when it is up (its planes have their own annotations), else None."""
        mpr = getattr(self.window, "mpr_view", None)
        return mpr if mpr is not None and mpr.isVisible() else None

    def _store(self) -> AnnotationStore:
        mpr = self._mpr()
        return mpr.measure.store if mpr is not None else self.grid.annotations

    def delete_selected(self) -> None:
        mpr = self._mpr()
        if mpr is None:
            self.grid.active.delete_selected()
        elif mpr.measure.delete_selected():
            self.window.show_message("Annotation deleted (Ctrl+Z undoes)")

    def choose(self, name: str) -> None:
        self.grid.set_active_tool(name)
        mpr = getattr(self.window, "mpr_view", None)
        if mpr is not None:
            mpr.measure.set_tool(name)
        action = self._tool_actions.get(name)
        if action is not None and not action.isChecked():
            action.setChecked(True)
        spec_text = next(
            (a.text() for n, a in self._tool_actions.items() if n == name), "Window/level"
        )
        self.window.show_message(f"Left button: {spec_text.replace('&', '')}")

    def copy_selected(self) -> None:
        """The selected measurement's label, as text on the clipboard."""
        viewport = self.grid.active
        annotation = self.grid.annotations.get(self.grid.annotations.selected)
        if annotation is None:
            self.window.show_message("Select a measurement first (click it)")
            return
        text = "\n".join(viewport.measurement(annotation).lines) or annotation.text
        QGuiApplication.clipboard().setText(text)
        self.window.show_message(f"Copied: {text.splitlines()[0] if text else ''}")

    def toggle_visible(self) -> None:
        """Hide or show every annotation of the frames shown."""
        self.grid.set_annotations_visible(not self.grid.annotations_visible)

    def shutdown(self) -> None:
        self._writer.shutdown()

    def toggle_panel(self) -> None:
        if self.panel is not None:
            self.panel.setVisible(not self.panel.isVisible())

    # --- DICOM objects --------------------------------------------------------------------
    def _make_menu(self, actions: dict[str, QAction]) -> None:
        bar = self.window.menuBar()
        menu = QMenu("&Measure", bar)
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, menu)  # Help stays last
        else:
            bar.addMenu(menu)
        commands = (
            *TOOL_COMMANDS,
            "-",
            "delete_annotation",
            "undo",
            "redo",
            "copy_measurement",
            "toggle_annotations",
            "key_image",
            "-",
        )
        for command in commands:
            if command == "-":
                menu.addSeparator()
            else:
                menu.addAction(actions[command])
        self.save_action = menu.addAction("Save measurements as DICOM (SR, GSPS, KO)…")
        self.save_action.triggered.connect(lambda _checked=False: self.save_dicom())
        menu.addAction(actions["measurements_panel"])
        self.menu = menu

    def save_dicom(self, folder: str | None = None) -> None:
        """Write the session's measurements (TID 1500 SR), annotations and window (GSPS) and
        key images (KO) into a folder, in a worker thread (headers and pixels are read)."""
        store = self.grid.annotations
        annotations = [a for a in store if a.visible]
        keys = list(store.key_images.values())
        if not annotations and not keys:
            self.window.show_message("Nothing to save: draw a measurement or flag a key image")
            return
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.window, "Save measurements as DICOM")
            if not folder:
                return
        voi = self.grid.active.state.voi
        window = ((voi.lower + voi.upper) / 2, voi.upper - voi.lower) if voi else None
        self.window.show_message("Saving measurements as DICOM…")
        self._writer.submit(write_study_objects, annotations, keys, folder, window)

    def _on_written(self, result: object) -> None:
        if isinstance(result, ExportRefused):
            self.window.show_message(str(result))
        elif isinstance(result, Exception):
            self.window.show_message(f"Could not save: {reasons.explain(result)}")
        elif isinstance(result, list):
            self.last_written = [str(p) for p in result]
            folder = Path(result[0]).parent if result else ""
            self.window.show_message(f"{len(result)} DICOM object(s) written to {folder}")

    # --- the panel --------------------------------------------------------------------------
    def _make_panel(self) -> None:
        dock = QDockWidget("Measurements", self.window)
        dock.setObjectName("measurements-dock")
        table = QTableWidget(0, 4, dock)
        table.setHorizontalHeaderLabels(["Measurement", "Value", "Slice", "Series"])
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setWordWrap(True)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        for column in (0, 1, 2):  # the whole value, one line of the label per line
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.cellDoubleClicked.connect(lambda row, _column: self.jump_to(row))
        table.itemChanged.connect(self._on_item_changed)
        dock.setWidget(table)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        dock.visibilityChanged.connect(self._widen_panel)
        self.panel, self.table = dock, table

    def _widen_panel(self, visible: bool) -> None:
        """Wide enough for whole values and the slice, once, when first shown."""
        if not visible or self._widened or self.panel is None or self.panel.isFloating():
            return
        self._widened = True
        self.window.resizeDocks([self.panel], [PANEL_WIDTH], Qt.Orientation.Horizontal)

    def refresh_panel(self) -> None:
        table = self.table
        if table is None:
            return
        table.blockSignals(True)
        items = list(self.grid.annotations)
        table.setRowCount(len(items))
        self._rows = [a.id for a in items]
        for row, annotation in enumerate(items):
            first = QTableWidgetItem(KIND_NAMES.get(annotation.kind, annotation.kind))
            first.setFlags(first.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = Qt.CheckState.Checked if annotation.visible else Qt.CheckState.Unchecked
            first.setCheckState(checked)
            table.setItem(row, 0, first)
            value = QTableWidgetItem(self._value_text(annotation))
            value.setToolTip(value.text())
            table.setItem(row, 1, value)
            slice_number = self._slice_index(annotation)
            table.setItem(
                row, 2, QTableWidgetItem(str(slice_number + 1) if slice_number >= 0 else "")
            )
            series = QTableWidgetItem(self._series_text(annotation))
            series.setToolTip(series.text())
            table.setItem(row, 3, series)
        table.blockSignals(False)

    def _value_text(self, annotation: Annotation) -> str:
        if annotation.kind in ("text", "arrow"):
            return annotation.text
        lines = self.grid.annotations.labels.get(annotation.id, ())
        return "\n".join(lines)

    def _series_text(self, annotation: Annotation) -> str:
        series = self.window.catalog.series(annotation.image.series_uid)
        if series is None:
            return ""
        info = series.info
        number = info.number if info.number is not None else "-"
        return f"{number} {info.modality} {info.description}".strip()

    def _slice_index(self, annotation: Annotation) -> int:
        series = self.window.catalog.series(annotation.image.series_uid)
        if series is None:
            return -1
        for stack in series.stacks:
            if annotation.image.key in stack.sources:
                return stack.sources.index(annotation.image.key)
        return -1

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or item.row() >= len(self._rows):
            return
        visible = item.checkState() == Qt.CheckState.Checked
        self.grid.annotations.set_visible(self._rows[item.row()], visible)

    def jump_to(self, row: int) -> None:
        """Show the image of the measurement in ``row`` in the active viewport, selected."""
        if not 0 <= row < len(self._rows):
            return
        annotation = self.grid.annotations.get(self._rows[row])
        if annotation is None:
            return
        viewport = self.grid.active
        if viewport.state.series_uid != annotation.image.series_uid:
            self.window.show_series(annotation.image.series_uid)
        stack = viewport.state.stack
        if stack is None or annotation.image.key not in stack.sources:
            series = self.window.catalog.series(annotation.image.series_uid)
            stack = next(
                (s for s in (series.stacks if series else []) if annotation.image.key in s.sources),
                None,
            )
            if stack is None:
                self.window.show_message("That measurement's image is not open")
                return
            state = viewport.state
            state.set_stack(
                stack,
                None,
                state.frame_of_reference,
                state.modality,
                state.series_uid,
                state.patient,
            )
        viewport.state.set_index(stack.sources.index(annotation.image.key))
        self.grid.annotations.selected = annotation.id
        viewport.refresh_annotations()
