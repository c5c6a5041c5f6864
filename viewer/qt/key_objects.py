"""Key Object Selections found in the study (issue 17, item 7): "Key images" in the tree.

Once indexing has finished, each KO among the opened files (SOP Class 1.2.840.10008.5.1.4.1.1.
88.59, PS3.3 A.35.4) is read in a worker (once). Its referenced images that are open are
flagged as key images (KEY IMAGE in the corner text) as another system's
(:attr:`AnnotationStore.foreign_key_images`: not saved as the viewer's own). Its series row
reads "Key images: N"; choosing the row shows the first of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject

from viewer.model.annotations.shapes import ImageRef
from viewer.model.annotations.store import AnnotationStore
from viewer.qt.annotation_persistence import open_images
from viewer.qt.latest_call import LatestCall

#: The Key Object Selection Document's SOP Class UID (PS3.4 B.5).
KO_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"


def read_key_objects(
    paths: list[str], image_of: Mapping[str, ImageRef]
) -> dict[str, list[ImageRef]]:
    """The open images each KO at ``paths`` references, by the KO's Series Instance UID
    (worker thread; an unreadable KO is left out)."""
    from pydicom import dcmread

    from viewer.model.annotations.dicom_objects import read_report

    found: dict[str, list[ImageRef]] = {}
    for path in paths:
        try:
            dataset = dcmread(path)
            report = read_report(dataset)
        except Exception:  # the others still show
            continue
        chosen = found.setdefault(str(dataset.SeriesInstanceUID), [])
        for uid, frame in report.references:
            image = image_of.get(uid)
            if image is not None:
                chosen.append(replace(image, frame=frame))
    return found


class KeyObjects(QObject):
    """The key images of the KOs one main window opened."""

    def __init__(self, window: Any, store: AnnotationStore, parent: QObject) -> None:
        super().__init__(parent)
        self.window = window
        self.store = store
        #: Key images of each KO series read (by its Series Instance UID).
        self.by_series: dict[str, list[ImageRef]] = {}
        self._read: set[str] = set()
        self._reader = LatestCall(self)
        self._reader.result.connect(self._on_read)
        window.indexing_finished.connect(self.load_opened)

    def load_opened(self) -> None:
        """Read the KOs opened since the last call (each once)."""
        found = {
            record.sop_instance_uid: record.path
            for series in self.window.catalog.all_series()
            for record in series.instances
            if record.sop_class_uid == KO_CLASS and record.sop_instance_uid not in self._read
        }
        if found:
            self._read.update(found)
            image_of, _ = open_images(self.window.catalog)
            self._reader.submit(read_key_objects, list(found.values()), image_of)

    def _on_read(self, result: object) -> None:
        if not isinstance(result, dict):
            return
        for series_uid, images in result.items():
            self.by_series[series_uid] = images
            self.store.load_key_images(images, foreign=True)
            self.window.tree_model.set_key_images(series_uid, len(images))

    def show_key_images(self, series_uid: str) -> bool:
        """Show the first key image of the KO series ``series_uid`` (False: not a KO read
        here, or none of its images is open)."""
        images = self.by_series.get(series_uid)
        if not images:
            return False
        image = images[0]
        series = self.window.catalog.series(image.series_uid)
        for number, stack in enumerate(series.stacks if series is not None else []):
            if image.key in stack.sources:
                self.window.show_series(image.series_uid, number, stack.sources.index(image.key))
                self.window.show_message(f"Key image 1 of {len(images)} (K flags or unflags)")
                return True
        return False

    def shutdown(self) -> None:
        self._reader.shutdown()
