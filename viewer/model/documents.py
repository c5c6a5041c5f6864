"""What the study tree's non-image objects lead to (no Qt): the image an SR measurement or a
key object selection references, as a place in the catalog; the key images of a KO as one
stack; an encapsulated PDF as a private copy in the user cache.

A reference is a SOP Instance UID and a frame (0-based), as
:func:`viewer.model.annotations.dicom_objects.read_report` gives them; the catalog finds
the series, the stack and the index in it that show that frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from viewer.dicom.catalog.catalog import Catalog, SeriesNode
from viewer.dicom.catalog.frame_ref import FrameRef
from viewer.dicom.catalog.stack import Stack

#: Encapsulated PDF Storage (PS3.4 B.5, PS3.3 A.45.1).
PDF_CLASS = "1.2.840.10008.5.1.4.1.1.104.1"
#: Key Object Selection Document Storage.
KO_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
#: Structured reports (...1.1.88.x); the KO class is one of them but is listed as key images.
SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
#: Softcopy presentation states (...1.1.11.x).
PR_PREFIX = "1.2.840.10008.5.1.4.1.1.11."

#: UCUM units of SR measurements as people write them.
UNIT_TEXT = {"[hnsf'U]": "HU", "mm2": "mm²", "cm2": "cm²", "deg": "°", "1": "", "{pixel}": "px"}


def document_kind(sop_class_uid: str) -> str:
    """ "SR", "KO", "PDF", "PR" for the objects this module leads somewhere, else ""."""
    uid = sop_class_uid.strip()
    if uid == KO_CLASS:
        return "KO"
    if uid == PDF_CLASS:
        return "PDF"
    if uid.startswith(SR_PREFIX):
        return "SR"
    if uid.startswith(PR_PREFIX):
        return "PR"
    return ""


def series_kind(series: SeriesNode) -> str:
    """The :func:`document_kind` of a series without images (its first instance's), else ""."""
    if series.stacks or not series.instances:
        return ""
    return document_kind(series.instances[0].sop_class_uid)


def unit_text(unit: str) -> str:
    return UNIT_TEXT.get(unit, unit)


@dataclass(frozen=True)
class Place:
    """Where a referenced frame is shown: series, stack number and index in that stack."""

    series_uid: str
    stack: int
    index: int
    source: FrameRef


def locate(catalog: Catalog, sop_instance_uid: str, frame: int = 0) -> Place | None:
    """The place of frame ``frame`` (0-based) of the instance ``sop_instance_uid``; None when
    that instance is not open (or has no pixels)."""
    for series in catalog.all_series():
        record = next((r for r in series.instances if r.sop_instance_uid == sop_instance_uid), None)
        if record is None:
            continue
        wanted = FrameRef(record.path, max(frame, 0))
        for number, stack in enumerate(series.stacks):
            if wanted in stack.sources:
                return Place(series.uid, number, stack.sources.index(wanted), wanted)
        return None
    return None


@dataclass(frozen=True)
class KeyImages:
    """The key images of a KO that are open: one stack of them (in the KO's order) in the
    series of the first, and how many references are not shown (not open, or another
    matrix than the first's)."""

    stack: Stack
    series_uid: str
    missing: int


def key_image_stack(
    catalog: Catalog, references: Iterable[tuple[str, int]], title: str = "Key images"
) -> KeyImages | None:
    """A stack of just the frames ``references`` names (SOP Instance UID, frame), with the
    geometry of the first one's stack where the frames are all from it (else none: they are
    images to step through, not a volume); None when none of them is open."""
    places: list[Place] = []
    missing = 0
    for uid, frame in references:
        place = locate(catalog, uid, frame)
        if place is None or place in places:
            missing += place is None
            continue
        places.append(place)
    if not places:
        return None
    first = places[0]
    series = catalog.series(first.series_uid)
    assert series is not None
    base = series.stacks[first.stack]
    kept: list[Place] = []
    for place in places:
        other = catalog.series(place.series_uid)
        stack = other.stacks[place.stack] if other is not None else None
        if stack is None or (stack.rows, stack.columns) != (base.rows, base.columns):
            missing += 1
            continue
        kept.append(place)
    numbers = dict(zip(base.sources, base.instance_numbers or (), strict=False))
    stack = replace(
        base,
        sources=tuple(place.source for place in kept),
        spacing=None,
        origin=None,
        direction=None,
        positions=None,
        instance_numbers=tuple(numbers.get(place.source) for place in kept),
        title=title,
        label=title,
        phase=0,
        phases=1,
        phase_text="",
        phase_key="",
        phase_value=None,
    )
    return KeyImages(stack, first.series_uid, missing)


def encapsulated_document(ds: Any) -> bytes:
    """The document an Encapsulated Document object holds, without the padding byte DICOM
    adds to an odd length (PS3.3 C.24.2.1: Encapsulated Document Length says the real one)."""
    data = bytes(ds.EncapsulatedDocument)
    length = ds.get("EncapsulatedDocumentLength")
    if length is not None and 0 < int(length) <= len(data):
        data = data[: int(length)]
    return data


def private_pdf_copy(ds: Any, folder: str | os.PathLike[str]) -> Path:
    """Write the PDF of ``ds`` into ``folder`` (a private folder the caller owns: never one
    holding the source files), readable by the user only; its path."""
    name = "".join(c for c in str(ds.get("SOPInstanceUID", "") or "document") if c in "0123456789.")
    path = Path(folder) / f"{name or 'document'}.pdf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(encapsulated_document(ds))
    return path
