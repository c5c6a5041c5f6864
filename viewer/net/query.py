"""Query filters and results, the same for C-FIND and QIDO-RS.

Matching follows PS3.4 C.2.2.2: a patient name may hold ``*`` and ``?`` wildcards; a date is
one ``YYYYMMDD`` or a range ``FROM-TO`` (either end open); other keys match exactly. Results
are at STUDY or SERIES level (PS3.4 C.6.2, Study Root); the keys asked for are the ones the
study browser shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from viewer.net.errors import NetError
from viewer.store.query import parse_date_range

LEVELS = ("study", "series")
#: Results asked for when no limit is given (a server may cap them lower and say so).
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class QueryFilter:
    """What to look for. Empty strings match everything."""

    level: str = "study"
    patient_name: str = ""
    patient_id: str = ""
    accession: str = ""
    date: str = ""  # YYYYMMDD, FROM-TO, FROM-, -TO
    modality: str = ""
    description: str = ""
    study_uid: str = ""  # series level: the study to list
    limit: int = DEFAULT_LIMIT

    def problems(self) -> list[str]:
        found = []
        if self.level not in LEVELS:
            found.append(f"level must be study or series, not {self.level!r}")
        if self.date:
            try:
                parse_date_range(self.date)
            except ValueError as error:
                found.append(f"date: {error}")
        if self.limit < 1:
            found.append("the result limit must be at least 1")
        return found

    def date_range(self) -> str:
        """The date as a DICOM range matching value (PS3.4 C.2.2.2.5), or ""."""
        if not self.date:
            return ""
        start, end = parse_date_range(self.date)
        return start if start == end else f"{start}-{end}"


@dataclass(frozen=True)
class QueryResult:
    """One study or series as the server answered it."""

    level: str
    study_uid: str
    series_uid: str = ""
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    date: str = ""
    time: str = ""
    accession: str = ""
    description: str = ""  # the study's, or the series' at series level
    modalities: tuple[str, ...] = ()
    instances: int | None = None
    series_count: int | None = None
    series_number: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The object ``query --json`` prints (shared/cli-contract.md)."""
        data: dict[str, Any] = {
            "level": self.level,
            "study_uid": self.study_uid,
            "patient_name": self.patient_name,
            "patient_id": self.patient_id,
            "date": self.date,
            "modalities": list(self.modalities),
            "description": self.description,
            "instances": self.instances,
        }
        if self.level == "series":
            data["series_uid"] = self.series_uid
            data["series_number"] = self.series_number
        else:
            data["series"] = self.series_count
            data["accession"] = self.accession
        return data


@dataclass
class QueryAnswer:
    """The results of one query; ``truncated`` says why there may be more ("" if none)."""

    results: list[QueryResult] = field(default_factory=list)
    truncated: str = ""


@dataclass
class RetrievePlan:
    """The series a retrieve fetches, as a series-level query found them, and (DIMSE) the
    storage SOP classes the study holds."""

    study_uid: str
    series: list[QueryResult] = field(default_factory=list)
    sop_classes: list[str] = field(default_factory=list)


def limited(results: list[QueryResult], limit: int) -> QueryAnswer:
    """At most ``limit`` results (asked for one more), saying so when there were more."""
    answer = QueryAnswer(results[:limit])
    if len(results) > limit:
        answer.truncated = f"more than {limit} results: showing the first {limit}; narrow the query"
    return answer


def choose_series(
    answer: QueryAnswer, study_uid: str, series_uids: Sequence[str], where: str
) -> list[QueryResult]:
    """The study's series a retrieve fetches: all, or those named (a named series the query
    did not list is still asked for, with its count unknown). Raises
    :class:`~viewer.net.errors.NetError` when there is none."""
    series = [s for s in answer.results if not series_uids or s.series_uid in series_uids]
    for uid in series_uids:
        if all(s.series_uid != uid for s in series):
            series.append(QueryResult(level="series", study_uid=study_uid, series_uid=uid))
    if not series:
        raise NetError(f"study {study_uid} not found on {where}")
    return series


def to_int(value: object) -> int | None:
    """An IS/US value as int, or None when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
