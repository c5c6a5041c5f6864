"""File > Export...: the GUI face of :mod:`viewer.dicom.write.jobs` (what ``dicom-viewer export``
runs), with progress and cancel.

The dialog builds an :class:`~viewer.dicom.write.jobs.ExportRequest` from its widgets (the
series or stack shown, or every series opened; DICOM with the PS3.15 E options and a
DICOMDIR, NIfTI, PNG or a video, drawn with the window shown), checks the destination on the
GUI thread (a few ``stat`` calls) and runs the export in a worker thread. Progress and the
result come back through a QObject's queued signals; Cancel sets an event the writers poll,
and a cancelled or failed export leaves nothing behind (the writers stage into a temporary
sibling). Failures and warnings (burned-in annotation, sheared stacks...) are listed in the
dialog, one line each, and logged without patient data.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom import reasons
from viewer.dicom.catalog.catalog import Catalog, SeriesNode
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.write.export import ExportCancelled, ExportError, ExportResult, source_folders
from viewer.dicom.write.images import FrameLook, frame_images
from viewer.dicom.write.jobs import Chosen, ExportRequest, check_output, run_export

log = logging.getLogger(__name__)

#: (combo text, format, what OUT is).
FORMATS = (
    ("DICOM (copy, re-encoded or anonymised)", "dicom", "folder"),
    ("NIfTI + JSON sidecar", "nifti", "folder"),
    ("PNG, one per frame", "png", "folder"),
    ("Video of the stack shown", "video", "file"),
)
SCOPES = (("Series shown", "series"), ("Stack shown", "stack"), ("All series opened", "all"))
KEEP = (
    ("dates", "Keep dates, shifted (longitudinal temporal information)"),
    ("patient-characteristics", "Keep patient characteristics (sex, age, size, weight)"),
    ("device", "Keep device identity"),
    ("descriptions", "Keep descriptions, cleaned"),
)
VIDEO_SUFFIXES = (".mp4", ".webm", ".gif", ".apng")
#: The preview's longest side, in pixels.
PREVIEW_SIZE = 240


@dataclass(frozen=True, slots=True)
class Shown:
    """What the active viewport shows: the series, its stack (number in ``inspect``'s
    order) and the window (center, width) in modality values, if any."""

    series: SeriesNode | None = None
    stack: Stack | None = None
    stack_number: int | None = None
    window: tuple[float, float] | None = None


class _ExportBridge(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # ExportResult, or str: the one-line reason it failed
    preview = Signal(object)  # uint8 image (rows, columns[, 3]) or str: why there is none


def parse_rectangles(text: str) -> tuple[tuple[int, int, int, int], ...]:
    """``"x,y,w,h; x,y,w,h"`` -> rectangles; ValueError (one line) when it is not that."""
    rectangles = []
    for part in text.replace(";", " ").split():
        values = part.split(",")
        try:
            x, y, width, height = (int(v) for v in values)
        except ValueError:
            raise ValueError(f"black out: {part!r} is not x,y,width,height") from None
        if width <= 0 or height <= 0:
            raise ValueError(f"black out: {part!r} needs a positive width and height")
        rectangles.append((x, y, width, height))
    return tuple(rectangles)


class ExportDialog(QDialog):
    """Choose what and how, then Export; :attr:`outcome` holds the last export's result."""

    def __init__(
        self,
        catalog: Catalog,
        shown: Shown,
        opened: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.catalog = catalog
        self.shown = shown
        self.opened = list(opened)
        self.outcome: ExportResult | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._bridge = _ExportBridge(self)
        self._bridge.progress.connect(self._on_progress)
        self._bridge.finished.connect(self._on_finished)
        self._bridge.preview.connect(self._on_preview)
        layout = QVBoxLayout(self)
        layout.addLayout(self._make_choice())
        layout.addWidget(self._make_dicom_options())
        layout.addWidget(self._make_image_options())
        layout.addLayout(self._make_destination())
        self.burned_in = QLabel(
            "Anonymising changes the header, not the pixels: series that may show names "
            "burned into the image (US, SC, XC, DX, scanned documents) are listed after "
            "the export."
        )
        self.burned_in.setWordWrap(True)
        layout.addWidget(self.burned_in)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.messages = QPlainTextEdit()
        self.messages.setReadOnly(True)
        self.messages.setVisible(False)
        self.messages.setMaximumHeight(120)
        layout.addWidget(self.messages)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        layout.addWidget(self.buttons)
        self._update_options()
        self.resize(560, 0)

    # --- widgets ---------------------------------------------------------------------------
    def _make_choice(self) -> QFormLayout:
        form = QFormLayout()
        self.scope = QComboBox()
        for text, key in SCOPES:
            self.scope.addItem(text, key)
        if self.shown.series is None:
            self.scope.setCurrentIndex(2)
        self.format = QComboBox()
        for text, key, _ in FORMATS:
            self.format.addItem(text, key)
        self.format.currentIndexChanged.connect(self._update_options)
        self.scope.currentIndexChanged.connect(self._update_options)
        self.anonymize = QCheckBox("Anonymise")
        self.anonymize.setToolTip(
            "DICOM: the PS3.15 E.1 Basic Application Level Confidentiality Profile. "
            "NIfTI, PNG, video: no description, date or institution in names and sidecars. "
            "Pixels are not changed: check images for burned-in text."
        )
        self.anonymize.toggled.connect(self._update_options)
        form.addRow("Export", self.scope)
        form.addRow("As", self.format)
        form.addRow(self.anonymize)
        self.gzip = QCheckBox("Compress (.nii.gz; slower)")
        form.addRow(self.gzip)
        row = QHBoxLayout()
        self.blackout = QLineEdit()
        self.blackout.setPlaceholderText("x,y,width,height; … in pixels (burned-in text)")
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.show_preview)
        row.addWidget(self.blackout, 1)
        row.addWidget(self.preview_button)
        self.blackout_label = QLabel("Black out")
        form.addRow(self.blackout_label, row)
        self.preview = QLabel()
        self.preview.setVisible(False)
        form.addRow(self.preview)
        return form

    def _make_dicom_options(self) -> QGroupBox:
        self.dicom_box = QGroupBox("DICOM")
        form = QVBoxLayout(self.dicom_box)
        self.keep = {}
        for key, text in KEEP:
            box = QCheckBox(text)
            box.setContentsMargins(20, 0, 0, 0)
            self.keep[key] = box
            form.addWidget(box)
        salt_row = QHBoxLayout()
        self.salt = QLineEdit()
        self.salt.setPlaceholderText("random (exports cannot be linked)")
        self.salt.setToolTip("The same salt gives the same new UIDs and pseudonyms: keep it secret")
        salt_row.addWidget(QLabel("Salt"))
        salt_row.addWidget(self.salt)
        form.addLayout(salt_row)
        self.dicomdir = QCheckBox("Write a DICOMDIR (CD/USB File-set)")
        self.reencode = QCheckBox("Re-encode as Explicit VR Little Endian, uncompressed")
        form.addWidget(self.dicomdir)
        form.addWidget(self.reencode)
        return self.dicom_box

    def _make_image_options(self) -> QGroupBox:
        self.image_box = QGroupBox("Images")
        form = QFormLayout(self.image_box)
        window = self.shown.window
        text = "Use the window shown"
        if window is not None:
            text += f" (C {window[0]:g}, W {window[1]:g})"
        self.use_window = QCheckBox(text)
        self.use_window.setChecked(window is not None)
        self.use_window.setEnabled(window is not None)
        self.overlays = QCheckBox("Burn in overlay planes")
        self.corner_text = QCheckBox("Corner text (series, frame, time; no patient data)")
        self.container = QComboBox()
        for suffix in VIDEO_SUFFIXES:
            self.container.addItem(suffix)
        self.container.currentIndexChanged.connect(self._suffix_changed)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0, 1000)
        self.fps.setSpecialValueText("the cine's")
        self.fps.setSuffix(" frames/s")
        form.addRow(self.use_window)
        form.addRow(self.overlays)
        form.addRow(self.corner_text)
        form.addRow("Video file", self.container)
        form.addRow("Frame rate", self.fps)
        return self.image_box

    def _make_destination(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.destination = QLineEdit()
        self.destination.setPlaceholderText("a new folder (video: a new file)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(QLabel("To"))
        row.addWidget(self.destination, 1)
        row.addWidget(browse)
        return row

    def _update_options(self) -> None:
        kind = self.format.currentData()
        self.dicom_box.setVisible(kind == "dicom")
        self.image_box.setVisible(kind in ("png", "video"))
        self.gzip.setVisible(kind == "nifti")
        pixels = kind in ("dicom", "png", "video")
        for widget in (self.blackout, self.preview_button, self.blackout_label):
            widget.setVisible(pixels)
        self.preview.setVisible(pixels and self.preview.pixmap() is not None
                                and not self.preview.pixmap().isNull())  # fmt: skip
        for box in self.keep.values():
            box.setEnabled(self.anonymize.isChecked())
        self.salt.setEnabled(self.anonymize.isChecked())
        video = kind == "video"
        self.container.setEnabled(video)
        self.fps.setEnabled(video)
        form = self.image_box.layout()
        if isinstance(form, QFormLayout):
            form.setRowVisible(self.container, video)
            form.setRowVisible(self.fps, video)
        self.burned_in.setVisible(kind == "dicom" and self.anonymize.isChecked())
        if video and self.scope.currentData() == "all":
            self.scope.setCurrentIndex(1)
        self.adjustSize()

    def _suffix_changed(self) -> None:
        text = self.destination.text().strip()
        if text and self.format.currentData() == "video":
            self.destination.setText(str(Path(text).with_suffix(self.container.currentText())))

    def _browse(self) -> None:
        if self.format.currentData() == "video":
            suffix = self.container.currentText()
            path, _ = QFileDialog.getSaveFileName(self, "Export video", "", f"*{suffix}")
            if path and not path.lower().endswith(VIDEO_SUFFIXES):
                path += suffix
        else:
            path = QFileDialog.getExistingDirectory(self, "Export into a new or empty folder")
        if path:
            self.destination.setText(path)

    # --- the request -----------------------------------------------------------------------
    def chosen(self) -> Chosen:
        scope = self.scope.currentData()
        shown = self.shown
        if scope == "stack" and shown.series is not None and shown.stack is not None:
            return [(shown.series, shown.stack)]
        if scope in ("series", "stack") and shown.series is not None:
            return [(shown.series, None)]
        return [(series, None) for series in self.catalog.all_series()]

    def request(self) -> ExportRequest:
        chosen = self.chosen()
        kind = self.format.currentData()
        folders = {os.path.dirname(r.path) for series, _ in chosen for r in series.instances}
        sources = [*self.opened, *sorted(folders)]
        out = Path(self.destination.text().strip()).expanduser()
        if kind == "video" and out.suffix.lower() not in VIDEO_SUFFIXES:
            out = out.with_name(out.name + self.container.currentText())
        one_stack = len(chosen) == 1 and chosen[0][1] is not None
        return ExportRequest(
            format=kind,
            out=out,
            sources=tuple(dict.fromkeys(str(p) for p in source_folders(sources))),
            chosen=chosen,
            anonymize=self.anonymize.isChecked(),
            keep=frozenset(k for k, box in self.keep.items() if box.isChecked()),
            salt=self.salt.text() or None,
            dicomdir=self.dicomdir.isChecked(),
            reencode=self.reencode.isChecked(),
            window=self.shown.window if self.use_window.isChecked() else None,
            overlays=self.overlays.isChecked(),
            corner_text=self.corner_text.isChecked(),
            fps=self.fps.value() or None,
            gzip=self.gzip.isChecked() and kind == "nifti",
            blackout=parse_rectangles(self.blackout.text()) if kind != "nifti" else (),
            stack_number=self.shown.stack_number if one_stack else None,
        )

    # --- preview ---------------------------------------------------------------------------
    def show_preview(self) -> bool:
        """Render the first frame of the stack shown with the rectangles blacked out, in a
        worker thread (decoding never runs on the GUI thread); False when there is nothing."""
        stack = self.shown.stack
        if stack is None or not stack.sources:
            self._say("Nothing shown to preview.")
            return False
        try:
            rectangles = parse_rectangles(self.blackout.text())
        except ValueError as error:
            self._say(str(error))
            return False
        look = FrameLook(self.shown.window, blackout=rectangles)
        threading.Thread(
            target=self._render_preview, args=(stack, look), name="export-preview", daemon=True
        ).start()
        return True

    def _render_preview(self, stack: Stack, look: FrameLook) -> None:
        outcome: object
        try:
            outcome = next(frame_images(stack, look))
        except Exception as error:  # shown in the dialog, not lost in the thread
            outcome = f"cannot preview: {error}"
        with contextlib.suppress(RuntimeError):
            self._bridge.preview.emit(outcome)

    def _on_preview(self, outcome: object) -> None:
        if isinstance(outcome, str):
            self._say(outcome)
            return
        image = np.ascontiguousarray(outcome)
        rows, columns = image.shape[:2]
        layout = QImage.Format.Format_Grayscale8 if image.ndim == 2 else QImage.Format.Format_RGB888
        picture = QImage(image.data, columns, rows, image.strides[0], layout).copy()
        pixmap = QPixmap.fromImage(picture).scaled(
            PREVIEW_SIZE, PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio
        )
        self.preview.setPixmap(pixmap)
        self.preview.setVisible(True)
        self._say("Preview: the first frame as exported (black: what is removed).")

    # --- running ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Check the destination and start the export; False (with the reason shown) when it
        cannot start."""
        if self.running:
            return False
        if not self.destination.text().strip():
            self._say("Choose where to export to.")
            return False
        try:
            request = self.request()
            check_output(request)
        except (ExportError, ValueError) as error:
            self._say(str(error))
            log.warning("export not started: %s", error)
            return False
        self._cancel.clear()
        self.outcome = None
        self.messages.clear()
        self.messages.setVisible(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.export_button.setEnabled(False)
        self._say("Exporting…")
        self._thread = threading.Thread(
            target=self._run, args=(request,), name="export", daemon=True
        )
        self._thread.start()
        return True

    def cancel(self) -> None:
        self._cancel.set()
        if self.running:
            self._say("Cancelling…")

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, request: ExportRequest) -> None:
        outcome: ExportResult | str
        try:
            outcome = run_export(request, self._emit_progress, self._cancel.is_set)
        except ExportCancelled:
            outcome = "Cancelled: nothing was written."
        except ExportError as error:
            outcome = str(error)
        except Exception as error:  # the worker must never die silently
            log.exception("export failed")
            outcome = f"Export failed: {reasons.explain(error)}"
        with contextlib.suppress(RuntimeError):  # the dialog was deleted meanwhile
            self._bridge.finished.emit(outcome)

    def _emit_progress(self, done: int, total: int) -> None:
        with contextlib.suppress(RuntimeError):
            self._bridge.progress.emit(done, total)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"Exporting… {done} of {total}")

    def _on_finished(self, outcome: ExportResult | str) -> None:
        self.export_button.setEnabled(True)
        self.progress.setVisible(False)
        if isinstance(outcome, str):
            self._say(outcome)
            log.info("export: %s", outcome)
            return
        self.outcome = outcome
        lines = [f"not exported: {reason}" for _, reason in outcome.failures]
        lines += [f"warning: {warning}" for warning in outcome.warnings]
        summary = outcome.summary or f"{outcome.written} file(s) written to {outcome.out}"
        self._say(summary + (f"; {len(outcome.failures)} failed" if outcome.failures else ""))
        log.info(
            "export: %d written, %d failed, %d warning(s)",
            outcome.written,
            len(outcome.failures),
            len(outcome.warnings),
        )
        if lines:
            self.messages.setPlainText("\n".join(lines))
            self.messages.setVisible(True)
        self.cancel_button.setText("Close")

    def _cancel_or_close(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.reject()

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def done(self, code: int) -> None:
        """Closing while an export runs cancels it (the worker cleans up on its own)."""
        if self.running:
            self.cancel()
        super().done(code)
