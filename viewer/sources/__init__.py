"""Frame sources beyond local files: where a stack's frames come from when not from a folder.

A stack's slices name frames by :class:`~viewer.dicom.catalog.frame_ref.FrameRef` (a URI and a
frame number); :mod:`viewer.dicom.io.frame_sources` reads a URI with the reader registered for
its scheme. ``file`` and ``zip`` are built in there (decoding needs them below this layer); the
readers that need the study database (:mod:`viewer.store`) or the network clients
(:mod:`viewer.net`) live here, one module per scheme, each listed once in :data:`SCHEMES`:

1. write ``viewer/sources/<name>.py`` with ``read(uri: str) -> bytes | BinaryIO`` (raise
   OSError or ValueError with a one-line reason, no patient data in it);
2. add ``"<scheme>": "viewer.sources.<name>:read"`` to :data:`SCHEMES`.

:func:`install` (run once by ``dicom-viewer`` before any verb, GUI included) registers them,
before any decode worker starts (workers get the parent's table). tests/dicom/
test_frame_sources.py adds a scheme this way.
"""

from __future__ import annotations

from viewer.dicom.io import frame_sources

#: Scheme -> "module:function" of its reader, for the schemes this layer adds.
SCHEMES: dict[str, str] = {}


def install() -> None:
    """Register every reader of :data:`SCHEMES` (idempotent)."""
    frame_sources.install(SCHEMES)
