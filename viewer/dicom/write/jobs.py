"""One export request, whatever asks for it: ``dicom-viewer export`` and File > Export....

:class:`ExportRequest` says what to write (format, the chosen series or one stack, options);
:func:`run_export` turns it into the parts each writer takes (files per series for DICOM,
files per stack or phase run for NIfTI, frames per stack for PNG, one stack for a video) and
runs the writer with progress and cancellation. File names come from the Series Number and
(unless anonymised) the Series Description. No Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.dicom.catalog.catalog import SeriesNode
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.scan import Cancel, never_cancelled
from viewer.dicom.write.export import ExportCancelled, ExportError, ExportResult, Progress

if TYPE_CHECKING:
    from viewer.dicom.write.images import FrameLook

FORMATS = ("dicom", "nifti", "png", "video")

Chosen = Sequence[tuple[SeriesNode, Stack | None]]
"""The series to export, each whole (None) or only one of its stacks."""


@dataclass(frozen=True)
class ExportRequest:
    """Everything one export needs. ``chosen``: (series, None) for the whole series or
    (series, stack) for one stack; ``stack_number``: that stack's number in ``inspect``'s
    order (names the files). ``keep``/``salt``: PS3.15 E options of ``anonymize`` (DICOM);
    ``window``/``overlays``/``corner_text``: how PNG and video frames are drawn; ``gzip``:
    NIfTI as ``.nii.gz``; ``blackout``: pixel rectangles set to 0 (DICOM) or black (PNG,
    video: the preview of the DICOM result)."""

    format: str
    out: Path
    sources: tuple[str, ...]
    chosen: Chosen
    anonymize: bool = False
    keep: frozenset[str] = frozenset()
    salt: str | None = None
    dicomdir: bool = False
    reencode: bool = False
    window: tuple[float, float] | None = None
    overlays: bool = False
    corner_text: bool = False
    fps: float | None = None
    gzip: bool = False
    blackout: tuple[tuple[int, int, int, int], ...] = ()
    stack_number: int | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown export format {self.format!r}")


def check_output(request: ExportRequest) -> Path:
    """The resolved OUT, or :class:`ExportError` saying why it may not be written."""
    from viewer.dicom.write.export import check_destination

    if request.format == "video":
        from viewer.dicom.write.images import check_video_file

        return check_video_file(request.out, request.sources)
    return check_destination(request.out, request.sources)


def run_export(
    request: ExportRequest, progress: Progress | None = None, cancel: Cancel = never_cancelled
) -> ExportResult:
    """Write ``request``; :class:`ExportError` when nothing could be, :class:`ExportCancelled`
    when ``cancel()`` turned True (nothing is left then)."""
    writer = {
        "dicom": _dicom,
        "nifti": _nifti,
        "png": _png,
        "video": _video,
    }[request.format]
    return writer(request, progress, cancel)


def _dicom(request: ExportRequest, progress: Progress | None, cancel: Cancel) -> ExportResult:
    from viewer.dicom.write.anonymize import DeidPolicy
    from viewer.dicom.write.export import DicomExportOptions, SeriesFiles, export_dicom

    policy = None
    if request.anonymize:
        policy = DeidPolicy(request.keep)
        if request.salt is not None:
            policy = DeidPolicy(request.keep, request.salt)
    options = DicomExportOptions(policy, request.reencode, request.dicomdir, request.blackout)
    selection = []
    for series, stack in request.chosen:
        if stack is not None:
            files = tuple(dict.fromkeys(path for path, _ in stack.sources))
        else:
            files = tuple(ordered_paths(series))
        selection.append(SeriesFiles(series.uid, files))

    def step(done: int, total: int) -> None:
        if cancel():
            raise ExportCancelled("export cancelled")
        if progress is not None:
            progress(done, total)

    return export_dicom(selection, request.out, request.sources, options, step)


def _nifti(request: ExportRequest, progress: Progress | None, cancel: Cancel) -> ExportResult:
    from viewer.dicom.write.export import export_nifti
    from viewer.dicom.write.nifti import NiftiPart, plan_parts

    parts: list[NiftiPart] = []
    skipped: list[str] = []
    stems = _Stems(request)
    for series, stack in request.chosen:
        found = plan_parts(stems.of(series, stack), series.stacks if stack is None else [stack])
        if not found:
            what = f"stack {request.stack_number}" if stack is not None else f"series {series.uid}"
            skipped.append(f"{what} is not a volume (no position/orientation, or a localizer)")
        parts.extend(found)
    if not parts:
        raise ExportError("nothing to write as NIfTI: no positioned stack was chosen")
    result = export_nifti(
        parts, request.out, request.sources, request.anonymize, progress, cancel, request.gzip
    )
    if len(request.chosen) == 1 or request.stack_number is not None:
        result.warnings[:0] = skipped
    return result


def _png(request: ExportRequest, progress: Progress | None, cancel: Cancel) -> ExportResult:
    from viewer.dicom.write.images import export_png

    stacks = image_stacks(request.chosen)
    if not stacks:
        raise ExportError("the chosen series have no image frames")
    stems = _Stems(request)
    parts = []
    for series, stack in stacks:
        stem = stems.of(series, stack if len(series.stacks) > 1 else None)
        parts.append((stem, stack, corner_label(series, request.anonymize)))
    return export_png(parts, request.out, request.sources, _look(request), progress, cancel)


def _video(request: ExportRequest, progress: Progress | None, cancel: Cancel) -> ExportResult:
    from viewer.dicom.write.images import export_video

    stacks = image_stacks(request.chosen)
    if len(stacks) != 1:
        raise ExportError(
            f"a video holds one stack, {len(stacks)} were chosen: give --stack K "
            "(inspect lists them)"
        )
    series, stack = stacks[0]
    label = corner_label(series, request.anonymize)
    return export_video(
        stack, request.out, request.sources, _look(request), label, request.fps, progress, cancel
    )


# ============================================================================================
# Helpers
# ============================================================================================
def _look(request: ExportRequest) -> FrameLook:
    from viewer.dicom.write.images import FrameLook

    return FrameLook(request.window, request.overlays, request.corner_text, request.blackout)


class _Stems:
    """Unique file stems: ``NNN[_DESCRIPTION][_stackK]``."""

    def __init__(self, request: ExportRequest) -> None:
        self.request = request
        self.taken: set[str] = set()

    def of(self, series: SeriesNode, stack: Stack | None) -> str:
        from viewer.dicom.write.nifti import safe_stem

        info = series.info
        stem = safe_stem(info.number, info.description, self.request.anonymize)
        if stack is not None:
            number = self.request.stack_number
            if number is None:
                number = next(i for i, s in enumerate(series.stacks) if s is stack)
            stem += f"_stack{number}"
        while stem in self.taken:
            stem += "_"
        self.taken.add(stem)
        return stem


def corner_label(series: SeriesNode, anonymize: bool) -> str:
    """Modality, series number and (not anonymised) description: never a patient attribute."""
    info = series.info
    number = f"#{info.number}" if info.number is not None else ""
    text = " ".join(part for part in (info.modality, number) if part)
    if info.description and not anonymize:
        text += f" {info.description}"
    return text or "series"


def image_stacks(chosen: Chosen) -> list[tuple[SeriesNode, Stack]]:
    """The stacks chosen: the one given, else every stack of the series."""
    return [
        (series, stack)
        for series, only in chosen
        for stack in (series.stacks if only is None else [only])
    ]


def ordered_paths(series: SeriesNode) -> list[str]:
    """A series' files: stack order first (as shown), then the files without pixels."""
    paths = [path for stack in series.stacks for path, _ in stack.sources]
    paths += [record.path for record in series.instances]
    return list(dict.fromkeys(paths))
