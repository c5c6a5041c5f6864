"""A made-up frame source for tests: the ``mem:NAME`` scheme serves pydicom's bundled file NAME
from memory. It is what adding a scheme takes: this one module (a ``read(uri)``) plus one
registration (tests/dicom/test_frame_sources.py makes it)."""

from __future__ import annotations

from pydicom.data import get_testdata_file

SCHEME = "mem"
READER = "tests.sources.memory_source:read"


def read(uri: str) -> bytes:
    """The bytes of the bundled file ``uri`` names (``mem:CT_small.dcm``)."""
    name = uri.partition(":")[2]
    path = get_testdata_file(name)
    if path is None:
        raise FileNotFoundError(f"no bundled file {name!r}")
    with open(str(path), "rb") as source:
        return source.read()
