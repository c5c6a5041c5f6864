"""Overlay planes (60xx, PS3.3 C.9.2) drawn in the real image view, read off its screen pixels.

Siemens' MR with graphics overlays (pydicom-data) and a synthetic plane with an offset Overlay
Origin on non-square pixels: the overlay colour appears on exactly the image pixels the overlay
data marks, follows a rotation, and the O key (and an export without overlays) hides it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests import factories
from tests.gui_driving import open_and_wait, shown_main_window
from viewer.qt.main_window import MainWindow
from viewer.qt.overlay_planes import OVERLAY_RGB

SIEMENS_OVERLAY = "MR-SIEMENS-DICOM-WithOverlays.dcm"


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def open_file(qtbot, window: MainWindow, path: str, planes: int) -> None:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, [path])
    view = window.viewport
    qtbot.waitUntil(lambda: view.frame is not None and view.overlay_planes.count == planes)
    window.activateWindow()  # key shortcuts need the main window active
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    view.setFocus()


def screen_rgb(window: MainWindow) -> np.ndarray:
    """The image area as (rows, columns, 3) RGB, without the text layer."""
    return rgb_of(window.viewport.viewport().grab().toImage())


def rgb_of(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rows = data.reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def screen_points(window: MainWindow, pixels: np.ndarray) -> np.ndarray:
    """Screen (x, y) of the centres of image pixels given as (row, column) pairs."""
    view = window.viewport
    points = []
    for row, column in pixels:
        device = view.view_box.mapViewToDevice(view.pixel_to_view(QPointF(column + 0.5, row + 0.5)))
        points.append((round(device.x() - 0.5), round(device.y() - 0.5)))
    return np.array(points)


def overlay_coloured(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """True where the screen shows the overlay colour (the image itself is grey)."""
    samples = rgb[points[:, 1], points[:, 0]].astype(int)
    expected = np.array(OVERLAY_RGB)
    return np.abs(samples - expected).max(axis=1) <= 40


def coloured_pixels(rgb: np.ndarray) -> int:
    """How many pixels of an image show the overlay colour."""
    distance = np.abs(rgb.astype(int) - np.array(OVERLAY_RGB)).max(axis=2)
    return int((distance <= 40).sum())


def isolated_background(mask: np.ndarray, count: int) -> np.ndarray:
    """(row, column) of image pixels with no overlay pixel within 3 pixels, spread out."""
    grown = mask.copy()
    for dr in range(-3, 4):
        for dc in range(-3, 4):
            grown |= np.roll(np.roll(mask, dr, axis=0), dc, axis=1)
    rows, columns = np.nonzero(~grown)
    keep = np.linspace(0, len(rows) - 1, count).astype(int)
    return np.stack([rows[keep], columns[keep]], axis=1)


def assert_overlay_shown(window: MainWindow, mask: np.ndarray, shown: bool) -> None:
    QApplication.processEvents()
    rgb = screen_rgb(window)
    marked = overlay_coloured(rgb, screen_points(window, np.argwhere(mask)))
    if shown:
        assert marked.mean() >= 0.97, f"{marked.mean():.1%} of the overlay's pixels coloured"
    else:
        assert not marked.any()
    clear = overlay_coloured(rgb, screen_points(window, isolated_background(mask, 400)))
    assert not clear.any()  # nothing is coloured where the overlay data has no bit set


def test_siemens_graphics_overlay_on_the_mr(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    path = get_testdata_file(SIEMENS_OVERLAY, download=False)
    if path is None:
        pytest.skip(f"{SIEMENS_OVERLAY} comes with pydicom-data (pip install pydicom-data)")
    truth = dcmread(path).overlay_array(0x6000).astype(bool)  # 484 x 484, origin (1, 1)
    open_file(qtbot, window, str(path), planes=1)
    assert_overlay_shown(window, truth, shown=True)
    QTest.keyClick(window.viewport, Qt.Key.Key_BracketRight)  # rotate: the overlay turns along
    assert_overlay_shown(window, truth, shown=True)
    QTest.keyClick(window.viewport, Qt.Key.Key_O)
    assert not window.viewport.overlay_planes.visible
    assert "Overlays hidden" in window.statusBar().currentMessage()
    assert_overlay_shown(window, truth, shown=False)
    QTest.keyClick(window.viewport, Qt.Key.Key_O)
    assert_overlay_shown(window, truth, shown=True)
    assert coloured_pixels(rgb_of(window.viewport.render_view(overlays=True))) > 300
    assert coloured_pixels(rgb_of(window.viewport.render_view(overlays=False))) == 0
    assert window.viewport.overlay_planes.visible  # and they come back on screen


def add_overlay(ds: Dataset, mask: np.ndarray, origin: tuple[int, int], kind: str) -> None:
    """An overlay plane in group 6000 (PS3.3 C.9.2): ``origin`` 1-based (row, column)."""
    bits = np.packbits(mask.astype(np.uint8).ravel(), bitorder="little").tobytes()
    ds.add_new(0x60000010, "US", mask.shape[0])
    ds.add_new(0x60000011, "US", mask.shape[1])
    ds.add_new(0x60000040, "CS", kind)
    ds.add_new(0x60000050, "SS", list(origin))
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OB", bits + b"\x00" * (len(bits) % 2))


def test_overlay_origin_and_pixel_aspect(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plane = np.zeros((9, 12), dtype=bool)
    plane[0, :] = plane[-1, :] = plane[:, 0] = plane[:, -1] = True  # a box outline
    plane[4, 3:9] = True
    truth = factories.write_series(
        tmp_path,
        slices=1,
        rows=40,
        columns=48,
        pixel_spacing=(0.5, 1.0),  # pixels twice as wide as high
        modality="MR",
        per_slice=lambda _k, ds: add_overlay(ds, plane, (7, 11), "G"),
    )
    open_file(qtbot, window, truth.paths[0], planes=1)
    on_image = np.zeros((40, 48), dtype=bool)
    on_image[6:15, 10:22] = plane  # Overlay Origin (7, 11) is the 1-based row, column
    assert_overlay_shown(window, on_image, shown=True)
    window.state.flip(horizontal=False)
    assert_overlay_shown(window, on_image, shown=True)


def test_images_without_overlays_draw_none(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    factories.write_series(tmp_path, slices=3, modality="MR")
    open_file(qtbot, window, str(tmp_path), planes=0)
    QTest.keyClick(window.viewport, Qt.Key.Key_O)
    assert "Overlays hidden (this image has none)" in window.statusBar().currentMessage()
