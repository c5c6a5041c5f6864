"""What a DICOM object is, in a word a person understands, from its SOP Class UID.

Storage SOP Classes are listed in PS3.4 Annex B (Table B.5-1) and PS3.6 Annex A. Families
share a UID prefix: Structured Reports (...1.1.88.x), Presentation States (...1.1.11.x),
Waveforms (...1.1.9.x), RT objects (...1.1.481.x), encapsulated documents (...1.1.104.x).
Objects without pixel data (reports, key object selections, presentation states, RT
structure sets and plans, encapsulated PDFs, waveforms) are listed in the study tree as what
they are even though the viewer cannot display them.
"""

from __future__ import annotations

import functools

from viewer.dicom import decoding_stack

STORAGE = "1.2.840.10008.5.1.4.1.1."

#: Exact classes first (PS3.4 B.5), then families by prefix (longest first).
EXACT_KINDS: dict[str, str] = {
    STORAGE + "88.59": "Key object selection",
    STORAGE + "88.67": "Dose report",
    STORAGE + "88.68": "Dose report",
    STORAGE + "481.1": "RT image",
    STORAGE + "481.2": "RT dose",
    STORAGE + "481.3": "RT structure set",
    STORAGE + "481.5": "RT plan",
    STORAGE + "481.8": "RT ion plan",
    STORAGE + "104.1": "Encapsulated PDF",
    STORAGE + "104.2": "Encapsulated CDA",
    STORAGE + "104.3": "Encapsulated STL",
    STORAGE + "104.4": "Encapsulated OBJ",
    STORAGE + "104.5": "Encapsulated MTL",
    STORAGE + "66": "Raw data",
    STORAGE + "66.1": "Spatial registration",
    STORAGE + "66.2": "Spatial fiducials",
    STORAGE + "66.3": "Deformable registration",
    STORAGE + "66.4": "Segmentation",
    STORAGE + "66.5": "Surface segmentation",
    STORAGE + "67": "Real world value map",
    STORAGE + "7": "Secondary capture",
    "1.2.840.10008.1.3.10": "DICOMDIR",
}
PREFIX_KINDS: tuple[tuple[str, str], ...] = (
    (STORAGE + "88.", "Structured report"),
    (STORAGE + "11.", "Presentation state"),
    (STORAGE + "9.", "Waveform"),
    (STORAGE + "481.", "RT object"),
    (STORAGE + "104.", "Encapsulated document"),
    (STORAGE + "7.", "Secondary capture"),
)


@functools.lru_cache(maxsize=512)
def object_kind(sop_class_uid: str) -> str:
    """A short label: "Structured report", "RT structure set", "Encapsulated PDF"...

    Classes not named here get pydicom's registry name without "Storage" ("CT Image",
    "Enhanced MR Image"), else "DICOM object".
    """
    uid = sop_class_uid.strip()
    kind = EXACT_KINDS.get(uid)
    if kind is not None:
        return kind
    for prefix, family in PREFIX_KINDS:
        if uid.startswith(prefix):
            return family
    return _registry_name(uid)


def _registry_name(uid: str) -> str:
    decoding_stack.load()
    from pydicom.uid import UID

    try:
        name = UID(uid).name if uid else ""
    except Exception:  # an odd UID string: no name
        name = ""
    if not name or name == uid:
        return "DICOM object"
    return name.split(" - ")[0].removesuffix(" Storage").strip()
