"""Reading one frame: the entry point every caller in this process uses.

:func:`read_frame` is :func:`viewer.dicom.pixels.decode.read_frame` (same arguments, same
result and errors) with decode isolation: a frame in a transfer syntax whose decoder can abort
the process on corrupt data (:func:`viewer.dicom.codecs.policy.abort_prone`) is decoded in one of
the decode pool's workers (:mod:`viewer.dicom.pixels.decode_pool`), so an abort costs that
worker, not the application. The module sits above both decode and decode_pool, so isolation
needs no import running back down the layers.
"""

from __future__ import annotations

from viewer.dicom.pixels.decode import DecodedFrame, DecodeError, FrameSource
from viewer.dicom.pixels.decode_pool import read_isolated

__all__ = ["DecodeError", "DecodedFrame", "read_frame"]


def read_frame(source: FrameSource, frame: int = 0, *, name: str = "") -> DecodedFrame:
    """Decode frame ``frame`` of ``source`` (see :func:`viewer.dicom.pixels.decode.read_frame`),
    in a worker process where the decoder could abort this one."""
    return read_isolated(source, frame, name=name)
