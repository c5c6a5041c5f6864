"""The study catalog: patient > study > series > instances, merged across everything opened.

The same Patient (ID + name), Study, Series UID meet in one node however many paths they came
from; the same SOP Instance UID is kept once. Stacks are derived from a series' instances on
demand and cached until the series changes. No Qt: the GUI wraps this in a Qt model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from viewer.dicom.catalog.records import (
    InstanceRecord,
    PatientInfo,
    ScannedFile,
    SeriesInfo,
    Skipped,
    StudyInfo,
)
from viewer.dicom.catalog.stack import Stack, build_stacks


@dataclass(eq=False)
class SeriesNode:
    info: SeriesInfo
    instances: list[InstanceRecord] = field(default_factory=list)
    _stacks: list[Stack] | None = field(default=None, repr=False)

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
            self._stacks = build_stacks(self.instances)
        return self._stacks

    def add(self, record: InstanceRecord) -> None:
        self.instances.append(record)
        self._stacks = None


@dataclass(eq=False)
class StudyNode:
    info: StudyInfo
    series: dict[str, SeriesNode] = field(default_factory=dict)

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


class Catalog:
    """All patients indexed so far, plus what was skipped and how many files were looked at."""

    def __init__(self) -> None:
        self.patients: dict[str, PatientNode] = {}
        self.skipped: list[Skipped] = []
        self.scanned = 0
        self._sop_instances: set[str] = set()
        self._series_by_uid: dict[str, SeriesNode] = {}

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
        patient = self.patients.get(item.patient.key)
        new_patient = patient is None
        if patient is None:
            patient = self.patients[item.patient.key] = PatientNode(item.patient)
        study = patient.studies.get(record.study_uid)
        new_study = study is None
        if study is None:
            study = patient.studies[record.study_uid] = StudyNode(item.study)
        series = study.series.get(record.series_uid)
        new_series = series is None
        if series is None:
            series = study.series[record.series_uid] = SeriesNode(item.series)
            self._series_by_uid[record.series_uid] = series
        series.add(record)
        return Added(patient, study, series, new_patient, new_study, new_series)

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
