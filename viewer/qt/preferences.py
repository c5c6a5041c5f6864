"""The Preferences dialog: theme, mouse buttons and W/L drag, window presets, cache budget.

The dialog edits a :class:`PreferenceValues` copy and writes it to :class:`ViewerSettings` only
on OK (an invalid preset row keeps the dialog open and says which). "Restore Defaults" fills
the widgets with the defaults; nothing is saved until OK.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

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
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from viewer.model.presets import DEFAULT_PRESETS, Preset
from viewer.qt.settings import (
    CACHE_MB_RANGE,
    DEFAULT_CACHE_MB,
    DEFAULT_MOUSE_MAPPING,
    MOUSE_ACTION_NAMES,
    MOUSE_BUTTONS,
    WL_SENSITIVITY_RANGE,
    ViewerSettings,
    WindowLevelDrag,
)
from viewer.qt.theme import DEFAULT_THEME, THEMES

PRESET_COLUMNS = ("Modality", "Name", "Width", "Level")


@dataclass(frozen=True)
class PreferenceValues:
    """Everything the dialog edits."""

    theme: str = DEFAULT_THEME
    mouse: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MOUSE_MAPPING))
    wl_drag: WindowLevelDrag = field(default_factory=WindowLevelDrag)
    presets: Mapping[str, tuple[Preset, ...]] = field(
        default_factory=lambda: {m: tuple(p) for m, p in DEFAULT_PRESETS.items()}
    )
    cache_mb: int = DEFAULT_CACHE_MB

    @classmethod
    def read(cls, settings: ViewerSettings) -> PreferenceValues:
        return cls(
            settings.theme(),
            settings.mouse_mapping(),
            settings.window_level_drag(),
            settings.presets(),
            settings.cache_budget_mb(),
        )

    def write(self, settings: ViewerSettings) -> None:
        settings.set_theme(self.theme)
        settings.set_mouse_mapping(self.mouse)
        settings.set_window_level_drag(self.wl_drag)
        settings.set_presets(self.presets)
        settings.set_cache_budget_mb(self.cache_mb)
        settings.sync()


class PreferencesDialog(QDialog):
    """Edit :class:`ViewerSettings`; OK writes them (and ViewerSettings.changed fires)."""

    def __init__(self, settings: ViewerSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        tabs = QTabWidget()
        tabs.addTab(self._make_general_tab(), "General")
        tabs.addTab(self._make_mouse_tab(), "Mouse")
        tabs.addTab(self._make_presets_tab(), "Window presets")
        tabs.addTab(self._make_memory_tab(), "Memory")
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
        self.error_label.setStyleSheet("color: #ff6b6b;")
        self.error_label.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(620, 520)
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
        form.addRow("Recently opened:", clear_recent)
        form.addRow(location)
        return _page(form)

    def _make_mouse_tab(self) -> QWidget:
        form = QFormLayout()
        self.button_boxes: dict[str, QComboBox] = {}
        for button in MOUSE_BUTTONS:
            box = QComboBox()
            for action, text in MOUSE_ACTION_NAMES.items():
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

    def _make_memory_tab(self) -> QWidget:
        low, high = CACHE_MB_RANGE
        self.cache_mb = QSpinBox()
        self.cache_mb.setRange(low, high)
        self.cache_mb.setSingleStep(128)
        self.cache_mb.setSuffix(" MiB")
        note = QLabel(
            "Decoded images kept in memory for fast scrolling. "
            "A 512 × 512 CT slice takes 0.5 MiB. Applies at once."
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Image cache:", self.cache_mb)
        form.addRow(note)
        return _page(form)

    # --- values <-> widgets -----------------------------------------------------------------
    def show_values(self, values: PreferenceValues) -> None:
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(values.theme)))
        for button, box in self.button_boxes.items():
            box.setCurrentIndex(max(0, box.findData(values.mouse.get(button))))
        self.sensitivity.setValue(values.wl_drag.sensitivity)
        self.invert_horizontal.setChecked(values.wl_drag.invert_horizontal)
        self.invert_vertical.setChecked(values.wl_drag.invert_vertical)
        self.preset_table.setRowCount(0)
        for modality, presets in sorted(values.presets.items()):
            for preset in presets:
                self._add_preset_row(preset, modality)
        self.cache_mb.setValue(values.cache_mb)

    def values(self) -> PreferenceValues:
        """What the widgets say; raises ValueError naming a bad preset row."""
        return PreferenceValues(
            theme=str(self.theme_box.currentData()),
            mouse={button: str(box.currentData()) for button, box in self.button_boxes.items()},
            wl_drag=WindowLevelDrag(
                round(self.sensitivity.value(), 2),
                self.invert_horizontal.isChecked(),
                self.invert_vertical.isChecked(),
            ),
            presets=self._table_presets(),
            cache_mb=self.cache_mb.value(),
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
            return
        self.error_label.setVisible(False)
        values.write(self.settings)
        super().accept()


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


def _page(layout: QFormLayout | QVBoxLayout) -> QWidget:
    page = QWidget()
    page.setLayout(layout)
    return page
