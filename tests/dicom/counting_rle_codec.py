"""A codec as a new one would be added (viewer/dicom/codecs/NAME.py): pydicom's plugin protocol.

It decodes RLE Lossless with pydicom's own pure-Python decoder and counts its calls, so a test
can see that one registration made the viewer use it first.
"""

from __future__ import annotations

from typing import Any

from pydicom.pixels.decoders import rle
from pydicom.uid import RLELossless

#: pydicom's plugin protocol: the packages each transfer syntax needs.
DECODER_DEPENDENCIES = {RLELossless: ()}
LABEL = "counting-rle"
calls = 0


def is_available(uid: str) -> bool:
    return uid == RLELossless


def decode_frame(src: bytes, runner: Any) -> bytearray:
    global calls
    calls += 1
    return rle._decode_frame(src, runner)
