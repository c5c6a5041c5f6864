"""``dicom-viewer inspect PATH ... [--json]``: index exactly as the GUI does and report."""

from __future__ import annotations

import argparse
import json

from viewer.cli.errors import EXIT_FAILED, EXIT_OK, report
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.dicom.indexer import index_paths
from viewer.dicom.inspect_report import catalog_report, text_report

HELP = "index PATHs (folders, files, zips, DICOMDIR) and report patients, studies, series, stacks"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    with quiet_native_stderr():
        catalog = index_paths(args.paths)
    for skipped in catalog.skipped:
        report(f"skipped {skipped.path}: {skipped.reason}")
    if args.json:
        print(json.dumps(catalog_report(catalog), indent=1))
    else:
        print(text_report(catalog))
    return EXIT_OK if catalog.instance_count else EXIT_FAILED
