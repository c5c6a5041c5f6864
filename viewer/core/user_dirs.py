"""Where the viewer keeps per-user files: settings, logs, its data (the study database and the
managed store) and its cache (no Qt, so headless code may ask).

Each folder honours an absolute XDG variable on every platform (so tests and sandboxes can
redirect it), else the platform's usual place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_FOLDER = "dicom-viewer"


def config_dir() -> Path:
    """The folder holding ``settings.ini``."""
    return _config_base(sys.platform, os.environ, Path.home()) / APP_FOLDER


def log_dir() -> Path:
    """The folder holding the rotating log file."""
    return _log_base(sys.platform, os.environ, Path.home()) / APP_FOLDER


def data_dir() -> Path:
    """The folder holding what the user would lose: the study database and the managed store
    of copied studies (:mod:`viewer.store`)."""
    return _DATA.resolve(sys.platform, os.environ, Path.home()) / APP_FOLDER


def cache_dir() -> Path:
    """The folder holding what the viewer can make again: the demo study, benchmark data and
    the per-process scratch folders (:mod:`viewer.core.scratch`: zips unpacked while open)."""
    return _cache_base(sys.platform, os.environ, Path.home()) / APP_FOLDER


def _absolute_env(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name, "")
    return Path(value) if value and os.path.isabs(value) else None


@dataclass(frozen=True)
class _Base:
    """Where one kind of per-user folder lives on each platform (below the home folder)."""

    xdg: str  # the XDG variable that overrides it everywhere
    macos: tuple[str, ...]
    windows_env: str  # the Windows variable, else ``windows`` below the home folder
    windows: tuple[str, ...]
    other: tuple[str, ...]

    def resolve(self, platform: str, environ: Mapping[str, str], home: Path) -> Path:
        xdg = _absolute_env(environ, self.xdg)
        if xdg is not None:
            return xdg
        if platform == "darwin":
            return home.joinpath(*self.macos)
        if platform == "win32":
            return _absolute_env(environ, self.windows_env) or home.joinpath(*self.windows)
        return home.joinpath(*self.other)


_CONFIG = _Base(
    xdg="XDG_CONFIG_HOME",
    macos=("Library", "Application Support"),
    windows_env="APPDATA",
    windows=("AppData", "Roaming"),
    other=(".config",),
)
_LOG = _Base(
    xdg="XDG_STATE_HOME",
    macos=("Library", "Logs"),
    windows_env="LOCALAPPDATA",
    windows=("AppData", "Local"),
    other=(".local", "state"),
)
_DATA = _Base(
    xdg="XDG_DATA_HOME",
    macos=("Library", "Application Support"),
    windows_env="LOCALAPPDATA",
    windows=("AppData", "Local"),
    other=(".local", "share"),
)
_CACHE = _Base(
    xdg="XDG_CACHE_HOME",
    macos=("Library", "Caches"),
    windows_env="LOCALAPPDATA",
    windows=("AppData", "Local"),
    other=(".cache",),
)


def _config_base(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CONFIG_HOME``, else Application Support / %APPDATA% / ~/.config."""
    return _CONFIG.resolve(platform, environ, home)


def _log_base(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_STATE_HOME``, else ~/Library/Logs / %LOCALAPPDATA% / ~/.local/state."""
    return _LOG.resolve(platform, environ, home)


def _cache_base(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CACHE_HOME``, else ~/Library/Caches / %LOCALAPPDATA% / ~/.cache (the demo study
    is cached there too: :func:`viewer.demo.default_demo_dir`)."""
    return _CACHE.resolve(platform, environ, home)
