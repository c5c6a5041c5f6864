"""Fixtures of the GUI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gui_driving import module_main_window
from viewer.qt.main_window import MainWindow


@pytest.fixture(scope="module")
def window(demo_study: Path) -> Iterator[MainWindow]:
    """One shown main window with the demo study open, shared by the tests of a module (its
    settings file in that module's user folders, see tests/conftest.py). A module that needs
    another window (one per test, other data) defines its own ``window``."""
    yield from module_main_window([str(demo_study)])
