"""Keys and mouse gestures: one table for the QActions that handle them and for the
Help > Keyboard and mouse page, so the page cannot drift from what the keys do.

Each :class:`KeyBinding` names a command and its default keys; :func:`make_actions` turns the
table into QActions and :func:`apply_shortcuts` gives them the user's keys (Preferences > Keys,
stored by :mod:`viewer.qt.settings` as :data:`Shortcuts`). Image keys are scoped to the image
area (``Qt.WidgetWithChildrenShortcut``), so typing in the study tree or a filter box never
triggers them; window keys work anywhere in the window. :data:`REMAPPABLE_BINDINGS` adds the
MPR toggle (the main window's action) to the table; the MPR view's own keys and mouse gestures
(:mod:`viewer.qt.mpr_view`) are fixed and listed as they are. The page shows the user's keys,
and its mouse rows and preset rows follow the user's
:class:`~viewer.model.interaction.Interaction` (Preferences).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

from viewer.model.interaction import MOUSE_BUTTONS, WINDOW_LEVEL, Interaction, WindowLevelDrag
from viewer.model.presets import DEFAULT_PRESETS, FIRST_PRESET_KEY, LAST_PRESET_KEY, Preset
from viewer.model.tools.registry import tool_spec

IMAGE = "image"
WINDOW = "window"
#: Command -> its keys (QKeySequence portable text, one chord each; empty: no key).
Shortcuts = Mapping[str, tuple[str, ...]]
#: A command has at most this many keys (Preferences shows a key and a second key).
MAX_KEYS_PER_COMMAND = 2


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """A command, its default keys (QKeySequence portable text), what it does, its group."""

    command: str
    keys: tuple[str, ...]
    text: str
    group: str
    scope: str = IMAGE


def preset_text(modality: str, preset: Preset) -> str:
    """How the help page and the menu name a preset, e.g. "CT brain 80/40"."""
    return f"{modality} {preset.name.lower()} {preset.width:g}/{preset.level:g}"


def preset_key_text(key: int, presets: Mapping[str, tuple[Preset, ...]]) -> str:
    """What key ``key`` (3-9) does with ``presets`` (modality -> presets in key order)."""
    position = key - FIRST_PRESET_KEY
    named = [
        preset_text(modality, items[position])
        for modality, items in sorted(presets.items(), key=lambda item: item[0] != "CT")
        if position < len(items)
    ]
    return "Window preset: " + ("; ".join(named) if named else "none set")


def _preset_bindings() -> tuple[KeyBinding, ...]:
    return tuple(
        KeyBinding(f"preset_{key}", (str(key),), preset_key_text(key, DEFAULT_PRESETS), "Window")
        for key in range(FIRST_PRESET_KEY, LAST_PRESET_KEY + 1)
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
    KeyBinding(
        "previous_phase", ("Ctrl+Up",), "Previous phase (time point, echo), same slice", "Phases"
    ),
    KeyBinding("next_phase", ("Ctrl+Down",), "Next phase (time point, echo), same slice", "Phases"),
    KeyBinding("phase_cine", ("Shift+C",), "Cine over the phases at this slice", "Phases"),
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
    KeyBinding("overlay_planes", ("O",), "Show or hide the image's overlays (60xx)", "View"),
    KeyBinding("cine", ("C",), "Cine play/pause", "Cine"),
    KeyBinding("cine_faster", ("Shift+Right",), "Cine faster", "Cine"),
    KeyBinding("cine_slower", ("Shift+Left",), "Cine slower", "Cine"),
    KeyBinding(
        "tool_default", ("Esc",), "Left button: back to window/level (the mouse mapping)", "Measure"
    ),
    KeyBinding("tool_edit", ("S",), "Select, move and reshape measurements", "Measure"),
    KeyBinding("tool_length", ("L",), "Length", "Measure"),
    KeyBinding(
        "tool_angle", ("A",), "Angle (drag one arm to the vertex, click the other end)", "Measure"
    ),
    KeyBinding("tool_ellipse", ("E",), "Ellipse ROI with statistics", "Measure"),
    KeyBinding("tool_rectangle", ("B",), "Rectangle ROI with statistics", "Measure"),
    KeyBinding("tool_probe", ("X",), "Point probe (the value under a click)", "Measure"),
    KeyBinding("tool_arrow", ("Shift+A",), "Arrow", "Measure"),
    KeyBinding("tool_text", ("Shift+T",), "Text label", "Measure"),
    KeyBinding(
        "tool_cobb", ("Shift+L",), "Cobb angle (drag along one endplate, then the other)", "Measure"
    ),
    KeyBinding(
        "tool_bidirectional",
        ("Shift+D",),
        "Bidirectional: long and short axis at right angles (RECIST)",
        "Measure",
    ),
    KeyBinding(
        "tool_polygon",
        ("P",),
        "Polygon ROI (click each vertex; click the first or double-click to close)",
        "Measure",
    ),
    KeyBinding("tool_freehand", ("Shift+F",), "Freehand ROI (trace in one drag)", "Measure"),
    KeyBinding(
        "delete_annotation", ("Del", "Backspace"), "Delete the selected measurement", "Measure"
    ),
    KeyBinding("undo", ("Ctrl+Z",), "Undo the last measurement edit", "Measure"),
    KeyBinding("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo", "Measure"),
    KeyBinding(
        "copy_measurement", ("Ctrl+Shift+C",), "Copy the selected measurement's values", "Measure"
    ),
    KeyBinding("toggle_annotations", ("Shift+H",), "Show or hide measurements", "Measure"),
    KeyBinding("key_image", ("K",), "Flag the image as a key image (or not)", "Measure"),
    KeyBinding(
        "measurements_panel", ("Ctrl+M",), "Show or hide the Measurements panel", "Measure", WINDOW
    ),
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
    KeyBinding(
        "find_series", ("Ctrl+F",), "Type in the study tree's filter", "Application", WINDOW
    ),
    KeyBinding("full_screen", ("F11",), "Full screen on/off", "Application", WINDOW),
    KeyBinding("keyboard_help", ("F1",), "This page", "Application", WINDOW),
)

#: The MPR toggle: an action of the main window, remappable like the keys above.
MPR_TOGGLE = KeyBinding(
    "mpr", ("M",), "MPR on/off: axial, coronal and sagittal views of the volume", "MPR", WINDOW
)
#: Every command whose keys Preferences > Keys can change, in the order it lists them.
REMAPPABLE_BINDINGS: tuple[KeyBinding, ...] = (*KEY_BINDINGS, MPR_TOGGLE)
#: Keys inside the MPR view (viewer.qt.mpr_view.MprView.keyPressEvent); not remappable.
MPR_VIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("Up, Down, PgUp, PgDown", "Move the plane of the view last clicked (Shift: 10 steps)"),
    ("I", "Invert grey scale (all three views)"),
    ("3–9", "Window presets of the series' modality, as in the stack view"),
    ("F", "Fit each view"),
    ("R, Space", "Reset: orthogonal planes, window, zoom"),
)
#: Mouse gestures inside the MPR view (viewer.qt.mpr_view.PlaneViewBox); not remappable.
MPR_VIEW_MOUSE: tuple[tuple[str, str], ...] = (
    ("Left click or drag", "Move the crosshair point"),
    ("Left drag on a handle (○)", "Tilt the other two planes about the point"),
    ("Shift + left drag", "Window/level (shared by the three views)"),
    ("Wheel", "Move the view's plane"),
    ("Middle drag", "Pan"),
    ("Right drag, Ctrl + wheel", "Zoom"),
)
MPR_NOTE = "In the MPR view (these keys and gestures are fixed):"

REMAP_NOTE = (
    "Settings > Preferences > Mouse changes what each button's drag does; "
    "Preferences > Keys changes the keys."
)
#: Mouse gestures over an image that Preferences does not remap.
FIXED_MOUSE_BINDINGS: tuple[tuple[str, str], ...] = (
    ("Ctrl + left drag", "Window/level from the values in the rectangle drawn"),
    ("Wheel", "Previous/next slice"),
    ("Ctrl + wheel", "Zoom at the cursor"),
    ("Drag a series from the study tree", "Show it in the viewport dropped on"),
)


def window_level_drag_text(wl_drag: WindowLevelDrag) -> str:
    """What a window/level drag does in the user's direction and speed."""
    width = "narrows" if wl_drag.invert_horizontal else "widens"
    level = (
        "raises the level (darker)" if wl_drag.invert_vertical else "lowers the level (brighter)"
    )
    text = f"Window/level: right {width} the window, down {level}"
    return text + (f"; speed {wl_drag.sensitivity:g}×" if wl_drag.sensitivity != 1 else "")


def mouse_bindings(interaction: Interaction) -> list[tuple[str, str]]:
    """The mouse rows of the help page: each button's drag as mapped, then the fixed ones."""
    rows = [
        (f"{button.capitalize()} drag", _drag_text(interaction.action(button), interaction))
        for button in MOUSE_BUTTONS
    ]
    return rows + list(FIXED_MOUSE_BINDINGS)


def _drag_text(tool: str, interaction: Interaction) -> str:
    """What a drag with ``tool`` does, in the help page's words."""
    if tool == WINDOW_LEVEL:
        return window_level_drag_text(interaction.wl_drag)
    spec = tool_spec(tool)
    return (spec.help or spec.label) if spec is not None else "Nothing"


def binding(command: str) -> KeyBinding:
    return next(b for b in REMAPPABLE_BINDINGS if b.command == command)


def default_shortcuts() -> dict[str, tuple[str, ...]]:
    """Every remappable command with its default keys."""
    return {item.command: item.keys for item in REMAPPABLE_BINDINGS}


def normal_key(text: str) -> str | None:
    """``text`` as one key chord in QKeySequence portable text ("ctrl+j" -> "Ctrl+J"); None if
    it is not one known key (empty, unknown key names, or a multi-chord sequence)."""
    sequence = QKeySequence.fromString(text.strip(), QKeySequence.SequenceFormat.PortableText)
    if sequence.count() != 1:
        return None
    return sequence.toString(QKeySequence.SequenceFormat.PortableText) or None  # "" if unknown


def shortcut_conflicts(
    shortcuts: Shortcuts, reserved: Mapping[str, str] | None = None
) -> list[str]:
    """One readable line per key given to two commands (or to a command and one of the
    window's fixed keys in ``reserved``, key -> what it does); empty when all keys differ."""
    owners: dict[str, list[str]] = {}
    for command, keys in shortcuts.items():
        for key in dict.fromkeys(keys):
            owners.setdefault(key, []).append(_command_text(command))
    for key, what in (reserved or {}).items():
        if key in owners:
            owners[key].append(what)
    return [
        f"{key_text((key,))} is given to {_both(names)}: choose another key for one of them."
        for key, names in owners.items()
        if len(names) > 1
    ]


def _command_text(command: str) -> str:
    item = next((b for b in REMAPPABLE_BINDINGS if b.command == command), None)
    return f'"{item.text if item is not None else command}"'


def _both(names: Iterable[str]) -> str:
    *first, last = list(names)
    return f"both {first[0]} and {last}" if len(first) == 1 else ", ".join(first) + f" and {last}"


def key_text(keys: tuple[str, ...]) -> str:
    """Keys as the platform writes them, e.g. "Ctrl++, Ctrl+=" -> "Ctrl++, Ctrl+=" ."""
    return ", ".join(
        QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) for key in keys
    )


def keyboard_help_html(
    bindings: tuple[KeyBinding, ...] = REMAPPABLE_BINDINGS,
    interaction: Interaction | None = None,
    shortcuts: Shortcuts | None = None,
) -> str:
    """The Help > Keyboard and mouse page: mouse gestures (as ``interaction`` maps them, the
    defaults if None), then keys by group (the user's ``shortcuts``, else the defaults; presets
    as ``interaction`` sets them), then the MPR view's own keys and gestures."""
    interaction = interaction or Interaction()
    shortcuts = shortcuts or {}
    parts = ["<h2>Mouse</h2>", f"<p>{html.escape(REMAP_NOTE)}</p>"]
    parts.append(_table(mouse_bindings(interaction)))
    for group in dict.fromkeys(b.group for b in bindings):
        rows = [
            (key_text(shortcuts.get(b.command, b.keys)) or "(none)", _binding_text(b, interaction))
            for b in bindings
            if b.group == group
        ]
        if group == MPR_TOGGLE.group:
            rows += [("", MPR_NOTE), *MPR_VIEW_KEYS, *MPR_VIEW_MOUSE]
        parts += [f"<h2>{html.escape(group)}</h2>", _table(rows)]
    return "\n".join(parts)


def _binding_text(item: KeyBinding, interaction: Interaction) -> str:
    if item.command.startswith("preset_"):
        return preset_key_text(int(item.command.removeprefix("preset_")), interaction.presets)
    return item.text


def _table(rows: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><td width="190"><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>'
        for k, v in rows
    )
    return f'<table cellpadding="3">{cells}</table>'


class KeyboardHelpDialog(QDialog):
    """Help > Keyboard and mouse."""

    def __init__(
        self,
        parent: QWidget | None = None,
        interaction: Interaction | None = None,
        shortcuts: Shortcuts | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        self.browser = QTextBrowser(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        self.resize(560, 640)
        self.interaction = interaction or Interaction()
        self.shortcuts: Shortcuts = dict(shortcuts or default_shortcuts())
        self._rewrite()

    def show_interaction(self, interaction: Interaction) -> None:
        """Rewrite the page for the user's mouse mapping and presets."""
        self.interaction = interaction
        self._rewrite()

    def show_shortcuts(self, shortcuts: Shortcuts) -> None:
        """Rewrite the page for the user's keys."""
        self.shortcuts = dict(shortcuts)
        self._rewrite()

    def _rewrite(self) -> None:
        html_text = keyboard_help_html(REMAPPABLE_BINDINGS, self.interaction, self.shortcuts)
        self.browser.setHtml(html_text)


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


def apply_shortcuts(actions: Mapping[str, QAction], shortcuts: Shortcuts) -> None:
    """Give each action in ``actions`` (command -> action) its keys from ``shortcuts``
    (commands missing there keep what they have)."""
    for command, action in actions.items():
        keys = shortcuts.get(command)
        if keys is not None:
            action.setShortcuts([QKeySequence(key) for key in keys])
