"""``dicom-viewer retrieve NODE --study UID``: C-GET, C-MOVE or WADO-RS into the study
database (the default, or ``--db FILE``) or a folder (``--out DIR``).

Prints one line per series, ``SERIES_UID: done/total, failed N  LABEL``; exit 0 when every
instance arrived, 1 when any failed or the retrieve stopped (what arrived is kept).
"""

from __future__ import annotations

import argparse
import contextlib

from viewer.cli.network import add_common, client_for, guarded
from viewer.core.errors import EXIT_FAILED, EXIT_OK, report
from viewer.net.nodes import METHODS

HELP = "retrieve a study or series (C-GET, C-MOVE, WADO-RS) into the database or a folder"


def configure(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--study", required=True, metavar="UID")
    parser.add_argument(
        "--series", action="append", default=[], metavar="UID", help="only this series (repeat)"
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="get (C-GET), move (C-MOVE to our port) or wado (WADO-RS); default: the node's",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default=None, help="write files below DIR")
    where.add_argument(
        "--db", metavar="FILE", default=None, help="the database file (default: the user's)"
    )
    parser.add_argument(
        "--retry", action="store_true", help="fetch only the instances not yet received"
    )


def _retrieve(args: argparse.Namespace) -> int:
    from viewer.net.client import retrieve
    from viewer.net.landing import Landing
    from viewer.store.database import StudyDatabase

    client = client_for(args)
    method = args.method or client.node.default_method()
    with contextlib.ExitStack() as stack:
        if args.out is not None:
            landing = Landing(out_dir=args.out)
        else:
            database = stack.enter_context(StudyDatabase(args.db, check=True))
            landing = Landing(database=database)
            if args.retry:
                landing.arrived.update(
                    item.instance.sop_instance_uid for item in database.scanned_files(args.study)
                )
        if args.out is not None and args.retry:
            landing.arrived.update(_already_in(args.out))
        report_ = retrieve(client, args.study, landing, method, args.series, retry=args.retry)
        landing.close()
    for count in report_.series:
        total = count.total if count.total is not None else "?"
        print(f"{count.series_uid}: {count.done}/{total}, failed {count.failed}  {count.label}")
    if report_.error:
        report(report_.error)
    if report_.error or report_.failed:
        if report_.failed:
            report(f"{report_.failed} instance(s) did not arrive: run again with --retry")
        return EXIT_FAILED
    return EXIT_OK


def _already_in(folder: str) -> set[str]:
    from pathlib import Path

    return {path.stem for path in Path(folder).rglob("*.dcm")}


run = guarded("retrieve", _retrieve)
