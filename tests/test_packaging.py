"""Opt-in: build the PyInstaller app and smoke-test it (minutes; not in the normal suite).

DICOM_VIEWER_BUILD_APP=1 .venv/bin/python -m pytest tests/test_packaging.py
"""

from __future__ import annotations

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
