"""A slice that cannot be decoded never shows the previous slice's pixels under its number.

A real 7-slice CT, one slice cut inside its pixel data, opened in the real main window
(offscreen) and scrolled with real wheel events: on the bad slice the image is a uniform dark
placeholder of the stack's matrix (the letters and scale still fit it), a notice names the
image and the reason, the corner text says NOT DECODED and the cursor readout gives no value;
one wheel step on, the next slice shows normally at the same zoom.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests import factories
from tests.gui_driving import open_and_wait, shown_main_window, wheel_down
from viewer.qt.failed_frame import PLACEHOLDER_GREY
from viewer.qt.image_view import ImageViewport
from viewer.qt.main_window import MainWindow

SLICES = 7
SIZE = 64
WAIT_MS = 30_000
MOVES = itertools.count()


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def series_with_cut_slice(folder: Path, bad: int) -> list[str]:
    """A CT whose slice ``bad`` (stack order) holds corrupt RLE data; paths in order. (A file
    cut inside native pixels is now skipped at indexing, issue 13 item 3.)"""
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    truth = factories.write_series(folder, slices=SLICES, rows=SIZE, columns=SIZE)
    victim = pydicom.dcmread(truth.paths[bad])
    victim.PixelData = encapsulate([bytes(64)])
    victim["PixelData"].VR = "OB"
    victim.file_meta.TransferSyntaxUID = RLELossless
    victim.save_as(truth.paths[bad], enforce_file_format=False)
    return truth.paths


def open_series(qtbot, window: MainWindow, folder: Path) -> ImageViewport:  # type: ignore[no-untyped-def]
    open_and_wait(qtbot, window, [str(folder)])
    (series,) = window.catalog.all_series()
    window.select_series(series.uid)
    qtbot.waitUntil(lambda: window.state.series_uid == series.uid, timeout=WAIT_MS)
    return window.viewport


def wait_shown(qtbot, viewport: ImageViewport, index: int) -> None:  # type: ignore[no-untyped-def]
    """Until slice ``index`` is on screen: its decoded frame, or the notice that it failed."""

    def shown() -> bool:
        if viewport.state.index != index or viewport.state.stack is None:
            return False
        frame = viewport.frame
        if frame is None:
            return viewport.failure is not None
        return (frame.path, frame.frame) == viewport.state.stack.sources[index]

    qtbot.waitUntil(shown, timeout=WAIT_MS)


def cursor_readout(qtbot, viewport: ImageViewport) -> str:  # type: ignore[no-untyped-def]
    """What the status bar says with the mouse moved (real events) near the image centre."""
    view = viewport.viewport()
    scene_centre = viewport.view_box.mapViewToScene(viewport.image_bounds().center())
    centre = QPointF(viewport.mapFromScene(scene_centre))
    with qtbot.waitSignal(viewport.status, timeout=WAIT_MS) as blocker:
        for _ in range(3):  # a new position each time, 12 ms apart (pyqtgraph drops faster)
            time.sleep(0.012)
            point = centre + QPointF(next(MOVES) % 3, 0)
            event = QMouseEvent(
                QMouseEvent.Type.MouseMove, point, view.mapToGlobal(point),
                Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
            )  # fmt: skip
            QApplication.sendEvent(view, event)
    return str(blocker.args[0])


def shown_rect(viewport: ImageViewport) -> tuple[float, float, float, float]:
    item = viewport.image_item
    rect = item.mapRectToParent(item.boundingRect())
    return (rect.left(), rect.top(), rect.width(), rect.height())


def bounds(viewport: ImageViewport) -> tuple[float, float, float, float]:
    rect = viewport.image_bounds()
    return (rect.left(), rect.top(), rect.width(), rect.height())


def corner_lines(viewport: ImageViewport) -> list[str]:
    return [line for lines in viewport.overlay.corners.values() for line in lines]


def test_stepping_onto_a_slice_that_cannot_be_decoded_shows_no_stale_pixels(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    opened_at = SLICES // 2  # the window opens a series at its middle slice
    bad = opened_at + 1
    paths = series_with_cut_slice(tmp_path / "ct", bad)
    viewport = open_series(qtbot, window, tmp_path / "ct")
    assert [path for path, _ in viewport.state.stack.sources] == paths
    wait_shown(qtbot, viewport, opened_at)
    good_pixels = viewport.image_item.image.copy()
    assert "stored" in cursor_readout(qtbot, viewport)
    viewport.zoom(1.5)  # the reader's zoom must survive the bad slice
    view_range = viewport.view_box.viewRect()

    wheel_down(window, 1)  # onto the bad slice
    wait_shown(qtbot, viewport, bad)

    assert viewport.frame is None
    shown = viewport.image_item.image
    assert shown.shape != good_pixels.shape or not np.array_equal(shown, good_pixels)
    assert np.all(shown == PLACEHOLDER_GREY)  # uniform: nothing of any slice
    assert shown_rect(viewport) == pytest.approx(bounds(viewport))  # the matrix's rectangle
    notice = viewport.failure_notice
    assert notice.isVisible()
    assert notice.text().startswith(f"Image {bad + 1} could not be decoded: ")
    assert str(tmp_path) not in notice.text()  # the reason, not the path (the dock has it)
    lines = corner_lines(viewport)
    assert f"Im: {bad + 1}/{SLICES}" in lines and "NOT DECODED" in lines
    assert not any(line.startswith("W: ") for line in lines)  # no window of pixels not shown
    readout = cursor_readout(qtbot, viewport)
    assert "no value" in readout and f"image {bad + 1} not decoded" in readout
    assert "stored" not in readout and "HU" not in readout
    assert viewport.view_box.viewRect() == view_range

    wheel_down(window, 1)  # off it, onto the next good slice
    wait_shown(qtbot, viewport, bad + 1)

    assert viewport.frame is not None and viewport.failure is None
    assert not notice.isVisible()
    assert viewport.image_item.image.shape == (SIZE, SIZE)
    assert "NOT DECODED" not in corner_lines(viewport)
    assert "stored" in cursor_readout(qtbot, viewport)
    assert viewport.view_box.viewRect() == view_range  # same zoom and pan: no refit

    viewport.state.set_index(opened_at)  # back to the first slice: the very same pixels
    wait_shown(qtbot, viewport, opened_at)
    qtbot.waitUntil(lambda: np.array_equal(viewport.image_item.image, good_pixels), timeout=WAIT_MS)


def test_a_series_opening_on_a_bad_slice_shows_the_placeholder_fitted(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    bad = SLICES // 2
    series_with_cut_slice(tmp_path / "ct", bad)
    viewport = open_series(qtbot, window, tmp_path / "ct")
    wait_shown(qtbot, viewport, bad)

    assert viewport.failure is not None and viewport.failure_notice.isVisible()
    assert viewport.view_box.viewRect().contains(viewport.image_bounds())  # fitted to it
    assert shown_rect(viewport) == pytest.approx(bounds(viewport))
    assert viewport.overlay.letters  # orientation letters still describe the frame

    wheel_down(window, 1)
    wait_shown(qtbot, viewport, bad + 1)
    assert viewport.image_item.image.shape == (SIZE, SIZE)
    assert not viewport.failure_notice.isVisible()
