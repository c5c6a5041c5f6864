"""The dark reading-room theme is the default and reaches the tree and menus; light is an option;
toolbar icons take the theme's colour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from viewer.core.resources import TOOLBAR_ICONS
from viewer.qt.app import make_application
from viewer.qt.icons import app_icon, toolbar_icon
from viewer.qt.main_window import MainWindow
from viewer.qt.theme import DARK, LIGHT, THEME_COLORS, apply_theme, current_theme

Role = QPalette.ColorRole


@pytest.fixture
def app() -> Iterator[QApplication]:
    application = make_application()
    yield application
    apply_theme(application, DARK)


def lightness(color: QColor) -> int:
    return color.lightness()


def test_main_window_opens_dark_by_default(qtbot, app: QApplication) -> None:  # type: ignore[no-untyped-def]
    apply_theme(app, LIGHT)  # whatever was applied before, the window applies its setting
    window = MainWindow()
    qtbot.addWidget(window)
    assert current_theme(app) == DARK
    tree, menu = window.tree.palette(), window.menuBar().palette()
    assert lightness(tree.color(Role.Base)) < 40  # the study list is near black
    assert lightness(tree.color(Role.Text)) > 180  # and its text light grey
    assert lightness(menu.color(Role.Window)) < 40
    assert lightness(window.palette().color(Role.Window)) < 40
    window.shutdown()


def test_dark_theme_is_neutral_grey_and_dim(app: QApplication) -> None:
    colors = THEME_COLORS[DARK]
    for value in (colors.window, colors.base, colors.alternate, colors.button):
        color = QColor(value)
        assert color.lightness() < 45
        assert color.hsvSaturation() < 32  # no colour cast around the image (< 12.5 %)
    assert QColor(colors.text).lightness() < 230  # light grey, not glaring white


def test_light_theme_applies_and_unknown_names_fall_back(app: QApplication) -> None:
    assert apply_theme(app, LIGHT) == LIGHT
    assert lightness(app.palette().color(Role.Base)) > 240
    assert apply_theme(app, "purple") == DARK
    assert current_theme(app) == DARK


def test_changing_the_theme_setting_restyles_the_running_window(qtbot, app: QApplication) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.window_settings.theme_actions[LIGHT].trigger()
    assert current_theme(app) == LIGHT
    assert lightness(window.tree.palette().color(Role.Base)) > 240
    assert window.window_settings.settings.theme() == LIGHT
    window.shutdown()


@pytest.mark.parametrize("theme", [DARK, LIGHT])
def test_toolbar_icons_are_painted_in_the_theme_colour(app: QApplication, theme: str) -> None:
    expected = QColor(THEME_COLORS[theme].icon)
    for name in TOOLBAR_ICONS:
        image = toolbar_icon(name, theme).pixmap(48, 48).toImage()
        opaque = [
            image.pixelColor(x, y)
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() == 255
        ]
        assert opaque, f"{name} drew nothing"
        assert all(abs(c.lightness() - expected.lightness()) < 8 for c in opaque), name


def test_app_icon_has_all_sizes(app: QApplication) -> None:
    sizes = {(size.width(), size.height()) for size in app_icon().availableSizes()}
    assert {(16, 16), (32, 32), (256, 256)} <= sizes
