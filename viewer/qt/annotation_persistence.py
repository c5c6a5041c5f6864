"""The session's measurements, annotations and key images kept in the study database (issue
17, item 5), never next to the source files.

Each opened study's stored objects are read in a worker once its indexing has finished and
put into the grid's :class:`~viewer.model.annotations.store.AnnotationStore`. Every change of
the store starts a short timer (:data:`SAVE_DELAY_MS`: a drag's many live moves are one
write); when it fires, a snapshot of the store is written in the same worker
(:func:`viewer.model.annotations.persist.save`: only the rows that changed). Closing the
window writes what is pending and waits for it. Only studies whose stored objects have been
read are written (a save before that would delete them), and annotations from another
system's presentation state (:attr:`AnnotationStore.foreign`) are not the viewer's own: they
are not saved.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from viewer.model.annotations import persist
from viewer.model.annotations.shapes import Annotation, ImageRef
from viewer.model.annotations.store import AnnotationStore
from viewer.store.library import StudyLibrary

log = logging.getLogger(__name__)

#: Milliseconds after the last change before the store is written.
SAVE_DELAY_MS = 400
#: Seconds closing waits for the last write.
CLOSE_WAIT_S = 10.0

#: study UID -> (annotations, key images) to make its rows.
Snapshot = dict[str, tuple[list[Annotation], list[ImageRef]]]


def open_images(catalog: Any) -> tuple[dict[str, ImageRef], dict[str, ImageRef]]:
    """The opened images (records with pixels) by SOP Instance UID and by path."""
    by_uid: dict[str, ImageRef] = {}
    by_path: dict[str, ImageRef] = {}
    for series in catalog.all_series():
        for record in series.instances:
            if record.has_pixels:
                image = ImageRef.of_record(record, series.info.frame_of_reference_uid)
                by_uid[record.sop_instance_uid] = image
                by_path[record.path] = image
    return by_uid, by_path


def _load(
    library: StudyLibrary, studies: list[str], image_of: dict[str, ImageRef]
) -> tuple[list[str], list[Annotation], list[ImageRef]]:
    def work(database: Any) -> tuple[list[Annotation], list[ImageRef]]:
        annotations: list[Annotation] = []
        keys: list[ImageRef] = []
        for study in studies:
            annotations.extend(persist.load(database, study, image_of))
            keys.extend(persist.load_key_images(database, study, image_of))
        return annotations, keys

    found = library.use(work, writer=False)
    annotations, keys = found if found is not None else ([], [])
    return studies, annotations, keys


def _save(library: StudyLibrary, snapshot: Snapshot) -> int:
    def work(database: Any) -> int:
        return sum(
            persist.save(database, study, annotations, keys)
            for study, (annotations, keys) in snapshot.items()
        )

    return library.use(work) or 0


class AnnotationPersistence(QObject):
    """Loads and saves one window's annotations through its :class:`StudyLibrary`."""

    #: (study UIDs, annotations, key images) read from the database (worker -> GUI thread).
    _loaded_signal = Signal(object)
    #: Rows written by a save (tests wait on it).
    saved = Signal(int)

    def __init__(
        self, window: Any, store: AnnotationStore, library: StudyLibrary, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.store = store
        self.library = library
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="annotations-db")
        self._requested: set[str] = set()
        self._loaded: set[str] = set()
        self._closed = False
        self._last: Future[int] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_now)
        self._loaded_signal.connect(self._on_loaded)
        store.changed.connect(self._on_changed)
        window.indexing_finished.connect(self.load_opened)

    # --- loading ------------------------------------------------------------------------
    def _records(self) -> tuple[dict[str, ImageRef], dict[str, ImageRef]]:
        return open_images(self.window.catalog)

    def load_opened(self) -> None:
        """Read the stored objects of the studies opened since the last call."""
        if self._closed or not self.library.usable:
            return
        by_uid, _ = self._records()
        studies = sorted({image.study_uid for image in by_uid.values()} - self._requested)
        if not studies:
            return
        self._requested.update(studies)
        future = self._pool.submit(_load, self.library, studies, by_uid)
        future.add_done_callback(self._deliver)

    def _deliver(self, future: Future[Any]) -> None:
        if self._closed or future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.warning("reading stored annotations failed: %s", error)
            return
        self._loaded_signal.emit(future.result())

    def _on_loaded(self, result: tuple[list[str], list[Annotation], list[ImageRef]]) -> None:
        studies, annotations, keys = result
        known = {a.id for a in self.store}
        fresh = [a for a in annotations if a.id not in known]
        self._loaded.update(studies)
        if fresh:
            self.store.load(fresh, foreign=False)
            self.window.show_message(f"{len(fresh)} measurement(s) from the study database")
        if keys:
            self.store.load_key_images(keys)
        self._on_changed(())  # what was drawn before the rows arrived

    # --- saving -------------------------------------------------------------------------
    def _on_changed(self, _ids: tuple[str, ...]) -> None:
        if not self._closed and self._loaded:
            self._timer.start()

    def snapshot(self) -> Snapshot:
        """What each loaded study's rows should be, with the UIDs of every image resolved."""
        _, by_path = self._records()
        found: Snapshot = {study: ([], []) for study in self._loaded}
        for annotation in self.store:
            if annotation.id in self.store.foreign:
                continue
            known = by_path.get(annotation.image.path)
            if known is None or known.study_uid not in found:
                continue
            image = replace(known, frame=annotation.image.frame)
            found[known.study_uid][0].append(replace(annotation, image=image))
        for key in self.store.key_images.values():
            if key.key in self.store.foreign_key_images:
                continue
            known = by_path.get(key.path)
            if known is not None and known.study_uid in found:
                found[known.study_uid][1].append(replace(known, frame=key.frame))
        return found

    def save_now(self) -> None:
        """Write the store's state now (in the worker)."""
        self._timer.stop()
        if self._closed or not self._loaded:
            return
        future = self._pool.submit(_save, self.library, self.snapshot())
        future.add_done_callback(self._report_saved)
        self._last = future

    def _report_saved(self, future: Future[int]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.warning("saving annotations failed: %s", error)
        elif not self._closed:
            self.saved.emit(future.result())

    def shutdown(self) -> None:
        """Write what is pending and wait for it (bounded), then stop the worker."""
        if self._closed:
            return
        if self._timer.isActive() or self._loaded:
            self.save_now()
        self._closed = True
        last = self._last
        if last is not None:
            try:
                last.result(timeout=CLOSE_WAIT_S)
            except Exception as error:  # the window closes anyway
                log.warning("the last annotation save did not finish: %s", error)
        self._pool.shutdown(wait=True, cancel_futures=False)
