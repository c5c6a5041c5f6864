"""Icons: present, well-formed, found from a source checkout and from an installed wheel."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from viewer.core import resources
from viewer.core.resources import (
    APP_ICON_SIZES,
    TOOLBAR_ICONS,
    ResourceMissing,
    app_icon_png,
    app_icon_svg,
    toolbar_icon_svg,
)

REPO = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}svg"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("name", TOOLBAR_ICONS)
def test_toolbar_icons_are_24px_line_svgs_in_current_color(name: str) -> None:
    root = ElementTree.fromstring(toolbar_icon_svg(name))
    assert root.tag == SVG
    assert root.get("viewBox") == "0 0 24 24"
    assert root.get("stroke") == "currentColor"  # the theme recolours them
    assert root.get("fill") == "none"


def test_app_icon_has_every_png_size_and_an_svg() -> None:
    assert ElementTree.fromstring(app_icon_svg()).tag == SVG
    for size in APP_ICON_SIZES:
        assert png_size(app_icon_png(size)) == (size, size)


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ResourceMissing):
        toolbar_icon_svg("no-such-icon")
    with pytest.raises(ResourceMissing):
        app_icon_png(17)


def test_every_svg_in_resources_icons_is_listed() -> None:
    files = {path.stem for path in (REPO / "resources" / "icons").glob("*.svg")}
    assert files == set(TOOLBAR_ICONS)


def test_installed_wheel_loads_icons(tmp_path: Path) -> None:
    """Build the wheel from a copy of the tree, install it, load icons away from the checkout."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "viewer", source / "viewer", ignore=ignore)
    shutil.copytree(REPO / "resources", source / "resources", ignore=ignore)
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("dicom_viewer-*.whl")
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "from viewer.core import resources as r\n"
        "root = r.resources_root()\n"
        "print(root)\n"
        "assert b'currentColor' in r.toolbar_icon_svg('zoom')\n"
        "assert r.app_icon_png(256)[:4] == b'\\x89PNG'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == target / "viewer" / "_resources"


def test_checkout_fallback_is_the_repository_folder() -> None:
    resources.resources_root.cache_clear()
    assert Path(str(resources.resources_root())) == REPO / "resources"
