"""How headless verbs report problems: one readable line each on stderr, no tracebacks."""

from __future__ import annotations

import sys

from viewer.core.printable import printable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def report(message: str) -> None:
    """Print one problem as a single line on stderr, control characters escaped."""
    print(f"dicom-viewer: {printable(' '.join(message.split()))}", file=sys.stderr)
