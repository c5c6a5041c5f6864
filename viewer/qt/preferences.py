"""The Preferences dialog: theme and rendering, mouse buttons and W/L drag, window presets,
memory budget, keys, network nodes.

The dialog edits a :class:`PreferenceValues` copy and writes it to :class:`ViewerSettings` only
on OK (an invalid preset row, or a key given to two commands, keeps the dialog open and says
which). "Restore Defaults" fills every tab with the defaults, "Restore default keys" only the
Keys tab; nothing is saved until OK. The Network tab (:mod:`viewer.qt.network_prefs`) edits
``nodes.json`` (not settings.ini: the headless verbs read it without Qt), written on OK too;
Restore Defaults leaves the nodes alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom.limits import MEMORY_BUDGET_FRACTION
from viewer.dicom.pixels.frame_cache import FRAME_CACHE_SHARE
from viewer.model.interaction import (
    DEFAULT_MOUSE_MAPPING,
    DEFAULT_ZOOM_SPEED,
    MOUSE_BUTTONS,
    WL_SENSITIVITY_RANGE,
    ZOOM_SPEED_RANGE,
    WindowLevelDrag,
)
from viewer.model.presets import DEFAULT_PRESETS, Preset
from viewer.model.tools.registry import mouse_tools
from viewer.net.nodes import load_nodes, save_nodes
from viewer.qt.gpu import DEFAULT_RENDERING, RENDERING_MODES, current_rendering
from viewer.qt.help_keys import (
    MAX_KEYS_PER_COMMAND,
    REMAPPABLE_BINDINGS,
    Shortcuts,
    default_shortcuts,
    key_text,
    normal_key,
    preset_key_text,
    shortcut_conflicts,
)
from viewer.qt.network_prefs import NetworkPage
from viewer.qt.settings import (
    ViewerSettings,
    default_memory_budget_mb,
    memory_budget_range_mb,
    physical_memory_mb,
)
from viewer.qt.theme import DEFAULT_THEME, THEMES

PRESET_COLUMNS = ("Modality", "Name", "Width", "Level")
KEY_COLUMNS = ("Command", "Default", "Key", "Second key")
ERROR_STYLE = "color: #ff6b6b;"
KEY_COLUMN_WIDTH = 130
CONFLICT_STYLE = "QLineEdit { border: 2px solid #ff6b6b; color: #ff6b6b; }"  # its inner field


@dataclass(frozen=True)
class PreferenceValues:
    """Everything the dialog edits."""

    theme: str = DEFAULT_THEME
    mouse: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MOUSE_MAPPING))
    wl_drag: WindowLevelDrag = field(default_factory=WindowLevelDrag)
    presets: Mapping[str, tuple[Preset, ...]] = field(
        default_factory=lambda: {m: tuple(p) for m, p in DEFAULT_PRESETS.items()}
    )
    memory_mb: int = field(default_factory=default_memory_budget_mb)
    shortcuts: Shortcuts = field(default_factory=default_shortcuts)
    rendering: str = DEFAULT_RENDERING
    zoom_speed: float = DEFAULT_ZOOM_SPEED

    @classmethod
    def read(cls, settings: ViewerSettings) -> PreferenceValues:
        return cls(
            settings.theme(),
            settings.mouse_mapping(),
            settings.window_level_drag(),
            settings.presets(),
            settings.memory_budget_mb(),
            settings.shortcuts(),
            settings.rendering(),
            settings.zoom_speed(),
        )

    def write(self, settings: ViewerSettings) -> None:
        settings.set_theme(self.theme)
        settings.set_mouse_mapping(self.mouse)
        settings.set_window_level_drag(self.wl_drag)
        settings.set_presets(self.presets)
        settings.set_memory_budget_mb(self.memory_mb)
        settings.set_shortcuts(self.shortcuts)
        settings.set_rendering(self.rendering)
        settings.set_zoom_speed(self.zoom_speed)
        settings.sync()


class PreferencesDialog(QDialog):
    """Edit :class:`ViewerSettings`; OK writes them (and ViewerSettings.changed fires)."""

    #: OK wrote nodes.json (the window restarts its storage SCP, the dock reloads nodes).
    nodes_saved = Signal()

    def __init__(
        self,
        settings: ViewerSettings,
        parent: QWidget | None = None,
        fixed_keys: Mapping[str, str] | None = None,
    ) -> None:
        """``fixed_keys``: the window's keys Preferences cannot change (key -> what it does),
        which no command may be given."""
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.fixed_keys = dict(fixed_keys or {})
        self.tabs = tabs = QTabWidget()
        tabs.addTab(self._make_general_tab(), "General")
        tabs.addTab(self._make_mouse_tab(), "Mouse")
        tabs.addTab(self._make_presets_tab(), "Window presets")
        self.keys_tab = self._make_keys_tab()
        tabs.addTab(self.keys_tab, "Keys")
        tabs.addTab(self._make_memory_tab(), "Memory")
        self.network_page = NetworkPage()
        self.network_page.show_book(load_nodes())
        tabs.addTab(self.network_page, "Network")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self.show_values(PreferenceValues()))
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(760, 580)
        self.show_values(PreferenceValues.read(settings))

    # --- tabs -------------------------------------------------------------------------------
    def _make_general_tab(self) -> QWidget:
        self.theme_box = QComboBox()
        for name in THEMES:
            self.theme_box.addItem(
                name.capitalize() + (" (reading room)" if name == "dark" else ""), name
            )
        clear_recent = QPushButton("Clear the recent list")
        clear_recent.clicked.connect(self.settings.clear_recent_paths)
        location = QLabel(f"Settings are kept in {self.settings.path}")
        location.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Theme:", self.theme_box)
        self._add_rendering_rows(form)
        form.addRow("Recently opened:", clear_recent)
        form.addRow(location)
        return _page(form)

    def _add_rendering_rows(self, form: QFormLayout) -> None:
        self.rendering_box = QComboBox()
        for mode, text in RENDERING_MODES.items():
            self.rendering_box.addItem(text, mode)
        self.rendering_box.setToolTip(
            "Automatic draws through OpenGL where a hardware GPU is present, else in software"
        )
        self.rendering_in_use = QLabel(f"In use: {current_rendering().text}")
        self.rendering_in_use.setWordWrap(True)
        form.addRow("Rendering:", self.rendering_box)
        form.addRow("", self.rendering_in_use)

    def _make_mouse_tab(self) -> QWidget:
        form = QFormLayout()
        self.button_boxes: dict[str, QComboBox] = {}
        for button in MOUSE_BUTTONS:
            box = QComboBox()
            for action, text in mouse_tools().items():
                box.addItem(text, action)
            self.button_boxes[button] = box
            form.addRow(f"{button.capitalize()} button drag:", box)
        low, high = WL_SENSITIVITY_RANGE
        self.sensitivity = QDoubleSpinBox()
        self.sensitivity.setRange(low, high)
        self.sensitivity.setSingleStep(0.1)
        self.sensitivity.setDecimals(2)
        self.sensitivity.setSuffix(" ×")
        self.sensitivity.setToolTip("A factor on the window/level drag speed (1 = default)")
        self.invert_horizontal = QCheckBox("Dragging right narrows the window (default: widens)")
        self.invert_vertical = QCheckBox("Dragging down raises the level (default: lowers it)")
        form.addRow("Window/level speed:", self.sensitivity)
        form.addRow(self.invert_horizontal)
        form.addRow(self.invert_vertical)
        low, high = ZOOM_SPEED_RANGE
        self.zoom_speed = QDoubleSpinBox()
        self.zoom_speed.setRange(low, high)
        self.zoom_speed.setSingleStep(0.25)
        self.zoom_speed.setDecimals(2)
        self.zoom_speed.setSuffix(" ×")
        self.zoom_speed.setToolTip("A factor on the zoom drag speed (1 = 2x per 200 pixels)")
        form.addRow("Zoom drag speed:", self.zoom_speed)
        note = QLabel(
            "Applies to every viewport as soon as you press OK. Ctrl + left drag always sets "
            "the window from a rectangle; the wheel always scrolls slices."
        )
        note.setWordWrap(True)
        form.addRow(note)
        return _page(form)

    def _make_presets_tab(self) -> QWidget:
        self.preset_table = QTableWidget(0, len(PRESET_COLUMNS))
        self.preset_table.setHorizontalHeaderLabels(list(PRESET_COLUMNS))
        self.preset_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.preset_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preset_table.verticalHeader().setVisible(False)
        add = QPushButton("Add")
        add.clicked.connect(lambda: self._add_preset_row(Preset("New preset", 400, 40), "CT"))
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_selected_presets)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        note = QLabel("Width/level in modality units (HU for CT). Keys 3–9 pick them in order.")
        note.setWordWrap(True)
        layout = QVBoxLayout()
        layout.addWidget(note)
        layout.addWidget(self.preset_table)
        layout.addLayout(row)
        return _page(layout)

    def _make_keys_tab(self) -> QWidget:
        self.key_table = QTableWidget(0, len(KEY_COLUMNS))
        self.key_table.setHorizontalHeaderLabels(list(KEY_COLUMNS))
        header = self.key_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for column in range(2, len(KEY_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, KEY_COLUMN_WIDTH)
        self.key_table.verticalHeader().setVisible(False)
        self.key_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.key_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.key_edits: dict[str, tuple[QKeySequenceEdit, ...]] = {}
        self._fill_key_table()
        restore = QPushButton("Restore default keys")
        restore.clicked.connect(lambda: self.show_shortcuts(default_shortcuts()))
        self.key_conflict_label = QLabel()
        self.key_conflict_label.setWordWrap(True)
        self.key_conflict_label.setStyleSheet(ERROR_STYLE)
        note = QLabel(
            "Click a key field and press the new key (✕ clears it). A key can do one thing "
            "only. The MPR view's own keys are fixed (Help > Keyboard and mouse)."
        )
        note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(restore)
        row.addStretch(1)
        layout = QVBoxLayout()
        layout.addWidget(note)
        layout.addWidget(self.key_table)
        layout.addWidget(self.key_conflict_label)
        layout.addLayout(row)
        return _page(layout)

    def _fill_key_table(self) -> None:
        presets = self.settings.presets()
        group = ""
        for item in REMAPPABLE_BINDINGS:
            if item.group != group:
                group = item.group
                self._add_key_group_row(group)
            text = item.text
            if item.command.startswith("preset_"):
                text = preset_key_text(int(item.command.removeprefix("preset_")), presets)
            row = self.key_table.rowCount()
            self.key_table.insertRow(row)
            self.key_table.setItem(row, 0, QTableWidgetItem(text))
            self.key_table.setItem(row, 1, QTableWidgetItem(key_text(item.keys)))
            edits = tuple(self._key_edit() for _ in range(MAX_KEYS_PER_COMMAND))
            for column, edit in enumerate(edits, start=2):
                self.key_table.setCellWidget(row, column, edit)
            self.key_edits[item.command] = edits

    def _add_key_group_row(self, group: str) -> None:
        row = self.key_table.rowCount()
        self.key_table.insertRow(row)
        title = QTableWidgetItem(group)
        font = QFont(title.font())
        font.setBold(True)
        title.setFont(font)
        self.key_table.setItem(row, 0, title)
        self.key_table.setSpan(row, 0, 1, len(KEY_COLUMNS))

    def _key_edit(self) -> QKeySequenceEdit:
        edit = QKeySequenceEdit()
        edit.setMaximumSequenceLength(1)
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(120)
        edit.keySequenceChanged.connect(self._show_key_conflicts)
        return edit

    def _make_memory_tab(self) -> QWidget:
        low, high = memory_budget_range_mb()
        self.memory_mb = QSpinBox()
        self.memory_mb.setRange(low, high)
        self.memory_mb.setSingleStep(256)
        self.memory_mb.setSuffix(" MiB")
        self.memory_mb.setAccelerated(True)
        self.memory_size = QLabel()
        self.memory_mb.valueChanged.connect(self._show_memory_split)
        budget = QHBoxLayout()
        budget.addWidget(self.memory_mb)
        budget.addWidget(self.memory_size, 1)
        self.cache_size = QLabel()
        self.cache_size.setWordWrap(True)
        default = default_memory_budget_mb()
        note = QLabel(
            "One budget for decoded images. A volume (MPR) larger than the budget is not "
            f"loaded; the image cache, which keeps slices for fast scrolling, uses at most "
            f"{_share_text(FRAME_CACHE_SHARE)} of it. A 512 × 512 CT slice takes 0.5 MiB. "
            f"Default: {MEMORY_BUDGET_FRACTION:.0%} of the RAM ({_size_text(default)}). "
            "Applies at once."
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Memory budget:", budget)
        form.addRow("Image cache:", self.cache_size)
        form.addRow(note)
        return _page(form)

    def _show_memory_split(self, megabytes: int) -> None:
        physical = physical_memory_mb()
        of_ram = (
            f"{megabytes / physical:.0%} of this machine's {_size_text(physical)} RAM"
            if physical
            else "(this machine's RAM is unknown)"
        )
        self.memory_size.setText(f"= {_size_text(megabytes)}, {of_ram}")
        self.cache_size.setText(
            f"up to {_size_text(int(megabytes * FRAME_CACHE_SHARE))} "
            f"({_share_text(FRAME_CACHE_SHARE)} of the budget)"
        )

    # --- values <-> widgets -----------------------------------------------------------------
    def show_values(self, values: PreferenceValues) -> None:
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(values.theme)))
        self.rendering_box.setCurrentIndex(max(0, self.rendering_box.findData(values.rendering)))
        for button, box in self.button_boxes.items():
            box.setCurrentIndex(max(0, box.findData(values.mouse.get(button))))
        self.sensitivity.setValue(values.wl_drag.sensitivity)
        self.invert_horizontal.setChecked(values.wl_drag.invert_horizontal)
        self.invert_vertical.setChecked(values.wl_drag.invert_vertical)
        self.zoom_speed.setValue(values.zoom_speed)
        self.preset_table.setRowCount(0)
        for modality, presets in sorted(values.presets.items()):
            for preset in presets:
                self._add_preset_row(preset, modality)
        self.memory_mb.setValue(values.memory_mb)
        self._show_memory_split(self.memory_mb.value())
        self.show_shortcuts(values.shortcuts)

    def show_shortcuts(self, shortcuts: Shortcuts) -> None:
        """Fill the Keys tab (commands missing from ``shortcuts`` show their defaults)."""
        defaults = default_shortcuts()
        for command, edits in self.key_edits.items():
            keys = shortcuts.get(command, defaults[command])
            for position, edit in enumerate(edits):
                edit.blockSignals(True)
                edit.setKeySequence(QKeySequence(keys[position] if position < len(keys) else ""))
                edit.blockSignals(False)
        self._show_key_conflicts()

    def shortcuts(self) -> dict[str, tuple[str, ...]]:
        """The keys the Keys tab shows, per command."""
        table = {}
        for command, edits in self.key_edits.items():
            keys = (normal_key(edit.keySequence().toString(_PORTABLE)) for edit in edits)
            table[command] = tuple(dict.fromkeys(key for key in keys if key))
        return table

    def key_conflicts(self) -> list[str]:
        """One line per key the Keys tab gives twice (or that the window keeps for itself)."""
        return shortcut_conflicts(self.shortcuts(), self.fixed_keys)

    def _show_key_conflicts(self) -> None:
        conflicts = self.key_conflicts()
        self.key_conflict_label.setText("\n".join(conflicts))
        self.key_conflict_label.setVisible(bool(conflicts))
        clashing = _keys_given_twice(self.shortcuts(), self.fixed_keys)
        for edits in self.key_edits.values():
            for edit in edits:
                key = normal_key(edit.keySequence().toString(_PORTABLE))
                edit.setStyleSheet(CONFLICT_STYLE if key in clashing else "")

    def values(self) -> PreferenceValues:
        """What the widgets say; raises ValueError naming a bad preset row or a key given
        twice."""
        conflicts = self.key_conflicts()
        if conflicts:
            raise ValueError("\n".join(conflicts))
        return PreferenceValues(
            theme=str(self.theme_box.currentData()),
            mouse={button: str(box.currentData()) for button, box in self.button_boxes.items()},
            wl_drag=WindowLevelDrag(
                round(self.sensitivity.value(), 2),
                self.invert_horizontal.isChecked(),
                self.invert_vertical.isChecked(),
            ),
            presets=self._table_presets(),
            memory_mb=self.memory_mb.value(),
            shortcuts=self.shortcuts(),
            rendering=str(self.rendering_box.currentData()),
            zoom_speed=round(self.zoom_speed.value(), 2),
        )

    def _add_preset_row(self, preset: Preset, modality: str) -> None:
        row = self.preset_table.rowCount()
        self.preset_table.insertRow(row)
        cells = (modality, preset.name, f"{preset.width:g}", f"{preset.level:g}")
        for column, text in enumerate(cells):
            self.preset_table.setItem(row, column, QTableWidgetItem(text))

    def _remove_selected_presets(self) -> None:
        rows = sorted({index.row() for index in self.preset_table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.preset_table.removeRow(row)

    def _table_presets(self) -> dict[str, tuple[Preset, ...]]:
        table: dict[str, list[Preset]] = {modality: [] for modality in DEFAULT_PRESETS}
        for row in range(self.preset_table.rowCount()):
            modality, name, width, level = (self._cell(row, c) for c in range(len(PRESET_COLUMNS)))
            preset = _preset_from_cells(row + 1, modality, name, width, level)
            table.setdefault(modality.upper(), []).append(preset)
        return {modality: tuple(presets) for modality, presets in table.items()}

    def _cell(self, row: int, column: int) -> str:
        item = self.preset_table.item(row, column)
        return item.text().strip() if item is not None else ""

    def accept(self) -> None:
        try:
            values = self.values()
        except ValueError as error:
            self.error_label.setText(str(error))
            self.error_label.setVisible(True)
            if self.key_conflicts():
                self.tabs.setCurrentWidget(self.keys_tab)
            return
        network = self.network_page.problems()
        if network:
            self.error_label.setText("\n".join(network))
            self.error_label.setVisible(True)
            self.tabs.setCurrentWidget(self.network_page)
            return
        self.error_label.setVisible(False)
        values.write(self.settings)
        save_nodes(self.network_page.book())
        self.nodes_saved.emit()
        self.network_page.shutdown()
        super().accept()

    def reject(self) -> None:
        self.network_page.shutdown()
        super().reject()


def _preset_from_cells(number: int, modality: str, name: str, width: str, level: str) -> Preset:
    if not modality.isalnum() or not name or ";" in name:
        raise ValueError(f"Preset row {number}: give a modality (e.g. CT) and a name without ';'")
    try:
        width_value, level_value = float(width), float(level)
    except ValueError:
        raise ValueError(f"Preset row {number}: width and level must be numbers") from None
    if not (math.isfinite(width_value) and math.isfinite(level_value)) or width_value <= 0:
        raise ValueError(f"Preset row {number}: the width must be a positive number")
    return Preset(name, width_value, level_value)


_PORTABLE = QKeySequence.SequenceFormat.PortableText


def _keys_given_twice(shortcuts: Shortcuts, fixed_keys: Mapping[str, str]) -> set[str]:
    seen = set(fixed_keys)
    twice = set()
    for keys in shortcuts.values():
        for key in keys:
            if key in seen:
                twice.add(key)
            seen.add(key)
    return twice


def _size_text(megabytes: int) -> str:
    """MiB as a person reads them: "512 MiB", "11.8 GiB"."""
    return f"{megabytes / 1024:.1f} GiB" if megabytes >= 1024 else f"{megabytes} MiB"


def _share_text(share: float) -> str:
    return {0.25: "a quarter", 0.5: "half"}.get(share, f"{share:.0%}")


def _page(layout: QFormLayout | QVBoxLayout) -> QWidget:
    page = QWidget()
    page.setLayout(layout)
    return page
