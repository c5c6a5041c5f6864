"""Keys are remappable in Preferences > Keys (issue 9): the new key works at once in the viewer,
the old one no longer does, the help page shows it, defaults come back, and a key given to two
commands is refused with a message naming both.

One main window with the demo study and its own settings file; every test starts and ends with
the default keys and the CT shown, focused, in a single viewport.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton

from tests.gui_driving import focus_viewport, show_modality
from viewer.qt.help_keys import default_shortcuts
from viewer.qt.main_window import MainWindow
from viewer.qt.preferences import PreferencesDialog
from viewer.qt.settings import ViewerSettings


@pytest.fixture
def settings(window: MainWindow) -> Iterator[ViewerSettings]:
    """The window's settings with the default keys; the CT shown in the middle, focused."""
    store = window.window_settings.settings
    store.set_shortcuts(default_shortcuts())
    show_ct(window)
    yield store
    store.set_shortcuts(default_shortcuts())


def show_ct(window: MainWindow) -> None:
    show_modality(window, "CT")
    window.state.set_index(window.state.frame_count // 2)
    focus_viewport(window)


def press(window: MainWindow, key: Qt.Key) -> None:
    QTest.keyClick(window.viewport, key)
    QApplication.processEvents()


def preferences(window: MainWindow) -> PreferencesDialog:
    dialog = window.window_settings.show_preferences()
    assert isinstance(dialog, PreferencesDialog)
    dialog.tabs.setCurrentWidget(dialog.keys_tab)
    return dialog


def type_key(dialog: PreferencesDialog, command: str, key: Qt.Key, position: int = 0) -> None:
    """Click the command's key field, clear it and press ``key``, as a person would."""
    edit = dialog.key_edits[command][position]
    edit.clear()
    edit.setFocus()
    QTest.keyClick(edit, key)
    QApplication.processEvents()


def help_rows(window: MainWindow) -> list[str]:
    """The Help > Keyboard and mouse page as "keys | what" lines, opened with its key (F1)."""
    QTest.keyClick(window, Qt.Key.Key_F1)
    page = window.view_controls._help
    assert page is not None and page.isVisible()
    document = page.browser.document()
    rows = []
    block = document.begin()
    while block.isValid():
        rows.append(block.text())
        block = block.next()
    page.hide()
    return rows


def row_after(rows: list[str], text: str) -> str:
    """The keys cell of the help page's row whose text is ``text``."""
    return rows[rows.index(text) - 1]


def test_next_slice_remapped_to_j(window: MainWindow, settings: ViewerSettings) -> None:
    dialog = preferences(window)
    type_key(dialog, "next_slice", Qt.Key.Key_J)
    assert dialog.key_edits["next_slice"][0].keySequence().toString() == "J"
    dialog.accept()
    assert not dialog.isVisible()
    assert ViewerSettings(settings.path).shortcuts()["next_slice"] == ("J", "PgDown")
    focus_viewport(window)

    start = window.state.index
    press(window, Qt.Key.Key_J)
    assert window.state.index == start + 1  # J steps a slice
    press(window, Qt.Key.Key_Down)
    assert window.state.index == start + 1  # Down no longer does
    press(window, Qt.Key.Key_Up)
    assert window.state.index == start  # the other keys are as they were

    rows = help_rows(window)
    assert row_after(rows, "Next slice") == "J, PgDown"
    assert "Previous slice" in rows and row_after(rows, "Previous slice") == "Up, PgUp"


def test_restore_default_keys(window: MainWindow, settings: ViewerSettings) -> None:
    settings.set_shortcuts({"next_slice": ("J",), "mpr": ("Shift+M",)})
    focus_viewport(window)
    assert window.mpr_action.shortcut().toString() == "Shift+M"
    dialog = preferences(window)
    assert dialog.key_edits["next_slice"][0].keySequence().toString() == "J"
    restore = next(
        button
        for button in dialog.keys_tab.findChildren(QPushButton)
        if button.text() == "Restore default keys"
    )
    restore.click()
    dialog.accept()
    assert settings.shortcuts() == default_shortcuts()
    assert window.mpr_action.shortcut().toString() == "M"
    focus_viewport(window)

    start = window.state.index
    press(window, Qt.Key.Key_J)
    assert window.state.index == start
    press(window, Qt.Key.Key_Down)
    assert window.state.index == start + 1
    assert row_after(help_rows(window), "Next slice") == "Down, PgDown"


def test_a_key_given_twice_is_refused(window: MainWindow, settings: ViewerSettings) -> None:
    dialog = preferences(window)
    type_key(dialog, "next_slice", Qt.Key.Key_I)  # I inverts
    message = dialog.key_conflict_label.text()
    assert dialog.key_conflict_label.isVisibleTo(dialog)
    assert '"Next slice"' in message and '"Invert grey scale"' in message
    dialog.accept()
    assert dialog.isVisible() and dialog.error_label.isVisibleTo(dialog)  # not accepted
    assert "I is given to both" in dialog.error_label.text()
    assert settings.shortcuts() == default_shortcuts()  # nothing was saved

    open_folder = QKeySequence(QKeySequence.StandardKey.Open).toString()
    dialog.key_edits["next_slice"][0].setKeySequence(QKeySequence(open_folder))
    assert "Open Folder" in dialog.key_conflict_label.text()  # the window's own keys count
    dialog.reject()
    focus_viewport(window)
    start = window.state.index
    press(window, Qt.Key.Key_Down)
    assert window.state.index == start + 1 and not window.state.invert


def test_help_page_lists_mpr_and_its_keys(window: MainWindow, settings: ViewerSettings) -> None:
    rows = help_rows(window)
    assert "MPR" in rows
    assert row_after(rows, "MPR on/off: axial, coronal and sagittal views of the volume") == "M"
    for text in (
        "Move the plane of the view last clicked (Shift: 10 steps)",
        "Tilt the other two planes about the point",
        "Window/level (shared by the three views)",
    ):
        assert text in rows
