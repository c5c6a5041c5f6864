"""One display pipeline (issue 12 item 3): what the 2D viewport shows is what ``render`` writes.

Every image among pydicom's bundled files (frame 0 of each file that decodes) is shown in the
real main window's viewport (offscreen) with the VOI it opens with, and the pixels it hands Qt
(the 8-bit image, and the RGB32 QImage its item draws) equal ``render_frame``'s output, the one
that tests/dicom/test_render.py compares with DCMTK's dcmj2pnm. Frames larger than the
viewport's reduction threshold are compared at 1:1 (actual size), over the region shown.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
from pydicom.data import get_testdata_files
from PySide6.QtWidgets import QApplication

from tests.gui_driving import shown_main_window
from viewer.dicom.catalog.frame_ref import FrameRef
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.pixels.decode import DecodeError
from viewer.dicom.pixels.display import render_frame
from viewer.qt.image_view import REDUCE_ABOVE_PIXELS
from viewer.qt.main_window import MainWindow

WAIT_MS = 60_000
BUNDLED = sorted(str(path) for path in get_testdata_files() if os.path.isfile(path))


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def qimage_pixels(window: MainWindow) -> np.ndarray:
    """The RGB32 QImage the viewport's image item draws, as (rows, cols, 3) uint8."""
    item = window.viewport.image_item
    item.render()  # what a paint does first
    image = item.qimage
    pointer = image.constBits()
    words = np.frombuffer(pointer, dtype=np.uint32, count=image.height() * image.width())
    words = words.reshape(image.height(), image.width())
    red, green, blue = (words >> 16) & 0xFF, (words >> 8) & 0xFF, words & 0xFF
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def shown_in_viewport(qtbot, window: MainWindow, path: str, shape: tuple[int, ...]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Show frame 0 of ``path`` alone in the viewport; the image the viewport hands Qt, and
    the part of render's output it covers."""
    viewport = window.viewport
    stack = Stack(sources=(FrameRef(path, 0),), rows=shape[0], columns=shape[1])
    window.state.set_stack(stack, 0)

    def shown() -> bool:
        frame = viewport.frame
        return frame is not None and (frame.path, frame.frame) == (path, 0)

    qtbot.waitUntil(shown, timeout=WAIT_MS)
    if shape[0] * shape[1] > REDUCE_ABOVE_PIXELS:
        viewport.actual_size()  # 1:1: the region shown is converted pixel for pixel
    QApplication.processEvents()
    image = viewport.image_item.image
    assert image is not None
    return np.asarray(image)


def test_the_viewport_shows_what_render_writes(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    compared, undecodable = 0, 0
    for path in BUNDLED:
        try:
            expected = render_frame(path, 0)
        except DecodeError:
            undecodable += 1
            continue
        shown = shown_in_viewport(qtbot, window, path, expected.shape)
        region = window.viewport._region  # the part of a big frame converted (1:1 here)
        if region is not None and expected.shape[0] * expected.shape[1] > REDUCE_ABOVE_PIXELS:
            assert region.stride == 1, path
            expected = expected[region.top : region.bottom, region.left : region.right]
        name = os.path.basename(path)
        assert shown.shape == expected.shape, name
        assert shown.dtype == np.uint8, name
        assert np.array_equal(shown, expected), f"{name}: the viewport differs from render"
        drawn = qimage_pixels(window)
        as_rgb = expected if expected.ndim == 3 else np.repeat(expected[..., None], 3, axis=-1)
        assert np.array_equal(drawn, as_rgb), f"{name}: the drawn QImage differs from render"
        compared += 1
    assert compared > 100, (compared, undecodable)
