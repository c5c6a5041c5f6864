"""``dicom-viewer demo DIR``: write the built-in demo study with a DICOMDIR."""

from __future__ import annotations

import argparse
from pathlib import Path

from viewer.core.errors import EXIT_FAILED, EXIT_OK, report

HELP = "write the built-in demo study (CT, MR, US cine, radiograph) to DIR with a DICOMDIR"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR")


def run(args: argparse.Namespace) -> int:
    from viewer.demo import write_demo_study

    try:
        dicomdir = write_demo_study(Path(args.directory))
    except OSError as error:
        report(f"cannot write the demo study to {args.directory}: {error}")
        return EXIT_FAILED
    print(dicomdir)
    return EXIT_OK
