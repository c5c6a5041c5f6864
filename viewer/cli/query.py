"""``dicom-viewer query NODE``: C-FIND or QIDO-RS at study or series level.

``--json`` prints {"results": [...], "truncated": "..."} (shared/cli-contract.md); else one
line per result. Exit 0 on an answer (even an empty one), 1 when the query failed.
"""

from __future__ import annotations

import argparse
import json
import sys

from viewer.cli.network import add_common, client_for, guarded
from viewer.core.errors import EXIT_OK, EXIT_USAGE, report
from viewer.net.query import DEFAULT_LIMIT, LEVELS, QueryFilter, QueryResult

HELP = "query a node (C-FIND or QIDO-RS) for studies or series"


def configure(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--level", choices=LEVELS, default="study")
    parser.add_argument(
        "--patient-name", default="", metavar="P", help="patient name, * and ? wildcards"
    )
    parser.add_argument("--patient-id", default="", metavar="I")
    parser.add_argument("--accession", default="", metavar="A")
    parser.add_argument(
        "--date", default="", metavar="FROM-TO", help="study date YYYYMMDD or a range FROM-TO"
    )
    parser.add_argument("--modality", default="", metavar="M")
    parser.add_argument("--description", default="", metavar="TEXT", help="* and ? wildcards")
    parser.add_argument(
        "--study", default="", metavar="UID", help="series level: the series of this study"
    )
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, metavar="N", help="at most N results"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _query(args: argparse.Namespace) -> int:
    query = QueryFilter(
        level=args.level,
        patient_name=args.patient_name,
        patient_id=args.patient_id,
        accession=args.accession,
        date=args.date,
        modality=args.modality,
        description=args.description,
        study_uid=args.study,
        limit=args.limit,
    )
    problems = query.problems()
    if problems:
        report(problems[0])
        return EXIT_USAGE
    answer = client_for(args).find(query)
    if args.json:
        data: dict[str, object] = {"results": [result.as_json() for result in answer.results]}
        if answer.truncated:
            data["truncated"] = answer.truncated
        print(json.dumps(data, indent=1))
    else:
        print("\n".join(_line(result) for result in answer.results) or "no results")
    if answer.truncated:
        report(answer.truncated)
    sys.stdout.flush()
    return EXIT_OK


def _line(result: QueryResult) -> str:
    count = f"{result.instances} instances" if result.instances is not None else ""
    if result.level == "series":
        return (
            f"{'/'.join(result.modalities) or '-'} {result.series_number or ''} "
            f"{result.description}  {count}\n    {result.series_uid}"
        )
    return (
        f"{result.date or '--------'}  {result.patient_name or '(no name)'} "
        f"[{result.patient_id}]  {'/'.join(result.modalities) or '-'}  {count}  "
        f"{result.description}\n    {result.study_uid}"
    )


run = guarded("query", _query)
