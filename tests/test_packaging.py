"""Opt-in: build the PyInstaller app and smoke-test it (minutes; not in the normal suite).

DICOM_VIEWER_BUILD_APP=1 .venv/bin/python -m pytest tests/test_packaging.py
"""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("DICOM_VIEWER_BUILD_APP") != "1" or not sys.platform.startswith("linux"),
    reason="builds the standalone app for minutes: set DICOM_VIEWER_BUILD_APP=1 (Linux)",
)
def test_built_app_inspects_the_demo_study() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "packaging" / "build_linux.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "inspect:" in result.stdout and "CT" in result.stdout
    assert (REPO / "dist" / "dicom-viewer" / "dicom-viewer").is_file()
    assert "libtbb" not in result.stderr  # issue 13 item 9: numba's TBB layer is left out
    assert not list((REPO / "dist" / "dicom-viewer").rglob("tbbpool*"))


def test_desktop_entry_opens_dicom_files_with_the_app_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(REPO / "packaging" / "linux" / "dicom-viewer.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert "application/dicom" in desktop["MimeType"].split(";")
    assert desktop["Exec"].startswith("dicom-viewer ") and "%F" in desktop["Exec"]
    assert desktop["Icon"] == "dicom-viewer"
    assert (REPO / "resources" / "app" / f"{desktop['Icon']}.svg").is_file()


def test_spec_freezes_the_command_and_its_icons() -> None:
    spec = (REPO / "packaging" / "dicom-viewer.spec").read_text(encoding="utf-8")
    assert '"viewer/_resources"' in spec  # where viewer.core.resources looks when frozen
    assert "freeze_support" in (REPO / "packaging" / "entry.py").read_text(encoding="utf-8")


def _fresh_account(home: Path) -> dict[str, str]:
    """The environment of a user who has never logged in: an empty HOME, no XDG folders."""
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(HOME=str(home), PATH="/usr/bin:/bin")
    return env


def _fake_build(folder: Path) -> Path:
    """A stand-in for dist/dicom-viewer (the real one takes minutes to build)."""
    app = folder / "dicom-viewer"
    (app / "_internal").mkdir(parents=True)
    binary = app / "dicom-viewer"
    binary.write_text("#!/bin/sh\necho 'dicom-viewer 0.1.0'\n", encoding="utf-8")
    binary.chmod(0o755)
    return app


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux desktop recipe")
def test_install_recipe_works_on_a_fresh_account(tmp_path: Path) -> None:
    """Issue 13 item 9: with no ~/.local at all the recipe used to stop at `ln`."""
    home = tmp_path / "home"
    env = _fresh_account(home)
    app = _fake_build(tmp_path / "dist")
    script = REPO / "packaging" / "install_linux.sh"
    for _ in range(2):  # and again over the first install
        done = subprocess.run(
            ["bash", str(script), str(app)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    command = home / ".local" / "bin" / "dicom-viewer"
    assert command.is_symlink()
    assert command.resolve() == home / ".local" / "opt" / "dicom-viewer" / "dicom-viewer"
    ran = subprocess.run([str(command)], capture_output=True, text=True, timeout=30, check=True)
    assert ran.stdout.startswith("dicom-viewer ")
    assert "is not on PATH" in done.stdout
    share = home / ".local" / "share"
    entry = share / "applications" / "dicom-viewer.desktop"
    shipped = REPO / "packaging" / "linux" / "dicom-viewer.desktop"
    assert entry.read_bytes() == shipped.read_bytes()
    icons = sorted(path.relative_to(share) for path in (share / "icons").rglob("dicom-viewer.*"))
    assert len(icons) == 8, icons  # 7 PNG sizes and the SVG
    assert not list((home / ".local" / "opt").glob("*.new"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux desktop recipe")
def test_install_recipe_desktop_only_and_its_refusals(tmp_path: Path) -> None:
    env = _fresh_account(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    script = REPO / "packaging" / "install_linux.sh"
    done = subprocess.run(
        ["bash", str(script), "--desktop-only"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "applications" / "dicom-viewer.desktop").is_file()
    assert not (tmp_path / "home" / ".local" / "bin").exists()
    missing = subprocess.run(
        ["bash", str(script), str(tmp_path / "nothing")], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 1 and "no built app" in missing.stderr


def _spec_list(name: str) -> list[str]:
    """A module-level list of strings assigned in the spec (read, not run: it needs PyInstaller)."""
    tree = ast.parse((REPO / "packaging" / "dicom-viewer.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return [ast.literal_eval(item) for item in node.value.elts]  # type: ignore[attr-defined]
    raise AssertionError(f"no {name} in the spec")


def test_spec_leaves_out_numbas_tbb_and_openmp_layers() -> None:
    """Issue 13 item 9: tbbpool links libtbb.so.12, which nothing ships, so the bundle had an
    unresolved library; the viewer never starts a numba threading layer, so both optional
    layers are left out and the frozen entry names numba's own."""
    left_out = _spec_list("NUMBA_THREADING_LAYERS_LEFT_OUT")
    assert {"numba.np.ufunc.tbbpool", "numba.np.ufunc.omppool"} <= set(left_out)
    spec = (REPO / "packaging" / "dicom-viewer.spec").read_text(encoding="utf-8")
    assert "*NUMBA_THREADING_LAYERS_LEFT_OUT," in spec  # spliced into excludes
    for path in (REPO / "viewer").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "parallel=True" not in text and "prange" not in text, path
    entry = (REPO / "packaging" / "entry.py").read_text(encoding="utf-8")
    assert 'setdefault("NUMBA_THREADING_LAYER", "workqueue")' in entry


_WITHOUT_LAYERS = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ("numba.np.ufunc.tbbpool", "numba.np.ufunc.omppool"):
            raise ImportError(f"{name} is not in the bundle")
sys.meta_path.insert(0, Refuse())
import numpy as np
from viewer.model.mpr import MprVolume, Plane, reformat, _compile_for
_compile_for("<i2")
volume = MprVolume.from_arrays(np.arange(64, dtype=np.int16).reshape(4, 4, 4), np.eye(4))
oblique = (0.6, 0.8, 0.0)  # not along the grid: sampled by the numba kernel
plane = Plane((1.5, 1.5, 1.5), oblique, (0.0, 0.0, 1.0), (0.5, 0.5), (4, 4))
print(float(np.nanmean(reformat(volume, plane))))
"""


def test_mpr_kernels_run_without_numbas_threading_layers(tmp_path: Path) -> None:
    """What the bundle lacks (tbbpool, omppool) is never needed: MPR compiles and samples."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue", "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_LAYERS],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.split()[-1]) > 0
