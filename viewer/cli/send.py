"""``dicom-viewer send NODE PATH ...``: C-STORE or STOW-RS files (folders searched).

Prints one line per instance that failed and a summary; exit 0 when all were stored, 1 when
any failed.
"""

from __future__ import annotations

import argparse
import os

from viewer.cli.network import add_common, client_for, guarded
from viewer.core.errors import EXIT_FAILED, EXIT_OK, report
from viewer.dicom.io.zips import shown_path
from viewer.net.nodes import SendResult

HELP = "send files (C-STORE or STOW-RS) to a node"


def configure(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("paths", nargs="+", metavar="PATH")


def _files(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, _dirs, names in sorted(os.walk(path)):
                found.extend(
                    os.path.join(folder, name)
                    for name in sorted(names)
                    if name.upper() != "DICOMDIR" and not name.startswith(".")
                )
        else:
            found.append(path)
    return found


def _send(args: argparse.Namespace) -> int:
    client = client_for(args)
    files = _files(args.paths)
    if not files:
        report("nothing to send")
        return EXIT_FAILED

    def one(result: SendResult) -> None:
        if result.problem:
            report(f"{shown_path(result.path)}: {result.problem}")

    results = client.send(files, on_result=one)
    failed = sum(1 for result in results if result.problem)
    print(f"sent {len(results) - failed} of {len(results)} instance(s) to {client.node.describe()}")
    return EXIT_FAILED if failed else EXIT_OK


run = guarded("send", _send)
