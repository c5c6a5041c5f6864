"""Worker set-ups that make one kind of work never finish, for the deadline tests.

Each function runs once in a new worker process (``DecodePool(worker_setup=...)``,
``indexer.warm_index_pool(..., worker_setup=...)``); nothing in the viewer knows about them.

- :func:`rle_decoder_never_returns` makes a pydicom decoding plugin that loops forever the
  only RLE Lossless decoder in that worker: any RLE frame it decodes hangs there, as OpenJPEG
  and libjpeg builds have hung on crafted data. Frames in other transfer syntaxes decode as
  usual, and the calling process keeps the real RLE decoders.
- :func:`stuck_headers_never_end` makes reading the header of a file whose name contains
  "stuck" loop forever (a parser going round in circles, a read that never returns).
"""

from __future__ import annotations

import os
import time
from typing import Any

from pydicom.pixels import get_decoder
from pydicom.uid import RLELossless

#: pydicom's decoding-plugin protocol: the dependencies and availability per transfer syntax.
DECODER_DEPENDENCIES = {RLELossless: ()}
PLUGIN_LABEL = "never-returns"


def is_available(uid: str) -> bool:
    return uid == RLELossless


def decode_forever(src: bytes, runner: Any) -> bytearray:
    """A decoder stuck on its input."""
    while True:
        time.sleep(60)


def rle_decoder_never_returns() -> None:
    decoder = get_decoder(RLELossless)
    for label in list(decoder.available_plugins):
        decoder.remove_plugin(label)
    decoder.add_plugin(PLUGIN_LABEL, (__name__, "decode_forever"))


def stuck_headers_never_end() -> None:
    from viewer.dicom.io import scan

    read_instance = scan.read_instance

    def read(path: str) -> Any:
        while "stuck" in os.path.basename(path):
            time.sleep(60)
        return read_instance(path)

    scan.read_instance = read  # type: ignore[assignment]


# --- tasks for a SupervisedPool (module-level, so a worker can unpickle them) -------------------
def stuck_on(item: int, items: int) -> int:
    """Beat through ``items`` items and hang on ``item``."""
    from viewer.dicom.supervised_pool import beat

    for current in range(items):
        beat(current)
        while current == item:
            time.sleep(60)
    return items


def steady(seconds: float, answer: int) -> int:
    """Work for ``seconds`` in short items (each well within any deadline), then answer."""
    from viewer.dicom.supervised_pool import beat

    end = time.monotonic() + seconds
    item = 0
    while time.monotonic() < end:
        beat(item)
        item += 1
        time.sleep(0.05)
    return answer
