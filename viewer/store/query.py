"""Searching the study database: what a user types, as SQL over the studies table.

Patient names are compared folded (:func:`fold_text`: accents removed, case folded, the
``^``/``,`` of names as spaces), so ``muller`` finds ``Müller^Hans``. A name term matches at
the start of any word of the name; ``*`` (any run) and ``?`` (one character) are the
wildcards of DICOM matching (PS3.4 C.2.2.2.4). Dates are DICOM DA strings (YYYYMMDD); a range
``FROM-TO`` may leave either end open (PS3.4 C.2.2.2.5). A listing reads only the studies and
patients tables (counts and modalities are kept per study) and, for a modality, the series
table's index, never the instance rows.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s^,=()]+")
_DATE = re.compile(r"^\d{8}$")


def fold_text(text: str) -> str:
    """``"Müller^Hans"`` -> ``"muller hans"``: accents and case gone, one space between words."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", bare.casefold()).strip()


@dataclass(frozen=True, slots=True)
class StudyQuery:
    """What to look for; empty fields match everything. ``date_from``/``date_to`` are
    YYYYMMDD, inclusive."""

    patient_name: str = ""
    patient_id: str = ""
    accession_number: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    limit: int | None = None


def parse_date_range(text: str) -> tuple[str, str]:
    """``YYYYMMDD-YYYYMMDD``, ``YYYYMMDD-``, ``-YYYYMMDD`` or one ``YYYYMMDD`` (that day), as
    (from, to) with "" for an open end. Raises ValueError."""
    start, dash, end = text.strip().partition("-")
    start = start.strip()
    return _checked(start, end.strip() if dash else start)


def _checked(start: str, end: str) -> tuple[str, str]:
    for value in (start, end):
        if value and not (_DATE.match(value) and _valid_day(value)):
            raise ValueError(f"not a date (YYYYMMDD): {value!r}")
    if not (start or end):
        raise ValueError("a date range needs FROM, TO or both (YYYYMMDD-YYYYMMDD)")
    return start, end


def _valid_day(value: str) -> bool:
    try:
        datetime.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def last_days(days: int, today: datetime.date | None = None) -> tuple[str, str]:
    """The range of the last ``days`` days, today included (1: today only)."""
    end = today or datetime.date.today()
    start = end - datetime.timedelta(days=max(days, 1) - 1)
    return start.strftime("%Y%m%d"), end.strftime("%Y%m%d")


def name_patterns(text: str) -> list[str]:
    """LIKE patterns (escape ``\\``) for a name term against a folded name: at its start, or
    at the start of any later word."""
    folded = fold_text(text.replace("*", "\x01").replace("?", "\x02"))
    if not folded:
        return []
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = escaped.replace("\x01", "%").replace("\x02", "_")
    return [like + "%", "% " + like + "%"]


def where_clause(query: StudyQuery) -> tuple[str, list[object]]:
    """The WHERE of a listing over ``studies s JOIN patients p``, and its parameters."""
    terms: list[str] = []
    values: list[object] = []
    patterns = name_patterns(query.patient_name)
    if patterns:  # the (small) patients table first, then their studies by index
        terms.append(
            "s.patient IN (SELECT id FROM patients WHERE name_folded LIKE ? ESCAPE '\\' "
            "OR name_folded LIKE ? ESCAPE '\\')"
        )
        values.extend(patterns)
    if query.patient_id.strip():
        terms.append("p.patient_id LIKE ? ESCAPE '\\'")
        values.append(_prefix_pattern(query.patient_id))
    if query.accession_number.strip():
        terms.append("s.accession_number LIKE ? ESCAPE '\\'")
        values.append(_prefix_pattern(query.accession_number))
    if query.date_from:
        terms.append("s.date >= ?")
        values.append(query.date_from)
    if query.date_to:
        terms.append("s.date <> '' AND s.date <= ?")
        values.append(query.date_to)
    if query.modality.strip():  # the series' modality index (CS values are upper case)
        terms.append("s.id IN (SELECT study FROM series WHERE modality = ?)")
        values.append(query.modality.strip().upper())
    return (" WHERE " + " AND ".join(terms)) if terms else "", values


def _prefix_pattern(text: str) -> str:
    """An identifier typed by the user: a prefix, with DICOM's ``*`` and ``?`` wildcards."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_") + "%"
