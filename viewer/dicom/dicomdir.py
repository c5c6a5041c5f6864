"""Read a DICOMDIR (PS3.3 F.3 Basic Directory IOD) into the files it references.

CDs need forgiving matching (PS3.10 8.5, PS3.12 Annex F: ISO 9660 names): Referenced File ID
components are matched case-insensitively, with or without a trailing ``;1`` version, and a
value written with backslashes inside one component is split too. A reference that is missing
or would leave the DICOMDIR's folder is reported and ignored.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

from viewer.dicom.records import Skipped

DICOMDIR_NAME = "DICOMDIR"
#: Media Storage Directory Storage SOP Class (PS3.4 Annex F).
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
#: A directory with more records than this is refused (a bound, not a limit of real media).
MAX_RECORDS = 2_000_000


def is_dicomdir_path(path: str) -> bool:
    """The file is named DICOMDIR (any case, optional ``;1``)."""
    name = os.path.basename(path).upper()
    return name.split(";")[0].rstrip(".") == DICOMDIR_NAME


def is_dicomdir_file(path: str) -> bool:
    """The file's meta says Media Storage Directory Storage, whatever it is named.

    Only the File Meta Information (group 0002) is read, so this is cheap; anything unreadable
    is simply not a DICOMDIR.
    """
    from pydicom.filereader import read_file_meta_info

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = read_file_meta_info(path)
        return str(meta.get("MediaStorageSOPClassUID", "")) == DICOMDIR_SOP_CLASS
    except Exception:  # not DICOM, truncated, unreadable: not a DICOMDIR
        return False


def referenced_files(path: str) -> tuple[list[str] | None, list[Skipped]]:
    """Absolute paths of the files a DICOMDIR references, in record order, and problems.

    Returns ``None`` for the files when the DICOMDIR cannot be used at all, so the caller can
    scan its folder instead.
    """
    import pydicom

    root = os.path.dirname(os.path.abspath(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(path, force=True)
            records = list(dataset.get("DirectoryRecordSequence", []))
    except Exception as error:  # fault boundary: a broken DICOMDIR falls back to a folder scan
        return None, [Skipped(path, f"DICOMDIR unreadable: {type(error).__name__}: {error}")]
    if not records or len(records) > MAX_RECORDS:
        return None, [Skipped(path, "DICOMDIR has no usable directory records")]
    files: list[str] = []
    problems: list[Skipped] = []
    resolver = _CaseInsensitiveResolver(root)
    for record in records:
        file_id = record.get("ReferencedFileID")
        if file_id is None:
            continue
        components = _components(file_id)
        resolved = resolver.resolve(components) if components else None
        shown = os.path.join(root, *components) if components else root
        if resolved is None:
            problems.append(Skipped(shown, "referenced by DICOMDIR but missing"))
        elif not _inside(resolved, root):
            problems.append(Skipped(shown, "DICOMDIR reference points outside its folder"))
        else:
            files.append(resolved)
    if not files:
        return None, problems
    return files, problems


def _components(file_id: object) -> list[str]:
    values: Sequence[object] = (
        [file_id] if isinstance(file_id, str | bytes) else list(file_id)  # type: ignore[call-overload]
    )
    parts: list[str] = []
    for value in values:
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
        parts.extend(piece for piece in text.replace("\\", "/").split("/") if piece)
    return parts


def _inside(path: str, root: str) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


class _CaseInsensitiveResolver:
    """Find ``a/b/c`` under a root matching each component ignoring case and ``;1``."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._listings: dict[str, dict[str, str]] = {}

    def resolve(self, components: list[str]) -> str | None:
        if any(part in ("..", ".") for part in components):
            return os.path.join(self._root, *components)  # reported as outside the folder
        current = self._root
        for part in components:
            match = self._listing(current).get(_fold(part))
            if match is None:
                return None
            current = os.path.join(current, match)
        return current if os.path.isfile(current) else None

    def _listing(self, folder: str) -> dict[str, str]:
        if folder not in self._listings:
            try:
                names = os.listdir(folder)
            except OSError:
                names = []
            self._listings[folder] = {_fold(name): name for name in names}
        return self._listings[folder]


def _fold(name: str) -> str:
    return name.split(";")[0].rstrip(".").upper()
