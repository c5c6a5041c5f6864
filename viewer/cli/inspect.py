"""``dicom-viewer inspect PATH ... [--json]``: index exactly as the GUI does and report.

Files left out go to stderr, one line each for the first ten, then one line counting the rest
by reason (:mod:`viewer.cli.skipped`; a file from a zip named ``ZIP!/MEMBER``); an
unexpected error is one line on stderr and exit status 1, never a traceback. No Qt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from viewer.cli.inspect_report import catalog_report, text_report
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.cli.skipped import skipped_lines
from viewer.core.errors import EXIT_FAILED, EXIT_OK, report
from viewer.dicom import reasons
from viewer.dicom.io.indexer import index_paths

HELP = "index PATHs (folders, files, zips, DICOMDIR) and report patients, studies, series, stacks"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except BrokenPipeError:  # the reader went away (``inspect ... | head``): nothing to say
        _silence_stdout()
        return EXIT_FAILED
    except Exception as error:  # fault boundary: a bug must not print a traceback either
        report(f"cannot inspect {' '.join(args.paths)}: {reasons.explain(error)}")
        return EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    with quiet_native_stderr():
        catalog = index_paths(args.paths)
    for line in skipped_lines(catalog.skipped):
        report(line)
    if args.json:
        print(json.dumps(catalog_report(catalog), indent=1))
    else:
        print(text_report(catalog))
    sys.stdout.flush()  # a closed pipe shows here, inside the fault boundary
    return EXIT_OK if catalog.instance_count else EXIT_FAILED


def _silence_stdout() -> None:
    """Point stdout at the null device, so flushing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
