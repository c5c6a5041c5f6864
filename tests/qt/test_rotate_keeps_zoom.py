"""Rotating or flipping a zoomed image keeps the zoom and the anatomy at the centre of the view.

A radiologist who zoomed into a region and turns the image expects to keep looking at that
region at that magnification; only a new series, Reset (R) and Fit (F) fit the whole image.
Driven with the real keys on a non-square image with non-square pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests import factories
from tests.gui_driving import open_and_wait, shown_main_window
from viewer.qt.image_view import ImageViewport
from viewer.qt.main_window import MainWindow

KEYS = {
    "rotate clockwise": Qt.Key.Key_BracketRight,
    "rotate counter-clockwise": Qt.Key.Key_BracketLeft,
    "flip horizontally": Qt.Key.Key_H,
    "flip vertically": Qt.Key.Key_V,
}


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    for main in shown_main_window(qtbot):
        factories.write_series(
            tmp_path, slices=3, rows=120, columns=200, pixel_spacing=(0.6, 0.9), modality="MR"
        )
        open_and_wait(qtbot, main, [str(tmp_path)])
        qtbot.waitUntil(lambda m=main: m.viewport.frame is not None)
        main.activateWindow()  # key shortcuts need the main window active
        qtbot.waitUntil(lambda m=main: QApplication.activeWindow() is m)
        main.viewport.setFocus()
        yield main


def view_scale(view: ImageViewport) -> tuple[float, float]:
    """Millimetres per screen pixel, across and down: the magnification."""
    x, y = view.view_box.viewPixelSize()
    return (float(x), float(y))


def centre_pixel(view: ImageViewport) -> QPointF:
    """The (column, row) image point at the centre of the view."""
    return view.view_to_pixel(view.view_box.viewRect().center())


def zoom_into_a_corner(view: ImageViewport) -> None:
    """Zoom 3x at the image point (column 40, row 30), as Ctrl+wheel there would."""
    view.view_box.zoom(3.0, view.pixel_to_view(QPointF(40.0, 30.0)))
    QApplication.processEvents()


@pytest.mark.parametrize("command", list(KEYS))
def test_rotate_and_flip_keep_zoom_and_centre(window: MainWindow, command: str) -> None:
    view = window.viewport
    fitted = view_scale(view)
    zoom_into_a_corner(view)
    scale, centre, placed = view_scale(view), centre_pixel(view), view.image_bounds()
    assert scale[0] == pytest.approx(fitted[0] / 3.0)
    QTest.keyClick(view, KEYS[command])
    QApplication.processEvents()
    assert view.image_bounds() != placed or command.startswith("flip")  # the image did turn
    assert window.state.screen_matrix != (1, 0, 0, 1)
    assert view_scale(view) == pytest.approx(scale)
    after = centre_pixel(view)
    assert (after.x(), after.y()) == pytest.approx((centre.x(), centre.y()), abs=1e-6)


def test_four_quarter_turns_come_back_to_the_same_view(window: MainWindow) -> None:
    view = window.viewport
    zoom_into_a_corner(view)
    before = view.view_box.viewRect()
    for _ in range(4):
        QTest.keyClick(view, Qt.Key.Key_BracketRight)
    QApplication.processEvents()
    after = view.view_box.viewRect()
    assert (after.x(), after.y(), after.width(), after.height()) == pytest.approx(
        (before.x(), before.y(), before.width(), before.height())
    )


def test_fit_and_reset_still_fit(window: MainWindow) -> None:
    view = window.viewport
    fitted = view_scale(view)
    zoom_into_a_corner(view)
    QTest.keyClick(view, Qt.Key.Key_BracketRight)
    QTest.keyClick(view, Qt.Key.Key_F)  # the turned image (200 x 0.9 mm tall) fits again
    bounds = view.image_bounds()
    visible = view.view_box.viewRect()
    assert visible.contains(bounds)
    assert bounds.height() / visible.height() == pytest.approx(1 / 1.04, rel=0.01)
    zoom_into_a_corner(view)
    QTest.keyClick(view, Qt.Key.Key_R)
    assert window.state.screen_matrix == (1, 0, 0, 1)
    assert view_scale(view) == pytest.approx(fitted)
