"""``dicom-viewer echo NODE``: C-ECHO a DIMSE node or ping a DICOMweb one (QIDO-RS).

Prints one line; exit 0 when the node answered, 1 (with the reason on stderr: refused,
timed out, association rejected and why, HTTP status) when not, 2 for a bad NODE.
"""

from __future__ import annotations

import argparse

from viewer.cli.network import add_common, client_for, guarded
from viewer.core.errors import EXIT_OK

HELP = "check a node: C-ECHO (DIMSE) or a QIDO-RS ping (DICOMweb)"


def configure(parser: argparse.ArgumentParser) -> None:
    add_common(parser)


def _echo(args: argparse.Namespace) -> int:
    print(client_for(args).echo())
    return EXIT_OK


run = guarded("echo", _echo)
