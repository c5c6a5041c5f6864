"""Keys and mouse gestures: one table for the QActions that handle them and for the
Help > Keyboard and mouse page, so the page cannot drift from what the keys do.

Each :class:`KeyBinding` names a command; :func:`make_actions` turns the table into QActions
(Preferences may change their shortcuts later). Image keys are scoped to the image area
(``Qt.WidgetWithChildrenShortcut``), so typing in the study tree or a filter box never
triggers them; window keys work anywhere in the window.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

from viewer.model.presets import DEFAULT_PRESETS, FIRST_PRESET_KEY

IMAGE = "image"
WINDOW = "window"


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """A command, its default keys (QKeySequence portable text), what it does, its group."""

    command: str
    keys: tuple[str, ...]
    text: str
    group: str
    scope: str = IMAGE


def _preset_bindings() -> tuple[KeyBinding, ...]:
    return tuple(
        KeyBinding(
            f"preset_{FIRST_PRESET_KEY + n}",
            (str(FIRST_PRESET_KEY + n),),
            f"Window preset: CT {preset.name.lower()} {preset.width:g}/{preset.level:g}",
            "Window",
        )
        for n, preset in enumerate(DEFAULT_PRESETS["CT"])
    )


KEY_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("previous_slice", ("Up", "PgUp"), "Previous slice", "Slices"),
    KeyBinding("next_slice", ("Down", "PgDown"), "Next slice", "Slices"),
    KeyBinding("back_10_slices", ("Shift+Up", "Shift+PgUp"), "10 slices back", "Slices"),
    KeyBinding("forward_10_slices", ("Shift+Down", "Shift+PgDown"), "10 slices on", "Slices"),
    KeyBinding("first_slice", ("Home",), "First slice", "Slices"),
    KeyBinding("last_slice", ("End",), "Last slice", "Slices"),
    KeyBinding("previous_series", ("Left",), "Previous series", "Slices"),
    KeyBinding("next_series", ("Right",), "Next series", "Slices"),
    KeyBinding("auto_window", ("0",), "Auto window (0.5 to 99.5 % of the histogram)", "Window"),
    KeyBinding("file_window_1", ("1",), "The file's first window", "Window"),
    KeyBinding("file_window_2", ("2",), "The file's second window", "Window"),
    *_preset_bindings(),
    KeyBinding("invert", ("I",), "Invert grey scale", "Window"),
    KeyBinding("reset", ("R", "Space"), "Reset window, zoom, pan, rotation, invert", "View"),
    KeyBinding("fit", ("F",), "Fit the image to the viewport", "View"),
    KeyBinding("zoom_in", ("Ctrl++", "Ctrl+="), "Zoom in", "View"),
    KeyBinding("zoom_out", ("Ctrl+-",), "Zoom out", "View"),
    KeyBinding("actual_size", ("Ctrl+0",), "One image pixel per screen pixel", "View"),
    KeyBinding("rotate_clockwise", ("]",), "Rotate 90° clockwise", "View"),
    KeyBinding("rotate_counterclockwise", ("[",), "Rotate 90° counter-clockwise", "View"),
    KeyBinding("flip_horizontal", ("H",), "Flip horizontally", "View"),
    KeyBinding("flip_vertical", ("V",), "Flip vertically", "View"),
    KeyBinding("corner_text", ("T",), "Show or hide corner text and scale bar", "View"),
    KeyBinding("cine", ("C",), "Cine play/pause", "Cine"),
    KeyBinding("cine_faster", ("Shift+Right",), "Cine faster", "Cine"),
    KeyBinding("cine_slower", ("Shift+Left",), "Cine slower", "Cine"),
    KeyBinding("next_viewport", ("Tab",), "Next viewport", "Layout"),
    KeyBinding("copy_view", ("Ctrl+C",), "Copy the view to the clipboard", "Export"),
    KeyBinding("save_view", ("Ctrl+S",), "Save the view as PNG…", "Export", WINDOW),
    KeyBinding(
        "save_image",
        ("Ctrl+Shift+S",),
        "Save the image without overlays as PNG…",
        "Export",
        WINDOW,
    ),
    KeyBinding("tag_browser", ("Ctrl+T",), "Show or hide the tag browser", "Application", WINDOW),
    KeyBinding("full_screen", ("F11",), "Full screen on/off", "Application", WINDOW),
    KeyBinding("keyboard_help", ("F1",), "This page", "Application", WINDOW),
)

#: Mouse gestures over an image (handled by the viewport, listed on the help page).
MOUSE_BINDINGS: tuple[tuple[str, str], ...] = (
    ("Left drag", "Window/level: right widens the window, down lowers the level (brighter)"),
    ("Ctrl + left drag", "Window/level from the values in the rectangle drawn"),
    ("Middle drag", "Pan"),
    ("Right drag", "Zoom (up enlarges)"),
    ("Wheel", "Previous/next slice"),
    ("Ctrl + wheel", "Zoom at the cursor"),
    ("Drag a series from the study tree", "Show it in the viewport dropped on"),
)


def binding(command: str) -> KeyBinding:
    return next(b for b in KEY_BINDINGS if b.command == command)


def key_text(keys: tuple[str, ...]) -> str:
    """Keys as the platform writes them, e.g. "Ctrl++, Ctrl+=" -> "Ctrl++, Ctrl+=" ."""
    return ", ".join(
        QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) for key in keys
    )


def keyboard_help_html(bindings: tuple[KeyBinding, ...] = KEY_BINDINGS) -> str:
    """The Help > Keyboard and mouse page: mouse gestures, then keys by group."""
    parts = ["<h2>Mouse</h2>", _table(MOUSE_BINDINGS)]
    for group in dict.fromkeys(b.group for b in bindings):
        rows = [(key_text(b.keys), b.text) for b in bindings if b.group == group]
        parts += [f"<h2>{html.escape(group)}</h2>", _table(rows)]
    return "\n".join(parts)


def _table(rows: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><td width="190"><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>'
        for k, v in rows
    )
    return f'<table cellpadding="3">{cells}</table>'


class KeyboardHelpDialog(QDialog):
    """Help > Keyboard and mouse."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        self.browser = QTextBrowser(self)
        self.browser.setHtml(keyboard_help_html())
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        self.resize(560, 640)


def make_actions(
    parent: QWidget, handlers: Mapping[str, Callable[[], object]], image_area: QWidget
) -> dict[str, QAction]:
    """One QAction per binding that has a handler, with the table's keys.

    Image keys fire only while focus is inside ``image_area``; window keys anywhere in
    ``parent``'s window.
    """
    actions = {}
    for item in KEY_BINDINGS:
        handler = handlers.get(item.command)
        if handler is None:
            continue
        action = QAction(item.text, parent)
        action.setShortcuts([QKeySequence(key) for key in item.keys])
        action.triggered.connect(lambda _checked=False, run=handler: run())
        if item.scope == IMAGE:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            image_area.addAction(action)
        else:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            parent.addAction(action)
        actions[item.command] = action
    return actions
