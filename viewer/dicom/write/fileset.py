"""The one File-set writer: DICOM files plus a DICOMDIR, as for CD/DVD/USB media.

A File-set (PS3.10 8, the Basic Directory IOD of PS3.3 F) is written through
:class:`pydicom.fileset.FileSet`, which names files with at most 8 upper-case characters per
component in nested folders, ``PTxxxxxx/STxxxxxx/SExxxxxx/IMxxxxxx`` (PS3.12 for the media
profiles: ISO 9660 level 1 names, no extension), and builds the PATIENT > STUDY > SERIES >
IMAGE directory records. The demo study, the tests and ``dicom-viewer export --dicomdir`` all
write through :func:`write_file_set`. No Qt.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.fileset import FileSet
from pydicom.uid import UID

#: PS3.3 F.5.1: File-set ID is CS (16 characters at most).
MAX_FILE_SET_ID = 16


def write_file_set(
    instances: Iterable[Dataset | Path | str],
    out_dir: Path | str,
    *,
    file_set_id: str = "",
    file_set_uid: str | None = None,
    on_added: Callable[[int], None] | None = None,
) -> Path:
    """Write ``instances`` (datasets or Part 10 files) with a DICOMDIR into ``out_dir``.

    ``out_dir`` must be new or empty: the DICOMDIR references every file and nothing else.
    ``on_added(n)`` is called after each instance is staged (progress; it may raise to
    cancel). Returns the DICOMDIR's path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"File-set folder is not empty: {out}")
    fs = FileSet()
    try:
        if file_set_id:
            fs.ID = file_set_id[:MAX_FILE_SET_ID]
        if file_set_uid:
            fs.UID = UID(file_set_uid)
        for count, instance in enumerate(instances, start=1):
            fs.add(os.fspath(instance) if isinstance(instance, Path) else instance)
            if on_added is not None:
                on_added(count)
        fs.write(out)
    finally:
        discard_file_set_stage(fs)
    return out / "DICOMDIR"


def discard_file_set_stage(fs: FileSet) -> None:
    """Remove the temporary staging folder a :class:`FileSet` creates in ``__init__``.

    pydicom never cleans it up explicitly, so garbage collection emits a ResourceWarning
    ("Implicitly cleaning up <TemporaryDirectory ...>"), which fails a warnings-as-errors run.
    """
    with contextlib.suppress(AttributeError, KeyError, OSError):
        fs._stage["t"].cleanup()
