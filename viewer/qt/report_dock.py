"""The Report dock: a structured report as a person reads it.

Each SR of the series chosen in the study tree is one top-level row (its title, date, status),
with its measurements (concept, value with unit, the image it is on) and its texts below.
What an SR says comes from the one reader,
:func:`viewer.model.annotations.dicom_objects.read_report` (the ``report`` verb's); a click on a
measurement (or on a referenced image) emits :attr:`ReportDock.jump` with the image's SOP
Instance UID and frame, and the window shows that image.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from viewer.model.annotations.dicom_objects import Report, ReportedValue
from viewer.model.documents import unit_text

#: The concept of the text that names a measurement group (its rows are under that name).
GROUP_NAME = "Tracking Identifier"
#: The (SOP Instance UID, frame) a row links to.
REFERENCE_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class ReadReport:
    """One SR as read in the worker: what it says and its header facts."""

    path: str
    report: Report
    heading: str  # "2026-12-07 14:02 · COMPLETE, UNVERIFIED · dicom-viewer"


def heading_of(ds: object) -> str:
    """Date and time, completion and verification, who made it (PS3.3 C.17.2)."""
    get = getattr(ds, "get", None)
    if get is None:
        return ""
    date, time = str(get("ContentDate", "") or ""), str(get("ContentTime", "") or "")
    when = f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) >= 8 else date
    if len(time) >= 4:
        when = f"{when} {time[:2]}:{time[2:4]}".strip()
    status = ", ".join(
        str(v) for v in (get("CompletionFlag", ""), get("VerificationFlag", "")) if v
    )
    who = str(get("Manufacturer", "") or "")
    return " · ".join(part for part in (when, status, who) if part)


class ReportDock(QDockWidget):
    """The readable report of the SR series chosen last."""

    #: SOP Instance UID and frame (0-based) of the image a clicked row references.
    jump = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Report", parent)
        self.setObjectName("report-dock")
        tree = QTreeWidget(self)
        tree.setColumnCount(3)
        tree.setHeaderLabels(["Item", "Value", "Image"])
        tree.setWordWrap(True)
        tree.setAlternatingRowColors(True)
        header = tree.header()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(60)
        tree.itemClicked.connect(self._on_clicked)
        tree.itemActivated.connect(self._on_clicked)
        self.setWidget(tree)
        self.tree = tree
        #: Label of the image each SOP Instance UID is (set by the window: "Se 2, slice 14").
        self.image_label = lambda uid, frame: uid

    def show_reports(self, reports: list[ReadReport]) -> None:
        tree = self.tree
        tree.clear()
        for read in reports:
            report = read.report
            top = QTreeWidgetItem([report.title or "Structured report", "", ""])
            font = QFont(top.font(0))
            font.setBold(True)
            top.setFont(0, font)
            top.setToolTip(0, f"{read.path}\nSOP Instance UID {report.sop_instance_uid}")
            tree.addTopLevelItem(top)
            top.setFirstColumnSpanned(True)
            if read.heading:
                heading = QTreeWidgetItem(top, [read.heading, "", ""])
                heading.setFirstColumnSpanned(True)
            groups = {value.group for value in report.values if value.group}
            if report.values:
                group = QTreeWidgetItem(top, ["Measurements", str(len(report.values)), ""])
                parents: dict[str, QTreeWidgetItem] = {"": group}
                for value in report.values:
                    parent = parents.get(value.group)
                    if parent is None:  # one row per measurement group: "lesion 1"
                        parent = parents[value.group] = QTreeWidgetItem(group, [value.group])
                    self._value_row(parent, value)
            texts = [(n, t) for n, t in report.texts if n != GROUP_NAME or t not in groups]
            if texts:
                group = QTreeWidgetItem(top, ["Text", "", ""])
                for name, text in texts:
                    item = QTreeWidgetItem(group, [name, text, ""])
                    item.setToolTip(1, text)
            if report.references:
                group = QTreeWidgetItem(top, ["Images referenced", str(len(report.references)), ""])
                for uid, frame in report.references:
                    item = QTreeWidgetItem(group, ["Image", "", self.image_label(uid, frame)])
                    item.setData(0, REFERENCE_ROLE, (uid, frame))
                    item.setToolTip(2, f"{uid} frame {frame + 1}: click to show it")
        tree.expandAll()
        for column in range(2):
            tree.resizeColumnToContents(column)

    def _value_row(self, group: QTreeWidgetItem, reported: ReportedValue) -> None:
        name, derivation = reported.name, reported.derivation
        uid, frame = reported.sop_instance_uid, reported.frame
        what = f"{name} ({derivation})" if derivation else name
        value = f"{reported.value:.6g} {unit_text(reported.unit)}".strip()
        item = QTreeWidgetItem(group, [what, value, self.image_label(uid, frame) if uid else ""])
        if uid:
            item.setData(0, REFERENCE_ROLE, (uid, frame))
            item.setToolTip(0, f"{what} = {value}\non {uid} frame {frame + 1}: click to show it")

    def measurement_items(self) -> list[QTreeWidgetItem]:
        """The rows that link to an image, in order (tests click them)."""
        found = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop(0)
            if item is None:
                continue
            if item.data(0, REFERENCE_ROLE):
                found.append(item)
            stack[:0] = [item.child(i) for i in range(item.childCount())]
        return found

    def _on_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        reference = item.data(0, REFERENCE_ROLE)
        if reference:
            uid, frame = reference
            self.jump.emit(str(uid), int(frame))
