"""Where the viewer keeps per-user files: settings, logs and its cache (no Qt, so headless code
may ask).

Each folder honours an absolute XDG variable on every platform (so tests and sandboxes can
redirect it), else the platform's usual place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP_FOLDER = "dicom-viewer"


def config_dir() -> Path:
    """The folder holding ``settings.ini``."""
    return _config_base(sys.platform, os.environ, Path.home()) / APP_FOLDER


def log_dir() -> Path:
    """The folder holding the rotating log file."""
    return _log_base(sys.platform, os.environ, Path.home()) / APP_FOLDER


def cache_dir() -> Path:
    """The folder holding what the viewer can make again: the demo study, benchmark data and
    the per-process scratch folders (:mod:`viewer.scratch`: zips unpacked while open)."""
    return _cache_base(sys.platform, os.environ, Path.home()) / APP_FOLDER


def _absolute_env(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name, "")
    return Path(value) if value and os.path.isabs(value) else None


def _config_base(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CONFIG_HOME``, else Application Support / %APPDATA% / ~/.config."""
    xdg = _absolute_env(environ, "XDG_CONFIG_HOME")
    if xdg is not None:
        return xdg
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform == "win32":
        return _absolute_env(environ, "APPDATA") or home / "AppData" / "Roaming"
    return home / ".config"


def _log_base(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_STATE_HOME``, else ~/Library/Logs / %LOCALAPPDATA% / ~/.local/state."""
    xdg = _absolute_env(environ, "XDG_STATE_HOME")
    if xdg is not None:
        return xdg
    if platform == "darwin":
        return home / "Library" / "Logs"
    if platform == "win32":
        return _absolute_env(environ, "LOCALAPPDATA") or home / "AppData" / "Local"
    return home / ".local" / "state"


def _cache_base(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CACHE_HOME``, else ~/Library/Caches / %LOCALAPPDATA% / ~/.cache (the same root
    as :func:`viewer.demo.default_demo_dir`)."""
    xdg = _absolute_env(environ, "XDG_CACHE_HOME")
    if xdg is not None:
        return xdg
    if platform == "darwin":
        return home / "Library" / "Caches"
    if platform == "win32":
        return _absolute_env(environ, "LOCALAPPDATA") or home / "AppData" / "Local"
    return home / ".cache"
