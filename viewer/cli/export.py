"""``dicom-viewer export PATH ... OUT --format dicom [...]``: share what was opened.

Indexes the PATHs exactly as ``inspect`` does, picks the series (``--series UID ...``, default
all; ``--stack K`` one stack, 0-based as ``inspect`` lists them) and writes the new folder
OUT (see :mod:`viewer.dicom.write.export`): never inside a folder it reads, and only at the end
(a temporary sibling is renamed), so a failed export leaves nothing. Problems go to stderr,
one line each; exit 0 when everything was written, 1 when something could not be, 2 for bad
arguments. No Qt.
"""

from __future__ import annotations

import argparse
import sys

from viewer.cli.arguments import zero_based
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report

HELP = "export series as DICOM (as is, re-encoded or anonymised per PS3.15 E), with a DICOMDIR"

FORMATS = ("dicom",)
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


def run(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        report("export needs at least one PATH and the OUT folder")
        return EXIT_USAGE
    if (args.keep or args.salt is not None) and not args.anonymize:
        report("--keep and --salt go with --anonymize")
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
    from viewer.dicom.write.anonymize import DeidPolicy
    from viewer.dicom.write.export import (
        DicomExportOptions,
        ExportError,
        SeriesFiles,
        check_destination,
        export_dicom,
    )

    *sources, out = args.paths
    try:
        check_destination(out, sources)
    except ExportError as error:
        report(str(error))
        return EXIT_FAILED
    catalog = index_paths(sources)
    for skipped in catalog.skipped:
        report(f"skipped {shown_path(skipped.path)}: {skipped.reason}")
    chosen = _chosen_series(catalog, args)
    if isinstance(chosen, str):
        report(chosen)
        return EXIT_FAILED
    policy = None
    if args.anonymize:
        policy = DeidPolicy(frozenset(args.keep))
        if args.salt is not None:
            policy = DeidPolicy(frozenset(args.keep), args.salt)
    options = DicomExportOptions(anonymize=policy, reencode=args.reencode, dicomdir=args.dicomdir)
    try:
        selection = [SeriesFiles(uid, paths) for uid, paths in chosen]
        result = export_dicom(selection, out, sources, options)
    except ExportError as error:
        report(str(error))
        return EXIT_FAILED
    for path, reason in result.failures:
        report(f"not exported {shown_path(path)}: {reason}")
    for warning in result.warnings:
        report(f"warning: {warning}")
    print(f"{result.written} file(s) written to {result.out}", file=sys.stdout)
    return EXIT_FAILED if result.failures else EXIT_OK


Selection = list[tuple[str, tuple[str, ...]]]


def _chosen_series(catalog: object, args: argparse.Namespace) -> Selection | str:
    """(series UID, files) to export, or a one-line reason why there are none."""
    from viewer.dicom.catalog.catalog import Catalog

    assert isinstance(catalog, Catalog)
    every = catalog.all_series()
    if not every:
        return f"no DICOM series found in {' '.join(args.paths[:-1])}"
    if args.stack is not None:
        stacks = [(s, stack) for s in every for stack in s.stacks]
        if args.stack >= len(stacks):
            count = len(stacks)
            return f"there are {count} stack(s) (0 to {count - 1}); no stack {args.stack}"
        series, stack = stacks[args.stack]
        files = tuple(dict.fromkeys(path for path, _ in stack.sources))
        return [(series.uid, files)]
    wanted = set(args.series)
    missing = wanted - {s.uid for s in every}
    if missing:
        return f"no series {', '.join(sorted(missing))} in {' '.join(args.paths[:-1])}"
    return [(s.uid, tuple(_ordered_paths(s))) for s in every if not wanted or s.uid in wanted]


def _ordered_paths(series: object) -> list[str]:
    """A series' files: stack order first (as shown), then the files without pixels."""
    from viewer.dicom.catalog.catalog import SeriesNode

    assert isinstance(series, SeriesNode)
    paths = [path for stack in series.stacks for path, _ in stack.sources]
    paths += [record.path for record in series.instances]
    return list(dict.fromkeys(paths))
