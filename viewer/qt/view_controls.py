"""The main window's viewing controls: the Image and View menus, the image toolbar, the tag
browser dock, Help > Keyboard and mouse, and export (PNG, clipboard).

Every keyed command is a QAction made from :data:`viewer.qt.help_keys.KEY_BINDINGS`, so the
menus, the keys and the help page agree; :meth:`ViewControls.set_shortcuts` gives them the
user's keys (Preferences > Keys). Commands act on the active viewport of the
:class:`~viewer.qt.viewport_grid.ViewportGrid`. The toolbar shows theme-coloured icons
(:func:`viewer.qt.icons.toolbar_icon`) with text tooltips; :meth:`ViewControls.refresh_icons`
repaints them after a theme change.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QMenu,
    QToolBar,
)

from viewer.model.cine import CineMode
from viewer.model.interaction import Interaction
from viewer.model.presets import FIRST_PRESET_KEY, LAST_PRESET_KEY
from viewer.model.tools.zoom import ZOOM_STEP
from viewer.qt.help_keys import (
    KeyboardHelpDialog,
    Shortcuts,
    apply_shortcuts,
    default_shortcuts,
    make_actions,
    preset_key_text,
)
from viewer.qt.icons import toolbar_icon
from viewer.qt.image_view import ImageViewport
from viewer.qt.measure_controls import MeasureControls
from viewer.qt.study_tree import SERIES_UID_ROLE, STACK_ROLE
from viewer.qt.tag_browser import TagBrowser
from viewer.qt.viewport_grid import LAYOUTS, ViewportGrid
from viewer.qt.window_host import WindowHost

#: Cine rate keys change the rate by this factor.
CINE_RATE_STEP = 1.25
#: Toolbar commands (in order, "-" a separator) and their icon
#: (viewer.core.resources.TOOLBAR_ICONS).
TOOLBAR_COMMANDS: tuple[tuple[str, str], ...] = (
    ("reset", "reset"),
    ("invert", "invert"),
    ("rotate_clockwise", "rotate"),
    ("flip_horizontal", "flip-horizontal"),
    ("flip_vertical", "flip-vertical"),
    ("-", ""),
    ("cine", "cine-play"),
)
#: The tag browser opens at least this wide (px), so its Value column shows.
TAG_BROWSER_WIDTH = 600
LAYOUT_ICONS = {"1x1": "layout-1x1", "1x2": "layout-1x2", "2x1": "layout-2x1", "2x2": "layouts"}


class ViewControls(QObject):
    """Builds and runs the viewing menus, toolbar and docks of ``window``."""

    def __init__(self, window: WindowHost, grid: ViewportGrid) -> None:
        super().__init__(window)
        self.window = window
        self.grid = grid
        self.tag_browser = self._make_tag_browser()
        self.measure = MeasureControls(window, grid)
        handlers = {**self._handlers(), **self.measure.handlers()}
        self.actions: dict[str, QAction] = make_actions(window, handlers, grid)
        self._watched: ImageViewport | None = None
        self._help: KeyboardHelpDialog | None = None
        self.shortcuts: Shortcuts = default_shortcuts()
        self._icons: dict[QAction, str] = {}  # toolbar action -> icon name
        self._make_image_menu()
        self._make_view_menu()
        self._add_help_entry()
        self.toolbar = self._make_toolbar()
        self.measure.build(self.actions, self._add_tool)
        self._enable_tree_drag()
        grid.active_changed.connect(self._on_active_changed)
        grid.series_dropped.connect(window.show_series)
        self._on_active_changed(grid.active)

    # --- commands ---------------------------------------------------------------------------
    def _handlers(self) -> dict[str, Callable[[], object]]:
        on = self.grid.on_active
        handlers: dict[str, Callable[[], object]] = {
            "previous_slice": on("step", -1),
            "next_slice": on("step", 1),
            "back_10_slices": on("step", -10),
            "forward_10_slices": on("step", 10),
            "first_slice": on("first_slice"),
            "last_slice": on("last_slice"),
            "previous_series": lambda: self.step_series(-1),
            "next_series": lambda: self.step_series(1),
            "auto_window": on("auto_window"),
            "file_window_1": on("file_window", 1),
            "file_window_2": on("file_window", 2),
            "invert": on("toggle_invert"),
            "reset": on("reset"),
            "fit": on("fit"),
            "zoom_in": on("zoom", ZOOM_STEP),
            "zoom_out": on("zoom", 1.0 / ZOOM_STEP),
            "actual_size": on("actual_size"),
            "rotate_clockwise": lambda: self.grid.active.state.rotate(True),
            "rotate_counterclockwise": lambda: self.grid.active.state.rotate(False),
            "flip_horizontal": lambda: self.grid.active.state.flip(True),
            "flip_vertical": lambda: self.grid.active.state.flip(False),
            "corner_text": self.grid.toggle_text,
            "overlay_planes": self.toggle_overlay_planes,
            "cine": on("toggle_cine"),
            "previous_phase": on("step_phase", -1),
            "next_phase": on("step_phase", 1),
            "phase_cine": on("toggle_phase_cine"),
            "find_series": self.find_series,
            "cine_faster": lambda: self._scale_cine_rate(CINE_RATE_STEP),
            "cine_slower": lambda: self._scale_cine_rate(1.0 / CINE_RATE_STEP),
            "next_viewport": self.grid.next_viewport,
            "copy_view": self.copy_view,
            "save_view": lambda: self.save_view(overlays=True),
            "save_image": lambda: self.save_view(overlays=False),
            "tag_browser": self.toggle_tag_browser,
            "full_screen": self.toggle_full_screen,
            "keyboard_help": self.show_keyboard_help,
        }
        for key in range(3, 10):
            handlers[f"preset_{key}"] = on("preset", key)
        return handlers

    def find_series(self) -> None:
        """Ctrl+F: the cursor into the study tree's filter, its text selected."""
        box = self.window.tree_filter
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        box.selectAll()

    def focus_image(self) -> None:
        """Give the keys back to the active image (after a toolbar click, a layout change)."""
        if self.grid.isVisible():
            self.grid.active.setFocus(Qt.FocusReason.OtherFocusReason)

    def step_series(self, delta: int) -> None:
        """Show the previous/next series of the study tree (in tree order) in the active view."""
        uids = _series_in_tree_order(self.window.tree)
        if not uids:
            return
        current = self.active_series_uid()
        position = uids.index(current) if current in uids else -1
        target = min(max(position + delta, 0), len(uids) - 1)
        if target == position:
            return
        self.window.select_series(uids[target])
        if self.active_series_uid() != uids[target]:  # the tree already had it selected
            self.window.show_series(uids[target])

    def active_series_uid(self) -> str:
        """The series the active viewport shows ("" for none)."""
        return self.grid.active.state.series_uid

    def _scale_cine_rate(self, factor: float) -> None:
        cine = self.grid.active.cine
        cine.set_rate(cine.rate_fps * factor)
        self.window.show_message(f"Cine {cine.rate_fps:.1f} frames/s")

    def toggle_full_screen(self) -> None:
        if self.window.isFullScreen():
            self.window.showNormal()
        else:
            self.window.showFullScreen()

    def toggle_overlay_planes(self) -> None:
        """Show or hide the active image's overlay planes (60xx, PS3.3 C.9.2)."""
        planes = self.grid.active.overlay_planes
        shown = "shown" if planes.toggle() else "hidden"
        none = "" if planes.count else " (this image has none)"
        self.window.show_message(f"Overlays {shown}{none}")

    def show_keyboard_help(self) -> None:
        if self._help is None:
            self._help = KeyboardHelpDialog(self.window, self.grid.interaction, self.shortcuts)
        self._help.show()
        self._help.activateWindow()

    # --- the user's mouse mapping, W/L drag and presets ---------------------------------------
    def set_interaction(self, interaction: Interaction) -> None:
        """Apply Preferences' mouse, W/L and preset choices to every viewport, the preset
        menu entries and the help page."""
        self.grid.set_interaction(interaction)
        for key in range(FIRST_PRESET_KEY, LAST_PRESET_KEY + 1):
            action = self.actions.get(f"preset_{key}")
            if action is not None:
                action.setText(preset_key_text(key, interaction.presets))
        if self._help is not None:
            self._help.show_interaction(interaction)

    def set_shortcuts(self, shortcuts: Shortcuts) -> None:
        """Give every keyed action the user's keys; tooltips and the help page follow."""
        self.shortcuts = dict(shortcuts)
        apply_shortcuts(self.actions, shortcuts)
        for action in self._icons:
            if action in self.actions.values() and action is not self.actions["cine"]:
                action.setToolTip(_tooltip(action))
        self._sync_cine_controls()
        if self._help is not None:
            self._help.show_shortcuts(shortcuts)

    # --- export -----------------------------------------------------------------------------
    def copy_view(self) -> None:
        QGuiApplication.clipboard().setImage(self.grid.active.render_view(overlays=True))
        self.window.show_message("View copied to the clipboard")

    def save_view(self, overlays: bool, path: str | None = None) -> bool:
        """Save the active viewport as PNG; asks for a file name when ``path`` is None."""
        if path is None:
            title = "Save view as PNG" if overlays else "Save image without overlays as PNG"
            path, _ = QFileDialog.getSaveFileName(self.window, title, "view.png", "PNG (*.png)")
            if not path:
                return False
        if not path.lower().endswith(".png"):
            path += ".png"
        saved = self.grid.active.render_view(overlays=overlays).save(path)
        self.window.show_message(f"Saved {path}" if saved else f"Cannot write {path}")
        return bool(saved)

    # --- menus and toolbar ------------------------------------------------------------------
    def _add(self, menu: QMenu, *commands: str) -> None:
        for command in commands:
            if command == "-":
                menu.addSeparator()
            else:
                menu.addAction(self.actions[command])

    def _make_image_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Image")
        self._add(menu, "auto_window", "file_window_1", "file_window_2")
        presets = menu.addMenu("Window &presets")
        self._add(presets, *(f"preset_{key}" for key in range(3, 10)))
        self._add(menu, "invert", "-", "rotate_clockwise", "rotate_counterclockwise")
        self._add(menu, "flip_horizontal", "flip_vertical", "-", "reset", "fit")
        self._add(menu, "zoom_in", "zoom_out", "actual_size", "-")
        self._add(menu, "cine", "cine_faster", "cine_slower", "-")
        self._add(menu, "copy_view", "save_view", "save_image")

    def _make_view_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&View")
        layouts = menu.addMenu("&Layout")
        group = QActionGroup(self)
        self.layout_actions: dict[str, QAction] = {}
        for name in LAYOUTS:
            action = layouts.addAction(name.replace("x", " × "))
            action.setCheckable(True)
            action.setChecked(name == self.grid.layout_name)
            action.triggered.connect(lambda _checked=False, n=name: self.set_layout(n))
            group.addAction(action)
            self.layout_actions[name] = action
        self.sync_action = self._toggle(menu, "Synchronise scrolling", self.grid.set_sync_scrolling)
        self.sync_action.setChecked(self.grid.sync_scrolling)
        self.link_voi_action = self._toggle(menu, "Link window/level", self.grid.set_link_voi)
        self.link_voi_action.setToolTip("The active window goes to viewports of the same modality")
        self.lines_action = self._toggle(menu, "Reference lines", self.grid.set_reference_lines)
        self.lines_action.setChecked(self.grid.reference_lines)
        self._add(menu, "-", "next_viewport", "corner_text", "overlay_planes")
        self._add(menu, "-", "tag_browser", "full_screen")

    def _toggle(self, menu: QMenu, text: str, slot: Callable[[bool], None]) -> QAction:
        action = menu.addAction(text)
        action.setCheckable(True)
        action.toggled.connect(slot)
        return action

    def set_layout(self, name: str) -> None:
        self.grid.set_layout(name)
        self.layout_actions[name].setChecked(True)
        self.focus_image()

    def _add_help_entry(self) -> None:
        """Help > Keyboard and mouse (joins a Help menu someone else made, if there is one)."""
        bar = self.window.menuBar()
        menu = next(
            (
                action.menu()
                for action in bar.actions()
                if action.menu() is not None and action.text().replace("&", "") == "Help"
            ),
            None,
        )
        if not isinstance(menu, QMenu):
            menu = bar.addMenu("&Help")
        menu.addAction(self.actions["keyboard_help"])
        self.actions["keyboard_help"].setText("&Keyboard and mouse")

    def _make_toolbar(self) -> QToolBar:
        bar = QToolBar("Image", self.window)
        bar.setObjectName("image-toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for name in LAYOUTS:
            action = self.layout_actions[name]
            action.setToolTip(f"Layout {name.replace('x', ' × ')}")
            self._add_tool(bar, action, LAYOUT_ICONS[name])
        bar.addSeparator()
        for command, icon in TOOLBAR_COMMANDS:
            if command == "-":
                bar.addSeparator()
            else:
                self._add_tool(bar, self.actions[command], icon)
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setRange(0.5, 120.0)
        self.rate_box.setDecimals(1)
        self.rate_box.setSuffix(" fps")
        self.rate_box.setToolTip("Cine rate (frames per second)")
        self.rate_box.valueChanged.connect(lambda value: self.grid.active.cine.set_rate(value))
        bar.addWidget(self.rate_box)
        self.sweep_box = QCheckBox("Sweep")
        self.sweep_box.setToolTip("Cine back and forth instead of looping")
        self.sweep_box.toggled.connect(self._on_sweep)
        bar.addWidget(self.sweep_box)
        bar.addSeparator()
        self._add_tool(bar, self.actions["tag_browser"], "tags")
        self._add_tool(bar, self.actions["save_view"], "export")
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        # A toolbar click must leave the keys with the image, never with the tree's filter.
        bar.actionTriggered.connect(lambda _action: self.focus_image())
        bar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return bar

    def _add_tool(self, bar: QToolBar, action: QAction, icon: str) -> None:
        self._icons[action] = icon
        if action.toolTip() == action.text().replace("&", ""):  # Qt's default: add the keys
            action.setToolTip(_tooltip(action))
        action.setIcon(toolbar_icon(icon))
        bar.addAction(action)

    def refresh_icons(self) -> None:
        """Icons in the applied theme's colour, for every tool (the window's MPR one too)."""
        mpr = getattr(self.window, "mpr_action", None)
        if isinstance(mpr, QAction) and mpr not in self._icons:
            self._icons[mpr] = "mpr"
        for action, icon in self._icons.items():
            action.setIcon(toolbar_icon(icon))
        self._sync_cine_controls()

    def _on_sweep(self, sweep: bool) -> None:
        self.grid.active.cine.set_mode(CineMode.SWEEP if sweep else CineMode.LOOP)

    def _sync_cine_controls(self) -> None:
        cine = self.grid.active.cine
        self.rate_box.blockSignals(True)
        self.rate_box.setValue(cine.rate_fps)
        self.rate_box.blockSignals(False)
        self.sweep_box.blockSignals(True)
        self.sweep_box.setChecked(cine.mode is CineMode.SWEEP)
        self.sweep_box.blockSignals(False)
        action = self.actions["cine"]
        action.setIcon(toolbar_icon("cine-pause" if cine.playing else "cine-play"))
        action.setToolTip(_tooltip(action, "Pause cine" if cine.playing else "Play cine"))

    def _enable_tree_drag(self) -> None:
        """Series rows can be dragged from the study tree onto a viewport."""
        tree = self.window.tree
        tree.setDragEnabled(True)
        tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)

    # --- tag browser ------------------------------------------------------------------------
    def _make_tag_browser(self) -> TagBrowser:
        dock = TagBrowser(self.window)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        dock.visibilityChanged.connect(self._on_tags_visible)
        return dock

    def _on_tags_visible(self, visible: bool) -> None:
        if visible:
            self._widen_tag_browser()
            self._show_tags()

    def _widen_tag_browser(self) -> None:
        """Open wide enough for the Value column (Tag, VR and Name take about 330 px)."""
        dock = self.tag_browser
        if dock.isFloating() or dock.width() >= TAG_BROWSER_WIDTH:
            return
        width = max(TAG_BROWSER_WIDTH, self.window.width() // 3)
        self.window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

    def toggle_tag_browser(self) -> None:
        self.tag_browser.setVisible(not self.tag_browser.isVisible())

    def _show_tags(self) -> None:
        state = self.grid.active.state
        if not self.tag_browser.isVisible():
            return
        if state.stack is None or not state.stack.frames:
            self.tag_browser.clear()
            return
        path, frame = state.stack.sources[state.index]
        self.tag_browser.show_frame(path, frame)

    def _on_active_changed(self, viewport: ImageViewport) -> None:
        if self._watched is not None:
            self._watched.state.changed.disconnect(self._on_active_state)
            self._watched.cine.changed.disconnect(self._sync_cine_controls)
        self._watched = viewport
        viewport.state.changed.connect(self._on_active_state)
        viewport.cine.changed.connect(self._sync_cine_controls)
        self._sync_cine_controls()
        self._show_tags()

    def _on_active_state(self, what: str) -> None:
        if what in ("stack", "index", "phase"):
            self._show_tags()

    def shutdown(self) -> None:
        self.measure.shutdown()
        self.tag_browser.shutdown()
        self.grid.shutdown()


def _tooltip(action: QAction, text: str | None = None) -> str:
    """``text`` (else the action's text) and its first shortcut, e.g. "Invert grey scale (I)"."""
    text = text if text is not None else action.text().replace("&", "")
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return f"{text} ({keys})" if keys else text


def _series_in_tree_order(tree: QAbstractItemView) -> list[str]:
    """Series Instance UIDs of the tree's series rows, top to bottom."""
    model = tree.model()
    uids: list[str] = []

    def walk(parent: object) -> None:
        for row in range(model.rowCount(parent)):  # type: ignore[arg-type]
            index = model.index(row, 0, parent)  # type: ignore[arg-type]
            uid = index.data(SERIES_UID_ROLE)
            if uid and index.data(STACK_ROLE) is None:  # a series row, not one of its stacks
                uids.append(str(uid))
                continue
            walk(index)

    walk(QModelIndex())
    return uids
