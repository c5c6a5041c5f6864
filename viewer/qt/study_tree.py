"""The study browser: a Qt tree model over the Catalog (patient > study > series).

Rows are added as index batches arrive (the catalog's ``Added`` results), so the tree fills
while indexing runs. Series rows carry their Series Instance UID in SERIES_UID_ROLE.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from viewer.dicom.catalog import Added, PatientNode, SeriesNode, StudyNode

SERIES_UID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = ("Patient / study / series", "Modality", "Date", "Images")


def format_date(value: str) -> str:
    """DICOM DA (YYYYMMDD, PS3.5 6.2) as YYYY-MM-DD; anything else unchanged."""
    return (
        f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value
    )


def patient_label(node: PatientNode) -> str:
    info = node.info
    details = [part for part in (info.patient_id, format_date(info.birth_date), info.sex) if part]
    name = info.name or "(no name)"
    return f"{name}  [{', '.join(details)}]" if details else name


def study_label(node: StudyNode) -> str:
    info = node.info
    return info.description or info.accession_number or "(no description)"


def series_label(node: SeriesNode) -> str:
    info = node.info
    number = f"#{info.number} " if info.number is not None else ""
    return f"{number}{info.description or '(no description)'}"


def series_count(node: SeriesNode) -> str:
    frames = node.frame_count
    instances = len(node.instances)
    if frames and frames != instances:
        return f"{instances} ({frames} frames)"
    return str(instances)


class StudyTreeModel(QStandardItemModel):
    """Incrementally built tree; one row per patient, study and series."""

    def __init__(self) -> None:
        super().__init__()
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self._patients: dict[int, QStandardItem] = {}
        self._studies: dict[int, list[QStandardItem]] = {}
        self._series: dict[int, list[QStandardItem]] = {}
        self.setSortRole(SORT_ROLE)

    def apply(self, change: Added) -> None:
        """Add or refresh the rows a catalog change touched."""
        patient = self._patient_row(change.patient)
        study = self._study_row(patient, change.study)
        study[1].setText(", ".join(change.study.modalities))
        series = self._series_row(study[0], change.series)
        series[3].setText(series_count(change.series))

    def _patient_row(self, node: PatientNode) -> QStandardItem:
        row = self._patients.get(id(node))
        if row is None:
            row = self._row(self.invisibleRootItem(), [patient_label(node)])
            self._patients[id(node)] = row
        return row

    def _study_row(self, parent: QStandardItem, node: StudyNode) -> list[QStandardItem]:
        row = self._studies.get(id(node))
        if row is None:
            info = node.info
            row = self._append(parent, [study_label(node), "", format_date(info.date), ""])
            row[0].setData(_negated_sort(info.date + info.time), SORT_ROLE)
            self._studies[id(node)] = row
        return row

    def _series_row(self, parent: QStandardItem, node: SeriesNode) -> list[QStandardItem]:
        row = self._series.get(id(node))
        if row is None:
            info = node.info
            texts = [series_label(node), info.modality, format_date(info.date), ""]
            row = self._append(parent, texts)
            row[0].setData(info.uid, SERIES_UID_ROLE)
            row[0].setData(f"{info.number or 0:08d}", SORT_ROLE)
            self._series[id(node)] = row
        return row

    def _row(self, parent: QStandardItem, texts: list[str]) -> QStandardItem:
        return self._append(parent, texts)[0]

    def _append(self, parent: QStandardItem, texts: list[str]) -> list[QStandardItem]:
        items = [QStandardItem(text) for text in texts]
        items += [QStandardItem("") for _ in range(len(COLUMNS) - len(items))]
        for item in items:
            item.setEditable(False)
        items[0].setData(texts[0].casefold(), SORT_ROLE)
        parent.appendRow(items)
        return items

    def first_series_uid(self) -> str | None:
        """The UID of the first series row in tree order, if any."""
        root = self.invisibleRootItem()
        for p in range(root.rowCount()):
            patient = root.child(p)
            for s in range(patient.rowCount()):
                study = patient.child(s)
                for r in range(study.rowCount()):
                    uid = study.child(r).data(SERIES_UID_ROLE)
                    if uid:
                        return str(uid)
        return None


def _negated_sort(stamp: str) -> str:
    """Sort key putting the newest date first under ascending sort."""
    return "".join(chr(0x2FFFF - ord(char)) for char in stamp) if stamp else "\U0002ffff"
