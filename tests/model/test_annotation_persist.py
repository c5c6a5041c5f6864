"""Annotations saved in a real SQLite study database and read back after "reopening"."""

from __future__ import annotations

from pathlib import Path

from viewer.model.annotations import persist, shapes
from viewer.model.annotations.shapes import Annotation, ImageRef
from viewer.store.database import StudyDatabase


def test_save_reopen_change_delete(tmp_path: Path) -> None:
    image = ImageRef(
        "/data/ct/1.dcm", 0, "1.2.3.4", "1.2.840.10008.5.1.4.1.1.2", "1.2.3", "1.2", "1.2.9"
    )
    line = Annotation(shapes.LENGTH, ((1.5, 2.5), (10.5, 2.5)), image)
    note = Annotation(shapes.TEXT, ((4.0, 4.0),), image, text="Befund")
    database = StudyDatabase(tmp_path / "studies.sqlite")
    assert persist.save(database, "1.2", [line, note]) == 2
    database.close()

    reopened = StudyDatabase(tmp_path / "studies.sqlite")
    moved = ImageRef("/elsewhere/1.dcm", 0, "1.2.3.4", image.sop_class_uid, "1.2.3")
    back = persist.load(reopened, "1.2", {"1.2.3.4": moved})
    assert {a.id for a in back} == {line.id, note.id}
    again = next(a for a in back if a.id == line.id)
    assert again.points == line.points and again.image.path == "/elsewhere/1.dcm"
    assert again.image.frame_of_reference_uid == "1.2.9"
    assert persist.save(reopened, "1.2", [line.moved(1, 0)]) == 2  # one changed, one deleted
    (only,) = persist.load(reopened, "1.2", {"1.2.3.4": moved})
    assert only.points == ((2.5, 2.5), (11.5, 2.5))
    assert persist.load(reopened, "1.2", {}) == []  # image not open: nothing placed
    assert persist.save(reopened, "1.2", [line.moved(1, 0)]) == 0  # unchanged: no write
    reopened.close()


def test_loaded_annotations_are_another_systems_unless_said_otherwise() -> None:
    """Whatever loads a presentation state's graphics (any reader) marks them foreign by
    default, so the viewer never saves them as its own; the study database's rows are
    loaded as the viewer's own."""
    from viewer.model.annotations.store import AnnotationStore

    image = ImageRef("/x.dcm", 0, "1.2.3")
    theirs = Annotation(shapes.ELLIPSE, ((1.0, 1.0), (5.0, 5.0)), image)
    ours = Annotation(shapes.LENGTH, ((1.0, 1.0), (5.0, 5.0)), image)
    store = AnnotationStore()
    store.load([theirs])
    store.load([ours], foreign=False)
    assert store.foreign == {theirs.id}
