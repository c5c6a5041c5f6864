"""Help > About: version, licence, the libraries in use, how the images are drawn (OpenGL or
raster, and why: viewer.qt.gpu), which transfer syntaxes decode here.

The facts are gathered in a worker thread (asking the decoders imports them) and fill the
dialog when ready; "Copy" puts them on the clipboard for a bug report, "Open log folder" shows
the folder holding the log file.
"""

from __future__ import annotations

import contextlib
import html
import platform
import threading
from dataclasses import dataclass
from importlib import metadata

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer import __version__
from viewer.core.user_dirs import log_dir
from viewer.dicom import decoding_stack
from viewer.qt.gpu import current_rendering
from viewer.qt.icons import app_icon

APP_NAME = "DICOM Viewer"
LICENCE_TEXT = (
    "MIT licence. Every dependency is permissive or LGPL "
    "(Qt and PySide6 under the LGPL v3); see LICENSE."
)
#: Distributions whose versions the dialog lists (name shown, distribution name).
LIBRARIES = (
    ("PySide6", "PySide6-Essentials"),
    ("pyqtgraph", "pyqtgraph"),
    ("pydicom", "pydicom"),
    ("NumPy", "numpy"),
    ("Pillow", "Pillow"),
    ("python-gdcm", "python-gdcm"),
    ("pylibjpeg", "pylibjpeg"),
    ("pylibjpeg-openjpeg", "pylibjpeg-openjpeg"),
    ("pylibjpeg-rle", "pylibjpeg-rle"),
    ("pyjpegls", "pyjpegls"),
    ("imagecodecs", "imagecodecs"),
)


@dataclass(frozen=True)
class SyntaxRow:
    name: str
    uid: str
    decodable: bool
    detail: str


@dataclass(frozen=True)
class AboutFacts:
    versions: tuple[tuple[str, str], ...]  # (what, version)
    syntaxes: tuple[SyntaxRow, ...]


def collect_facts() -> AboutFacts:
    """Versions and decodable transfer syntaxes (slow the first time: imports the decoders)."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    decoding_stack.load()
    from viewer.dicom.pixels.decode import decodable_transfer_syntaxes

    versions = [
        ("DICOM Viewer", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
    ]
    versions += [(label, _distribution_version(name)) for label, name in LIBRARIES[1:]]
    versions.append(("Platform", platform.platform()))
    versions.append(("Rendering", current_rendering().text))  # chosen on the GUI thread
    rows = tuple(
        SyntaxRow(row.name, row.uid, row.available, row.detail)
        for row in decodable_transfer_syntaxes()
    )
    return AboutFacts(tuple(versions), rows)


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def facts_as_text(facts: AboutFacts) -> str:
    """The dialog's content as plain text (for the clipboard)."""
    lines = [f"{what}: {version}" for what, version in facts.versions]
    lines += ["", "Transfer syntaxes:"]
    lines += [
        f"  {'yes' if row.decodable else 'no '}  {row.name} ({row.uid}): {row.detail}"
        for row in facts.syntaxes
    ]
    return "\n".join(lines)


class _FactsBridge(QObject):
    ready = Signal(object)  # AboutFacts


class AboutDialog(QDialog):
    """The About box; :attr:`facts` is set (and the tables filled) once the worker answers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.facts: AboutFacts | None = None
        self.versions = self._make_tree(("Component", "Version"))
        self.syntaxes = self._make_tree(("Decodes", "Transfer syntax", "Decoder", "UID"))
        self.syntaxes.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addLayout(self._make_header())
        layout.addWidget(QLabel("<b>Components</b>"))
        layout.addWidget(self.versions, 3)
        layout.addWidget(QLabel("<b>Transfer syntaxes this installation can decode</b>"))
        layout.addWidget(self.syntaxes, 5)
        layout.addWidget(self._make_buttons())
        self.resize(900, 720)
        self._bridge = _FactsBridge(self)
        self._bridge.ready.connect(self._show_facts)
        threading.Thread(target=self._gather, name="about-facts", daemon=True).start()

    def _make_header(self) -> QHBoxLayout:
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        log_folder = log_dir()
        text = QLabel(
            f"<h2>{APP_NAME} {html.escape(__version__)}</h2>"
            "<p>A fast, correct desktop DICOM viewer (PySide6, pyqtgraph, pydicom).</p>"
            f"<p>{html.escape(LICENCE_TEXT)}</p>"
            f"<p>Log folder: <a href='{QUrl.fromLocalFile(str(log_folder)).toString()}'>"
            f"{html.escape(str(log_folder))}</a></p>"
        )
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        text.setOpenExternalLinks(True)
        header = QHBoxLayout()
        header.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(text, 1)
        return header

    @staticmethod
    def _make_tree(columns: tuple[str, ...]) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(list(columns))
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        tree.addTopLevelItem(QTreeWidgetItem(["Looking…"]))
        return tree

    def _make_buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.open_logs_button = QPushButton("Open log folder")
        self.open_logs_button.clicked.connect(open_log_folder)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy versions and decoders, e.g. for a bug report")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._copy)
        role = QDialogButtonBox.ButtonRole.ActionRole
        buttons.addButton(self.open_logs_button, role)
        buttons.addButton(self.copy_button, role)
        return buttons

    def _gather(self) -> None:
        try:
            facts = collect_facts()
        except Exception as error:  # shown in the dialog rather than lost in a thread
            facts = AboutFacts((("Error", f"{type(error).__name__}: {error}"),), ())
        with contextlib.suppress(RuntimeError):  # the dialog was closed and deleted meanwhile
            self._bridge.ready.emit(facts)

    def _show_facts(self, facts: AboutFacts) -> None:
        self.facts = facts
        self.versions.clear()
        for what, version in facts.versions:
            self.versions.addTopLevelItem(QTreeWidgetItem([what, version]))
        self.syntaxes.clear()
        for row in sorted(facts.syntaxes, key=lambda row: not row.decodable):
            item = QTreeWidgetItem(
                ["yes" if row.decodable else "no", row.name, row.detail, row.uid]
            )
            item.setToolTip(1, row.name)
            if not row.decodable:
                for column in range(4):
                    item.setForeground(column, self.palette().placeholderText())
            self.syntaxes.addTopLevelItem(item)
        self.copy_button.setEnabled(True)

    def _copy(self) -> None:
        if self.facts is not None:
            QGuiApplication.clipboard().setText(facts_as_text(self.facts))


def open_log_folder() -> bool:
    """Show the log folder in the desktop's file manager (creating it first if needed)."""
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
