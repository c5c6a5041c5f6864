"""What went wrong while opening and showing images, grouped by the series it belongs to.

Bad input is normal input (issue 7): a file that cannot be read, or a frame that cannot be
decoded, costs that file or frame, and the user sees which one and why. A frame's problem
belongs to its series (General Series module, PS3.3 C.7.3.1: the Series Instance UID); a file
skipped while indexing has no series anyone can name (its header could not be read), so it
goes to the group of unsorted files. No Qt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.records import SeriesInfo

#: The group of problems no series can be named for (files left out while indexing).
UNSORTED = ""
UNSORTED_LABEL = "Unsorted / unreadable files"
#: Problems kept at most (a 20,000-file CD of junk must not grow without bound); the counts
#: go on past it.
MAX_KEPT = 5000


@dataclass(frozen=True, slots=True)
class Problem:
    """One file or frame that could not be used, and why (one readable line)."""

    path: str
    where: str  # "indexing", "frame 3", ...
    reason: str
    series_uid: str = UNSORTED


class ProblemLog:
    """Problems by series: each (file, where) once, counted per series, in arrival order."""

    def __init__(self, max_kept: int = MAX_KEPT) -> None:
        self.max_kept = max_kept
        self._seen: set[tuple[str, str]] = set()
        self._groups: dict[str, list[Problem]] = {}
        self._counts: dict[str, int] = {}
        self.total = 0

    def add(self, problem: Problem) -> bool:
        """Record ``problem``; False for a repeat of the same file and place."""
        key = (problem.path, problem.where)
        if key in self._seen:
            return False
        self._seen.add(key)
        self.total += 1
        self._counts[problem.series_uid] = self._counts.get(problem.series_uid, 0) + 1
        group = self._groups.setdefault(problem.series_uid, [])
        if self.kept < self.max_kept:
            group.append(problem)
        return True

    @property
    def kept(self) -> int:
        return sum(len(group) for group in self._groups.values())

    def count(self, series_uid: str) -> int:
        """Problems of the series (all of them, kept or not)."""
        return self._counts.get(series_uid, 0)

    def series_uids(self) -> list[str]:
        """The groups in the order their first problem came (UNSORTED among them)."""
        return list(self._groups)

    def problems(self, series_uid: str) -> list[Problem]:
        return list(self._groups.get(series_uid, ()))

    def __iter__(self) -> Iterator[Problem]:
        return iter([problem for group in self._groups.values() for problem in group])


def group_label(info: SeriesInfo | None) -> str:
    """``#3 Thorax (CT)`` for a series; the unsorted group's name for None."""
    if info is None:
        return UNSORTED_LABEL
    number = f"#{info.number} " if info.number is not None else ""
    modality = f" ({info.modality})" if info.modality else ""
    return f"{number}{info.description or '(no description)'}{modality}"


class SeriesOfPath:
    """Which series a file belongs to, from the catalog (a map rebuilt when it has grown)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._series: dict[str, str] = {}
        self._built_for = -1

    def __call__(self, path: str) -> str:
        """The file's Series Instance UID, or UNSORTED if the catalog does not hold it."""
        if self._built_for != self.catalog.instance_count:
            self._series = {
                record.path: series.uid
                for series in self.catalog.all_series()
                for record in series.instances
            }
            self._built_for = self.catalog.instance_count
        return self._series.get(path, UNSORTED)
