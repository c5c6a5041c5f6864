"""Reasons a person understands for what went wrong reading or decoding a file.

Fault boundaries (a header read, a frame decode, a verb) catch whatever a library raised. The
exception's own text is written for programmers ("TypeError: A UID must be created from a
string", "'NoneType' object has no attribute 'encode'", pydicom's "With tag (0028,0103) got
exception" followed by a traceback, or a BytesLengthException quoting the raw value, which may
be a patient's name). :func:`explain` turns it into a reason that names the attribute and
what was wrong with it, and logs the full detail at debug level; :func:`is_internal` says
whether a text still reads like a programmer's message (the fuzz test asserts no reason does).
"""

from __future__ import annotations

import builtins
import logging
import re
import struct
import zlib

log = logging.getLogger(__name__)

#: Names of exception classes: builtins, and those the decoding libraries raise.
EXCEPTION_NAMES = frozenset(
    {
        name
        for name, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    | {
        "BytesLengthException",
        "InvalidDicomError",
        "PanicException",
        "JSONDecodeError",
        "UnidentifiedImageError",
        "DecompressionBombError",
        "RuntimeWarning",
        "error",  # struct.error, zlib.error (only as "error:")
    }
)
_CLASS_NAMES = "|".join(sorted((n for n in EXCEPTION_NAMES if n != "error"), key=len, reverse=True))
_INTERNAL = re.compile(
    rf"Traceback \(most recent call last\)|File \"[^\"]*\", line \d+|\bNoneType\b"
    r"|object has no attribute|object is not (?:subscriptable|iterable|callable)"
    r"|unsupported operand|positional argument|unexpected keyword argument"
    r"|\bstruct\.error\b|\bpydicom\.config\b|\bforce=True\b|\bself\b\."
    rf"|\b(?:{_CLASS_NAMES})\b"
)
#: pydicom's wrapper of an error met while converting one element (pydicom.tag).
_WITH_TAG = re.compile(r"With tag \(([0-9A-Fa-f]{4}),\s*([0-9A-Fa-f]{4})\) got exception")
_WHILE_PARSING = re.compile(
    r"parse \(([0-9A-Fa-f]{4}),\s*([0-9A-Fa-f]{4})\) according to VR '(\w+)'"
)
_UNKNOWN_VR = re.compile(
    r"Unknown Value Representation '(.{0,8}?)' in tag \(([0-9A-Fa-f]{4}),\s*([0-9A-Fa-f]{4})\)"
)
_NO_TAG = re.compile(r"No tag to read at file position ([0-9A-Fa-f]+)")
_FRAGMENT_TAG = re.compile(
    r"Unexpected tag '\(([0-9A-Fa-f]{4}),\s*([0-9A-Fa-f]{4})\)' at offset (\d+)"
)
_NUMBER = re.compile(
    r"(?:invalid literal for int\(\) with base \d+|could not convert string to float): (.*)"
)
_PLUGIN_LINE = re.compile(r"^\s*([\w.-]+):\s*(.*)$")
GENERIC = "a value in the file is missing or malformed"


def is_internal(text: str) -> bool:
    """The text reads like a programmer's message (an exception class, a traceback...)."""
    return bool(_INTERNAL.search(text))


def explain(error: BaseException, context: str = "") -> str:
    """A one-line reason for ``error`` a user understands; the detail goes to the log.

    ``context`` (a file name, "header", "frame 3") only labels the debug log record.
    """
    log.debug("%s: %s: %s", context or "problem", type(error).__name__, error, exc_info=error)
    return _explain(error)


def attribute(group: int, element: int) -> str:
    """``PixelRepresentation (0028,0103)``; a private or unknown tag by its number only."""
    tag = f"({group:04X},{element:04X})"
    if group % 2:
        return f"private attribute {tag}"
    try:
        from pydicom.datadict import keyword_for_tag

        keyword = keyword_for_tag((group << 16) | element)
    except Exception:  # the dictionary is only a nicety
        keyword = ""
    return f"{keyword} {tag}" if keyword else f"attribute {tag}"


def plain(text: str) -> str:
    """A library's message made fit to show: one line, without the parts written for
    programmers (advice about pydicom.config, a traceback); "" where nothing fit is left."""
    text = text.split("\nTraceback", 1)[0]
    text = " ".join(text.split())
    text = re.sub(
        r"\s*To replace this error with a warning set pydicom\.config\.\S+ = \w+\.?", "", text
    )
    text = re.sub(r"\s*Use force=True to force reading\.?", "", text)
    text = re.sub(rf"^(?:{_CLASS_NAMES}):\s*", "", text)
    return "" if not text or is_internal(text) else text


def _explain(error: BaseException) -> str:
    text = str(error)
    for found in _chain(error):
        tagged = _WITH_TAG.search(str(found))
        if tagged:
            name = attribute(int(tagged[1], 16), int(tagged[2], 16))
            inner = found.__cause__ or found.__context__
            why = _value_problem(inner) if inner is not None else ""
            return f"{name} has a value that cannot be read{why}"
    parsed = _WHILE_PARSING.search(text)
    if parsed:
        name = attribute(int(parsed[1], 16), int(parsed[2], 16))
        vr = f"VR {parsed[3]}" if parsed[3] != "None" else "its VR"
        return f"{name} has a value that cannot be read (its length does not fit {vr})"
    unknown = _UNKNOWN_VR.search(text)
    if unknown:
        name = attribute(int(unknown[2], 16), int(unknown[3], 16))
        return f"{name} has an unknown VR {unknown[1]!r}"
    message = _known(error, text)
    if message:
        return message
    shown = plain(text)
    return shown or GENERIC


def _known(error: BaseException, text: str) -> str:
    """Messages for the errors that do not name an attribute."""
    if isinstance(error, MemoryError):
        return "not enough memory"
    if type(error).__name__ == "InvalidDicomError":  # pydicom's, not imported here for it
        return "not a DICOM file"
    if isinstance(error, RecursionError):
        return "the data is nested too deeply"
    if isinstance(error, UnicodeError):
        return "text that is not valid in its declared character set"
    if isinstance(error, struct.error) or "unpack requires a buffer" in text:
        return "the file ends inside a data element (truncated?)"
    if isinstance(error, zlib.error):
        return "corrupt compressed data"
    if isinstance(error, OverflowError):
        return "a value is out of range"
    if "UID must be created from a string" in text:
        return "a UID value is not text"
    no_tag = _NO_TAG.search(text)
    if no_tag:
        return f"the data set ends unexpectedly (nothing to read at byte {int(no_tag[1], 16)})"
    fragment = _FRAGMENT_TAG.search(text)
    if fragment:
        return (
            "the encapsulated pixel data is malformed (tag "
            f"({fragment[1]},{fragment[2]}) where a fragment should start, at byte {fragment[3]})"
        )
    number = _NUMBER.search(text)
    if number:
        return f"a value that should be a number is not ({_short(number[1])})"
    if "exceptions were raised by all available plugins" in text:
        return decoders_failed(text)
    if isinstance(error, (AttributeError, TypeError, KeyError, IndexError)):
        return GENERIC
    return ""


def decoders_failed(text: str) -> str:
    """pydicom's "all plugins failed" list: each decoder's own reason, where it is fit to show."""
    details = text.split("plugins:", 1)[-1]
    parts: list[str] = []
    for line in details.splitlines() or [details]:
        match = _PLUGIN_LINE.match(line)
        if not match:
            continue
        shown = plain(match[2])
        parts.append(f"{match[1]}: {shown or 'cannot decode this data'}")
    listed = "; ".join(parts)
    return f"the decoders failed (corrupt data?){': ' + listed if listed else ''}"


def _value_problem(inner: BaseException) -> str:
    """What was wrong with a value, in a few words (never the value: it may be a name)."""
    text = str(inner)
    if isinstance(inner, UnicodeError):
        return " (text not valid in its character set)"
    if "UID must be created from a string" in text:
        return " (not text where a UID belongs)"
    if _NUMBER.search(text):
        return " (not a number)"
    if "even multiple of bytes per value" in text:
        return " (its length does not fit its VR)"
    return ""


def _short(value: str, limit: int = 24) -> str:
    value = value.strip()
    return value if len(value) <= limit else f"{value[:limit]}…"


def _chain(error: BaseException) -> list[BaseException]:
    """The error and those it was raised from (at most a few links)."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(found) < 8 and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found
