"""The user's settings: one INI file read and written through QSettings, with checked values.

``settings.ini`` lives in :func:`viewer.core.user_dirs.config_dir` (an INI file on every platform,
so tests can point ``XDG_CONFIG_HOME`` at a temporary folder and a person can read it). Every
getter validates what it reads and answers the default for a missing or malformed value, so a
hand-edited file cannot break the viewer. A file Qt cannot parse is moved aside to
``settings.ini.corrupt`` and the viewer starts from defaults; :attr:`ViewerSettings.notice`
then says so (the main window shows it). The mouse, W/L drag and preset values are the Qt-free
types of :mod:`viewer.model.interaction`; :meth:`ViewerSettings.interaction` bundles them for the
views.

The memory budget (``memory/budget_mb``) is one number for all decoded pixels: a volume (MPR)
larger than it is refused, and the frame cache keeps at most its share
(:data:`viewer.dicom.pixels.frame_cache.FRAME_CACHE_SHARE`). Unset, it is
:data:`viewer.dicom.limits.MEMORY_BUDGET_FRACTION` (half) of the machine's RAM, so it follows
the machine; a value outside :func:`memory_budget_range_mb` reads as that default.

Keys (``keys/<command>``, see :data:`viewer.qt.help_keys.REMAPPABLE_BINDINGS`) are stored only
where they differ from the defaults; a stored key that cannot be read, or that another command
also has, falls back to the command's default keys.

Rendering (``rendering/mode``) is one of :data:`viewer.qt.gpu.RENDERING_MODES` (Automatic,
OpenGL, Software); anything else reads as Automatic.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

from viewer.core.user_dirs import config_dir
from viewer.dicom import limits
from viewer.model.interaction import (
    DEFAULT_MOUSE_MAPPING,
    DEFAULT_WL_SENSITIVITY,
    DEFAULT_ZOOM_SPEED,
    MOUSE_BUTTONS,
    WL_SENSITIVITY_RANGE,
    ZOOM_SPEED_RANGE,
    Interaction,
    WindowLevelDrag,
)
from viewer.model.presets import DEFAULT_PRESETS, Preset, format_presets, parse_presets
from viewer.model.tools.registry import mouse_tools
from viewer.model.volume3d.scene import VrPreset, preset_from_json, preset_to_json
from viewer.qt.gpu import DEFAULT_RENDERING, RENDERING_MODES
from viewer.qt.help_keys import (
    MAX_KEYS_PER_COMMAND,
    Shortcuts,
    default_shortcuts,
    normal_key,
    shortcut_conflicts,
)
from viewer.qt.theme import DEFAULT_THEME, THEMES

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.ini"
#: Bumped when a stored value changes meaning; older files are migrated or reset key by key.
SETTINGS_VERSION = 1
MAX_RECENT_PATHS = 10

MIB = 1024**2
#: The smallest memory budget accepted, in MiB (enough for a 2048 x 2048 16-bit frame; low
#: on purpose, so a small budget can be tried on small data).
MIN_MEMORY_MB = 16
#: The largest memory budget when the machine's RAM is unknown, in MiB.
MAX_MEMORY_MB_UNKNOWN_RAM = 1024**2


#: The decoded-frame cache's default bound on disk, MiB (about 13 JPEG 2000 CTs of 300 slices).
DEFAULT_FRAME_CACHE_MB = 2048


def physical_memory_mb() -> int | None:
    """The machine's RAM in MiB (None if unknown)."""
    physical = limits.physical_memory()
    return None if physical is None else physical // MIB


def default_memory_budget_mb() -> int:
    """Half the machine's RAM (limits.MEMORY_BUDGET_FRACTION), in MiB."""
    return max(MIN_MEMORY_MB, limits.default_memory_budget() // MIB)


def memory_budget_range_mb() -> tuple[int, int]:
    """The memory budgets accepted, in MiB: MIN_MEMORY_MB up to the machine's RAM."""
    physical = physical_memory_mb()
    return MIN_MEMORY_MB, max(MIN_MEMORY_MB, physical or MAX_MEMORY_MB_UNKNOWN_RAM)


class ViewerSettings(QObject):
    """Typed access to ``settings.ini``; :attr:`changed` names the group that was written."""

    #: "theme", "recent", "mouse", "window_level", "zoom", "presets", "memory", "keys" or
    #: "rendering"
    changed = Signal(str)

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
        """Button ("left", "middle", "right") -> tool name (one of
        :func:`viewer.model.tools.registry.mouse_tools`)."""
        mapping = {}
        for button in MOUSE_BUTTONS:
            value = self._store.value(f"mouse/{button}")
            mapping[button] = value if value in mouse_tools() else DEFAULT_MOUSE_MAPPING[button]
        return mapping

    def set_mouse_mapping(self, mapping: Mapping[str, str]) -> None:
        for button, action in mapping.items():
            if button not in MOUSE_BUTTONS or action not in mouse_tools():
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

    def zoom_speed(self) -> float:
        """The zoom drag speed (a factor on 2x per 200 px); the default where none is valid."""
        low, high = ZOOM_SPEED_RANGE
        speed = _to_float(self._store.value("zoom/speed"))
        return speed if speed is not None and low <= speed <= high else DEFAULT_ZOOM_SPEED

    def set_zoom_speed(self, speed: float) -> None:
        low, high = ZOOM_SPEED_RANGE
        if not low <= speed <= high:
            raise ValueError(f"zoom speed must be within {low}..{high}")
        self._store.setValue("zoom/speed", speed)
        self.changed.emit("zoom")

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

    def interaction(self) -> Interaction:
        """Mouse mapping, W/L drag and presets together, as the image views apply them."""
        return Interaction(
            self.mouse_mapping(), self.window_level_drag(), self.presets(), self.zoom_speed()
        )

    # --- memory -------------------------------------------------------------------------------
    def memory_budget_mb(self) -> int:
        """The memory budget for decoded pixels in MiB (the default: half the RAM)."""
        low, high = memory_budget_range_mb()
        value = _to_int(self._store.value("memory/budget_mb"))
        return value if value is not None and low <= value <= high else default_memory_budget_mb()

    def set_memory_budget_mb(self, megabytes: int) -> None:
        """Store the budget (the default is stored as "unset", so it follows the machine)."""
        low, high = memory_budget_range_mb()
        if not low <= megabytes <= high:
            raise ValueError(f"the memory budget must be within {low}..{high} MiB")
        if megabytes == default_memory_budget_mb():
            self._store.remove("memory/budget_mb")
        else:
            self._store.setValue("memory/budget_mb", int(megabytes))
        self.changed.emit("memory")

    def frame_cache_mb(self) -> int:
        """The decoded-frame cache's bound on disk in MiB (0: off; default
        :data:`DEFAULT_FRAME_CACHE_MB`; see viewer.dicom.pixels.frame_store)."""
        value = _to_int(self._store.value("memory/frame_cache_mb"))
        return value if value is not None and value >= 0 else DEFAULT_FRAME_CACHE_MB

    def set_frame_cache_mb(self, megabytes: int) -> None:
        if megabytes < 0:
            raise ValueError("the decoded-frame cache size cannot be negative")
        self._store.setValue("memory/frame_cache_mb", int(megabytes))
        self.changed.emit("memory")

    # --- 3D presets ---------------------------------------------------------------------------
    def vr_presets(self) -> tuple[VrPreset, ...]:
        """The user's 3D presets (saved from the 3D view's editor); unreadable ones skipped."""
        text = self._store.value("volume3d/presets")
        if not text:
            return ()
        try:
            entries = json.loads(str(text))
        except ValueError:
            log.warning("ignoring unreadable 3D presets")
            return ()
        presets = []
        for entry in entries if isinstance(entries, list) else ():
            try:
                presets.append(preset_from_json(entry))
            except ValueError as error:
                log.warning("ignoring a stored 3D preset: %s", error)
        return tuple(presets)

    def set_vr_presets(self, presets: Sequence[VrPreset]) -> None:
        self._store.setValue("volume3d/presets", json.dumps([preset_to_json(p) for p in presets]))
        self.changed.emit("volume3d")

    # --- rendering ----------------------------------------------------------------------------
    def rendering(self) -> str:
        """How views draw: "automatic" (OpenGL on a hardware GPU), "opengl" or "software"."""
        value = self._store.value("rendering/mode")
        if value in RENDERING_MODES:
            return str(value)
        if value is not None:
            log.warning("ignoring the stored rendering %r", value)
        return DEFAULT_RENDERING

    def set_rendering(self, mode: str) -> None:
        if mode not in RENDERING_MODES:
            raise ValueError(f"unknown rendering {mode!r}; choices: {', '.join(RENDERING_MODES)}")
        self._store.setValue("rendering/mode", mode)
        self.changed.emit("rendering")

    # --- keys ---------------------------------------------------------------------------------
    def shortcuts(self) -> dict[str, tuple[str, ...]]:
        """Every remappable command's keys: the stored ones where they are readable and clash
        with no other command, else the defaults."""
        defaults = default_shortcuts()
        stored = {command: self._stored_keys(command) for command in defaults}
        custom = {command: keys for command, keys in stored.items() if keys is not None}
        while True:
            table = defaults | custom
            clashing = _clashing_commands(table) & custom.keys()
            if not clashing:
                return table
            log.warning("keys given twice; the defaults are used for %s", sorted(clashing))
            for command in clashing:
                del custom[command]

    def _stored_keys(self, command: str) -> tuple[str, ...] | None:
        name = f"keys/{command}"
        if not self._store.contains(name):
            return None
        keys = _to_keys(self._store.value(name))
        if keys is None:
            log.warning("ignoring the stored keys of %s", command)
        return keys

    def set_shortcuts(self, shortcuts: Shortcuts) -> None:
        """Store ``shortcuts`` (command -> keys; commands left out keep theirs). Raises
        ValueError for an unknown command, an unreadable key or a key given twice."""
        defaults = default_shortcuts()
        table = self.shortcuts()
        for command, keys in shortcuts.items():
            if command not in defaults:
                raise ValueError(f"no command {command!r} to give keys to")
            table[command] = _checked_keys(command, keys)
        conflicts = shortcut_conflicts(table)
        if conflicts:
            raise ValueError(" ".join(conflicts))
        for command, keys in table.items():
            if keys == defaults[command]:
                self._store.remove(f"keys/{command}")
            else:  # "" for no key (an empty list would be written as @Invalid())
                self._store.setValue(f"keys/{command}", list(keys) if keys else "")
        self.changed.emit("keys")


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


def _to_keys(value: Any) -> tuple[str, ...] | None:
    """Stored keys: a list, one key, or "" for none (QSettings splits "A, B" into a list)."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if items is None:
        return None
    if items == [""]:
        return ()
    keys = tuple(normal_key(str(item)) for item in items)
    if not keys or len(keys) > MAX_KEYS_PER_COMMAND or None in keys:
        return None
    return tuple(dict.fromkeys(key for key in keys if key is not None))


def _checked_keys(command: str, keys: Sequence[str]) -> tuple[str, ...]:
    normal = tuple(normal_key(key) for key in keys)
    if None in normal or len(normal) > MAX_KEYS_PER_COMMAND:
        raise ValueError(f"cannot give {command!r} the keys {list(keys)!r}")
    return tuple(dict.fromkeys(key for key in normal if key is not None))


def _clashing_commands(table: Shortcuts) -> set[str]:
    """Commands that share a key with another command."""
    owners: dict[str, set[str]] = {}
    for command, keys in table.items():
        for key in keys:
            owners.setdefault(key, set()).add(command)
    return {command for commands in owners.values() if len(commands) > 1 for command in commands}


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
