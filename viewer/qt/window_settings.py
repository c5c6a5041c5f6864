"""The main window's settings and help plumbing: theme, memory budget, keys, layout, recent
paths, the Settings menu (theme, Preferences…), File > Open Recent and Help (log folder, About).

The main window makes one :class:`WindowSettings` at the end of its construction, calls
:meth:`remember` when the user opens paths and :meth:`save_layout` when it closes; the GUI
launcher calls :meth:`restore_layout` before showing it. ``window_settings.settings`` is the
:class:`ViewerSettings` other parts read. Mouse mapping, W/L drag and presets reach every image
viewport (and an open MPR view) as one :class:`~viewer.model.interaction.Interaction`, again
whenever Preferences changes them; a theme change repaints the toolbar icons. The memory
budget goes to :func:`viewer.dicom.limits.set_memory_budget` (volumes are checked against it)
and its share to the frame cache; the user's keys go to every keyed action (and the help
page). The rendering setting becomes the application's choice (viewer.qt.gpu: OpenGL or
raster, logged with the reason) and reaches every image viewport and an open MPR view live; an
OpenGL choice that cannot be honoured draws in raster and says so in the status bar. Each is
applied at start-up and again on every ViewerSettings.changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QWidget

from viewer.core.app_logging import register_patient_name_source
from viewer.dicom import limits
from viewer.dicom.pixels import frame_store
from viewer.dicom.pixels.frame_cache import budget_share
from viewer.qt.gpu import Detector, apply_rendering, probe_opengl
from viewer.qt.help_keys import MPR_TOGGLE, key_text
from viewer.qt.icons import app_icon
from viewer.qt.settings import MIB, ViewerSettings
from viewer.qt.theme import THEMES, apply_theme
from viewer.qt.view_controls import ViewControls
from viewer.qt.window_host import WindowHost

#: ViewerSettings.changed groups that the image views apply (as one Interaction).
INTERACTION_GROUPS = ("mouse", "window_level", "zoom", "presets")


class WindowSettings(QObject):
    """Applies :class:`ViewerSettings` to ``window`` and adds the menus that edit them."""

    def __init__(
        self,
        window: WindowHost,
        view_controls: ViewControls,
        settings: ViewerSettings | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.view_controls = view_controls
        self.settings = settings if settings is not None else ViewerSettings(parent=self)
        self.notice_box: QMessageBox | None = None
        self.preferences_dialog: QWidget | None = None
        self.about_dialog: QWidget | None = None
        self._rendering_mode: str | None = None  # the mode applied last
        #: Finds out what OpenGL this machine has (tests give their own).
        self.detect_opengl: Detector = probe_opengl
        window.setWindowIcon(app_icon())
        self._apply("theme")
        self._apply("rendering")
        self._apply("memory")
        self._apply("mouse")
        self._apply("keys")
        self.settings.changed.connect(self._apply)
        self.recent_menu = self._make_recent_menu()
        self._make_settings_menu()
        self._make_help_menu()
        register_patient_name_source(self.patient_names)
        if self.settings.notice:
            QTimer.singleShot(0, self._show_notice)

    # --- applying ---------------------------------------------------------------------------
    def _apply(self, group: str) -> None:
        if group == "theme":
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, self.settings.theme())
            for name, action in getattr(self, "theme_actions", {}).items():
                action.setChecked(name == self.settings.theme())
            self.view_controls.refresh_icons()
        elif group == "memory":
            self._apply_memory_budget()
        elif group == "keys":
            self.apply_keys()
        elif group == "rendering":
            self._apply_rendering()
        elif group in INTERACTION_GROUPS:
            self._apply_interaction()

    def _apply_memory_budget(self) -> None:
        budget = self.settings.memory_budget_mb() * MIB
        limits.set_memory_budget(budget)
        self.window.loader.cache.budget_bytes = budget_share(budget)
        frame_store.set_max_bytes(self.settings.frame_cache_mb() * MIB)

    def _apply_rendering(self) -> None:
        """OpenGL or raster for every view, now and made later (when the mode changed)."""
        mode = self.settings.rendering()
        if mode == self._rendering_mode:
            return
        self._rendering_mode = mode
        rendering = apply_rendering(mode, self.detect_opengl)
        self.window.viewports.set_rendering(rendering.opengl)
        mpr_view = getattr(self.window, "mpr_view", None)  # made after this object
        if mpr_view is not None:
            mpr_view.set_rendering(rendering.opengl)
        vr_view = getattr(self.window, "vr_view", None)
        if vr_view is not None:
            vr_view.set_rendering(rendering.opengl)
        if rendering.notice:
            self.window.show_message(rendering.notice)

    def apply_keys(self) -> None:
        """The user's keys on every keyed action, the MPR toggle (once the window has made
        it) and the help page."""
        shortcuts = self.settings.shortcuts()
        self.view_controls.set_shortcuts(shortcuts)
        mpr_action = getattr(self.window, "mpr_action", None)  # made after this object
        if isinstance(mpr_action, QAction):
            mpr_action.setShortcuts([QKeySequence(key) for key in shortcuts[MPR_TOGGLE.command]])
            keys = key_text(shortcuts[MPR_TOGGLE.command])
            mpr_action.setToolTip(MPR_TOGGLE.text + (f" ({keys})" if keys else ""))

    def fixed_keys(self) -> dict[str, str]:
        """The window's keys Preferences cannot change (File > Open, Quit, …): key -> what it
        does, so the Keys tab can refuse to give them to a command too."""
        remappable: list[object] = [*self.view_controls.actions.values()]
        remappable.append(getattr(self.window, "mpr_action", None))
        fixed: dict[str, str] = {}
        for action in self.window.findChildren(QAction):
            if action in remappable or _widget_scoped(action):
                continue
            for sequence in action.shortcuts():
                key = sequence.toString(QKeySequence.SequenceFormat.PortableText)
                if key:
                    fixed.setdefault(key, f'"{action.text().replace("&", "").rstrip("…")}"')
        return fixed

    def _apply_interaction(self) -> None:
        interaction = self.settings.interaction()
        self.view_controls.set_interaction(interaction)
        mpr_view = getattr(self.window, "mpr_view", None)  # made after this object
        if mpr_view is not None:
            mpr_view.interaction = interaction

    def _show_notice(self) -> None:
        self.window.show_message(self.settings.notice or "")
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Settings reset",
            self.settings.notice or "",
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.setModal(False)
        box.show()
        self.notice_box = box

    def patient_names(self) -> list[str]:
        """The names of the patients open in the window (kept out of the log; any thread)."""
        patients = tuple(self.window.catalog.patients.values())  # one atomic copy
        return [patient.info.name for patient in patients]

    # --- window layout ----------------------------------------------------------------------
    def restore_layout(self) -> None:
        """Window geometry and dock/toolbar layout as the user left them (call before show)."""
        geometry = self.settings.window_geometry()
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        state = self.settings.window_state()
        if state is not None:
            self.window.restoreState(state)

    def save_layout(self) -> None:
        self.settings.set_window_layout(self.window.saveGeometry(), self.window.saveState())
        self.settings.sync()

    # --- recent paths -----------------------------------------------------------------------
    def remember(self, paths: Sequence[str]) -> None:
        """Paths the user opened, for File > Open Recent."""
        self.settings.add_recent_paths(paths)

    def _make_recent_menu(self) -> QMenu:
        file_menu = _find_menu(self.window, "File") or self.window.menuBar().addMenu("&File")
        menu = QMenu("Open &Recent", self.window)
        menu.aboutToShow.connect(self._fill_recent_menu)
        before = next((action for action in file_menu.actions() if action.isSeparator()), None)
        if before is not None:
            file_menu.insertMenu(before, menu)
        else:
            file_menu.addMenu(menu)
        return menu

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.settings.recent_paths()
        for path in paths:
            action = menu.addAction(path.replace("&", "&&"))
            action.triggered.connect(lambda _checked=False, p=path: self.window.open_paths([p]))
        if not paths:
            menu.addAction("No recent items").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("&Clear the list")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self.settings.clear_recent_paths)

    # --- menus ------------------------------------------------------------------------------
    def _make_settings_menu(self) -> None:
        menu = QMenu("&Settings", self.window)
        bar = self.window.menuBar()
        help_menu = _find_menu(self.window, "Help")
        if help_menu is not None:
            bar.insertMenu(help_menu.menuAction(), menu)
        else:
            bar.addMenu(menu)
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name in THEMES:
            action = QAction(f"{name.capitalize()} theme", self.window, checkable=True)
            action.setChecked(name == self.settings.theme())
            action.triggered.connect(lambda _checked=False, n=name: self.settings.set_theme(n))
            group.addAction(action)
            menu.addAction(action)
            self.theme_actions[name] = action
        menu.addSeparator()
        preferences = QAction("&Preferences…", self.window)
        preferences.setShortcut(QKeySequence(QKeySequence.StandardKey.Preferences))
        preferences.setMenuRole(QAction.MenuRole.PreferencesRole)
        preferences.triggered.connect(self.show_preferences)
        menu.addAction(preferences)

    def _make_help_menu(self) -> None:
        """Joins the Help menu (Keyboard and mouse comes from viewer.qt.view_controls)."""
        menu = _find_menu(self.window, "Help") or self.window.menuBar().addMenu("&Help")
        logs = QAction("Open &Log Folder", self.window)
        logs.triggered.connect(self.open_log_folder)
        self.about_action = QAction("&About DICOM Viewer", self.window)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        menu.addAction(logs)
        menu.addSeparator()
        menu.addAction(self.about_action)
        menu.aboutToShow.connect(lambda: _keep_last(menu, self.about_action))

    # --- dialogs (imported when first asked for: not needed for the first paint) ------------
    def show_preferences(self) -> QWidget:
        from viewer.qt.preferences import PreferencesDialog

        # fresh: shows current values
        dialog = PreferencesDialog(self.settings, self.window, self.fixed_keys())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        apply_network = getattr(self.window, "apply_network", None)
        if apply_network is not None:
            dialog.nodes_saved.connect(apply_network)
        dialog.open()
        self.preferences_dialog = dialog
        return dialog

    def show_about(self) -> QWidget:
        from viewer.qt.about import AboutDialog

        if self.about_dialog is None:
            self.about_dialog = AboutDialog(self.window)
        self.about_dialog.show()
        if QGuiApplication.platformName() != "offscreen":  # which cannot raise windows
            self.about_dialog.raise_()
        return self.about_dialog

    def open_log_folder(self) -> None:
        from viewer.qt.about import open_log_folder

        if not open_log_folder():
            self.window.show_message("Cannot open the log folder")


def _find_menu(window: WindowHost, title: str) -> QMenu | None:
    """The menu bar's menu titled ``title`` (ignoring "&"), if there is one."""
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text().replace("&", "") == title:
            return menu
    return None


def _keep_last(menu: QMenu, action: QAction) -> None:
    """Menus others add to later would otherwise push About up from the bottom."""
    actions = menu.actions()
    if actions and actions[-1] is not action:
        menu.removeAction(action)
        if not menu.actions()[-1].isSeparator():
            menu.addSeparator()
        menu.addAction(action)


def _widget_scoped(action: QAction) -> bool:
    """A shortcut that fires only while its own widget has focus (the study database table's
    Del, say) cannot clash with a key of the image view."""
    return action.shortcutContext() in (
        Qt.ShortcutContext.WidgetShortcut,
        Qt.ShortcutContext.WidgetWithChildrenShortcut,
    )
