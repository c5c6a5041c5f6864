"""The study tree's view: a click shows a series when the button is released, a drag never does.

Qt's tree makes the pressed row current at once; showing the current series then would put a
series into the active viewport the moment a drag starts (so filling a 2x2 layout by dragging
overwrote earlier drops). This view says which row the user *chose* instead: a click (press
and release on one row), Enter or a double-click, or keyboard navigation. A drag carries the
row's series and stack (:data:`viewer.qt.study_tree.SERIES_MIME`) to whichever viewport it is
released on.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QWidget

from viewer.qt.study_tree import SERIES_UID_ROLE, STACK_ROLE

#: ``chosen``'s stack number for a series row (the series' own row, not one of its stacks).
SERIES_ROW = -1


class SeriesTreeView(QTreeView):
    """A QTreeView over the study tree that emits :attr:`chosen` for rows the user picks."""

    #: Series Instance UID, stack number (:data:`SERIES_ROW` for the series row), by mouse.
    chosen = Signal(str, int, bool)
    #: The view changed size (the window or the dock was resized): columns refit.
    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        # Several rows (Ctrl/Shift) for "Send to…"; a plain click still chooses one series.
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.clicked.connect(lambda index: self._choose(index, True))
        self.activated.connect(lambda index: self._choose(index, False))

    def keyPressEvent(self, event: Any) -> None:
        before = self.currentIndex()
        super().keyPressEvent(event)
        current = self.currentIndex()
        if current.isValid() and current != before:
            self._choose(current, False)

    def _choose(self, index: QModelIndex, by_mouse: bool) -> None:
        first = index.siblingAtColumn(0)
        uid = first.data(SERIES_UID_ROLE)
        if not uid:
            return
        stack = first.data(STACK_ROLE)
        self.chosen.emit(str(uid), int(stack) if stack is not None else SERIES_ROW, by_mouse)

    def set_current_quietly(self, index: QModelIndex) -> None:
        """Make ``index`` the current row without choosing it (the window showed it already)."""
        self.setCurrentIndex(index)
        self.scrollTo(index)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def sizeHint(self) -> QSize:
        return QSize(470, 600)
