"""Annotations in the study database (viewer.store's ``viewer_objects`` table), keyed by
UIDs so they survive a study being moved, removed and imported again; never written next to
the source files. One row per annotation; its payload is the annotation as JSON (points in
image coordinates, :mod:`.shapes`), with the annotation's own id to find the row again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from viewer.model.annotations.shapes import Annotation, ImageRef

PAYLOAD_VERSION = 1
#: The ``kind`` of a row that flags a key image (key K) rather than holding an annotation.
KEY_IMAGE = "key_image"


def to_payload(annotation: Annotation) -> dict[str, Any]:
    return {
        "v": PAYLOAD_VERSION,
        "id": annotation.id,
        "points": [list(p) for p in annotation.points],
        "text": annotation.text,
        "visible": annotation.visible,
        "series_uid": annotation.image.series_uid,
        "sop_class_uid": annotation.image.sop_class_uid,
        **({"label": list(annotation.label)} if annotation.label is not None else {}),
    }


def key_image_payload(image: ImageRef) -> dict[str, Any]:
    return {
        "v": PAYLOAD_VERSION,
        "id": f"key:{image.sop_instance_uid}:{image.frame}",
        "series_uid": image.series_uid,
        "sop_class_uid": image.sop_class_uid,
    }


def _image(row: Any, image_of: Mapping[str, ImageRef]) -> ImageRef | None:
    known = image_of.get(row.sop_instance_uid)
    if known is None:
        return None
    return ImageRef(
        known.path,
        row.frame or 0,
        row.sop_instance_uid,
        known.sop_class_uid,
        known.series_uid,
        row.study_uid,
        row.frame_of_reference_uid,
    )


def from_payload(row: Any, image_of: Mapping[str, ImageRef]) -> Annotation | None:
    """The annotation of a ``viewer_objects`` row, placed on the image ``image_of`` finds for
    its SOP Instance UID (None when that image is not open, or the payload is not ours)."""
    payload = row.payload
    if not isinstance(payload, dict) or payload.get("v") != PAYLOAD_VERSION:
        return None
    if row.kind == KEY_IMAGE:
        return None
    image = _image(row, image_of)
    if image is None:
        return None
    points = tuple((float(x), float(y)) for x, y in payload.get("points", []))
    label = payload.get("label")
    return Annotation(
        row.kind,
        points,
        image,
        str(payload.get("text", "")),
        bool(payload.get("visible", True)),
        str(payload.get("id")),
        (float(label[0]), float(label[1])) if label else None,
    )


def save(
    database: Any,
    study_uid: str,
    annotations: Iterable[Annotation],
    key_images: Iterable[ImageRef] = (),
) -> int:
    """Make the study's rows the given annotations and key images (added, changed, deleted);
    rows written."""
    rows = {
        (r.payload or {}).get("id"): r
        for r in database.viewer_objects(study_uid=study_uid)
        if isinstance(r.payload, dict)
    }
    written = 0
    wanted: dict[str, tuple[str, ImageRef, dict[str, Any]]] = {
        a.id: (a.kind, a.image, to_payload(a)) for a in annotations if a.image.sop_instance_uid
    }
    for image in key_images:
        if image.sop_instance_uid:
            payload = key_image_payload(image)
            wanted[payload["id"]] = (KEY_IMAGE, image, payload)
    for annotation_id, (kind, image, payload) in wanted.items():
        row = rows.get(annotation_id)
        if row is None:
            database.add_viewer_object(
                study_uid,
                kind,
                payload,
                image.frame_of_reference_uid,
                image.sop_instance_uid,
                image.frame,
            )
            written += 1
        elif row.payload != payload:
            database.update_viewer_object(row.id, payload)
            written += 1
    for stored_id, stale in rows.items():
        if stored_id not in wanted:
            database.delete_viewer_object(stale.id)
            written += 1
    return written


def load(database: Any, study_uid: str, image_of: Mapping[str, ImageRef]) -> list[Annotation]:
    """The study's stored annotations on the images that are open."""
    found = (from_payload(row, image_of) for row in database.viewer_objects(study_uid=study_uid))
    return [a for a in found if a is not None]


def load_key_images(
    database: Any, study_uid: str, image_of: Mapping[str, ImageRef]
) -> list[ImageRef]:
    """The study's stored key images that are open."""
    found = (
        _image(row, image_of)
        for row in database.viewer_objects(study_uid=study_uid)
        if row.kind == KEY_IMAGE
    )
    return [image for image in found if image is not None]
