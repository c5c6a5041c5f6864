"""``dicom-viewer db import|list|open|remove``: the study database from the command line.

Headless (no Qt) except ``open``, which starts the GUI on a study from the database. Every
verb takes ``--db FILE`` (default: ``studies.sqlite`` in the user data folder). Problems are
one line on stderr; exit status 0 success, 1 nothing found or failure, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

from viewer.cli.native_stderr import quiet_native_stderr
from viewer.cli.skipped import problem_lines, problem_list
from viewer.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report
from viewer.dicom import reasons
from viewer.store.database import StudyDatabase, StudyRow
from viewer.store.importer import import_paths
from viewer.store.query import StudyQuery, parse_date_range
from viewer.store.schema import DatabaseError

HELP = "the study database: import PATHs, list/search studies, open or remove a study"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    importing = actions.add_parser("import", help="index PATHs and record them")
    importing.add_argument("paths", nargs="+", metavar="PATH")
    importing.add_argument(
        "--copy", action="store_true", help="copy the files into the managed store"
    )
    importing.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on stdout: counts, study UIDs and every skipped file",
    )
    listing = actions.add_parser("list", help="list studies (newest first), optionally searched")
    listing.add_argument(
        "--patient",
        default="",
        metavar="TEXT",
        help="patient name: word prefix, * and ? wildcards, accents ignored",
    )
    listing.add_argument("--id", default="", metavar="TEXT", help="patient ID prefix")
    listing.add_argument("--accession", default="", metavar="TEXT", help="accession prefix")
    listing.add_argument(
        "--date",
        default="",
        metavar="FROM-TO",
        help="study date range YYYYMMDD-YYYYMMDD (either end may be open)",
    )
    listing.add_argument("--modality", default="", metavar="MOD")
    listing.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    opening = actions.add_parser("open", help="open a study from the database in the viewer")
    opening.add_argument("study_uid", metavar="STUDY_UID")
    removing = actions.add_parser(
        "remove", help="forget a study (its copies in the managed store are deleted)"
    )
    removing.add_argument("study_uid", metavar="STUDY_UID")
    for action in (importing, listing, opening, removing):
        action.add_argument(
            "--db", metavar="FILE", default=None, help="the database file (default: the user's)"
        )
        action.set_defaults(db_run=_ACTIONS[action.prog.split()[-1]])


def run(args: argparse.Namespace) -> int:
    try:
        return int(args.db_run(args))
    except DatabaseError as error:
        report(str(error))
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as error:  # fault boundary: one line, never a traceback
        report(f"db {args.db_action} failed: {reasons.explain(error)}")
        return EXIT_FAILED


def _import(args: argparse.Namespace) -> int:
    with StudyDatabase(args.db, check=True) as database, quiet_native_stderr():
        summary = import_paths(database, args.paths, copy=args.copy)
    skipped = [(item.path, item.reason) for item in summary.skipped]
    for line in problem_lines(skipped, "skipped"):
        report(line)
    if args.json:
        counts = {
            "recorded": summary.recorded,
            "unchanged": summary.unchanged,
            "copied": summary.copied,
            "studies": sorted(summary.study_uids),
            "skipped": problem_list(skipped),
        }
        print(json.dumps(counts, indent=1))
    else:
        print(
            f"{summary.recorded + summary.unchanged} instance(s) in {len(summary.study_uids)} "
            f"study(ies): {summary.recorded} recorded, {summary.unchanged} unchanged, "
            f"{summary.copied} copied, {len(summary.skipped)} skipped"
        )
    return EXIT_OK if summary.study_uids else EXIT_FAILED


def _list(args: argparse.Namespace) -> int:
    try:
        start, end = parse_date_range(args.date) if args.date else ("", "")
    except ValueError as error:
        report(f"--date: {error}")
        return EXIT_USAGE
    query = StudyQuery(
        patient_name=args.patient,
        patient_id=args.id,
        accession_number=args.accession,
        date_from=start,
        date_to=end,
        modality=args.modality,
    )
    with StudyDatabase(args.db) as database:
        studies = database.list_studies(query)
    if args.json:
        print(json.dumps({"studies": [study.as_json() for study in studies]}, indent=1))
    else:
        print(_table(studies))
    sys.stdout.flush()
    return EXIT_OK


def _table(studies: list[StudyRow]) -> str:
    if not studies:
        return "no studies"
    lines = []
    for study in studies:
        lines.append(
            f"{study.date or '--------'}  {study.patient_name or '(no name)'} "
            f"[{study.patient_id}]  {'/'.join(study.modalities) or '-'}  "
            f"{study.series} series, {study.instances} instances  "
            f"{study.shown_location()}  {study.description}\n    {study.uid}"
        )
    return "\n".join(lines)


def _open(args: argparse.Namespace) -> int:
    with StudyDatabase(args.db) as database:
        if database.study(args.study_uid) is None:
            report(f"no study {args.study_uid} in {database.path}")
            return EXIT_FAILED
        path = str(database.path)
    from viewer.qt.app import run_gui

    # From the rows (no header read), in that database: the window records into it too.
    return run_gui([], database=path, study_uid=args.study_uid)


def _remove(args: argparse.Namespace) -> int:
    with StudyDatabase(args.db) as database:
        removed = database.remove_study(args.study_uid)
    if not removed:
        report(f"no study {args.study_uid} in the database")
        return EXIT_FAILED
    print(f"removed study {args.study_uid} ({removed} instance(s))")
    return EXIT_OK


_ACTIONS = {"import": _import, "list": _list, "open": _open, "remove": _remove}
