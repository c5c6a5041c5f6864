"""``dicom-viewer bench [--json] [--quick]``: the benchmark suite on generated data."""

from __future__ import annotations

import argparse
import json
import sys

from viewer.core.errors import EXIT_FAILED, EXIT_OK, report

HELP = "generate benchmark data and measure indexing, loading, display, MPR and startup"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--quick", action="store_true", help="small data and fewer runs (for CI; not comparable)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the generated data in the user cache for the next run (default: deleted)",
    )


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from viewer.bench.report import json_report, text_report
    from viewer.bench.sizes import FULL, QUICK
    from viewer.bench.suite import run_suite

    sizes = QUICK if args.quick else FULL
    try:
        figures = run_suite(sizes, progress, keep=args.keep)
    except OSError as error:
        report(f"bench: cannot write the benchmark data: {error}")
        return EXIT_FAILED
    if not figures:
        report("bench: nothing could be measured")
        return EXIT_FAILED
    if args.json:
        print(json.dumps(json_report(figures, sizes), indent=1))
    else:
        print(text_report(figures, sizes))
    return EXIT_OK
