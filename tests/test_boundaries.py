"""The two architectural boundaries: no Qt below viewer.qt, and headless verbs stay headless."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import viewer.dicom
import viewer.model
import viewer.store

QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6", "viewer.qt")


def _modules(package: object) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    return [info.name for info in pkgutil.walk_packages(path, prefix)]


def _imports_qt(code: str) -> list[str]:
    probe = (
        f"{code}\nimport sys\n"
        f"print(','.join(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}"
        f" or m.startswith('viewer.qt')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_dicom_and_model_never_import_qt() -> None:
    modules = (
        _modules(viewer.dicom) + _modules(viewer.model) + _modules(viewer.store) + ["viewer.demo"]
    )
    code = "\n".join(f"import {name}" for name in modules)
    assert _imports_qt(code) == []


def test_headless_verbs_do_not_import_qt() -> None:
    code = "from viewer.__main__ import build_parser\nbuild_parser()"
    assert _imports_qt(code) == []


def test_version_answers_without_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "viewer", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("dicom-viewer ")
