"""The Preferences dialog edits every setting; OK writes them, a bad preset row is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableWidgetItem

from viewer.dicom import limits
from viewer.model.presets import DEFAULT_PRESETS, Preset
from viewer.qt.app import make_application
from viewer.qt.main_window import MainWindow
from viewer.qt.preferences import PreferencesDialog, PreferenceValues
from viewer.qt.settings import ViewerSettings, WindowLevelDrag
from viewer.qt.theme import DARK, LIGHT, apply_theme, current_theme


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    app = make_application()
    main = MainWindow()
    qtbot.addWidget(main)
    yield main
    main.shutdown()
    apply_theme(app, DARK)


def open_preferences(window: MainWindow) -> PreferencesDialog:
    dialog = window.window_settings.show_preferences()
    assert isinstance(dialog, PreferencesDialog)
    return dialog


def test_ok_writes_every_setting_and_applies_theme_and_memory(window: MainWindow) -> None:
    dialog = open_preferences(window)
    dialog.theme_box.setCurrentIndex(dialog.theme_box.findData(LIGHT))
    left = dialog.button_boxes["left"]
    left.setCurrentIndex(left.findData("pan"))
    dialog.sensitivity.setValue(1.5)
    dialog.invert_vertical.setChecked(True)
    dialog.preset_table.setItem(0, 2, QTableWidgetItem("90"))  # first CT preset, width
    dialog.memory_mb.setValue(2048)
    dialog.zoom_speed.selectAll()
    QTest.keyClicks(dialog.zoom_speed, "2")  # typed, as a user sets the zoom drag speed
    dialog.accept()
    assert not dialog.isVisible()

    settings = ViewerSettings(window.window_settings.settings.path)  # as the next run reads it
    assert settings.theme() == LIGHT and current_theme(make_application()) == LIGHT
    assert settings.mouse_mapping()["left"] == "pan"
    assert settings.window_level_drag() == WindowLevelDrag(1.5, False, True)
    first = DEFAULT_PRESETS["CT"][0]
    assert settings.presets()["CT"][0] == Preset(first.name, 90, first.level)
    assert settings.memory_budget_mb() == 2048
    assert settings.zoom_speed() == 2.0
    assert window.viewports.interaction.zoom_speed == 2.0  # applied to the viewports at once
    assert window.loader.cache.budget_bytes == 512 * 1024**2  # the cache's quarter
    limits.set_memory_budget(None)


def test_bad_preset_row_keeps_the_dialog_open(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    dialog = open_preferences(window)
    before = window.window_settings.settings.presets()
    dialog.preset_table.setItem(0, 2, QTableWidgetItem("wide"))
    dialog.accept()
    assert dialog.isVisible() and not dialog.error_label.isHidden()
    assert "row 1" in dialog.error_label.text()
    assert window.window_settings.settings.presets() == before
    dialog.reject()


def test_restore_defaults_fills_defaults_without_saving(window: MainWindow) -> None:
    settings = window.window_settings.settings
    settings.set_theme(LIGHT)
    dialog = open_preferences(window)
    assert dialog.values().theme == LIGHT
    dialog.show_values(PreferenceValues())
    assert dialog.values() == PreferenceValues()
    dialog.reject()
    assert settings.theme() == LIGHT


def test_added_and_removed_presets(window: MainWindow) -> None:
    dialog = open_preferences(window)
    rows = dialog.preset_table.rowCount()
    dialog.preset_table.selectRow(0)
    dialog._remove_selected_presets()
    dialog._add_preset_row(Preset("Liver", 150, 30), "CT")
    dialog._add_preset_row(Preset("T1", 600, 300), "MR")
    dialog.accept()
    presets = window.window_settings.settings.presets()
    assert len(presets["CT"]) == rows and presets["CT"][-1] == Preset("Liver", 150, 30)
    assert presets["MR"] == (Preset("T1", 600, 300),)
