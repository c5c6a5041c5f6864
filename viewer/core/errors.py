"""How headless verbs report problems: one readable line each on stderr, no tracebacks."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def report(message: str) -> None:
    """Print one problem as a single line on stderr."""
    print(f"dicom-viewer: {' '.join(message.split())}", file=sys.stderr)
