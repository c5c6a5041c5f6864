"""Where a frame comes from: a :class:`FrameRef`, an instance's URI plus a frame number.

A stack's slices refer to their frames only through FrameRefs, so a stack can be fed by files
on disk, members of a zip, the study database or a PACS alike; the readers that turn a URI into
bytes are registered per scheme in :mod:`viewer.dicom.io.frame_sources`.

An absolute local path stands for its ``file:`` URI. That short form is what the indexer
records for files, so a frame of a file is still ``(path, frame)`` wherever it is shown,
compared or used as a key (``inspect --json``'s ``sources`` keep their form: the CLI contract).
Every other source is written ``scheme:rest``, with a scheme of two or more letters (a single
letter before ``:`` is a Windows drive, RFC 8089 appendix E.2), for example
``zip:/data/study.zip!/DICOM/IM1``.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

#: RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), here at least two long.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")

#: The scheme of local files (a plain path or a ``file:`` URI).
FILE_SCHEME = "file"


class FrameRef(NamedTuple):
    """One frame of one instance: ``uri`` (a local path for files) and ``frame`` (0-based).

    A NamedTuple, so it unpacks, compares and hashes like the ``(path, frame)`` pair it
    replaces, and pickles to worker processes.
    """

    uri: str
    frame: int = 0

    @property
    def scheme(self) -> str:
        return scheme_of(self.uri)

    @property
    def local_path(self) -> str | None:
        """The file's path when the frame is in a local file, else None."""
        return local_path(self.uri)


def scheme_of(uri: str) -> str:
    """``uri``'s scheme in lower case; ``"file"`` for a local path."""
    match = _SCHEME.match(uri)
    return match.group(1).lower() if match else FILE_SCHEME


def local_path(uri: str) -> str | None:
    """The local path ``uri`` names (itself for a path, decoded for ``file:`` URIs), or None
    for any other scheme."""
    if not _SCHEME.match(uri):
        return uri
    if scheme_of(uri) != FILE_SCHEME:
        return None
    parts = urlsplit(uri)
    path = unquote(parts.path)
    if os.name == "nt" and re.match(r"^/[A-Za-z]:", path):
        path = path[1:]
    return path
