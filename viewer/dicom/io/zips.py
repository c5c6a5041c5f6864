"""Zips opened like folders: unpacked privately, and their members named as ``ZIP!/MEMBER``.

A zip is unpacked into a new folder inside this process's scratch folder in the user cache
(:mod:`viewer.core.scratch`; removed at exit), never next to the zip. What the indexer records is
the unpacked copy, which is gone once the process ends, so reports name a member the way a
person finds it again: the zip's path, ``!/``, then the member's name inside the zip
(``/data/study.zip!/DICOM/IM1``; a zip inside a zip gives ``a.zip!/b.zip!/IM1``), see
:func:`shown_path`.

:func:`read_member` is the ``zip:`` frame-source reader (:mod:`viewer.dicom.io.frame_sources`):
``zip:`` then that same name reads one member in place, without unpacking the zip.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import zipfile
from pathlib import Path, PurePosixPath

from viewer.core.scratch import new_private_folder

#: Refuse to unpack zips larger than this in total (bytes, uncompressed).
MAX_ZIP_UNCOMPRESSED = 64 * 1024**3
#: Between a zip's path and a member's name in :func:`shown_path`.
MEMBER_SEPARATOR = "!/"
#: Refuse to read one member larger than this into memory (bytes, uncompressed).
MAX_MEMBER_BYTES = 4 * 1024**3
#: The frame-source scheme of zip members (``zip:ARCHIVE!/MEMBER``).
SCHEME = "zip"

_lock = threading.Lock()
#: Folder a zip was unpacked into -> the zip's path (as it was walked).
_unpacked: dict[str, str] = {}


def extract_zip_privately(path: str) -> str:
    """Unpack a zip into a new private folder in the user cache (removed at exit); return it.

    Members with absolute paths or ``..`` are refused (zip slip); a zip whose declared total
    exceeds MAX_ZIP_UNCOMPRESSED is refused before anything is written.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if sum(member.file_size for member in members) > MAX_ZIP_UNCOMPRESSED:
            raise ValueError("declared uncompressed size is too large")
        folder = new_private_folder("zip-")
        with _lock:
            _unpacked[folder] = path
        root = Path(folder).resolve()
        for member in members:
            target = (root / member.filename).resolve()
            if member.is_dir() or not target.is_relative_to(root):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, 1024 * 1024)
    return folder


def shown_path(path: str) -> str:
    """``path`` as a person can find it again: a file unpacked from a zip as
    ``ZIP!/MEMBER`` (nested zips in turn); any other path as it is."""
    with _lock:
        unpacked = list(_unpacked.items())
    for folder, archive in unpacked:
        if path == folder:
            return shown_path(archive)
        if path.startswith(folder + os.sep):
            member = os.path.relpath(path, folder).replace(os.sep, "/")
            return f"{shown_path(archive)}{MEMBER_SEPARATOR}{member}"
    return path


def member_uri(archive: str, *members: str) -> str:
    """The ``zip:`` URI of ``members`` (outermost first; more than one for zips in zips)."""
    return f"{SCHEME}:" + MEMBER_SEPARATOR.join([archive, *members])


def read_member(uri: str) -> bytes:
    """The bytes of the member a ``zip:ARCHIVE!/MEMBER`` URI names (nested zips in turn).

    Raises ValueError for a URI without a member, a member name with ``..`` or a member larger
    than MAX_MEMBER_BYTES or a missing member; OSError and
    zipfile.BadZipFile for an unreadable archive.
    """
    scheme, _, rest = uri.partition(":")
    parts = rest.split(MEMBER_SEPARATOR)
    if scheme.lower() != SCHEME or len(parts) < 2 or not all(parts[1:]):
        raise ValueError(f"not a zip member URI: {uri!r}")
    data: bytes | None = None
    source: str | io.BytesIO = parts[0]
    for name in parts[1:]:
        if ".." in PurePosixPath(name).parts:
            raise ValueError("a zip member name with '..' is refused")
        with zipfile.ZipFile(source) as archive:
            try:
                info = archive.getinfo(name)
            except KeyError:
                raise ValueError(f"the zip has no member {name}") from None
            if info.file_size > MAX_MEMBER_BYTES:
                raise ValueError("the zip member is too large to read into memory")
            with archive.open(info) as member:
                data = member.read(MAX_MEMBER_BYTES + 1)
        source = io.BytesIO(data)
    assert data is not None
    return data
