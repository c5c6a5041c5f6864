"""Readers of frame sources, registered per URI scheme: how a :class:`FrameRef` becomes bytes.

A stack's slices name their frames by :class:`~viewer.dicom.catalog.frame_ref.FrameRef`
(a URI and a frame number). :func:`viewer.dicom.pixels.decode.read_frame` decodes a local file
straight from its path (seeking to the one frame it needs) and asks this registry for anything
else: the reader registered for the URI's scheme returns the instance's bytes (a Part 10 file,
PS3.10 7, or a bare data set) or a binary file-like, and decoding carries on from memory.

Built in: ``file`` (local paths and ``file:`` URIs) and ``zip`` (a member of a zip read in
place, ``zip:/data/study.zip!/DICOM/IM1``; a zip inside a zip as ``zip:a.zip!/b.zip!/IM1``).

Adding a scheme (the study database, DICOMweb ``wadors:``, DIMSE retrievals) is one module with
a function ``read(uri: str) -> bytes | BinaryIO`` (raising OSError or ValueError with a readable
reason) and one registration, ``register("wadors", "viewer.sources.dicomweb:read")``, for
example in the ``SCHEMES`` table of :mod:`viewer.sources`. A reader is named by a
``"module:function"`` string, imported on first use (:func:`viewer.core.lazy.load`), so the
table pickles: the decode pool's worker processes start with the registrations the parent had
(:func:`registered`, :func:`install`). See tests/dicom/test_frame_sources.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import BinaryIO

from viewer.core import lazy
from viewer.dicom.catalog.frame_ref import FILE_SCHEME, local_path, scheme_of

#: What a reader returns: the whole instance, as bytes or a readable binary file-like.
InstanceData = bytes | bytearray | memoryview | BinaryIO
Reader = Callable[[str], InstanceData]

#: Scheme -> "module:function" of its reader (``file`` is decoded from its path, no reader).
BUILT_IN: dict[str, str] = {
    FILE_SCHEME: "viewer.dicom.io.frame_sources:read_local",
    "zip": "viewer.dicom.io.zips:read_member",
}

_lock = threading.Lock()
_table: dict[str, str] = dict(BUILT_IN)
_loaded: dict[str, Reader] = {}


class UnknownScheme(ValueError):
    """No reader is registered for a URI's scheme."""


def register(scheme: str, reader: str) -> None:
    """Read URIs of ``scheme`` with ``reader``, a ``"module:function"`` string.

    Registering a scheme again replaces its reader (the last registration wins)."""
    if ":" not in reader:
        raise ValueError(f"a reader is named 'module:function', not {reader!r}")
    key = scheme.lower()
    with _lock:
        _table[key] = reader
        _loaded.pop(key, None)


def unregister(scheme: str) -> None:
    """Forget ``scheme``'s reader (a built-in one comes back)."""
    key = scheme.lower()
    with _lock:
        _loaded.pop(key, None)
        if key in BUILT_IN:
            _table[key] = BUILT_IN[key]
        else:
            _table.pop(key, None)


def registered() -> dict[str, str]:
    """Every scheme and its reader, as :func:`install` takes them (picklable)."""
    with _lock:
        return dict(_table)


def install(table: Mapping[str, str]) -> None:
    """Register every ``scheme -> "module:function"`` of ``table`` (a worker process's start)."""
    for scheme, reader in table.items():
        register(scheme, reader)


def schemes() -> list[str]:
    """The schemes that can be read, sorted."""
    with _lock:
        return sorted(_table)


def reader_for(scheme: str) -> Reader:
    """The reader of ``scheme``; raises :class:`UnknownScheme`."""
    key = scheme.lower()
    with _lock:
        reader = _loaded.get(key)
        target = _table.get(key)
    if reader is not None:
        return reader
    if target is None:
        raise UnknownScheme(f"no reader for '{key}:' sources")
    reader = lazy.load(target)
    with _lock:
        _loaded[key] = reader
    return reader


def read(uri: str) -> InstanceData:
    """The instance ``uri`` names, from its scheme's reader (OSError/ValueError if it cannot)."""
    return reader_for(scheme_of(uri))(uri)


def read_local(uri: str) -> bytes:
    """The ``file`` reader: a local file's bytes (decoding opens paths itself; this serves
    callers that want the instance's bytes whatever its source)."""
    path = local_path(uri)
    assert path is not None
    with open(path, "rb") as source:
        return source.read()
