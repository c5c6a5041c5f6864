"""The application's icons, found the same way installed, frozen or from a source checkout.

The files live at the repository root in ``resources/`` (``app/`` the application icon, ``icons/``
the toolbar set). A wheel carries them as ``viewer/_resources`` (see setup.py) and the
PyInstaller bundle puts them at the same place, so :func:`importlib.resources.files` on the
``viewer`` package finds them; a source checkout falls back to ``resources/`` itself.
No Qt here: Qt-side helpers turn these bytes into icons (:mod:`viewer.qt.icons`).
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Traversable

#: Name of the folder, inside the ``viewer`` package, that holds the resources when installed.
INSTALLED_FOLDER = "_resources"
APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
APP_ICON_NAME = "dicom-viewer"
#: The toolbar set: 24 x 24 line icons drawn with ``currentColor`` (the theme recolours them).
TOOLBAR_ICONS = (
    "open-folder",
    "open-file",
    "window-level",
    "zoom",
    "pan",
    "invert",
    "reset",
    "cine-play",
    "cine-pause",
    "layouts",
    "layout-1x1",
    "layout-1x2",
    "layout-2x1",
    "rotate",
    "flip-horizontal",
    "flip-vertical",
    "mpr",
    "tags",
    "export",
    "settings",
    "help",
    "measure-pointer",
    "measure-length",
    "measure-angle",
    "measure-ellipse",
    "measure-rectangle",
    "measure-probe",
    "measure-arrow",
    "measure-text",
    "measure-cobb",
    "measure-bidirectional",
    "measure-polygon",
    "measure-freehand",
)


class ResourceMissing(LookupError):
    """A resource file is not where the package says it is (a broken install)."""


@functools.cache
def resources_root() -> Traversable:
    """The folder holding ``app/`` and ``icons/``."""
    installed = resources.files("viewer") / INSTALLED_FOLDER
    if installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[2] / "resources"
    if checkout.is_dir():
        return checkout
    raise ResourceMissing(f"no {INSTALLED_FOLDER} folder in the viewer package, no {checkout}")


def read_resource(*parts: str) -> bytes:
    """The bytes of ``resources/<parts...>``, e.g. ``read_resource("icons", "zoom.svg")``."""
    item = resources_root().joinpath(*parts)
    if not item.is_file():
        raise ResourceMissing("/".join(parts))
    return item.read_bytes()


def toolbar_icon_svg(name: str) -> bytes:
    """A toolbar icon's SVG (one of :data:`TOOLBAR_ICONS`), drawn in ``currentColor``."""
    if name not in TOOLBAR_ICONS:
        raise ResourceMissing(f"no toolbar icon named {name!r}")
    return read_resource("icons", f"{name}.svg")


def app_icon_svg() -> bytes:
    return read_resource("app", f"{APP_ICON_NAME}.svg")


def app_icon_png(size: int) -> bytes:
    """The application icon as PNG, ``size`` one of :data:`APP_ICON_SIZES`."""
    if size not in APP_ICON_SIZES:
        raise ResourceMissing(f"no {size} px application icon; sizes: {APP_ICON_SIZES}")
    return read_resource("app", f"{APP_ICON_NAME}-{size}.png")
