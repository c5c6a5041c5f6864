"""Series thumbnails: a small picture of a series' middle image, made in a worker thread.

The image is rendered exactly as the viewer shows it
(:func:`viewer.dicom.pixels.display.render_frame`:
modality LUT, the file's first window, MONOCHROME1 inverted, PS3.3 C.11), shrunk to at most
THUMBNAIL_SIZE pixels a side, and kept in a small in-memory LRU cache. Results reach the GUI
through :class:`ThumbnailBridge`, a QObject created on the GUI thread; QImage (not QPixmap) is
made in the worker, which Qt allows. Call :meth:`Thumbnails.shutdown` before the window goes.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from viewer.dicom.pixels.display import render_frame
from viewer.dicom.pixels.frames import DecodeError

log = logging.getLogger(__name__)

#: Longest side of a thumbnail, in pixels.
THUMBNAIL_SIZE = 48
#: Thumbnails kept in memory (48 x 48 RGB: under 7 KiB each).
CACHE_CAPACITY = 2048

Renderer = Callable[[str, int], NDArray[np.uint8]]


def shrink(image: NDArray[np.uint8], size: int = THUMBNAIL_SIZE) -> NDArray[np.uint8]:
    """``image`` (rows, cols) or (rows, cols, 3) scaled to fit ``size`` x ``size``, aspect kept."""
    picture = Image.fromarray(np.ascontiguousarray(image))
    picture.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(picture, dtype=np.uint8)


def to_qimage(image: NDArray[np.uint8]) -> QImage:
    """A QImage that owns a copy of an 8-bit grey (rows, cols) or RGB (rows, cols, 3) array."""
    data = np.ascontiguousarray(image)
    rows, columns = data.shape[:2]
    if data.ndim == 2:
        view = QImage(data.data, columns, rows, columns, QImage.Format.Format_Grayscale8)
    else:
        view = QImage(data.data, columns, rows, columns * 3, QImage.Format.Format_RGB888)
    return view.copy()


class ThumbnailBridge(QObject):
    """Carries finished thumbnails from the worker thread to the GUI thread."""

    ready = Signal(str, QImage)  # key (a Series Instance UID), image


class Thumbnails:
    """Make thumbnails one at a time in the background; each key once, then cached."""

    def __init__(self, renderer: Renderer | None = None, size: int = THUMBNAIL_SIZE) -> None:
        self.bridge = ThumbnailBridge()
        self._render: Renderer = renderer or (lambda path, frame: render_frame(path, frame))
        self._size = size
        self._cache: OrderedDict[str, QImage] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thumbnail")
        self._closed = False

    def cached(self, key: str) -> QImage | None:
        with self._lock:
            image = self._cache.get(key)
            if image is not None:
                self._cache.move_to_end(key)
            return image

    @property
    def pending(self) -> int:
        """Thumbnails asked for and not made yet."""
        with self._lock:
            return len(self._pending)

    def request(self, key: str, path: str, frame: int) -> None:
        """Make the thumbnail of ``path``'s ``frame`` for ``key`` (signalled when ready)."""
        with self._lock:
            if self._closed or key in self._pending or key in self._cache or key in self._failed:
                return
            self._pending.add(key)
        self._pool.submit(self._make, key, path, frame)

    def _make(self, key: str, path: str, frame: int) -> None:
        image: QImage | None = None
        try:
            image = to_qimage(shrink(self._render(path, frame), self._size))
        except DecodeError as error:
            log.info("no thumbnail for %s: %s", path, error)
        except Exception:  # fault boundary: a thumbnail must never take the viewer down
            log.exception("thumbnail of %s failed", path)
        finally:
            with self._lock:
                self._pending.discard(key)
                if image is None:
                    self._failed.add(key)  # asked again, it would fail again
        if image is None:
            return
        with self._lock:
            if self._closed:
                return
            self._cache[key] = image
            while len(self._cache) > CACHE_CAPACITY:
                self._cache.popitem(last=False)
        self.bridge.ready.emit(key, image)

    def shutdown(self) -> None:
        """Drop queued work and wait for the thumbnail being made (call before closing)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)


def middle_image(instances: list[Any]) -> tuple[str, int] | None:
    """(path, frame) of a series' middle image: by Instance Number, the middle frame of it.

    Objects without pixel data are passed over; None when nothing has pixels.
    """
    images = [record for record in instances if record.has_pixels]
    if not images:
        return None
    images.sort(key=lambda record: (record.instance_number or 0, record.path))
    if len(images) == 1:
        return images[0].path, images[0].frames // 2
    return images[len(images) // 2].path, 0
