"""The main window as its helpers see it, so their imports run one way.

:class:`~viewer.qt.view_controls.ViewControls` and
:class:`~viewer.qt.window_settings.WindowSettings` act on the window (its menus, tree, loader,
status line); :class:`~viewer.qt.main_window.MainWindow` owns them. They import this class,
never ``main_window``, and ``MainWindow`` implements it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QLineEdit, QMainWindow, QTreeView

from viewer.dicom.catalog.catalog import Catalog
from viewer.qt.tasks import FrameLoader
from viewer.qt.viewport_grid import ViewportGrid


class WindowHost(QMainWindow):
    """What the window's helpers may use besides QMainWindow's own methods."""

    catalog: Catalog
    loader: FrameLoader
    viewports: ViewportGrid
    tree: QTreeView
    tree_filter: QLineEdit

    def show_message(self, text: str) -> None:
        """Show ``text`` in the status line."""
        raise NotImplementedError

    def select_series(self, uid: str) -> None:
        """Select the series ``uid`` in the tree."""
        raise NotImplementedError

    def show_series(self, uid: str, stack: int = 0, index: int | None = None) -> bool:
        """Show stack ``stack`` of the series ``uid`` in the active viewport (at slice
        ``index``, else the middle one); False when it has nothing to show."""
        raise NotImplementedError

    def open_paths(
        self, paths: Sequence[str], prepare: Callable[[], list[str]] | None = None
    ) -> None:
        """Index ``paths`` in the background."""
        raise NotImplementedError
