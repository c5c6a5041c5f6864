"""Files left out, as the headless verbs list them: a few by name, the rest counted by reason.

A folder of 20,000 files that are not DICOM must not print 20,000 lines: the first
SHOWN are named, then one line counts the others by reason (the reason up to its first
detail); ``--json`` and the GUI's Problems dock keep the full list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from viewer.dicom.catalog.records import Skipped
from viewer.dicom.io.zips import shown_path

#: Files named one by one before the rest are counted.
SHOWN = 10
#: Reasons named in the count line (the rest as "other reasons").
REASONS_NAMED = 4


def skipped_lines(
    skipped: Sequence[Skipped], full_list: str = "--json lists them all"
) -> list[str]:
    """One line per file for the first SHOWN, then one line counting the rest by reason."""
    return problem_lines([(item.path, item.reason) for item in skipped], "skipped", full_list)


def problem_lines(
    problems: Sequence[tuple[str, str]], label: str, full_list: str = "--json lists them all"
) -> list[str]:
    """``label PATH: reason`` for the first SHOWN (path, reason) pairs, then one line
    ``label N more: 55 not a DICOM file; ...`` counting the rest by reason."""
    lines = [f"{label} {shown_path(path)}: {reason}" for path, reason in problems[:SHOWN]]
    rest = problems[SHOWN:]
    if rest:
        counts = Counter(_kind(reason) for _, reason in rest).most_common()
        named = [f"{count} {reason}" for reason, count in counts[:REASONS_NAMED]]
        others = sum(count for _, count in counts[REASONS_NAMED:])
        if others:
            named.append(f"{others} for other reasons")
        lines.append(f"{label} {len(rest)} more: {'; '.join(named)} ({full_list})")
    return lines


def problem_list(problems: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """The full list for ``--json``: ``[{"path", "reason"}]``, as ``inspect --json`` gives."""
    return [{"path": shown_path(path), "reason": reason} for path, reason in problems]


def _kind(reason: str) -> str:
    """The reason without its detail: "pixel data truncated: 1 frame(s) ..." -> its head."""
    return reason.split(": ", 1)[0].split(" (", 1)[0].strip() or reason
