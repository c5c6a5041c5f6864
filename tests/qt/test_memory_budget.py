"""One memory budget (issues 7 and 8): set in Preferences > Memory, applied at start-up and at
once on change, it caps volumes (a volume larger than it is refused with the reason) and gives
the frame cache its share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests import gui_driving
from viewer.dicom import limits
from viewer.dicom.pixels.frame_cache import FRAME_CACHE_SHARE
from viewer.qt.app import make_application
from viewer.qt.main_window import MainWindow
from viewer.qt.preferences import PreferencesDialog
from viewer.qt.settings import (
    MIB,
    MIN_MEMORY_MB,
    ViewerSettings,
    default_memory_budget_mb,
    physical_memory_mb,
)


@pytest.fixture(autouse=True)
def default_budget_afterwards() -> Iterator[None]:
    """The budget is process-wide: later tests get the default again."""
    yield
    limits.set_memory_budget(None)


def stored_budget(megabytes: int) -> None:
    """What a previous run of the viewer left in the user's settings file."""
    make_application()
    settings = ViewerSettings()
    settings.set_memory_budget_mb(megabytes)
    settings.sync()


@pytest.fixture
def new_window(qtbot) -> Iterator[type[MainWindow]]:  # type: ignore[no-untyped-def]
    windows: list[Iterator[MainWindow]] = []

    def make() -> MainWindow:
        shown = gui_driving.shown_main_window(qtbot)
        windows.append(shown)
        return next(shown)

    yield make  # type: ignore[misc]
    for shown in windows:
        next(shown, None)  # shuts the window down


def test_the_budget_applies_at_start_up_and_on_change(new_window) -> None:  # type: ignore[no-untyped-def]
    stored_budget(2048)
    window = new_window()
    assert limits.memory_budget() == 2048 * MIB
    assert window.loader.cache.budget_bytes == 512 * MIB  # the cache's quarter
    window.window_settings.settings.set_memory_budget_mb(1024)
    assert limits.memory_budget() == 1024 * MIB
    assert window.loader.cache.budget_bytes == 256 * MIB


def test_the_default_is_half_the_ram(new_window) -> None:  # type: ignore[no-untyped-def]
    window = new_window()
    physical = physical_memory_mb()
    assert physical is not None  # /proc/meminfo here
    assert abs(default_memory_budget_mb() - physical / 2) <= 1
    assert limits.memory_budget() == default_memory_budget_mb() * MIB
    budget = limits.memory_budget()
    assert window.loader.cache.budget_bytes == int(budget * FRAME_CACHE_SHARE)


def test_preferences_show_the_budget_beside_the_ram(new_window) -> None:  # type: ignore[no-untyped-def]
    window = new_window()
    dialog = window.window_settings.show_preferences()
    assert isinstance(dialog, PreferencesDialog)
    dialog.memory_mb.setValue(4096)
    physical = physical_memory_mb()
    assert physical is not None
    assert f"= 4.0 GiB, {4096 / physical:.0%} of this machine's" in dialog.memory_size.text()
    assert f"{physical / 1024:.1f} GiB RAM" in dialog.memory_size.text()
    assert dialog.cache_size.text().startswith("up to 1.0 GiB")
    assert dialog.memory_mb.maximum() == physical and dialog.memory_mb.minimum() == MIN_MEMORY_MB
    dialog.accept()
    assert limits.memory_budget() == 4096 * MIB  # applied at once


def test_a_volume_over_the_budget_is_refused_with_the_reason(
    qtbot,  # type: ignore[no-untyped-def]
    new_window,
    demo_study: Path,
) -> None:
    """The demo CT is 192 x 256 x 256 int16 (24 MiB); a 16 MiB budget cannot hold it."""
    stored_budget(MIN_MEMORY_MB)
    window = new_window()
    gui_driving.open_and_wait(qtbot, window, [str(demo_study)])
    uid = next(s.uid for s in window.catalog.all_series() if s.info.modality == "CT")
    window.select_series(uid)
    qtbot.waitUntil(lambda: window.state.series_uid == uid and window.viewport.frame is not None)
    QTest.keyClick(window, Qt.Key.Key_M)  # MPR: the real volume load
    view = window.mpr_view
    assert view is not None
    qtbot.waitUntil(lambda: "memory budget" in view.readout.text(), timeout=30_000)
    reason = view.readout.text()
    assert "the volume needs 24.0 MiB, more than the memory budget of 16.0 MiB" in reason
    assert reason.endswith("(Settings > Preferences > Memory)")  # where to raise it
    assert view.state is None  # nothing was loaded
    assert "memory budget of 16.0 MiB" in window.statusBar().currentMessage()
    QTest.keyClick(window, Qt.Key.Key_M)  # back to the slices, which still scroll
    start = window.state.index
    gui_driving.wheel_down(window, 2)
    assert window.state.index == start + 2
