"""Person Name (PN) values formatted for people (PS3.5 6.2, PS3.5 Annex H/I/J).

A PN holds up to three component groups: alphabetic, ideographic and phonetic, separated by
``=``; each has family^given^middle^prefix^suffix. pydicom has already decoded the bytes with
the file's Specific Character Set (0008,0005) when the value reaches us.
"""

from __future__ import annotations

from typing import Any


def format_component_group(group: str) -> str:
    """``Family^Given^Middle^Prefix^Suffix`` -> ``Family, Prefix Given Middle, Suffix``."""
    parts = [part.strip() for part in group.split("^")] + [""] * 5
    family, given, middle, prefix, suffix = parts[:5]
    first = " ".join(part for part in (prefix, given, middle) if part)
    name = ", ".join(part for part in (family, first) if part)
    return f"{name}, {suffix}" if suffix and name else name or suffix


def format_person_name(value: Any) -> str:
    """A readable name: the alphabetic form, then ideographic and phonetic forms in brackets.

    ``Yamada^Tarou=山田^太郎=やまだ^たろう`` -> ``Yamada, Tarou (山田, 太郎; やまだ, たろう)``.
    """
    if value is None:
        return ""
    groups = [format_component_group(group) for group in str(value).split("=")]
    groups = [group for group in groups if group]
    if not groups:
        return ""
    head, rest = groups[0], groups[1:]
    return f"{head} ({'; '.join(rest)})" if rest else head
