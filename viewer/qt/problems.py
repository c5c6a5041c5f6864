"""The Problems dock: every file left out and every frame that failed, with its reason.

Bad input is normal input: a truncated or non-DICOM file costs that file, and the user sees
which one and why here (and in the log), while the rest of the study opens.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

#: Rows kept at most: a 20,000-file CD of junk must not grow the dock without bound.
MAX_ROWS = 5000


class ProblemsDock(QDockWidget):
    """A list of (file, where, reason) rows; the title counts them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Problems", parent)
        self.setObjectName("problems")
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setHeaderLabels(["File", "Where", "Reason"])
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(1, 90)
        self.setWidget(self.table)
        self._seen: set[tuple[str, str]] = set()
        self.total = 0

    def add(self, path: str, where: str, reason: str) -> None:
        """One problem; repeats of the same file and place are shown once."""
        key = (path, where)
        if key in self._seen:
            return
        self._seen.add(key)
        self.total += 1
        if self.table.topLevelItemCount() < MAX_ROWS:
            item = QTreeWidgetItem([os.path.basename(path) or path, where, reason])
            item.setToolTip(0, path)
            item.setToolTip(2, reason)
            item.setData(0, Qt.ItemDataRole.UserRole, path)
            self.table.addTopLevelItem(item)
        self.setWindowTitle(f"Problems ({self.total})")

    def rows(self) -> list[tuple[str, str, str]]:
        """(full path, where, reason) of the rows shown, for tests and export."""
        return [
            (
                str(item.data(0, Qt.ItemDataRole.UserRole)),
                item.text(1),
                item.text(2),
            )
            for item in (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
            if item is not None
        ]
