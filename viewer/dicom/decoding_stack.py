"""Loads pydicom, its decoders and the modules that use them once, from one thread at a time.

The GUI shows its window before pydicom loads (startup), so the first import happens in
whichever worker needs it first: the indexer, the frame loader, thumbnails, overlays, the tag
browser or the MPR loader. Importing a package as large as pydicom (with cycles between its
modules) from several threads at once can trip Python's module-lock deadlock detection, which
hands one thread a half-initialised module and an ImportError; a frame whose decode callback
fails that way is never answered. Every such entry point calls :func:`load` first: the first
caller imports, the others wait for it, later calls return at once.
"""

from __future__ import annotations

import threading

from viewer.core import lazy

#: What :func:`load` imports, in this order: pydicom's modules that the readers use first, then
#: viewer.dicom's readers that import pydicom at their top.
_MODULES = (
    "pydicom.charset",
    "pydicom.datadict",
    "pydicom.filereader",
    "pydicom.values",
    "viewer.dicom.io.header_fields",
    "viewer.dicom.pixels.decode_pool",
    "viewer.dicom.pixels.overlays",
)

_lock = threading.RLock()  # re-entrant: a module imported here may ask again
_loaded = threading.Event()


def load() -> None:
    """Import the decoding stack (pydicom, its plugins, viewer.dicom's readers) if not yet."""
    if _loaded.is_set():
        return
    with _lock:
        if _loaded.is_set():
            return
        for module in _MODULES:
            lazy.load(module)
        _loaded.set()
