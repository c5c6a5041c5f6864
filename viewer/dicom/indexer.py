"""Index paths into a Catalog: the one indexer behind the GUI, ``inspect`` and ``volume``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from viewer.dicom.catalog import Catalog
from viewer.dicom.records import ScannedFile, Skipped
from viewer.dicom.scan import Cancel, never_cancelled, scan

Progress = Callable[[int], None]


def index_paths(
    paths: Iterable[str | os.PathLike[str]],
    catalog: Catalog | None = None,
    cancel: Cancel = never_cancelled,
    on_item: Callable[[ScannedFile | Skipped], None] | None = None,
) -> Catalog:
    """Scan ``paths`` into ``catalog`` (a new one by default) and return it."""
    catalog = Catalog() if catalog is None else catalog
    for item in scan(paths, cancel):
        catalog.add(item)
        if on_item is not None:
            on_item(item)
    return catalog
