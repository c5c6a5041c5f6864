"""The study catalog: patient > study > series > instances, merged across everything opened.

The same Patient (ID + name), Study, Series UID meet in one node however many paths they came
from; the same SOP Instance UID is kept once. A study is one study whatever its files say about
the patient (PS3.3 C.7.2.1: the Study Instance UID identifies it): it is shown under the patient
most of its files name, and each series whose files disagree says which attribute differs and
in how many files (a mis-encoded name, a changed ID). Stacks are derived from a series' instances on
demand and cached until the series changes. No Qt: the GUI wraps this in a Qt model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from viewer.dicom.catalog.records import (
    InstanceRecord,
    PatientInfo,
    ScannedFile,
    SeriesInfo,
    Skipped,
    StudyInfo,
)
from viewer.dicom.catalog.stack import Stack, build_stacks

#: The patient attributes (PS3.3 C.7.1.1) compared across a series' files, as people name them.
PATIENT_ATTRIBUTES = (
    ("patient_id", "Patient ID"),
    ("name", "Patient's Name"),
    ("birth_date", "Patient's Birth Date"),
    ("sex", "Patient's Sex"),
)


@dataclass(eq=False)
class SeriesNode:
    info: SeriesInfo
    instances: list[InstanceRecord] = field(default_factory=list)
    _stacks: list[Stack] | None = field(default=None, repr=False)
    #: How many of the series' files name each patient (the patient module as read).
    patients: Counter[PatientInfo] = field(default_factory=Counter, repr=False)
    #: The patient the series is shown under (its study's majority), set by the catalog.
    shown_patient: PatientInfo | None = field(default=None, repr=False)

    @property
    def uid(self) -> str:
        return self.info.uid

    @property
    def frame_count(self) -> int:
        return sum(record.frames for record in self.instances if record.has_pixels)

    @property
    def stacks(self) -> list[Stack]:
        """The series split into ordered stacks (built on first use, rebuilt after changes)."""
        if self._stacks is None:
            notes = tuple(self.warnings)
            self._stacks = [
                replace(stack, warnings=(*notes, *stack.warnings)) if notes else stack
                for stack in build_stacks(self.instances)
            ]
        return self._stacks

    @property
    def warnings(self) -> list[str]:
        """Patient attributes on which the series' files disagree with the patient it is shown
        under: which attribute and in how many files."""
        shown = self.shown_patient
        if shown is None or (len(self.patients) < 2 and shown in self.patients):
            return []
        total = sum(self.patients.values())
        notes = []
        for attribute, label in PATIENT_ATTRIBUTES:
            wanted = getattr(shown, attribute)
            differ = sum(
                n for info, n in self.patients.items() if getattr(info, attribute) != wanted
            )
            if differ:
                notes.append(
                    f"{label} differs in {differ} of {total} file(s); shown under the patient "
                    "most files of the study name"
                )
        return notes

    def add(self, record: InstanceRecord, patient: PatientInfo) -> None:
        self.instances.append(record)
        self.patients[patient] += 1
        self._stacks = None

    def show_under(self, patient: PatientInfo) -> None:
        if patient != self.shown_patient:
            self.shown_patient = patient
            self._stacks = None


@dataclass(eq=False)
class StudyNode:
    info: StudyInfo
    series: dict[str, SeriesNode] = field(default_factory=dict)
    #: How many of the study's files name each patient.
    patients: Counter[PatientInfo] = field(default_factory=Counter, repr=False)

    @property
    def majority_patient(self) -> PatientInfo:
        """The patient most of the study's files name (the first seen on a tie)."""
        return self.patients.most_common(1)[0][0]

    @property
    def modalities(self) -> list[str]:
        return sorted({s.info.modality for s in self.series.values() if s.info.modality})

    def sorted_series(self) -> list[SeriesNode]:
        """Series by number (unnumbered last), then description."""
        return sorted(
            self.series.values(),
            key=lambda s: (s.info.number is None, s.info.number or 0, s.info.description),
        )


@dataclass(eq=False)
class PatientNode:
    info: PatientInfo
    studies: dict[str, StudyNode] = field(default_factory=dict)

    def sorted_studies(self) -> list[StudyNode]:
        """Newest study first (date then time), undated last."""
        return sorted(
            self.studies.values(),
            key=lambda s: (not s.info.date, _negated(s.info.date + s.info.time), s.info.uid),
        )


def _negated(stamp: str) -> str:
    return "".join(chr(0x10FFFF - ord(char)) for char in stamp)


@dataclass(frozen=True, slots=True)
class Added:
    """What adding a file changed, for views that want to update incrementally."""

    patient: PatientNode
    study: StudyNode
    series: SeriesNode
    new_patient: bool
    new_study: bool
    new_series: bool
    #: The patient the study was shown under until this file changed its majority, if it did.
    moved_from: PatientNode | None = None


class Catalog:
    """All patients indexed so far, plus what was skipped and how many files were looked at."""

    def __init__(self) -> None:
        self.patients: dict[str, PatientNode] = {}
        self.skipped: list[Skipped] = []
        self.scanned = 0
        self._sop_instances: set[str] = set()
        self._series_by_uid: dict[str, SeriesNode] = {}
        self._studies_by_uid: dict[str, StudyNode] = {}
        self._study_owner: dict[str, PatientNode] = {}

    def add(self, item: ScannedFile | Skipped) -> Added | None:
        """Merge one scan result. Returns what changed, or None (skipped or duplicate)."""
        self.scanned += 1
        if isinstance(item, Skipped):
            self.skipped.append(item)
            return None
        record = item.instance
        if record.sop_instance_uid in self._sop_instances:
            return None
        self._sop_instances.add(record.sop_instance_uid)
        study = self._studies_by_uid.get(record.study_uid)
        new_study = study is None
        if study is None:
            study = self._studies_by_uid[record.study_uid] = StudyNode(item.study)
        study.patients[item.patient] += 1
        owner = self._study_owner.get(record.study_uid)
        majority = study.majority_patient
        patient, new_patient = self._patient_node(majority)
        moved_from = owner if owner is not None and owner is not patient else None
        if owner is not patient:
            self._move_study(study, owner, patient)
        series = study.series.get(record.series_uid)
        new_series = series is None
        if series is None:
            series = study.series[record.series_uid] = SeriesNode(item.series)
            self._series_by_uid[record.series_uid] = series
        series.add(record, item.patient)
        for member in study.series.values():
            member.show_under(majority)
        return Added(patient, study, series, new_patient, new_study, new_series, moved_from)

    def _patient_node(self, info: PatientInfo) -> tuple[PatientNode, bool]:
        patient = self.patients.get(info.key)
        if patient is not None:
            return patient, False
        patient = self.patients[info.key] = PatientNode(info)
        return patient, True

    def _move_study(self, study: StudyNode, old: PatientNode | None, new: PatientNode) -> None:
        """Show ``study`` under ``new`` (its files' majority) instead of ``old``."""
        if old is not None:
            old.studies.pop(study.info.uid, None)
            if not old.studies:
                del self.patients[old.info.key]
        new.studies[study.info.uid] = study
        self._study_owner[study.info.uid] = new

    def series(self, uid: str) -> SeriesNode | None:
        return self._series_by_uid.get(uid)

    def sorted_patients(self) -> list[PatientNode]:
        return sorted(self.patients.values(), key=lambda p: (p.info.name, p.info.patient_id))

    def all_series(self) -> list[SeriesNode]:
        """Every series in tree order (patients, studies newest first, series by number)."""
        return [
            series
            for patient in self.sorted_patients()
            for study in patient.sorted_studies()
            for series in study.sorted_series()
        ]

    def all_stacks(self) -> list[Stack]:
        """Every stack depth first, the order ``inspect`` lists them and ``--stack K`` counts."""
        return [stack for series in self.all_series() for stack in series.stacks]

    @property
    def instance_count(self) -> int:
        return len(self._sop_instances)
