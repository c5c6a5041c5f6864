"""MPR of a MONOCHROME1 volume shows low values white, as the 2D view does (PS3.3 C.7.6.3.1.2).

A small MONOCHROME1 series (a "bone" block of low values in a high background, as a CR
shows bone) is opened in the real window, switched to MPR with the M key, and the grey levels
are read off every view: bone white, background black, the axial view equal to the 2D view of
the same slice; the Invert box turns it around, as I does in 2D.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests import factories
from tests.gui_driving import open_and_wait, shown_main_window
from viewer.model import mpr
from viewer.model.mpr import View
from viewer.model.window_level import Voi
from viewer.qt.main_window import MainWindow
from viewer.qt.mpr_view import MprView

SLICES, ROWS, COLUMNS = 12, 32, 32
BONE, BACKGROUND = 200, 3000  # stored values: MONOCHROME1 shows the low one white
BONE_BLOCK = (slice(3, 10), slice(8, 24), slice(8, 24))  # (slices, rows, columns)


def write_monochrome1_volume(folder: Path) -> None:
    truth = factories.write_series(
        folder, slices=SLICES, rows=ROWS, columns=COLUMNS, spacing=1.0, modality="MR"
    )
    block = np.full((SLICES, ROWS, COLUMNS), BACKGROUND, dtype=np.uint16)
    block[BONE_BLOCK] = BONE
    for index, path in enumerate(truth.paths):
        ds = dcmread(path)
        ds.PhotometricInterpretation = "MONOCHROME1"
        ds.WindowCenter, ds.WindowWidth = "1600", "2000"  # bone and background saturate
        ds.PixelData = block[index].tobytes()
        factories.save(ds, Path(path))


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    for main in shown_main_window(qtbot):
        write_monochrome1_volume(tmp_path)
        open_and_wait(qtbot, main, [str(tmp_path)])
        qtbot.waitUntil(lambda m=main: m.viewport.frame is not None)
        main.activateWindow()
        qtbot.waitUntil(lambda m=main: QApplication.activeWindow() is m)
        yield main


def open_mpr(qtbot, window: MainWindow) -> MprView:  # type: ignore[no-untyped-def]
    QTest.keyClick(window, Qt.Key.Key_M)
    view = window.mpr_view
    assert view is not None
    qtbot.waitUntil(lambda: view.ready, timeout=60_000)
    qtbot.waitUntil(lambda: all(view.views[v].final for v in View), timeout=30_000)
    return view


def at_point(view: MprView, which: View) -> int:
    """The 8-bit grey shown at the crosshair point (the volume centre: inside the bone)."""
    state, shown = view.state, view._shown[which]
    assert state is not None
    column, row, _ = shown.plane.pixel_of(state.point)
    return int(view.views[which].image_item.image[round(row), round(column)])


def corner(view: MprView, which: View) -> int:
    return int(view.views[which].image_item.image[0, 0])


def test_mpr_shows_monochrome1_bone_white_like_the_2d_view(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    two_d = window.viewport.image_item.image.copy()
    assert window.state.index == SLICES // 2  # a slice through the bone block
    assert two_d[16, 16] == 255 and two_d[0, 0] == 0  # 2D: bone white, background black
    view = open_mpr(qtbot, window)
    state = view.state
    assert state is not None and state.volume.shows_inverted and not state.invert
    for which in View:
        assert at_point(view, which) == 255, which
        assert corner(view, which) == 0, which
    assert np.array_equal(view.views[View.AXIAL].image_item.image, two_d)
    view.invert_box.setChecked(True)  # the user's invert, on top of MONOCHROME1
    qtbot.waitUntil(lambda: at_point(view, View.AXIAL) == 0)
    for which in View:
        assert at_point(view, which) == 0 and corner(view, which) == 255, which


def test_fill_outside_a_monochrome1_volume_displays_black() -> None:
    voxels = np.full((4, 6, 6), BACKGROUND, dtype=np.uint16)
    voxels[1:3, 2:4, 2:4] = BONE
    volume = mpr.MprVolume.from_arrays(voxels, np.eye(4), shows_inverted=True)
    assert volume.stored_range == (BONE, BACKGROUND)
    assert volume.fill == BACKGROUND  # outside an oblique plane: black, not white
    shown = mpr.to_display(
        np.array([[volume.fill, BONE]], np.float32), Voi(600, 2600), 1.0, 0.0, invert=True
    )
    assert shown.tolist() == [[0, 255]]
    state = mpr.MprState(volume, Voi(600, 2600))
    assert state.displays_inverted
    state.set_invert(True)
    assert not state.displays_inverted
