"""The overlay's cached layout and the image item's RGB32 hand-over, on the real demo study.

The overlay keeps each part (a corner, the letters, the scale bar, the readout) laid out
between repaints; these tests check that what it paints from its cache is what a fresh overlay
would paint after each thing a user does (window/level drag, resize, rotate, text off/on), and
that a window/level step lays out only the text it changed. The image item must hand Qt
exactly the grey (or colour) values the presentation pipeline produced.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from tests.gui_driving import drag, show_modality, wait_for
from viewer.qt.image_view import DisplayImageItem
from viewer.qt.main_window import MainWindow
from viewer.qt.overlay import OverlayLayer


def show(window: MainWindow, modality: str) -> None:
    """The demo series of ``modality`` in the active viewport, from a reset view."""
    show_modality(window, modality)
    window.viewport.reset()
    window.viewport.set_text_visible(True)
    repaint(window)


def repaint(window: MainWindow) -> None:
    """Paint the viewport now, as the screen would (the overlay included)."""
    QApplication.processEvents()
    window.viewport.grab()


def left_drag(window: MainWindow, delta: QPointF) -> None:
    """A real left-button drag over the image (window/level)."""
    drag(window.viewport, Qt.MouseButton.LeftButton, delta, steps=5)


def painted(overlay: OverlayLayer) -> np.ndarray:
    """The overlay's drawing over mid grey (so halo and text both show), as an array."""
    image = QImage(overlay.width(), overlay.height(), QImage.Format.Format_RGB32)
    image.fill(QColor(128, 128, 128))
    painter = QPainter(image)
    for drawing in overlay.drawings():
        drawing.paint(painter)
    painter.end()
    return qimage_array(image)


def fresh_copy(overlay: OverlayLayer) -> OverlayLayer:
    """A new overlay with the same content and size: nothing cached."""
    copy = OverlayLayer(overlay.parentWidget())
    copy.hide()
    copy.resize(overlay.size())
    copy.corners = {name: list(lines) for name, lines in overlay.corners.items()}
    copy.letters = dict(overlay.letters)
    copy.readout = overlay.readout
    copy.show_text = overlay.show_text
    copy.pixels_per_mm = overlay.pixels_per_mm
    return copy


def assert_paints_like_fresh(overlay: OverlayLayer) -> None:
    copy = fresh_copy(overlay)
    try:
        assert np.array_equal(painted(overlay), painted(copy))
    finally:
        copy.deleteLater()


def qimage_array(image: QImage) -> np.ndarray:
    """(rows, columns, 4) bytes of a 32-bit QImage (B, G, R, A on little-endian)."""
    rows, columns = image.height(), image.width()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    pixels = data.reshape(rows, image.bytesPerLine())[:, : columns * 4]
    return pixels.reshape(rows, columns, 4).copy()  # the QImage's memory goes with it


# --- overlay cache ---------------------------------------------------------------------------
def test_wl_drag_updates_the_wl_text_and_lays_out_only_what_changed(window: MainWindow) -> None:
    show(window, "CT")
    overlay = window.viewport.overlay
    repaint(window)
    unchanged = overlay.layouts
    repaint(window)
    assert overlay.layouts == unchanged  # a repaint with nothing changed reuses every part

    left_drag(window, QPointF(40, -25))
    repaint(window)
    voi = window.state.voi
    assert voi is not None
    assert f"W: {voi.width:.0f} L: {voi.center:.0f}" in overlay.corners["br"]
    assert overlay.readout == f"W {voi.width:.0f}  L {voi.center:.0f}"
    assert_paints_like_fresh(overlay)

    before = overlay.layouts
    tools = window.viewport.view_box.tools
    assert tools is not None
    tools.drag_step("window_level", (12.0, 0.0))  # one drag step, as a mouse move
    repaint(window)
    assert overlay.layouts - before == 2  # the corner with the W/L line, and the readout
    assert_paints_like_fresh(overlay)


def test_cached_overlay_follows_a_resize(window: MainWindow) -> None:
    show(window, "CT")
    overlay = window.viewport.overlay
    old_width, laid_out = overlay.width(), overlay.layouts
    window.resize(1000, 700)
    wait_for(lambda: overlay.width() != old_width, 5)
    repaint(window)
    assert overlay.layouts > laid_out  # laid out again for the new size
    assert_paints_like_fresh(overlay)
    window.resize(1200, 800)
    wait_for(lambda: overlay.width() == old_width, 5)
    repaint(window)
    assert_paints_like_fresh(overlay)


def test_cached_overlay_follows_rotation_and_flip(window: MainWindow) -> None:
    show(window, "CT")
    overlay = window.viewport.overlay
    letters = dict(overlay.letters)
    window.state.rotate(clockwise=True)
    repaint(window)
    assert overlay.letters != letters
    assert_paints_like_fresh(overlay)
    window.state.flip(horizontal=True)
    repaint(window)
    assert_paints_like_fresh(overlay)
    window.viewport.reset()
    repaint(window)
    assert overlay.letters == letters
    assert_paints_like_fresh(overlay)


def test_text_off_keeps_only_letters_and_text_on_reuses_the_layout(window: MainWindow) -> None:
    show(window, "CT")
    overlay = window.viewport.overlay
    wait_for(lambda: not overlay.readout, 5)  # the last drag's readout has gone
    repaint(window)
    with_text = painted(overlay)
    window.viewport.set_text_visible(False)
    repaint(window)
    assert len(overlay.drawings()) == 1  # the orientation letters only (no readout shown)
    assert not np.array_equal(painted(overlay), with_text)
    laid_out = overlay.layouts
    window.viewport.set_text_visible(True)
    repaint(window)
    assert overlay.layouts == laid_out
    assert np.array_equal(painted(overlay), with_text)


# --- image hand-over -------------------------------------------------------------------------
def test_grey_frame_reaches_qt_as_its_exact_values(window: MainWindow) -> None:
    show(window, "CT")
    item = window.viewport.image_item
    grey = item.image
    assert grey is not None and grey.dtype == np.uint8 and grey.ndim == 2
    qimage = item.qimage
    assert qimage.format() == QImage.Format.Format_RGB32
    pixels = qimage_array(qimage)
    for channel in range(3):
        assert np.array_equal(pixels[..., channel], grey)
    assert (pixels[..., 3] == 255).all()


def test_grey_view_with_strides_reaches_qt_in_order(window: MainWindow) -> None:
    show(window, "CT")
    strided = window.viewport.image_item.image[::2, ::-3].T  # not C-contiguous
    item = DisplayImageItem(axisOrder="row-major")
    item.setImage(strided, levels=(0, 255), autoLevels=False)
    item.render()
    pixels = qimage_array(item.qimage)
    assert pixels.shape[:2] == strided.shape
    assert np.array_equal(pixels[..., 1], strided)


def test_colour_frame_reaches_qt_as_its_exact_values(window: MainWindow) -> None:
    show(window, "US")
    item = window.viewport.image_item
    rgb = item.image
    assert rgb is not None and rgb.ndim == 3
    pixels = qimage_array(item.qimage)
    assert np.array_equal(pixels[..., 2::-1], rgb)  # B, G, R in memory -> R, G, B
