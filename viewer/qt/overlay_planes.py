"""DICOM overlay planes (groups 60xx, PS3.3 C.9.2) drawn over the image, as a toggle.

Each plane of the frame shown is one RGBA ImageItem in the image's view box, drawn with the
image's own pixel -> view transform moved by the plane's Overlay Origin (60xx,0050), so it
follows the image exactly through Pixel Spacing / Pixel Aspect Ratio, rotation and flips.
Items sit above the image and below the reference line; the corner text is a widget above
the whole view. Graphics planes ("G") are drawn opaque in one clear colour; region of
interest planes ("R", C.9.2.1.1) translucent, so the pixels inside stay readable.

Files are read by :func:`viewer.dicom.pixels.overlays.read_file_overlays` in a worker thread (a lean
header walk that answers at once for the many files without overlays), once per file (a
bounded cache); a frame's masks are then unpacked on the GUI thread, which for a bit plane
costs about a tenth of a millisecond, so cine and scrolling show them with their frame.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QTransform

from viewer.dicom.pixels.overlays import FileOverlays, OverlayResult, read_file_overlays
from viewer.qt.latest_call import LatestCall

#: The overlay colour: a saturated yellow that reads on grey, bone and black alike.
OVERLAY_RGB = (255, 214, 0)
GRAPHICS_ALPHA = 255
ROI_ALPHA = 90
#: Above the image (0), below the reference line (5) and the rubber band (10).
Z_VALUE = 2
#: Files whose overlay planes are remembered (a few bytes for a file without any; one with a
#: 512 x 512 plane holds its 32 KiB of bits).
MAX_CACHED_FILES = 1024


class OverlayPlanes(QObject):
    """The overlay planes of the frame a viewport shows; ``visible`` is the user's toggle."""

    status = Signal(str)  # why a file's overlay planes cannot be shown (once per file)

    def __init__(self, view_box: pg.ViewBox, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._box = view_box
        self._items: list[pg.ImageItem] = []
        self._origins: list[tuple[int, int]] = []  # (row, column) of each item's first pixel
        self._count = 0
        self._visible = True
        self._pixel_to_view = QTransform()
        self._files: OrderedDict[str, FileOverlays] = OrderedDict()
        self._wanted: tuple[str, int, tuple[int, int]] | None = None
        self._reported: set[str] = set()
        self._reader = LatestCall(self)
        self._reader.result.connect(self._on_read)

    @property
    def visible(self) -> bool:
        return self._visible

    @property
    def count(self) -> int:
        """How many planes the current frame has (drawn or hidden)."""
        return self._count

    def set_visible(self, visible: bool) -> None:
        self._visible = visible
        for item in self._items[: self._count]:
            item.setVisible(visible)

    def toggle(self) -> bool:
        """Show or hide the planes; returns whether they are shown now."""
        self.set_visible(not self._visible)
        return self._visible

    def clear(self) -> None:
        """A new stack: nothing drawn until its frames arrive, and the planes shown again."""
        self._wanted = None
        self._show(OverlayResult(()), (0, 0))
        self.set_visible(True)

    def show_frame(self, path: str, frame: int, shape: tuple[int, int]) -> None:
        """Draw the planes of 0-based ``frame`` of ``path``, an image of (rows, columns)."""
        self._wanted = (path, frame, shape)
        cached = self._files.get(path)
        if cached is not None:
            self._files.move_to_end(path)
            self._show(cached.result(frame), shape)
            return
        self._show(OverlayResult(()), shape)  # the last frame's planes are not this one's
        self._reader.submit(_read, path)

    def set_transform(self, pixel_to_view: QTransform) -> None:
        """The image's (column, row) pixel -> view transform changed (spacing, rotation)."""
        self._pixel_to_view = pixel_to_view
        for item, (top, left) in zip(self._items, self._origins, strict=False):
            item.setTransform(QTransform.fromTranslate(left, top) * pixel_to_view)

    def shutdown(self) -> None:
        self._reader.shutdown()

    # --- drawing ----------------------------------------------------------------------------
    def _on_read(self, value: object) -> None:
        if not isinstance(value, tuple):
            return  # the reader raised: read_file_overlays already turns errors into problems
        path, overlays = value
        self._files[path] = overlays
        while len(self._files) > MAX_CACHED_FILES:
            self._files.popitem(last=False)
        if self._wanted is not None and self._wanted[0] == path:
            _, frame, shape = self._wanted
            self._show(overlays.result(frame), shape)

    def _show(self, result: OverlayResult, shape: tuple[int, int]) -> None:
        parts = [
            (visible, mask.kind)
            for mask in result.masks
            if (visible := mask.visible_part(*shape)) is not None
        ]
        while len(self._items) < len(parts):
            self._items.append(self._new_item())
            self._origins.append((0, 0))
        for number, ((mask, origin), kind) in enumerate(parts):
            item = self._items[number]
            item.setImage(coloured(mask, kind), levels=(0, 255), autoLevels=False)
            self._origins[number] = origin
            item.setTransform(QTransform.fromTranslate(origin[1], origin[0]) * self._pixel_to_view)
            item.setVisible(self._visible)
        for item in self._items[len(parts) :]:
            item.hide()
        self._count = len(parts)
        if result.problems and self._wanted is not None:
            self._report(self._wanted[0], result.problems)

    def _new_item(self) -> pg.ImageItem:
        item = pg.ImageItem(axisOrder="row-major")
        item.setZValue(Z_VALUE)
        self._box.addItem(item, ignoreBounds=True)
        return item

    def _report(self, path: str, problems: tuple[str, ...]) -> None:
        if path not in self._reported:
            self._reported.add(path)
            self.status.emit("Overlay planes not shown: " + "; ".join(problems))


def _read(path: str) -> tuple[str, FileOverlays]:
    """Worker thread: the file's overlay planes, tagged with its path."""
    return path, read_file_overlays(path)


def coloured(mask: np.ndarray, kind: str) -> np.ndarray:
    """(rows, columns, 4) RGBA: the overlay colour where ``mask`` is set, transparent elsewhere."""
    rgba = np.zeros((*mask.shape, 4), dtype=np.uint8)
    rgba[mask, :3] = OVERLAY_RGB
    rgba[mask, 3] = ROI_ALPHA if kind == "R" else GRAPHICS_ALPHA
    return rgba
