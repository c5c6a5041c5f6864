"""What the network verbs share (echo, query, retrieve, send): the NODE argument, our own AE
(``--aet``, ``--port``), a timeout, and one-line errors with exit status 1 (2: bad arguments).


The verb modules import pydicom and pynetdicom only when they run: building the parser (every
start of the viewer) must stay light (tests/test_startup_imports.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from viewer.core.errors import EXIT_FAILED, EXIT_USAGE, report
from viewer.dicom import reasons
from viewer.net.errors import Cancelled, NetError
from viewer.net.nodes import NodeError, load_nodes, resolve_node, with_local
from viewer.store.schema import DatabaseError

if TYPE_CHECKING:
    from viewer.net.client import Client

NODE_HELP = "a configured node name, AET@host:port (DIMSE) or an http(s):// DICOMweb base URL"


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, got {value}")
    return value


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("node", metavar="NODE", help=NODE_HELP)
    parser.add_argument(
        "--aet", metavar="TITLE", default=None, help="our AE title (default: the configured one)"
    )
    parser.add_argument(
        "--port",
        metavar="N",
        type=port_number,
        default=None,
        help="our C-STORE port, the C-MOVE destination (default: the configured one)",
    )
    parser.add_argument(
        "--timeout", metavar="SECONDS", type=float, default=30.0, help="network timeout"
    )


def client_for(args: argparse.Namespace) -> Client:
    """The client for ``args.node`` (raises NodeError for a bad NODE, --aet or --port)."""
    from viewer.net.client import connect  # pydicom and pynetdicom: only when a verb runs

    book = load_nodes()
    node = resolve_node(args.node, book)
    local = with_local(book.local, args.aet, args.port)
    return connect(node, local, timeout=args.timeout)


def guarded(verb: str, body: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """``body`` with every failure as one line on stderr and its exit status."""

    def run(args: argparse.Namespace) -> int:
        try:
            return body(args)
        except NodeError as error:
            report(str(error))
            return EXIT_USAGE
        except Cancelled:
            report(f"{verb}: cancelled")
            return EXIT_FAILED
        except (NetError, DatabaseError) as error:
            report(str(error))
            return EXIT_FAILED
        except BrokenPipeError:
            return EXIT_FAILED
        except Exception as error:  # fault boundary: one line, never a traceback
            report(f"{verb} failed: {reasons.explain(error)}")
            return EXIT_FAILED

    return run
