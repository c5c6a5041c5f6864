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
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.cli.arguments import zero_based
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.cli.skipped import problem_lines, problem_list
from viewer.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report
from viewer.dicom import reasons

if TYPE_CHECKING:
    from viewer.dicom.catalog.catalog import Catalog
    from viewer.dicom.write.jobs import Chosen

HELP = (
    "export series as DICOM (as is, re-encoded or anonymised per PS3.15 E, with a DICOMDIR), "
    "NIfTI (+ JSON sidecar), PNG per frame or a video of one stack"
)

FORMATS = ("dicom", "nifti", "png", "video")  # viewer.dicom.write.jobs.FORMATS
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
    "gzip": ("nifti",),
    "blackout": ("dicom", "png", "video"),
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
        "--json",
        action="store_true",
        help="print one JSON object on stdout: written, out, skipped, failed, warnings",
    )
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
        "--blackout",
        nargs=4,
        type=int,
        action="append",
        default=[],
        metavar=("X", "Y", "W", "H"),
        help="dicom/png/video: set this pixel rectangle to 0 in every frame (repeatable; "
        "png shows what dicom writes)",
    )
    parser.add_argument(
        "--gzip", action="store_true", help="nifti: write .nii.gz (default .nii, as dcm2niix)"
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
    if any(width <= 0 or height <= 0 for _, _, width, height in args.blackout):
        report("--blackout needs a positive width and height: X Y W H")
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
        report(f"export failed: {reasons.explain(error)}")
        return EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    from viewer.dicom.io.indexer import index_paths
    from viewer.dicom.write.export import ExportError
    from viewer.dicom.write.jobs import ExportRequest, check_output, run_export

    *sources, out = args.paths
    request = ExportRequest(
        format=args.format,
        out=Path(out),
        sources=tuple(sources),
        chosen=(),
        anonymize=args.anonymize,
        keep=frozenset(args.keep),
        salt=args.salt,
        dicomdir=args.dicomdir,
        reencode=args.reencode,
        window=(args.window[0], args.window[1]) if args.window else None,
        overlays=args.overlays,
        corner_text=args.corner_text,
        fps=args.fps,
        gzip=args.gzip,
        blackout=tuple(tuple(r) for r in args.blackout),
        stack_number=args.stack,
    )
    try:
        check_output(request)
    except ExportError as error:
        report(str(error))
        return EXIT_FAILED
    catalog = index_paths(sources)
    skipped = [(item.path, item.reason) for item in catalog.skipped]
    for line in problem_lines(skipped, "skipped"):
        report(line)
    chosen = _chosen(catalog, args, sources)
    if isinstance(chosen, str):
        report(chosen)
        return EXIT_FAILED
    try:
        result = run_export(replace(request, chosen=chosen))
    except ExportError as error:
        report(str(error))
        return EXIT_FAILED
    for line in problem_lines(result.failures, "not exported"):
        report(line)
    for warning in result.warnings:
        report(f"warning: {warning}")
    if args.json:
        summary = {
            "written": result.written,
            "out": str(result.out),
            "skipped": problem_list(skipped),
            "failed": problem_list(result.failures),
            "warnings": list(result.warnings),
        }
        print(json.dumps(summary, indent=1), file=sys.stdout)
    else:
        print(result.summary or f"{result.written} file(s) written to {result.out}")
    return EXIT_FAILED if result.failures else EXIT_OK


def _chosen(catalog: Catalog, args: argparse.Namespace, sources: list[str]) -> Chosen | str:
    """What ``--series`` / ``--stack`` chose, or a one-line reason why there is nothing."""
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
