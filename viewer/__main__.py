"""The ``dicom-viewer`` command (see shared/cli-contract.md and the README).

Headless verbs import no Qt; only ``open`` (the default) and ``screenshot`` do, lazily.
Exit status: 0 success, 1 nothing usable or failure, 2 bad arguments; 128 + N after signal N
(SIGTERM, SIGHUP, SIGINT), once every worker process has been stopped.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from collections.abc import Sequence

from viewer import __version__

#: Verb name -> module in viewer.cli exposing HELP, configure(parser) and run(args).
VERBS = {
    "open": "viewer.cli.open",
    "screenshot": "viewer.cli.screenshot",
    "inspect": "viewer.cli.inspect",
    "render": "viewer.cli.render",
    "demo": "viewer.cli.demo",
    "volume": "viewer.cli.volume",
    "export": "viewer.cli.export",
    "bench": "viewer.cli.bench",
    "db": "viewer.cli.db",
    "echo": "viewer.cli.echo",
    "query": "viewer.cli.query",
    "retrieve": "viewer.cli.retrieve",
    "send": "viewer.cli.send",
    "measure": "viewer.cli.measure",
    "report": "viewer.cli.report",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every verb, or of the verb ``only`` alone: a verb's run then imports no
    other verb's module (``volume`` in a researcher's loop pays for its own imports only)."""
    parser = argparse.ArgumentParser(
        prog="dicom-viewer",
        description="A fast, correct DICOM viewer. With no verb it opens PATHs (or the demo).",
        epilog="A path named like a verb is opened with: dicom-viewer open PATH",
    )
    parser.add_argument("--version", action="version", version=f"dicom-viewer {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for name, module_name in VERBS.items():
        if only is not None and name != only:
            continue
        module = importlib.import_module(module_name)
        sub = verbs.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(run=module.run)
    return parser


def unknown_verb(word: str) -> str | None:
    """Why ``word`` (the first argument) is neither a verb nor a path to open, or None."""
    if word in VERBS or word.startswith("-") or os.path.lexists(word):
        return None
    # Two letters swapped keeps the letters: such a verb beats difflib's guess ('epxort' is
    # 'export', not 'report').
    swapped = [verb for verb in VERBS if sorted(verb) == sorted(word.lower())]
    close = swapped or difflib.get_close_matches(word.lower(), VERBS, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"verbs: {', '.join(VERBS)}"
    return f"unknown verb {word!r} ({hint}), and no file or folder of that name"


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    problem = unknown_verb(args_list[0]) if args_list else None
    if problem:
        from viewer.core.errors import EXIT_USAGE, report

        report(problem)
        return EXIT_USAGE
    if not args_list or (args_list[0] not in VERBS and not args_list[0].startswith("-")):
        args_list.insert(0, "open")
    if args_list == ["--version"]:  # answered without building the parser's verb modules
        print(f"dicom-viewer {__version__}")
        return 0
    import viewer.sources  # the frame-source readers of this layer, before any decode worker

    viewer.sources.install()
    parser = build_parser(args_list[0] if args_list[0] in VERBS else None)
    # PATHs may also follow options (``screenshot OUT.png --size 800x600 PATH``).
    args, extra = parser.parse_known_args(args_list)
    if extra:
        if not hasattr(args, "paths") or any(item.startswith("-") for item in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.paths = [*args.paths, *extra]
    from viewer.core import quit_signals

    try:
        with quit_signals.raise_on_signals():  # the GUI watches them its own way
            status = int(args.run(args))
    except quit_signals.Terminated as stop:
        return quit_signals.exit_status(stop.signum)
    except KeyboardInterrupt:
        return quit_signals.exit_status(2)
    finally:
        if quit_signals.received() is not None:
            stop_workers_now()
    signum = quit_signals.received()
    return status if signum is None else quit_signals.exit_status(signum)


#: The process-wide worker pools: (module, its function that stops them).
WORKER_POOLS = (
    ("viewer.dicom.pixels.decode_pool", "shutdown_shared_pool"),
    ("viewer.dicom.io.indexer", "shutdown_index_pool"),
)


def stop_workers_now() -> None:
    """Stop the worker pools this process started, without waiting for running tasks
    (after a quit signal; a pool module never imported has none to stop)."""
    for module_name, function in WORKER_POOLS:
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, function)()


if __name__ == "__main__":
    sys.exit(main())
