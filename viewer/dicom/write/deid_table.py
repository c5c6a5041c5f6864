"""PS3.15 Annex E, Table E.1-1: what the Basic Application Level Confidentiality Profile does to
each attribute, and what its options change.

The Basic Profile column is not typed in here: it comes from dicom-anonymizer (BSD-3-Clause,
KitwareMedical), whose ``dicomfields_2026c`` module is generated from the standard's table of
edition 2026c (`dicomanonymizer/dicom_anonymization_databases`). Its categories map to the
table's action codes: D (dummy value), Z (zero length), X (remove), U (replace UID) and the
combined codes Z/D, X/Z, X/D, X/Z/D, X/Z/U*.

The option columns (E.3) are derived from the standard's description of each option:

* Retain Longitudinal Temporal Information, Modified Dates (E.3.6): every table attribute whose
  VR is DA or DT is shifted by one offset for the whole export (C), times (TM) are kept (K);
  Patient's Birth Date is not retained by this option (it stays as the Basic Profile says).
* Retain Patient Characteristics (E.3.4): :data:`PATIENT_CHARACTERISTICS` kept (K).
* Retain Device Identity (E.3.3): :data:`DEVICE_IDENTITY` kept (K).
* Clean Descriptors (E.3.5): :data:`DESCRIPTORS` (and every table attribute named
  ``...Description`` or ``...Comments`` with a text VR) kept but cleaned (C): the identifying
  values of the same file (names, IDs, dates of birth, accession, institution) are blanked out
  of the text.

No Qt.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from pydicom.datadict import dictionary_keyword, dictionary_VR

#: The codes of Table E.1-1, as dicom-anonymizer's category names spell them.
_CATEGORY_CODES = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}
TABLE_EDITION = "2026c"

#: Retain Patient Characteristics Option (PS3.15 E.3.4).
PATIENT_CHARACTERISTICS = frozenset(
    {
        0x00100040,  # Patient's Sex
        0x00101010,  # Patient's Age
        0x00101020,  # Patient's Size
        0x00101030,  # Patient's Weight
        0x00102160,  # Ethnic Group
        0x001021A0,  # Smoking Status
        0x001021C0,  # Pregnancy Status
        0x00102203,  # Patient's Sex Neutered
        0x00102000,  # Medical Alerts
        0x00102110,  # Allergies
        0x00380050,  # Special Needs
        0x00380500,  # Patient State
    }
)

#: Retain Device Identity Option (PS3.15 E.3.3).
DEVICE_IDENTITY = frozenset(
    {
        0x00081010,  # Station Name
        0x00181000,  # Device Serial Number
        0x00181002,  # Device UID
        0x00181003,  # Device ID
        0x00181004,  # Plate ID
        0x00181005,  # Generator ID
        0x00181007,  # Cassette ID
        0x00181008,  # Gantry ID
        0x0018700A,  # Detector ID
        0x00189371,  # X-Ray Detector ID
        0x00189373,  # X-Ray Detector Label
        0x00400010,  # Scheduled Station Name
        0x00400241,  # Performed Station AE Title
        0x00400242,  # Performed Station Name
        0x00500020,  # Device Description
        0x30080105,  # Source Serial Number
        0x300A00B2,  # Treatment Machine Name
        0x3010002D,  # Device Label
    }
)

#: Clean Descriptors Option (PS3.15 E.3.5), besides the ``...Description``/``...Comments``.
DESCRIPTORS = frozenset(
    {
        0x00181030,  # Protocol Name
        0x00180010,  # Contrast/Bolus Agent
        0x00400254,  # Performed Procedure Step Description
        0x00081080,  # Admitting Diagnoses Description
        0x00400280,  # Comments on the Performed Procedure Step
        0x00324000,  # Study Comments
    }
)
_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
PATIENT_BIRTH_DATE = 0x00100030

#: The option names of ``--keep``, as PS3.15 E.3 names them (CID 7050 codes, PS3.16).
KEEP_OPTIONS: Mapping[str, tuple[str, str]] = {
    "dates": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    "patient-characteristics": ("113108", "Retain Patient Characteristics Option"),
    "device": ("113109", "Retain Device Identity Option"),
    "descriptions": ("113105", "Clean Descriptors Option"),
}
BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")
SAFE_PRIVATE_CODE = ("113111", "Retain Safe Private Option")


@dataclass(frozen=True, slots=True)
class MaskedRule:
    """A table row for a repeating group such as Curve Data (50xx,xxxx)."""

    tag: int
    mask: int
    code: str


@functools.cache
def basic_profile() -> tuple[dict[int, str], tuple[MaskedRule, ...]]:
    """Table E.1-1's Basic Profile column: exact tags -> code, and the masked rows."""
    from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as table

    exact: dict[int, str] = {}
    masked: list[MaskedRule] = []
    for category, code in _CATEGORY_CODES.items():
        for row in getattr(table, category):
            if len(row) == 2:
                exact[(row[0] << 16) | row[1]] = code
            else:
                group, element, group_mask, element_mask = row
                masked.append(
                    MaskedRule((group << 16) | element, (group_mask << 16) | element_mask, code)
                )
    return exact, tuple(masked)


@functools.cache
def vr_of(tag: int) -> str:
    """The dictionary VR of ``tag`` (the first of several, e.g. ``US or SS`` -> ``US``)."""
    try:
        return str(dictionary_VR(tag)).split(" ")[0]
    except KeyError:
        return "UN"


@functools.cache
def profile_actions(keep: frozenset[str]) -> dict[int, str]:
    """Exact tag -> action for the Basic Profile with the ``keep`` options applied.

    Actions: the table's codes, plus ``K`` (keep), ``C`` (clean text) and ``S`` (shift a date).
    """
    exact, _ = basic_profile()
    actions = dict(exact)
    for tag in exact:
        vr = vr_of(tag)
        if "dates" in keep and tag != PATIENT_BIRTH_DATE:
            if vr in ("DA", "DT"):
                actions[tag] = "S"
            elif vr == "TM":
                actions[tag] = "K"
        if "patient-characteristics" in keep and tag in PATIENT_CHARACTERISTICS:
            actions[tag] = "K"
        if "device" in keep and tag in DEVICE_IDENTITY:
            actions[tag] = "K"
        if "descriptions" in keep and vr in _TEXT_VRS and _is_descriptor(tag):
            actions[tag] = "C"
    return actions


def _is_descriptor(tag: int) -> bool:
    keyword = dictionary_keyword(tag) if tag in _known_tags() else ""
    return tag in DESCRIPTORS or keyword.endswith(("Description", "Comments"))


@functools.cache
def _known_tags() -> frozenset[int]:
    from pydicom.datadict import DicomDictionary

    return frozenset(DicomDictionary)


def masked_action(tag: int) -> str | None:
    """The code of a repeating-group row matching ``tag`` (Curve Data, Overlay Data...)."""
    for rule in basic_profile()[1]:
        if tag & rule.mask == rule.tag:
            return rule.code
    return None
