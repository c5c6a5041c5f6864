"""The session's annotations, with undo and redo (no Qt).

One :class:`AnnotationStore` holds every annotation of the open studies, found by the frame
they are drawn on (:attr:`ImageRef.key`), by SOP Instance UID or by Frame of Reference UID.
Each edit (add, change, remove) is one undoable step; a drag that changes an annotation many
times is one step when the view passes the value it started from (``before``).
:attr:`changed` says which annotation ids changed so views redraw only those frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from viewer.model.annotations import shapes
from viewer.model.annotations.shapes import Annotation, ImageRef, Point
from viewer.model.signal import Signal

#: Undo remembers this many steps.
UNDO_DEPTH = 200

#: One step: (id, value before or None, value after or None) per annotation it touched.
Step = tuple[tuple[str, Annotation | None, Annotation | None], ...]


class AnnotationStore:
    """Annotations by id, in the order they were made."""

    def __init__(self) -> None:
        self._items: dict[str, Annotation] = {}
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        #: Emitted with the tuple of ids an edit, undo or redo touched.
        self.changed = Signal()
        #: The id of the selected annotation ("" for none); views draw its handles.
        self.selected = ""
        #: The label lines a view last computed for each annotation (the panel lists them).
        self.labels: dict[str, tuple[str, ...]] = {}
        #: Frames flagged as key images (key K), by :attr:`ImageRef.key`.
        self.key_images: dict[tuple[str, int], ImageRef] = {}
        #: Ids of annotations read from other systems' objects (a presentation state): shown
        #: and exported, but not saved as the viewer's own in the study database.
        self.foreign: set[str] = set()
        #: Key images flagged by another system's KO (by :attr:`ImageRef.key`), likewise.
        self.foreign_key_images: set[tuple[str, int]] = set()

    # --- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Annotation]:
        return iter(list(self._items.values()))

    def __contains__(self, annotation_id: object) -> bool:
        return annotation_id in self._items

    def get(self, annotation_id: str) -> Annotation | None:
        return self._items.get(annotation_id)

    def on_frame(self, key: tuple[str, int]) -> list[Annotation]:
        return [a for a in self._items.values() if a.image.key == key]

    def on_instance(self, sop_instance_uid: str) -> list[Annotation]:
        return [a for a in self._items.values() if a.image.sop_instance_uid == sop_instance_uid]

    def in_frame_of_reference(self, uid: str) -> list[Annotation]:
        return [a for a in self._items.values() if a.image.frame_of_reference_uid == uid]

    # --- editing ------------------------------------------------------------------------
    def add(self, annotation: Annotation) -> None:
        self._do(((annotation.id, None, annotation),))

    def update(self, annotation: Annotation, before: Annotation | None = None) -> None:
        """Replace the annotation with ``annotation.id``; ``before`` (the value a drag began
        with) makes the whole drag one undo step."""
        old = before if before is not None else self._items.get(annotation.id)
        if old == annotation:
            return
        self._do(((annotation.id, old, annotation),))

    def remove(self, annotation_id: str) -> None:
        old = self._items.get(annotation_id)
        if old is not None:
            self._do(((annotation_id, old, None),))

    def set_visible(self, annotation_id: str, visible: bool) -> None:
        old = self._items.get(annotation_id)
        if old is not None and old.visible != visible:
            self.update(replace(old, visible=visible))

    def show_live(self, annotation: Annotation) -> None:
        """Put ``annotation`` in place without an undo step (while a drag is still going;
        :meth:`update` with ``before`` ends it)."""
        self._items[annotation.id] = annotation
        self.changed.emit((annotation.id,))

    def load(self, annotations: Iterable[Annotation], foreign: bool = True) -> None:
        """Add annotations read from somewhere (not undoable; the undo history is kept).
        They are another system's (see :attr:`foreign`: not saved as the viewer's own) unless
        ``foreign`` is False (the viewer's own, read back from the study database)."""
        ids = []
        for annotation in annotations:
            self._items[annotation.id] = annotation
            ids.append(annotation.id)
            if foreign:
                self.foreign.add(annotation.id)
        if ids:
            self.changed.emit(tuple(ids))

    def unload(self, annotation_ids: Iterable[str]) -> None:
        """Take away annotations :meth:`load` put in (another presentation state chosen): not
        undoable, and no undo or redo step brings them back."""
        gone = {i for i in annotation_ids if i in self._items}
        if not gone:
            return
        for annotation_id in gone:
            del self._items[annotation_id]
            self.labels.pop(annotation_id, None)
        if self.selected in gone:
            self.selected = ""
        self._undo = [s for s in self._undo if not any(i in gone for i, _, _ in s)]
        self._redo = [s for s in self._redo if not any(i in gone for i, _, _ in s)]
        self.foreign.difference_update(gone)
        self.changed.emit(tuple(gone))

    def load_key_images(self, images: Iterable[ImageRef], foreign: bool = False) -> None:
        """Flag key images read from somewhere (the study database; ``foreign``: another
        system's Key Object Selection, not saved as the viewer's own)."""
        for image in images:
            self.key_images[image.key] = image
            if foreign:
                self.foreign_key_images.add(image.key)
        self.changed.emit(())

    def toggle_key_image(self, image: ImageRef) -> bool:
        """Flag ``image`` as a key image, or unflag it; whether it is one now."""
        if self.key_images.pop(image.key, None) is None:
            self.key_images[image.key] = image
        self.changed.emit(())
        return image.key in self.key_images

    def _do(self, step: Step) -> None:
        self._apply(step, forward=True)
        self._undo.append(step)
        del self._undo[:-UNDO_DEPTH]
        self._redo.clear()

    def _apply(self, step: Step, forward: bool) -> None:
        for annotation_id, before, after in step:
            value = after if forward else before
            if value is None:
                self._items.pop(annotation_id, None)
                if self.selected == annotation_id:
                    self.selected = ""
            else:
                self._items[annotation_id] = value
        self.changed.emit(tuple(annotation_id for annotation_id, _, _ in step))

    # --- undo / redo --------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        step = self._undo.pop()
        self._apply(step, forward=False)
        self._redo.append(step)
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        step = self._redo.pop()
        self._apply(step, forward=True)
        self._undo.append(step)
        return True


class DragEdit:
    """One view's annotation drags (a point, the body or the label): live moves without undo
    steps, then one undo step when the drag ends (:class:`~viewer.model.tools.base.EditShape`
    gives the id, the handle, the start and the pointer, and whether it is done)."""

    def __init__(self) -> None:
        self._original: Annotation | None = None
        self._label_from: Point | None = None

    def apply(
        self,
        store: AnnotationStore,
        annotation_id: str,
        handle: int,
        delta: Point,
        done: bool,
        label_at: Callable[[str], Point | None],
    ) -> Annotation | None:
        """The annotation as the drag leaves it (None: not found). ``label_at``: where the
        view placed an annotation's label (image coordinates), asked once per drag."""
        original = self._original
        if original is None or original.id != annotation_id:
            original = self._original = store.get(annotation_id)
            self._label_from = None
            if original is not None and handle == shapes.LABEL_HANDLE:
                self._label_from = label_at(annotation_id)
        if original is None:
            return None
        edited = shapes.edited(original, handle, delta[0], delta[1], self._label_from)
        if done:
            self._original = self._label_from = None
            store.update(edited, before=original)
        else:
            store.show_live(edited)
        return edited
