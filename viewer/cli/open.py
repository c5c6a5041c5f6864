"""``dicom-viewer [open] [PATH ...]``: start the GUI (no PATH: the built-in demo study)."""

from __future__ import annotations

import argparse

from viewer.core.display import display_problem
from viewer.core.errors import EXIT_FAILED, report

HELP = "start the viewer and open PATHs (folders, files, zips, DICOMDIR); none: the demo study"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH")


def run(args: argparse.Namespace) -> int:
    problem = display_problem()
    if problem:
        report(problem)
        return EXIT_FAILED
    from viewer.qt.app import run_gui

    return run_gui(list(args.paths))
