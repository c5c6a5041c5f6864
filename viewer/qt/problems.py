"""The Problems dock: every file left out and every frame that failed, by series, with reasons.

Bad input is normal input: a truncated or non-DICOM file costs that file, and the user sees
which one and why here (and in the log), while the rest of the study opens. Problems are
grouped by the series they belong to (:class:`viewer.model.problems.ProblemLog`), each group
with its count; files skipped while indexing, whose series nobody can name, form the group of
unsorted files. Selecting a series in the study tree brings its group forward; "Selected
series only" hides the other groups. A file unpacked from a zip is named as its member,
``study.zip!/DICOM/IM1`` (:func:`viewer.dicom.io.zips.shown_path`), never by its scratch copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom.io.zips import MEMBER_SEPARATOR, shown_path
from viewer.model.problems import UNSORTED, UNSORTED_LABEL, Problem, ProblemLog

PATH_ROLE = Qt.ItemDataRole.UserRole
GROUP_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsDock(QDockWidget):
    """Groups of (file, where, reason) rows, one group per series; the title counts them all.

    ``label_for(series_uid)`` names a group (set by the window, which knows the series).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Problems", parent)
        self.setObjectName("problems")
        self.log = ProblemLog()
        self.label_for: Callable[[str], str] = lambda uid: uid or UNSORTED_LABEL
        self.selected_series: str | None = None
        self.table = QTreeWidget()
        # Reasons wrap onto as many lines as they need (rows grow), never cut; a file shows
        # its name, its full path on hover, the middle elided when the column is narrow.
        self.table.setUniformRowHeights(False)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setHeaderLabels(["File", "Where", "Reason"])
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(1, 90)
        self.table.header().setStretchLastSection(True)
        self.table.setItemDelegate(WrappingDelegate(self.table))
        self.table.header().sectionResized.connect(lambda *_: self.table.doItemsLayout())
        self.only_selected = QCheckBox("Selected series only")
        self.only_selected.setToolTip("Show only the problems of the series shown")
        self.only_selected.toggled.connect(self._apply_filter)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.only_selected)
        layout.addWidget(self.table)
        self.setWidget(panel)
        self._groups: dict[str, QTreeWidgetItem] = {}

    @property
    def total(self) -> int:
        return self.log.total

    def add(self, path: str, where: str, reason: str, series_uid: str = UNSORTED) -> bool:
        """One problem; repeats of the same file and place are shown once (False)."""
        return self.add_problem(Problem(path, where, reason, series_uid))

    def add_problem(self, problem: Problem) -> bool:
        kept = self.log.kept
        if not self.log.add(problem):
            return False
        group = self._group(problem.series_uid)
        if self.log.kept > kept:
            path = shown_path(problem.path)
            item = QTreeWidgetItem([file_name(path)])
            item.setText(1, problem.where)
            item.setText(2, problem.reason)
            item.setToolTip(0, path)
            item.setToolTip(2, problem.reason)
            item.setData(0, PATH_ROLE, path)
            group.addChild(item)
        self._label(problem.series_uid)
        self.setWindowTitle(f"Problems ({self.log.total})")
        return True

    def _group(self, series_uid: str) -> QTreeWidgetItem:
        group = self._groups.get(series_uid)
        if group is None:
            group = QTreeWidgetItem()
            group.setData(0, GROUP_ROLE, series_uid)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            if series_uid == UNSORTED:  # after the series' groups
                self.table.addTopLevelItem(group)
            else:
                unsorted = self._groups.get(UNSORTED)
                at = self.table.indexOfTopLevelItem(unsorted) if unsorted is not None else -1
                self.table.insertTopLevelItem(
                    at if at >= 0 else self.table.topLevelItemCount(), group
                )
            group.setFirstColumnSpanned(True)
            group.setExpanded(series_uid != UNSORTED or len(self._groups) == 0)
            self._groups[series_uid] = group
            self._apply_filter()
        return group

    def _label(self, series_uid: str) -> None:
        count = self.log.count(series_uid)
        text = f"{self.label_for(series_uid)}  —  {count} problem{'s' if count != 1 else ''}"
        group = self._groups[series_uid]
        if group.text(0) != text:
            group.setText(0, text)

    def select_series(self, series_uid: str | None) -> None:
        """The series shown now: its group opens and comes into view (or alone, if filtered)."""
        self.selected_series = series_uid
        group = self._groups.get(series_uid or "\x00")
        if group is not None:
            group.setExpanded(True)
            self.table.scrollToItem(group)
        self._apply_filter()

    def _apply_filter(self) -> None:
        only = self.only_selected.isChecked()
        for series_uid, group in self._groups.items():
            group.setHidden(only and series_uid != self.selected_series)

    # --- for tests and export ---------------------------------------------------------------
    def rows(self) -> list[tuple[str, str, str]]:
        """(full path as shown, where, reason) of every problem row, group by group."""
        return [
            (str(item.data(0, PATH_ROLE)), item.text(1), item.text(2))
            for group in self._groups.values()
            for item in (group.child(i) for i in range(group.childCount()))
            if item is not None
        ]

    def groups(self) -> list[tuple[str, str, bool]]:
        """(series UID, label, shown) of each group, top to bottom."""
        tops = (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
        return [
            (str(item.data(0, GROUP_ROLE)), item.text(0), not item.isHidden())
            for item in tops
            if item is not None
        ]


class WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their wrapped text at the column's width (QTreeView measures wrapped
    text without the column's width, so it would stay one line high)."""

    def __init__(self, view: QTreeWidget) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        width = self._view.header().sectionSize(index.column()) - TEXT_MARGIN
        text = str(index.data() or "")
        if width <= 0 or not text:
            return hint
        bounds = option.fontMetrics.boundingRect(
            QRect(0, 0, width, 1 << 20), Qt.TextFlag.TextWordWrap, text
        )
        return QSize(hint.width(), max(hint.height(), bounds.height() + TEXT_MARGIN // 2))


#: What a cell's padding takes of its width (px), both sides together.
TEXT_MARGIN = 12


def file_name(path: str) -> str:
    """The File column: a file's name, or for a zip member ``study.zip!/DICOM/IM1`` (the zip's
    name and the member's path inside it, as :func:`viewer.dicom.io.zips.shown_path` gives)."""
    archive, separator, member = path.partition(MEMBER_SEPARATOR)
    if separator:
        return f"{os.path.basename(archive) or archive}{separator}{member}"
    return os.path.basename(path) or path
