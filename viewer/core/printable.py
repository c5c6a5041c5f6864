"""Text for people's terminals and logs: control characters are shown, never obeyed.

Patient names, descriptions and file names come from other people's files. Printed raw, an ESC
sequence can rewrite the terminal, CR hide the start of a line, BEL ring, NUL cut a log; the
bidirectional overrides (Unicode Bidi Algorithm, UAX #9) reorder what follows. Every
human-readable line (stderr reports, ``inspect``'s text, the log) shows them as escapes.
JSON needs nothing of this: it escapes control characters itself.
"""

from __future__ import annotations

import re

#: C0 controls (tab and newline included: a report is one line per record), DEL, C1 controls,
#: the bidirectional embeddings, overrides and isolates, and lone surrogates (from file names
#: that were not valid in the file system's encoding).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as ``\\xNN`` or ``\\uNNNN``."""
    return _UNSAFE.sub(_escape, text)
