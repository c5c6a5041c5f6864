"""The user's settings: one INI file read and written through QSettings, with checked values.

``settings.ini`` lives in :func:`viewer.user_dirs.config_dir` (an INI file on every platform, so
tests can point ``XDG_CONFIG_HOME`` at a temporary folder and a person can read it). Every
getter validates what it reads and answers the default for a missing or malformed value, so a
hand-edited file cannot break the viewer. A file Qt cannot parse is moved aside to
``settings.ini.corrupt`` and the viewer starts from defaults; :attr:`ViewerSettings.notice`
then says so (the main window shows it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

from viewer.model.presets import DEFAULT_PRESETS, Preset, format_presets, parse_presets
from viewer.qt.theme import DEFAULT_THEME, THEMES
from viewer.user_dirs import config_dir

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.ini"
#: Bumped when a stored value changes meaning; older files are migrated or reset key by key.
SETTINGS_VERSION = 1
MAX_RECENT_PATHS = 10

MOUSE_BUTTONS = ("left", "middle", "right")
MOUSE_ACTIONS = ("window_level", "pan", "zoom", "scroll")
MOUSE_ACTION_NAMES = {
    "window_level": "Window/level",
    "pan": "Pan",
    "zoom": "Zoom",
    "scroll": "Scroll slices",
}
DEFAULT_MOUSE_MAPPING = {"left": "window_level", "middle": "pan", "right": "zoom"}

#: W/L drag sensitivity: a factor on the viewer's own (range-based) sensitivity.
DEFAULT_WL_SENSITIVITY = 1.0
WL_SENSITIVITY_RANGE = (0.1, 10.0)

#: Decoded-frame cache budget in MiB.
DEFAULT_CACHE_MB = 1024
CACHE_MB_RANGE = (128, 65536)


@dataclass(frozen=True)
class WindowLevelDrag:
    """How a window/level drag responds: speed factor and the sign of each axis.

    Default directions: dragging right widens the window, dragging down lowers the level.
    """

    sensitivity: float = DEFAULT_WL_SENSITIVITY
    invert_horizontal: bool = False
    invert_vertical: bool = False


class ViewerSettings(QObject):
    """Typed access to ``settings.ini``; :attr:`changed` names the group that was written."""

    changed = Signal(str)  # "theme", "recent", "mouse", "window_level", "presets", "cache"

    def __init__(self, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path if path is not None else config_dir() / SETTINGS_FILE_NAME
        self.notice: str | None = None
        self._store = self._open()

    # --- the file ---------------------------------------------------------------------------
    def _open(self) -> QSettings:
        store = QSettings(str(self.path), QSettings.Format.IniFormat)
        store.allKeys()  # QSettings parses lazily; status() is only meaningful after a read
        if store.status() == QSettings.Status.NoError:
            self._check_version(store)
            return store
        moved = self._move_aside()
        self.notice = (
            f"The settings file {self.path} could not be read, so the defaults are used"
            + (f"; the old file was kept as {moved}." if moved else ".")
        )
        log.warning("%s", self.notice)
        store = QSettings(str(self.path), QSettings.Format.IniFormat)
        store.clear()
        store.setValue("version", SETTINGS_VERSION)
        return store

    def _move_aside(self) -> Path | None:
        target = self.path.with_name(self.path.name + ".corrupt")
        try:
            self.path.replace(target)
        except OSError as error:
            log.warning("cannot move the unreadable settings file aside: %s", error)
            return None
        return target

    @staticmethod
    def _check_version(store: QSettings) -> None:
        if _to_int(store.value("version")) is None:
            store.setValue("version", SETTINGS_VERSION)

    def sync(self) -> None:
        """Write pending changes to disk now (Qt also does so on its own)."""
        self._store.sync()
        if self._store.status() != QSettings.Status.NoError:
            log.warning("cannot write the settings file %s", self.path)

    # --- window layout -------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        return _to_bytes(self._store.value("window/geometry"))

    def window_state(self) -> QByteArray | None:
        """The dock and toolbar layout (QMainWindow.saveState)."""
        return _to_bytes(self._store.value("window/state"))

    def set_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    # --- recent paths -----------------------------------------------------------------------
    def recent_paths(self) -> list[str]:
        """Most recent first, at most :data:`MAX_RECENT_PATHS`."""
        value = self._store.value("recent/paths")
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [str(item) for item in items if isinstance(item, str) and item][:MAX_RECENT_PATHS]

    def add_recent_paths(self, paths: Iterable[str]) -> None:
        """Put ``paths`` (as opened together) at the top of the recent list."""
        added = [str(Path(path).absolute()) for path in paths if path]
        if not added:
            return
        kept = [path for path in self.recent_paths() if path not in added]
        self._store.setValue("recent/paths", (added + kept)[:MAX_RECENT_PATHS])
        self.changed.emit("recent")

    def clear_recent_paths(self) -> None:
        self._store.remove("recent")
        self.changed.emit("recent")

    # --- theme --------------------------------------------------------------------------------
    def theme(self) -> str:
        value = self._store.value("theme/name")
        return value if value in THEMES else DEFAULT_THEME

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; themes: {', '.join(THEMES)}")
        self._store.setValue("theme/name", name)
        self.changed.emit("theme")

    # --- mouse --------------------------------------------------------------------------------
    def mouse_mapping(self) -> dict[str, str]:
        """Button ("left", "middle", "right") -> action (one of :data:`MOUSE_ACTIONS`)."""
        mapping = {}
        for button in MOUSE_BUTTONS:
            value = self._store.value(f"mouse/{button}")
            mapping[button] = value if value in MOUSE_ACTIONS else DEFAULT_MOUSE_MAPPING[button]
        return mapping

    def set_mouse_mapping(self, mapping: Mapping[str, str]) -> None:
        for button, action in mapping.items():
            if button not in MOUSE_BUTTONS or action not in MOUSE_ACTIONS:
                raise ValueError(f"cannot map {button!r} to {action!r}")
        for button, action in mapping.items():
            self._store.setValue(f"mouse/{button}", action)
        self.changed.emit("mouse")

    def window_level_drag(self) -> WindowLevelDrag:
        low, high = WL_SENSITIVITY_RANGE
        sensitivity = _to_float(self._store.value("window_level/sensitivity"))
        if sensitivity is None or not low <= sensitivity <= high:
            sensitivity = DEFAULT_WL_SENSITIVITY
        return WindowLevelDrag(
            sensitivity,
            _to_bool(self._store.value("window_level/invert_horizontal"), False),
            _to_bool(self._store.value("window_level/invert_vertical"), False),
        )

    def set_window_level_drag(self, drag: WindowLevelDrag) -> None:
        low, high = WL_SENSITIVITY_RANGE
        if not low <= drag.sensitivity <= high:
            raise ValueError(f"W/L sensitivity must be within {low}..{high}")
        self._store.setValue("window_level/sensitivity", drag.sensitivity)
        self._store.setValue("window_level/invert_horizontal", drag.invert_horizontal)
        self._store.setValue("window_level/invert_vertical", drag.invert_vertical)
        self.changed.emit("window_level")

    # --- presets ------------------------------------------------------------------------------
    def presets(self) -> dict[str, tuple[Preset, ...]]:
        """Window presets per modality; the built-in table where nothing (valid) is stored."""
        table = {modality: tuple(items) for modality, items in DEFAULT_PRESETS.items()}
        self._store.beginGroup("presets")
        try:
            for modality in self._store.childKeys():
                parsed = _to_presets(self._store.value(modality))
                if parsed is not None:
                    table[modality.upper()] = parsed
        finally:
            self._store.endGroup()
        return {modality: items for modality, items in table.items() if items}

    def set_presets(self, table: Mapping[str, Sequence[Preset]]) -> None:
        """Store the whole table (a modality missing from ``table`` gets no presets)."""
        self._store.remove("presets")
        for modality in {*DEFAULT_PRESETS, *table}:
            self._store.setValue(
                f"presets/{modality.upper()}", format_presets(table.get(modality, ()))
            )
        self.changed.emit("presets")

    # --- cache --------------------------------------------------------------------------------
    def cache_budget_mb(self) -> int:
        """The decoded-frame cache budget in MiB."""
        low, high = CACHE_MB_RANGE
        value = _to_int(self._store.value("cache/budget_mb"))
        return value if value is not None and low <= value <= high else DEFAULT_CACHE_MB

    def set_cache_budget_mb(self, megabytes: int) -> None:
        low, high = CACHE_MB_RANGE
        if not low <= megabytes <= high:
            raise ValueError(f"cache budget must be within {low}..{high} MiB")
        self._store.setValue("cache/budget_mb", int(megabytes))
        self.changed.emit("cache")


# --- value checks (INI values come back as strings) ----------------------------------------
def _to_bytes(value: Any) -> QByteArray | None:
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def _to_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _to_int(value: Any) -> int | None:
    number = _to_float(value)
    return int(number) if number is not None and number == int(number) else None


def _to_bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return default


def _to_presets(value: Any) -> tuple[Preset, ...] | None:
    if isinstance(value, list):  # QSettings splits an unquoted value at commas
        value = ",".join(str(item) for item in value)
    if not isinstance(value, str):
        return None
    try:
        return parse_presets(value)
    except ValueError as error:
        log.warning("ignoring stored presets: %s", error)
        return None
