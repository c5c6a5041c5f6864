"""What choosing a series without images in the study tree does (issue 17 item 7).

* A structured report: its text and measurements in the Report dock
  (:mod:`viewer.qt.report_dock`); a click on a measurement shows the image it is on, where
  the report's regions and coordinates are drawn while the dock shows it.
* A key object selection (the tree lists it as "Key images"): a stack of just the images it
  references, in its order, in the active viewport.
* An encapsulated PDF: a private copy in this process's scratch folder of the user cache
  (:func:`viewer.core.scratch.new_private_folder`, removed at exit; never a path beside the
  source files) opened in the system's viewer.

Files are read in a worker (:class:`~viewer.qt.latest_call.LatestCall`); what they say comes
from :func:`viewer.model.annotations.dicom_objects.read_report`, the ``report`` verb's reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices

from viewer.dicom import reasons
from viewer.dicom.io import bounded
from viewer.model.annotations.dicom_objects import Report
from viewer.model.annotations.shapes import Annotation, ImageRef
from viewer.model.documents import KeyImages, key_image_stack, locate, series_kind
from viewer.qt.annotation_persistence import open_images
from viewer.qt.latest_call import LatestCall
from viewer.qt.report_dock import ReadReport, ReportDock, heading_of
from viewer.qt.window_host import WindowHost


@dataclass(frozen=True)
class _Read:
    kind: str  # "SR", "KO", "PDF"
    series_uid: str
    reports: list[ReadReport]
    pdf: Path | None = None
    problems: tuple[str, ...] = ()
    #: An SR's regions and coordinates on the open images, drawn while it is shown.
    graphics: tuple[Annotation, ...] = ()


def read_objects(
    kind: str, series_uid: str, paths: list[str], image_of: Mapping[str, ImageRef]
) -> _Read:
    """Read the SRs or KOs at ``paths``, or copy the first PDF (worker thread); an SR's
    graphics on ``image_of`` (the open images by SOP Instance UID) come as annotations."""
    from pydicom import dcmread

    from viewer.model.annotations.dicom_objects import annotations_from_report, read_report

    if kind == "PDF":
        from viewer.core.scratch import new_private_folder
        from viewer.model.documents import private_pdf_copy

        copy = private_pdf_copy(bounded.bounded(dcmread, paths[0]), new_private_folder("pdf-"))
        return _Read(kind, series_uid, [], copy)
    reports: list[ReadReport] = []
    problems: list[str] = []
    for path in paths:
        try:
            ds = bounded.bounded(dcmread, path)
            reports.append(ReadReport(path, read_report(ds), heading_of(ds)))
        except Exception as error:  # one unreadable document; the others still show
            problems.append(f"{Path(path).name}: {reasons.explain(error, path)}")
    graphics: list[Annotation] = []
    if kind == "SR":
        for read in reports:
            graphics.extend(annotations_from_report(read.report, image_of))
    return _Read(kind, series_uid, reports, None, tuple(problems), tuple(graphics))


class DocumentViews(QObject):
    """Reports, key images and PDFs chosen in the study tree."""

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        self.dock: ReportDock | None = None
        self._reader = LatestCall(self)
        self._reader.result.connect(self._on_read)
        #: What the last choice showed (tests read them).
        self.last_pdf: Path | None = None
        self.key_images: KeyImages | None = None
        #: Ids of the shown report's graphics in the annotation store.
        self.drawn: list[str] = []

    def open_series(self, uid: str, by_mouse: bool = True) -> bool:
        """Show what the series ``uid`` holds when it is an SR, a KO or a PDF; False for
        other series (images, presentation states...). A PDF opens on a click only, not
        when the keys move through the tree (that would start a PDF viewer per row)."""
        series = self.window.catalog.series(uid)
        kind = series_kind(series) if series is not None else ""
        if series is None or kind not in ("SR", "KO", "PDF"):
            return False
        if kind == "PDF" and not by_mouse:
            self.window.show_message("Click the row to open the PDF in the system viewer")
            return True
        paths = [record.path for record in series.instances]
        image_of, _ = open_images(self.window.catalog) if kind == "SR" else ({}, {})
        self.window.show_message(
            {"SR": "Reading the report…", "KO": "Reading the key images…"}.get(
                kind, "Opening the PDF…"
            )
        )
        self._reader.submit(read_objects, kind, uid, paths, image_of)
        return True

    def shutdown(self) -> None:
        self._reader.shutdown()

    # --- results ----------------------------------------------------------------------------
    def _on_read(self, result: object) -> None:
        if isinstance(result, Exception):
            self.window.show_message(f"Could not read it: {type(result).__name__}: {result}")
            return
        if not isinstance(result, _Read):
            return
        if result.kind == "PDF" and result.pdf is not None:
            self.last_pdf = result.pdf
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(result.pdf))):
                self.window.show_message(f"No program opens PDFs here; the copy is {result.pdf}")
            else:
                self.window.show_message("PDF opened in the system viewer (a private copy)")
            return
        if result.kind == "KO":
            self._show_key_images(result)
            return
        self.show_reports(result.reports)
        self._draw(result.graphics)
        count = sum(len(read.report.values) for read in result.reports)
        self.window.show_message(
            "; ".join(result.problems)
            or f"{len(result.reports)} report(s), {count} measurement(s): click one to see it"
        )

    def _draw(self, graphics: tuple[Annotation, ...]) -> None:
        """Draw the shown report's graphics (another system's: not saved as the viewer's
        own); the last report's leave."""
        store = self.window.viewports.annotations
        store.unload(self.drawn)
        self.drawn = [a.id for a in graphics]
        store.load(graphics)

    def _on_dock_visible(self, visible: bool) -> None:
        if not visible and self.drawn:
            self._draw(())

    def show_reports(self, reports: list[ReadReport]) -> ReportDock:
        dock = self._dock()
        dock.show_reports(reports)
        dock.show()
        dock.raise_()
        return dock

    def _dock(self) -> ReportDock:
        if self.dock is None:
            dock = ReportDock(self.window)
            dock.image_label = self.image_label
            dock.jump.connect(self.jump_to)
            dock.visibilityChanged.connect(self._on_dock_visible)
            self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.window.resizeDocks([dock], [440], Qt.Orientation.Horizontal)
            self.dock = dock
        return self.dock

    def image_label(self, uid: str, frame: int) -> str:
        """ "Se 2, Im 14/192" for an open image; "not open" otherwise."""
        place = locate(self.window.catalog, uid, frame)
        if place is None:
            return "not open"
        series = self.window.catalog.series(place.series_uid)
        assert series is not None
        info = series.info
        number = info.number if info.number is not None else "-"
        frames = series.stacks[place.stack].frames
        return f"Se {number}, Im {place.index + 1}/{frames}"

    def jump_to(self, uid: str, frame: int) -> bool:
        """Show frame ``frame`` of the instance ``uid`` in the active viewport."""
        place = locate(self.window.catalog, uid, frame)
        if place is None:
            self.window.show_message("The image it references is not open")
            return False
        return self.window.show_series(place.series_uid, place.stack, place.index)

    def _show_key_images(self, result: _Read) -> None:
        references: list[tuple[str, int]] = []
        reports: list[Report] = [read.report for read in result.reports]
        for report in reports:
            references.extend(ref for ref in report.references if ref not in references)
        title = next((r.title for r in reports if r.title), "") or "Key images"
        found = key_image_stack(self.window.catalog, references, f"Key images: {title}")
        if found is None:
            self.window.show_message("None of its key images is open")
            return
        self.key_images = found
        series = self.window.catalog.series(found.series_uid)
        assert series is not None
        info = series.info
        first = locate(self.window.catalog, *references[0])
        # The series of the first key image, for its overlay text; then just the key images.
        self.window.show_series(found.series_uid, first.stack if first else 0)
        viewport = self.window.viewports.active
        text = viewport.patient_text
        viewport.patient_text = {**text, "series": f"Key images · {text.get('series', '')}"}
        viewport.state.set_series(
            [found.stack], 0, 0, info.frame_of_reference_uid, info.modality, found.series_uid
        )
        left = f" ({found.missing} not open)" if found.missing else ""
        self.window.show_message(f"{title}: {found.stack.frames} key image(s){left}")
