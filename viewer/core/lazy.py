"""The one way to import something only when it is first needed.

Heavy modules (pydicom and its decoders, numpy-heavy maths, Qt widgets that a headless verb never
shows) are imported on first use so that start-up stays quick, and plugins (frame-source readers,
see :mod:`viewer.dicom.io.frame_sources`) are named by a ``"package.module:attribute"`` string so
that a table of them can be sent to worker processes. Both go through :func:`load`, so a reader
of the code finds every deferred import by searching for it.
"""

from __future__ import annotations

import importlib
from typing import Any


def load(target: str) -> Any:
    """The module ``"package.module"`` or the attribute ``"package.module:name"`` (dotted
    names after the colon reach nested attributes), imported now if it was not yet."""
    module_name, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value
