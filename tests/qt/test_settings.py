"""Settings survive a restart, bad files and values fall back to defaults, the window keeps its
layout and recent paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget

from viewer.model.presets import DEFAULT_PRESETS, Preset
from viewer.qt.app import make_application
from viewer.qt.help_keys import default_shortcuts
from viewer.qt.main_window import MainWindow
from viewer.qt.settings import (
    DEFAULT_MOUSE_MAPPING,
    MAX_RECENT_PATHS,
    ViewerSettings,
    WindowLevelDrag,
    default_memory_budget_mb,
)
from viewer.qt.theme import DEFAULT_THEME, LIGHT


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    make_application()
    return tmp_path / "settings.ini"


def restart(path: Path) -> ViewerSettings:
    """What the next run of the viewer reads."""
    return ViewerSettings(path)


def test_default_settings_file_is_in_the_config_folder(user_dirs_in_tmp: Path) -> None:
    make_application()
    assert ViewerSettings().path == user_dirs_in_tmp / "config" / "dicom-viewer" / "settings.ini"


def test_every_setting_survives_a_restart(settings_path: Path) -> None:
    settings = ViewerSettings(settings_path)
    settings.set_theme(LIGHT)
    settings.add_recent_paths(["/data/a", "/data/b"])
    settings.add_recent_paths(["/data/c"])
    settings.set_mouse_mapping({"left": "pan", "middle": "window_level", "right": "zoom"})
    settings.set_window_level_drag(WindowLevelDrag(2.5, True, False))
    presets = {"CT": (Preset("Lung", 1500, -600), Preset("Brain", 80, 40)), "MR": ()}
    settings.set_presets(presets)
    settings.set_memory_budget_mb(2048)
    settings.set_shortcuts({"next_slice": ("J",), "reset": ("Space",), "mpr": ("Shift+M",)})
    settings.set_window_layout(QByteArray(b"geometry"), QByteArray(b"state"))
    settings.sync()

    again = restart(settings_path)
    assert again.notice is None
    assert again.theme() == LIGHT
    assert again.recent_paths() == ["/data/c", "/data/a", "/data/b"]
    assert again.mouse_mapping() == {"left": "pan", "middle": "window_level", "right": "zoom"}
    assert again.window_level_drag() == WindowLevelDrag(2.5, True, False)
    assert again.presets()["CT"] == presets["CT"]
    assert "MR" not in again.presets()
    assert again.memory_budget_mb() == 2048
    keys = again.shortcuts()
    assert (keys["next_slice"], keys["reset"], keys["mpr"]) == (("J",), ("Space",), ("Shift+M",))
    assert keys["previous_slice"] == default_shortcuts()["previous_slice"]
    assert again.window_geometry() == QByteArray(b"geometry")
    assert again.window_state() == QByteArray(b"state")


def test_recent_list_is_capped_and_deduplicated(settings_path: Path) -> None:
    settings = ViewerSettings(settings_path)
    for number in range(MAX_RECENT_PATHS + 5):
        settings.add_recent_paths([f"/data/{number}"])
    settings.add_recent_paths(["/data/3"])
    recent = settings.recent_paths()
    assert len(recent) == MAX_RECENT_PATHS
    assert recent[0] == "/data/3" and recent.count("/data/3") == 1


def test_corrupt_file_falls_back_to_defaults_with_a_notice(settings_path: Path) -> None:
    settings_path.write_bytes(bytes(range(256)) * 8)  # not an INI file at all
    settings = ViewerSettings(settings_path)
    assert settings.notice is not None and "could not be read" in settings.notice
    assert settings.theme() == DEFAULT_THEME
    assert settings.mouse_mapping() == DEFAULT_MOUSE_MAPPING
    kept = settings_path.with_name("settings.ini.corrupt")
    assert kept.read_bytes() == bytes(range(256)) * 8  # the user's file is kept, not lost
    settings.set_theme(LIGHT)
    settings.sync()
    assert restart(settings_path).notice is None  # and the next run is clean


def test_malformed_values_read_as_defaults(settings_path: Path) -> None:
    settings_path.write_text(
        "[theme]\nname=purple\n"
        "[mouse]\nleft=explode\n"
        "[window_level]\nsensitivity=fast\ninvert_vertical=perhaps\n"
        '[presets]\nCT="Lung wide/-600"\n'
        "[memory]\nbudget_mb=-5\n"
        "[recent]\npaths=\n"
    )
    settings = ViewerSettings(settings_path)
    assert settings.notice is None
    assert settings.theme() == DEFAULT_THEME
    assert settings.mouse_mapping() == DEFAULT_MOUSE_MAPPING
    assert settings.window_level_drag() == WindowLevelDrag()
    assert settings.presets()["CT"] == DEFAULT_PRESETS["CT"]
    assert settings.memory_budget_mb() == default_memory_budget_mb()
    assert settings.recent_paths() == []


def test_setters_refuse_bad_values(settings_path: Path) -> None:
    settings = ViewerSettings(settings_path)
    with pytest.raises(ValueError):
        settings.set_theme("purple")
    with pytest.raises(ValueError):
        settings.set_mouse_mapping({"left": "explode"})
    with pytest.raises(ValueError):
        settings.set_window_level_drag(WindowLevelDrag(sensitivity=100))
    with pytest.raises(ValueError):
        settings.set_memory_budget_mb(1)
    with pytest.raises(ValueError, match="both"):
        settings.set_shortcuts({"next_slice": ("I",)})  # I inverts
    with pytest.raises(ValueError):
        settings.set_shortcuts({"next_slice": ("Ctrl+Blorp",)})
    with pytest.raises(ValueError):
        settings.set_shortcuts({"self_destruct": ("X",)})
    assert settings.shortcuts() == default_shortcuts()


def test_unreadable_or_clashing_stored_keys_fall_back_to_the_defaults(settings_path: Path) -> None:
    settings_path.write_text(
        "[keys]\n"
        "next_slice=Ctrl+Blorp\n"  # no such key
        "previous_slice=A, B, C\n"  # more keys than a command has
        "fit=Ctrl+K Ctrl+C\n"  # not one key
        "invert=H\n"  # H flips horizontally
        "corner_text=\n"  # no key: allowed
        "cine=G\n"
    )
    keys = ViewerSettings(settings_path).shortcuts()
    defaults = default_shortcuts()
    for command in ("next_slice", "previous_slice", "fit", "invert", "flip_horizontal"):
        assert keys[command] == defaults[command], command
    assert keys["corner_text"] == () and keys["cine"] == ("G",)


def test_default_memory_budget_follows_the_machine(settings_path: Path) -> None:
    settings = ViewerSettings(settings_path)
    settings.set_memory_budget_mb(2048)
    settings.set_memory_budget_mb(default_memory_budget_mb())
    settings.sync()
    assert "budget_mb" not in settings_path.read_text()  # not pinned to this machine's RAM


def test_settings_file_is_plain_ini(settings_path: Path) -> None:
    settings = ViewerSettings(settings_path)
    settings.set_theme(LIGHT)
    settings.sync()
    assert QSettings(str(settings_path), QSettings.Format.IniFormat).value("theme/name") == LIGHT
    assert "[theme]" in settings_path.read_text()


# --- the main window ---------------------------------------------------------------------------
@pytest.fixture
def new_window(qtbot) -> Iterator[type[MainWindow]]:  # type: ignore[no-untyped-def]
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        make_application()
        window = MainWindow()
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make  # type: ignore[misc]
    for window in windows:
        window.shutdown()


def test_window_geometry_and_docks_survive_a_restart(qtbot, new_window) -> None:  # type: ignore[no-untyped-def]
    first = new_window()
    first.resize(700, 500)  # fits the offscreen screen (restoreGeometry keeps windows on it)
    studies = first.findChild(QDockWidget, "studies")
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, studies)
    first.show()
    qtbot.waitExposed(first)
    first.close()  # saves the layout
    second = new_window()
    second.window_settings.restore_layout()
    assert (second.width(), second.height()) == (700, 500)
    moved = second.findChild(QDockWidget, "studies")
    assert second.dockWidgetArea(moved) == Qt.DockWidgetArea.RightDockWidgetArea


def test_opened_paths_appear_in_open_recent(qtbot, new_window, demo_study: Path) -> None:  # type: ignore[no-untyped-def]
    window = new_window()
    with qtbot.waitSignal(window.indexing_finished, timeout=60_000):
        window.open_paths([str(demo_study)])
    window.window_settings._fill_recent_menu()
    texts = [action.text() for action in window.window_settings.recent_menu.actions()]
    assert str(demo_study) in texts
    assert new_window().window_settings.settings.recent_paths()[0] == str(demo_study)


def test_window_shows_corrupt_settings_notice(qtbot, new_window, user_dirs_in_tmp: Path) -> None:  # type: ignore[no-untyped-def]
    path = user_dirs_in_tmp / "config" / "dicom-viewer" / "settings.ini"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00\xff" * 300)
    window = new_window()
    window.show()
    qtbot.waitUntil(lambda: window.window_settings.notice_box is not None, timeout=5_000)
    box = window.window_settings.notice_box
    assert box is not None and "defaults" in box.text()
    box.close()


def test_settings_and_help_menus(new_window) -> None:  # type: ignore[no-untyped-def]
    window = new_window()
    titles = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert "Settings" in titles and titles[-1] == "Help"
    help_menu = window.menuBar().actions()[-1].menu()
    entries = [action.text().replace("&", "") for action in help_menu.actions()]
    assert "Open Log Folder" in entries and "About DICOM Viewer" in entries
