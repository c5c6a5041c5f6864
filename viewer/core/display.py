"""Why the GUI cannot start here, as one line naming the fix (no Qt imported).

Without a display Qt's xcb platform aborts the process (exit 134) after several lines of its
own text; a missing xcb library does the same with a misleading hint. :func:`display_problem`
answers before Qt is imported (DISPLAY unset) and :func:`platform_failure` after Qt gave up
(:func:`viewer.qt.app.make_application` turns its fatal message into that line, exit 1).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

#: Platform plugins that need no screen at all.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "minimalegl")
OFFSCREEN_HINT = "or QT_QPA_PLATFORM=offscreen to run without a screen"


def requested_platform(env: Mapping[str, str]) -> str:
    """The Qt platform plugin Qt will try first ('' for its default)."""
    return env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip().lower()


def display_problem(
    env: Mapping[str, str] | None = None, platform: str = sys.platform
) -> str | None:
    """The one-line reason the GUI cannot open a window, or None when it may (checked cheaply:
    only what the environment says, before Qt loads)."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    requested = requested_platform(env)
    if requested in HEADLESS_PLATFORMS or requested.startswith("wayland"):
        return None
    if not requested and env.get("WAYLAND_DISPLAY"):
        return None  # Qt 6 picks its Wayland plugin there
    if not env.get("DISPLAY"):
        return f"no display to open a window on: set DISPLAY (an X server), {OFFSCREEN_HINT}"
    return None


def platform_failure(qt_message: str, plugin: Path | None = None) -> str:
    """The one-line reason after Qt could not start its platform plugin (``qt_message``: what
    Qt said), naming a missing library when the xcb plugin cannot be loaded."""
    missing = missing_library(plugin if plugin is not None else xcb_plugin())
    if missing:
        return (
            f"the Qt xcb platform cannot load {missing} (on Debian/Ubuntu: apt-get install "
            f"{debian_package(missing)}), {OFFSCREEN_HINT}"
        )
    if "connect to display" in qt_message or not os.environ.get("DISPLAY"):
        shown = os.environ.get("DISPLAY", "")
        return f"cannot connect to the display {shown!r}: check DISPLAY, {OFFSCREEN_HINT}"
    first = " ".join(qt_message.split())[:200]
    return f"Qt cannot start its platform plugin ({first}); {OFFSCREEN_HINT}"


def xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.exists() else None


def missing_library(plugin: Path | None) -> str | None:
    """The shared library the dynamic loader cannot find for ``plugin``, if any."""
    if plugin is None:
        return None
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as error:
        match = re.search(r"([\w.+-]+\.so[.\d]*): cannot open shared object", str(error))
        return match.group(1) if match else None
    return None


def debian_package(library: str) -> str:
    """``libxcb-icccm.so.4`` -> ``libxcb-icccm4``; ``libxkbcommon-x11.so.0`` ->
    ``libxkbcommon-x11-0`` (Debian's shared-library package names, Debian Policy 8.1)."""
    match = re.fullmatch(r"(.+)\.so\.(\d+)(?:\.\d+)*", library)
    if not match:
        return library
    name, version = match.groups()
    package = f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"
    return package.lower()
