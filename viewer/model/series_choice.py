"""Which series a study opens on: the one a reader would pick first, not the first in the tree.

A CD's first series is often a scout, a localizer, a dose page or a screen capture of the
exam summary. The series shown first is the one with the largest positioned stack of the first
study: a volume of slices with Image Position/Orientation (PS3.3 C.7.6.2), more than one frame,
not a localizer (Image Type value 3 LOCALIZER, C.7.6.1.1.2) and not a secondary capture or a
dose page (SOP classes in PS3.4 B.5; dose screens are secondary captures or say "dose" in their
Series Description). When no series is such a volume, the largest displayable stack wins, and
failing that the first series with frames.

A prior to compare with (:func:`prior_to_compare`) is the same patient's previous study's
series of the same modality and plane.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from viewer.dicom.catalog.catalog import Catalog, PatientNode, SeriesNode, StudyNode
from viewer.dicom.catalog.geometry import slice_normal
from viewer.dicom.catalog.sop_kinds import object_kind
from viewer.dicom.catalog.stack import Stack
from viewer.model.cross_reference import PARALLEL_COSINE

#: Series Description words that mark pages rather than images (dose sheets, reports).
PAGE_WORDS = ("dose", "report", "summary", "screen", "protocol")
#: Object kinds (viewer.dicom.catalog.sop_kinds) that are pages, never the first choice.
PAGE_KINDS = ("Secondary capture", "Dose report", "Encapsulated PDF")


def is_page(series: SeriesNode) -> bool:
    """A dose sheet, report or screen capture: shown on request, never first."""
    description = series.info.description.casefold()
    if any(word in description for word in PAGE_WORDS):
        return True
    kinds = {object_kind(record.sop_class_uid) for record in series.instances}
    return bool(kinds) and kinds <= set(PAGE_KINDS)


def _volume_size(stack: Stack) -> int:
    """Frames of a positioned, non-localizer, multi-frame stack (0 for anything else)."""
    if stack.localizer or stack.frames < 2 or stack.positions is None:
        return 0
    return stack.frames


def best_stack(series: SeriesNode) -> int | None:
    """The number (in ``series.stacks``) of its largest volume, None if it has none."""
    sizes = [_volume_size(stack) for stack in series.stacks]
    if not sizes or max(sizes) == 0:
        return None
    return sizes.index(max(sizes))


def first_to_show(catalog: Catalog, study_uid: str = "") -> tuple[SeriesNode, int] | None:
    """(series, stack number) to open on, from the first study in tree order (or from the
    study ``study_uid``, e.g. one reopened from the study database); None when nothing has
    frames."""
    series = catalog.all_series()
    if not series:
        return None
    first_study = _study_series(catalog, study_uid) if study_uid else _first_study(catalog)
    candidates = [s for s in series if s.uid in first_study] or series
    choice = _largest_volume(s for s in candidates if not is_page(s))
    if choice is not None:
        return choice
    for item in candidates + series:
        if item.stacks:
            sizes = [0 if s.localizer else s.frames for s in item.stacks]
            return item, sizes.index(max(sizes))
    return None


def displayable_in_order(catalog: Catalog) -> list[SeriesNode]:
    """Series with frames, in tree order, pages and localizer-only series last."""
    shown = [s for s in catalog.all_series() if s.stacks]
    return sorted(shown, key=lambda s: is_page(s) or all(k.localizer for k in s.stacks))


def _study_series(catalog: Catalog, study_uid: str) -> set[str]:
    for patient in catalog.patients.values():
        study = patient.studies.get(study_uid)
        if study is not None:
            return set(study.series)
    return set()


def _first_study(catalog: Catalog) -> set[str]:
    for patient in catalog.sorted_patients():
        for study in patient.sorted_studies():
            if any(series.stacks for series in study.series.values()):
                return set(study.series)
    return set()


def _largest_volume(series: Iterable[SeriesNode]) -> tuple[SeriesNode, int] | None:
    best: tuple[int, SeriesNode, int] | None = None
    for item in series:
        number = best_stack(item)
        if number is None:
            continue
        size = item.stacks[number].frames
        if best is None or size > best[0]:
            best = (size, item, number)
    return None if best is None else (best[1], best[2])


def prior_to_compare(
    catalog: Catalog, series_uid: str, stack_number: int = 0
) -> tuple[SeriesNode, int] | None:
    """(series, stack number) to compare with: of the same patient's previous study (else the
    nearest later one), the same modality and plane as ``series_uid``'s stack ``stack_number``
    (the same Series Description first, then the largest volume); None when there is none."""
    found = _study_of(catalog, series_uid)
    if found is None:
        return None
    patient, study, series = found
    stacks = series.stacks
    if not stacks:
        return None
    shown = stacks[min(max(stack_number, 0), len(stacks) - 1)]
    studies = [s for s in patient.sorted_studies() if s.info.uid != study.info.uid]
    newer = [s for s in studies if _stamp(s) > _stamp(study)]
    older = [s for s in studies if s not in newer]
    for candidate in older + newer[::-1]:
        match = _matching_series(candidate, series, shown)
        if match is not None:
            return match
    return None


def _stamp(study: StudyNode) -> str:
    return study.info.date + study.info.time


def _study_of(
    catalog: Catalog, series_uid: str
) -> tuple[PatientNode, StudyNode, SeriesNode] | None:
    for patient in catalog.patients.values():
        for study in patient.studies.values():
            series = study.series.get(series_uid)
            if series is not None:
                return patient, study, series
    return None


def _matching_series(
    study: StudyNode, series: SeriesNode, shown: Stack
) -> tuple[SeriesNode, int] | None:
    best: tuple[tuple[bool, int], SeriesNode, int] | None = None
    for item in study.sorted_series():
        if item.info.modality != series.info.modality or is_page(item):
            continue
        for number, stack in enumerate(item.stacks):
            if stack.localizer or not stack.frames or not same_plane(stack, shown):
                continue
            rank = (item.info.description == series.info.description, _volume_size(stack))
            if best is None or rank > best[0]:
                best = (rank, item, number)
    return None if best is None else (best[1], best[2])


def same_plane(first: Stack, second: Stack) -> bool:
    """Both stacks have an orientation and their slices are (near) parallel."""
    if first.orientation is None or second.orientation is None:
        return False
    cosine = float(np.dot(slice_normal(first.orientation), slice_normal(second.orientation)))
    return abs(cosine) >= PARALLEL_COSINE
