"""Preferences take effect at once: mouse mapping, W/L drag speed and direction, presets, icons.

Real widgets and real mouse/key events on the demo study in one main window (with its own
settings file); each test starts from the default settings and a reset CT.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.gui_driving import drag, focus_viewport, show_modality
from viewer.model.interaction import DEFAULT_MOUSE_MAPPING, DEFAULT_ZOOM_SPEED, WindowLevelDrag
from viewer.model.presets import DEFAULT_PRESETS, Preset
from viewer.model.window_level import Voi
from viewer.qt.image_view import ImageViewport
from viewer.qt.main_window import MainWindow
from viewer.qt.settings import ViewerSettings
from viewer.qt.theme import DARK, LIGHT, THEME_COLORS

LEFT, MIDDLE, RIGHT = (
    Qt.MouseButton.LeftButton,
    Qt.MouseButton.MiddleButton,
    Qt.MouseButton.RightButton,
)


@pytest.fixture
def settings(window: MainWindow) -> Iterator[ViewerSettings]:
    """The window's settings at their defaults, the CT shown reset in a single viewport."""
    store = window.window_settings.settings
    _defaults(store)
    window.view_controls.set_layout("1x1")
    show(window, "CT")
    yield store
    _defaults(store)


def _defaults(store: ViewerSettings) -> None:
    store.set_zoom_speed(DEFAULT_ZOOM_SPEED)
    store.set_mouse_mapping(DEFAULT_MOUSE_MAPPING)
    store.set_window_level_drag(WindowLevelDrag())
    store.set_presets(DEFAULT_PRESETS)


def show(window: MainWindow, modality: str) -> None:
    """Show the demo series of ``modality`` in the active viewport, reset and focused."""
    show_modality(window, modality)
    window.state.reset()
    focus_viewport(window)


def window_of(viewport: ImageViewport) -> Voi:
    voi = viewport.state.voi
    assert voi is not None
    return voi


def view_centre(viewport: ImageViewport) -> tuple[float, float]:
    centre = viewport.view_box.viewRect().center()
    return centre.x(), centre.y()


def width_change(window: MainWindow, dx: float) -> float:
    """How much a left drag of ``dx`` pixels widens the reset CT's window."""
    window.state.reset()
    before = window_of(window.viewport).width
    drag(window.viewport, LEFT, QPointF(dx, 0))
    return window_of(window.viewport).width - before


def level_change(window: MainWindow, dy: float) -> float:
    """How much a left drag of ``dy`` pixels (down positive) moves the reset CT's level."""
    window.state.reset()
    before = window_of(window.viewport).center
    drag(window.viewport, LEFT, QPointF(0, dy))
    return window_of(window.viewport).center - before


# --- mouse mapping ---------------------------------------------------------------------------
def test_remapped_buttons_window_pan_and_zoom(window: MainWindow, settings: ViewerSettings) -> None:
    settings.set_mouse_mapping({"left": "pan", "middle": "zoom", "right": "window_level"})
    viewport = window.viewport
    voi, zoom, centre = window_of(viewport), viewport.zoom_factor(), view_centre(viewport)

    drag(viewport, RIGHT, QPointF(0, 60))  # right now windows: down lowers the level
    assert window_of(viewport).center < voi.center
    assert viewport.zoom_factor() == pytest.approx(zoom)  # and no longer zooms
    assert viewport.overlay.readout.startswith("W ")

    voi = window_of(viewport)
    drag(viewport, LEFT, QPointF(80, 0))  # left now pans: the image follows the pointer
    assert window_of(viewport) == voi
    assert view_centre(viewport)[0] < centre[0] - 10

    drag(viewport, MIDDLE, QPointF(0, -200))  # middle now zooms: up enlarges, 2x per 200 px
    assert viewport.zoom_factor() == pytest.approx(zoom * 2, rel=0.02)
    assert window_of(viewport) == voi


def test_scroll_drag_steps_through_slices(window: MainWindow, settings: ViewerSettings) -> None:
    settings.set_mouse_mapping({"left": "scroll"})
    window.state.set_index(50)
    drag(window.viewport, LEFT, QPointF(0, 60))  # down: next slices, 6 px each
    assert window.state.index == 60
    drag(window.viewport, LEFT, QPointF(0, -30))
    assert window.state.index == 55


def test_viewports_added_later_follow_the_mapping(
    window: MainWindow, settings: ViewerSettings
) -> None:
    settings.set_mouse_mapping({"left": "zoom", "right": "window_level"})
    window.view_controls.set_layout("2x2")
    added = window.viewports.viewports[3]
    window.viewports.set_active(added)
    show(window, "CT")
    voi, zoom = window_of(added), added.zoom_factor()
    drag(added, LEFT, QPointF(0, -200))
    assert added.zoom_factor() > zoom * 1.8 and window_of(added) == voi
    drag(added, RIGHT, QPointF(0, 60))
    assert window_of(added).center < voi.center


# --- zoom drag: proportional, bounded, its speed in Preferences ------------------------------
def test_zoom_drag_is_proportional_and_its_speed_a_preference(
    window: MainWindow, settings: ViewerSettings
) -> None:
    viewport = window.viewport
    zoom = viewport.zoom_factor()
    drag(viewport, RIGHT, QPointF(0, -150))  # the 150 px: 1.7x, not 20x
    assert viewport.zoom_factor() == pytest.approx(zoom * 2 ** (150 / 200), rel=0.02)
    drag(viewport, RIGHT, QPointF(0, 150))  # and back
    assert viewport.zoom_factor() == pytest.approx(zoom, rel=0.02)
    settings.set_zoom_speed(2.0)  # what Preferences > Mouse writes
    drag(viewport, RIGHT, QPointF(0, -100))
    assert viewport.zoom_factor() == pytest.approx(zoom * 2, rel=0.02)
    for _ in range(8):  # far past the bound: it stops at 40 screen pixels per image pixel
        drag(viewport, RIGHT, QPointF(0, -400))
    assert viewport.zoom_factor() == pytest.approx(40.0, rel=0.02)


# --- window/level drag speed and direction -------------------------------------------------
def test_double_sensitivity_doubles_the_width_change(
    window: MainWindow, settings: ViewerSettings
) -> None:
    normal = width_change(window, 80)
    settings.set_window_level_drag(WindowLevelDrag(sensitivity=2.0))
    assert normal > 0
    assert width_change(window, 80) == pytest.approx(2 * normal)


def test_inverting_vertical_flips_the_level_direction(
    window: MainWindow, settings: ViewerSettings
) -> None:
    normal = level_change(window, 60)
    settings.set_window_level_drag(WindowLevelDrag(invert_vertical=True))
    inverted = level_change(window, 60)
    assert normal < 0 < inverted  # default: down lowers the level; inverted: raises it
    assert inverted == pytest.approx(-normal)
    assert width_change(window, 80) > 0  # the horizontal direction is unchanged


# --- presets ---------------------------------------------------------------------------------
def test_user_preset_for_ct_key_3(window: MainWindow, settings: ViewerSettings) -> None:
    presets = dict(DEFAULT_PRESETS)
    presets["CT"] = (Preset("Liver", 150, 60), *DEFAULT_PRESETS["CT"][1:])
    settings.set_presets(presets)
    QTest.keyClick(window.viewport, Qt.Key.Key_3)
    QApplication.processEvents()
    voi = window_of(window.viewport)
    # Window Center 60, Width 150, LINEAR (PS3.3 C.11.2.1.2.1): 60 - 0.5 -/+ 149 / 2
    assert (voi.lower, voi.upper) == pytest.approx((-15.0, 134.0))
    assert "Liver" in window.statusBar().currentMessage()
    assert window.view_controls.actions["preset_3"].text() == "Window preset: CT liver 150/60"


# --- help page -------------------------------------------------------------------------------
def test_help_page_follows_the_mapping(window: MainWindow, settings: ViewerSettings) -> None:
    window.view_controls.show_keyboard_help()
    help_dialog = window.view_controls._help
    assert help_dialog is not None
    page = help_dialog.browser.toPlainText()
    assert "Left drag\tWindow/level" in page or "Left drag\nWindow/level" in page
    settings.set_mouse_mapping({"left": "pan", "right": "window_level"})
    settings.set_window_level_drag(WindowLevelDrag(invert_vertical=True))
    page = help_dialog.browser.toPlainText()
    assert "Left drag\nPan" in page or "Left drag\tPan" in page
    assert "down raises the level (darker)" in page
    help_dialog.hide()


# --- MPR -------------------------------------------------------------------------------------
def test_mpr_view_uses_the_drag_settings(window: MainWindow, settings: ViewerSettings) -> None:
    window.set_mpr(True)
    try:
        mpr = window.mpr_view
        assert mpr is not None and mpr.interaction == settings.interaction()
        settings.set_window_level_drag(WindowLevelDrag(sensitivity=3.0))
        assert mpr.interaction.wl_drag.sensitivity == 3.0
    finally:
        window.set_mpr(False)


# --- toolbar ---------------------------------------------------------------------------------
@pytest.mark.parametrize("theme", [LIGHT, DARK])
def test_toolbar_shows_theme_coloured_icons_with_tooltips(
    window: MainWindow, settings: ViewerSettings, theme: str
) -> None:
    settings.set_theme(theme)  # the window repaints its icons in the new theme's colour
    try:
        expected = QColor(THEME_COLORS[theme].icon).lightness()
        tools = [a for a in window.view_controls.toolbar.actions() if not a.icon().isNull()]
        assert len(tools) == 13  # 4 layouts, reset, invert, rotate, 2 flips, cine, tags, PNG, MPR
        for action in tools:
            image = action.icon().pixmap(24, 24).toImage()
            opaque = [
                image.pixelColor(x, y)
                for x in range(image.width())
                for y in range(image.height())
                if image.pixelColor(x, y).alpha() == 255
            ]
            assert opaque and action.toolTip(), action.text()
            assert all(abs(c.lightness() - expected) < 8 for c in opaque), action.toolTip()
        tips = {action.toolTip() for action in tools}
        assert {"Invert grey scale (I)", "Layout 1 × 2", "Play cine (C)"} <= tips
    finally:
        settings.set_theme(DARK)
