"""``dicom-viewer export PATH ... OUT --format dicom|nifti|png|video [...]``: share what was
opened.

Indexes the PATHs exactly as ``inspect`` does, picks the series (``--series UID ...``, default
all; ``--stack K`` one stack, 0-based as ``inspect`` lists them) and writes the new folder
OUT (video: the new file OUT.mp4|.webm|.gif|.apng) (see :mod:`viewer.dicom.write.export` and
:mod:`viewer.dicom.write.images`): never inside a folder it reads, and only at the end (a
temporary sibling is renamed), so a failed export leaves nothing. Problems go to stderr,
one line each; exit 0 when everything was written, 1 when something could not be, 2 for bad
arguments. No Qt.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from viewer.cli.arguments import zero_based
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report

HELP = (
    "export series as DICOM (as is, re-encoded or anonymised per PS3.15 E, with a DICOMDIR), "
    "NIfTI (+ JSON sidecar), PNG per frame or a video of one stack"
)

FORMATS = ("dicom", "nifti", "png", "video")
#: Options that only some formats take, and which.
ONLY_FOR = {
    "dicomdir": ("dicom",),
    "reencode": ("dicom",),
    "keep": ("dicom",),
    "salt": ("dicom",),
    "window": ("png", "video"),
    "overlays": ("png", "video"),
    "corner_text": ("png", "video"),
    "fps": ("video",),
}
KEEP = ("dates", "patient-characteristics", "device", "descriptions")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH ... OUT", help="sources, then OUT")
    parser.add_argument("--format", choices=FORMATS, required=True, help="what to write")
    parser.add_argument(
        "--series", nargs="+", action="extend", default=[], metavar="UID", help="only these"
    )
    parser.add_argument(
        "--stack", type=zero_based("stack"), metavar="K", help="only stack K (inspect's order)"
    )
    parser.add_argument(
        "--anonymize",
        action="store_true",
        help="de-identify (PS3.15 E.1 Basic Application Level Confidentiality Profile)",
    )
    parser.add_argument(
        "--keep",
        nargs="+",
        action="extend",
        default=[],
        choices=KEEP,
        help="profile options: shifted dates, patient characteristics, device identity, "
        "cleaned descriptions",
    )
    parser.add_argument(
        "--salt", metavar="TEXT", help="same salt, same new UIDs and pseudonyms (keep it secret)"
    )
    parser.add_argument("--dicomdir", action="store_true", help="write a File-set with DICOMDIR")
    parser.add_argument(
        "--reencode",
        action="store_true",
        help="write Explicit VR Little Endian with decompressed pixel data",
    )
    parser.add_argument(
        "--window",
        nargs=2,
        type=float,
        metavar=("CENTER", "WIDTH"),
        help="png/video: VOI window in modality values (default: each file's, as render)",
    )
    parser.add_argument(
        "--overlays", action="store_true", help="png/video: burn in the overlay planes"
    )
    parser.add_argument(
        "--corner-text",
        action="store_true",
        help="png/video: series, frame number and time in the top-left corner (no patient data)",
    )
    parser.add_argument(
        "--fps", type=_positive, metavar="N", help="video: frames per second (default: the cine's)"
    )


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value > 1000:
        raise argparse.ArgumentTypeError(f"not a frame rate (0 < N <= 1000): {text}")
    return value


def run(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        report("export needs at least one PATH and the OUT folder")
        return EXIT_USAGE
    if (args.keep or args.salt is not None) and not args.anonymize:
        report("--keep and --salt go with --anonymize")
        return EXIT_USAGE
    for name, formats in ONLY_FOR.items():
        if getattr(args, name) not in (None, False, []) and args.format not in formats:
            option = "--" + name.replace("_", "-")
            report(f"{option} goes with --format {' or '.join(formats)}")
            return EXIT_USAGE
    try:
        with quiet_native_stderr():
            return _run(args)
    except Exception as error:  # fault boundary: a bug must not print a traceback either
        report(f"export failed: {type(error).__name__}: {error}")
        return EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    from viewer.dicom.io.indexer import index_paths
    from viewer.dicom.io.zips import shown_path
    from viewer.dicom.write.export import ExportError, check_destination

    *sources, out = args.paths
    try:
        if args.format == "video":
            from viewer.dicom.write.images import check_video_file

            check_video_file(out, sources)
        else:
            check_destination(out, sources)
    except ExportError as error:
        report(str(error))
        return EXIT_FAILED
    catalog = index_paths(sources)
    for skipped in catalog.skipped:
        report(f"skipped {shown_path(skipped.path)}: {skipped.reason}")
    chosen = _chosen(catalog, args, sources)
    if isinstance(chosen, str):
        report(chosen)
        return EXIT_FAILED
    try:
        if args.format == "nifti":
            result = _export_nifti(chosen, args, sources, out)
        elif args.format == "png":
            result = _export_png(chosen, args, sources, out)
        elif args.format == "video":
            result = _export_video(chosen, args, sources, out)
        else:
            result = _export_dicom(chosen, args, sources, out)
    except ExportError as error:
        report(str(error))
        return EXIT_FAILED
    for name, reason in result.failures:
        report(f"not exported {shown_path(name)}: {reason}")
    for warning in result.warnings:
        report(f"warning: {warning}")
    print(result.summary or f"{result.written} file(s) written to {result.out}", file=sys.stdout)
    return EXIT_FAILED if result.failures else EXIT_OK


def _export_dicom(
    chosen: Chosen, args: argparse.Namespace, sources: list[str], out: str
) -> ExportResult:
    from viewer.dicom.write.anonymize import DeidPolicy
    from viewer.dicom.write.export import DicomExportOptions, SeriesFiles, export_dicom

    policy = None
    if args.anonymize:
        policy = DeidPolicy(frozenset(args.keep))
        if args.salt is not None:
            policy = DeidPolicy(frozenset(args.keep), args.salt)
    options = DicomExportOptions(anonymize=policy, reencode=args.reencode, dicomdir=args.dicomdir)
    selection = []
    for series, stack in chosen:
        if stack is not None:
            files = tuple(dict.fromkeys(path for path, _ in stack.sources))
        else:
            files = tuple(_ordered_paths(series))
        selection.append(SeriesFiles(series.uid, files))
    return export_dicom(selection, out, sources, options)


def _export_nifti(
    chosen: Chosen, args: argparse.Namespace, sources: list[str], out: str
) -> ExportResult:
    from viewer.dicom.write.export import ExportError, export_nifti
    from viewer.dicom.write.nifti import NiftiPart, plan_parts, safe_stem

    parts: list[NiftiPart] = []
    stems: set[str] = set()
    for series, stack in chosen:
        stem = safe_stem(series.info.number, series.info.description, args.anonymize)
        if stack is not None:
            stem += f"_stack{args.stack}"
        while stem in stems:
            stem += "_"
        stems.add(stem)
        found = plan_parts(stem, series.stacks if stack is None else [stack])
        if not found and (args.series or stack is not None):
            what = f"stack {args.stack}" if stack is not None else f"series {series.uid}"
            report(f"{what} is not a volume (no position/orientation, or a localizer)")
        parts.extend(found)
    if not parts:
        raise ExportError("nothing to write as NIfTI: no positioned stack was chosen")
    return export_nifti(parts, out, sources, anonymize=args.anonymize)


def _look(args: argparse.Namespace) -> FrameLook:
    from viewer.dicom.write.images import FrameLook

    window = (args.window[0], args.window[1]) if args.window else None
    return FrameLook(window, args.overlays, args.corner_text)


def _label(series: SeriesNode, anonymize: bool) -> str:
    info = series.info
    number = f"#{info.number}" if info.number is not None else ""
    text = " ".join(part for part in (info.modality, number) if part)
    if info.description and not anonymize:
        text += f" {info.description}"
    return text or "series"


def _image_stacks(chosen: Chosen) -> list[tuple[SeriesNode, Stack]]:
    """The stacks chosen: ``--stack K``'s, else every stack of the chosen series."""
    return [
        (series, stack)
        for series, only in chosen
        for stack in (series.stacks if only is None else [only])
    ]


def _export_png(
    chosen: Chosen, args: argparse.Namespace, sources: list[str], out: str
) -> ExportResult:
    from viewer.dicom.write.images import export_png
    from viewer.dicom.write.nifti import safe_stem

    stacks = _image_stacks(chosen)
    if not stacks:
        from viewer.dicom.write.export import ExportError

        raise ExportError("the chosen series have no image frames")
    parts = []
    stems: set[str] = set()
    for series, stack in stacks:
        stem = safe_stem(series.info.number, series.info.description, args.anonymize)
        if len(series.stacks) > 1:
            stem += f"_stack{series.stacks.index(stack)}"
        while stem in stems:
            stem += "_"
        stems.add(stem)
        parts.append((stem, stack, _label(series, args.anonymize)))
    return export_png(parts, out, sources, _look(args))


def _export_video(
    chosen: Chosen, args: argparse.Namespace, sources: list[str], out: str
) -> ExportResult:
    from viewer.dicom.write.export import ExportError
    from viewer.dicom.write.images import export_video

    stacks = _image_stacks(chosen)
    if len(stacks) != 1:
        raise ExportError(
            f"a video holds one stack, {len(stacks)} were chosen: give --stack K "
            "(inspect lists them)"
        )
    series, stack = stacks[0]
    label = _label(series, args.anonymize)
    return export_video(stack, out, sources, _look(args), label, args.fps)


if TYPE_CHECKING:
    from viewer.dicom.catalog.catalog import SeriesNode
    from viewer.dicom.catalog.stack import Stack
    from viewer.dicom.write.export import ExportResult
    from viewer.dicom.write.images import FrameLook

Chosen = list[tuple["SeriesNode", "Stack | None"]]
"""The series to export, each whole (None) or only one of its stacks (``--stack K``)."""


def _chosen(catalog: object, args: argparse.Namespace, sources: list[str]) -> Chosen | str:
    """What ``--series`` / ``--stack`` chose, or a one-line reason why there is nothing."""
    from viewer.dicom.catalog.catalog import Catalog

    assert isinstance(catalog, Catalog)
    every = catalog.all_series()
    if not every:
        return f"no DICOM series found in {' '.join(sources)}"
    if args.stack is not None:
        stacks = [(s, stack) for s in every for stack in s.stacks]
        if args.stack >= len(stacks):
            count = len(stacks)
            return f"there are {count} stack(s) (0 to {count - 1}); no stack {args.stack}"
        series, stack = stacks[args.stack]
        return [(series, stack)]
    wanted = set(args.series)
    missing = wanted - {s.uid for s in every}
    if missing:
        return f"no series {', '.join(sorted(missing))} in {' '.join(sources)}"
    return [(s, None) for s in every if not wanted or s.uid in wanted]


def _ordered_paths(series: SeriesNode) -> list[str]:
    """A series' files: stack order first (as shown), then the files without pixels."""
    paths = [path for stack in series.stacks for path, _ in stack.sources]
    paths += [record.path for record in series.instances]
    return list(dict.fromkeys(paths))
