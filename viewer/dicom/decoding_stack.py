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

_lock = threading.RLock()  # re-entrant: a module imported here may ask again
_loaded = threading.Event()


def load() -> None:
    """Import the decoding stack (pydicom, its plugins, viewer.dicom's readers) if not yet."""
    if _loaded.is_set():
        return
    with _lock:
        if _loaded.is_set():
            return
        import pydicom.charset
        import pydicom.datadict
        import pydicom.filereader
        import pydicom.values  # noqa: F401

        import viewer.dicom.io.header_fields
        import viewer.dicom.pixels.decode_pool
        import viewer.dicom.pixels.overlays  # noqa: F401

        _loaded.set()
