"""``dicom-viewer volume PATH OUT.npz [--stack K]``.

Indexes PATH as the GUI and ``inspect`` do, loads stack K (0-based, depth first as ``inspect``
lists them: Catalog.all_stacks()) and writes ``voxels`` (frames, rows, columns) in modality
values (e.g. HU) in the smallest dtype that holds them exactly, and ``affine``, the 4x4 matrix
from (column, row, frame) index to LPS mm. Files left out, frames that could not be decoded
and other warnings go to stderr, one line each; what C decoders print there is silenced. No Qt.
"""

from __future__ import annotations

import argparse

from viewer.cli.arguments import zero_based
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.cli.skipped import skipped_lines
from viewer.core.errors import EXIT_FAILED, EXIT_OK, report
from viewer.dicom import reasons

HELP = "write one stack as voxels (modality values) and its index->LPS affine to an .npz"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a folder, file, zip or DICOMDIR")
    parser.add_argument("out", metavar="OUT.npz", help="the .npz file to write")
    parser.add_argument(
        "--stack",
        type=zero_based("stack"),
        default=0,
        metavar="K",
        help="0-based stack, in the order inspect lists them (default 0)",
    )


def run(args: argparse.Namespace) -> int:
    with quiet_native_stderr():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    # Imported here so that building the CLI parser stays cheap.
    from viewer.dicom.io.indexer import index_paths
    from viewer.dicom.pixels.volume import VolumeError, load_volume, modality_voxels
    from viewer.dicom.write.npz import save_npz

    catalog = index_paths([args.path])
    stacks = catalog.all_stacks()
    if not stacks and len(catalog.skipped) == 1:
        report(f"no image stacks found in {args.path} ({catalog.skipped[0].reason})")
        return EXIT_FAILED
    for line in skipped_lines(catalog.skipped):
        report(line)
    if not stacks:
        report(f"no image stacks found in {args.path}")
        return EXIT_FAILED
    if args.stack >= len(stacks):
        count = len(stacks)
        report(f"{args.path} has {count} stack(s) (0 to {count - 1}); no stack {args.stack}")
        return EXIT_FAILED
    try:
        volume = load_volume(stacks[args.stack])
        voxels = modality_voxels(volume, reuse=True)  # done with the stored values
    except VolumeError as error:
        report(f"cannot load stack {args.stack} of {args.path}: {error}")
        return EXIT_FAILED
    except Exception as error:  # fault boundary: a bug must not print a traceback either
        report(f"cannot load stack {args.stack} of {args.path}: {reasons.explain(error)}")
        return EXIT_FAILED
    for warning in volume.warnings:
        report(f"warning: stack {args.stack}: {warning}")
    try:
        with open(args.out, "wb") as handle:  # streamed from the voxels' memory: no copy
            save_npz(handle, voxels=voxels, affine=volume.affine)
    except OSError as error:
        report(f"cannot write {args.out}: {error.strerror or error}")
        return EXIT_FAILED
    return EXIT_OK
