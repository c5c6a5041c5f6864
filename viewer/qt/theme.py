"""Colour themes for the whole application: dark (the default, for a dimmed reading room) and light.

A theme is a Fusion style, a QPalette for every widget (tree, menus, docks, dialogs) and a
short style sheet for the few things a palette does not reach. The dark theme keeps every
surface dim and neutral grey, so nothing around the image is brighter than the image's own
dark parts and nothing tints the greys; text is light grey rather than white, and selection a
muted blue. Images are always shown on black, whatever the theme.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

DARK = "dark"
LIGHT = "light"
THEMES = (DARK, LIGHT)
DEFAULT_THEME = DARK
#: The QApplication property that records which theme is applied.
THEME_PROPERTY = "viewer_theme"


@dataclass(frozen=True)
class ThemeColors:
    """The handful of colours a theme is made of (``#rrggbb``)."""

    window: str  # window, menu and dock backgrounds
    base: str  # lists, trees, text fields
    alternate: str  # every other tree row
    button: str
    text: str
    muted_text: str  # placeholders, secondary labels
    disabled_text: str
    highlight: str  # selection
    highlighted_text: str
    link: str
    border: str
    icon: str  # toolbar icons (see viewer.qt.icons)
    icon_disabled: str


THEME_COLORS = {
    DARK: ThemeColors(
        window="#1c1d1f",
        base="#121314",
        alternate="#17181a",
        button="#26272a",
        text="#c9ced4",
        muted_text="#8a9097",
        disabled_text="#5b6066",
        highlight="#2b4f6b",
        highlighted_text="#eef2f6",
        link="#6fb3d9",
        border="#303236",
        icon="#b9c0c8",
        icon_disabled="#50555b",
    ),
    LIGHT: ThemeColors(
        window="#eceef0",
        base="#ffffff",
        alternate="#f4f5f7",
        button="#e2e5e8",
        text="#1c1f23",
        muted_text="#5d636a",
        disabled_text="#a0a5ab",
        highlight="#3d7ab8",
        highlighted_text="#ffffff",
        link="#1d5fa3",
        border="#c4c9ce",
        icon="#30353b",
        icon_disabled="#a7acb2",
    ),
}


def theme_colors(name: str) -> ThemeColors:
    """The colours of theme ``name``; an unknown name gives the default theme's."""
    return THEME_COLORS.get(name, THEME_COLORS[DEFAULT_THEME])


def build_palette(colors: ThemeColors) -> QPalette:
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    palette = QPalette()
    assignments = {
        role.Window: colors.window,
        role.WindowText: colors.text,
        role.Base: colors.base,
        role.AlternateBase: colors.alternate,
        role.ToolTipBase: colors.button,
        role.ToolTipText: colors.text,
        role.PlaceholderText: colors.muted_text,
        role.Text: colors.text,
        role.Button: colors.button,
        role.ButtonText: colors.text,
        role.BrightText: "#ff5c5c",
        role.Highlight: colors.highlight,
        role.HighlightedText: colors.highlighted_text,
        role.Link: colors.link,
        role.LinkVisited: colors.link,
        role.Light: colors.border,
        role.Midlight: colors.button,
        role.Mid: colors.border,
        role.Dark: colors.base,
        role.Shadow: "#000000",
    }
    for color_role, value in assignments.items():
        palette.setColor(color_role, QColor(value))
    for color_role in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText):
        palette.setColor(group.Disabled, color_role, QColor(colors.disabled_text))
    palette.setColor(group.Inactive, role.Highlight, QColor(colors.highlight))
    return palette


def style_sheet(colors: ThemeColors) -> str:
    """What the palette does not reach: dock titles, splitters, tooltips, menu separators, and
    check boxes (Fusion draws their frame darker than the window: invisible on a dark one)."""
    return f"""
QDockWidget::title {{ background: {colors.window}; padding: 4px 6px;
    border-bottom: 1px solid {colors.border}; }}
QMainWindow::separator {{ background: {colors.border}; width: 3px; height: 3px; }}
QSplitter::handle {{ background: {colors.border}; }}
QToolTip {{ color: {colors.text}; background: {colors.button};
    border: 1px solid {colors.border}; padding: 3px; }}
QMenu::separator {{ height: 1px; background: {colors.border}; margin: 4px 8px; }}
QStatusBar {{ border-top: 1px solid {colors.border}; }}
QToolBar {{ border: none; spacing: 2px; }}
QCheckBox::indicator {{ width: 12px; height: 12px; border-radius: 2px;
    border: 1px solid {colors.muted_text}; background: {colors.base}; }}
QCheckBox::indicator:checked {{ background: {colors.highlight}; border-color: {colors.link};
    image: none; }}
QCheckBox::indicator:disabled {{ border-color: {colors.disabled_text}; }}
"""


def apply_theme(app: QApplication, name: str) -> str:
    """Apply theme ``name`` (unknown names: the default) to the whole app; answer its name."""
    if name not in THEMES:
        name = DEFAULT_THEME
    colors = theme_colors(name)
    app.setStyle("Fusion")
    app.setPalette(build_palette(colors))
    app.setStyleSheet(style_sheet(colors))
    app.setProperty(THEME_PROPERTY, name)
    return name


def current_theme(app: QApplication) -> str:
    """The theme :func:`apply_theme` applied last (the default if none was)."""
    name = app.property(THEME_PROPERTY)
    return name if name in THEMES else DEFAULT_THEME
