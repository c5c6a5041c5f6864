"""``dicom-viewer [open] [PATH ...]``: start the GUI (no PATH: the built-in demo study)."""

from __future__ import annotations

import argparse

HELP = "start the viewer and open PATHs (folders, files, zips, DICOMDIR); none: the demo study"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH")


def run(args: argparse.Namespace) -> int:
    from viewer.qt.app import run_gui

    return run_gui(list(args.paths))
