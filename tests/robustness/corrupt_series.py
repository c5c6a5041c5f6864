"""A good series with one slice whose JPEG 2000 data is corrupt (GDCM aborts its process on
it, OpenJPEG prints to stderr): for the tests of what the user and the verbs see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless

from tests import factories
from tests.robustness import bad_files

#: OpenJPEG refuses to encode much smaller images with its default number of resolutions.
SIZE = 64


def corrupt_j2k_slice(path: str) -> None:
    """Re-encode ``path`` as JPEG 2000 and scramble its code-stream after the main header."""
    ds = dcmread(path)
    ds.compress(JPEG2000Lossless)
    ds.save_as(path)
    data = Path(path).read_bytes()
    start, end = bad_files.first_fragment_span(data)
    Path(path).write_bytes(bad_files.scrambled(data, start + 40, end, 3))


def series_with_corrupt_slice(folder: Path, slices: int, corrupt: int, **kw: Any) -> list[str]:
    """Write a ``slices``-slice CT (SIZE x SIZE) into ``folder``; slice ``corrupt`` (in stack
    order) gets corrupt JPEG 2000 data. Returns the paths in stack order."""
    truth = factories.write_series(folder, slices=slices, rows=SIZE, columns=SIZE, **kw)
    corrupt_j2k_slice(truth.paths[corrupt])
    return truth.paths
