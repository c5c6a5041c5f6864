"""Find DICOM files under paths (folders, files, zips, DICOMDIR) and read their headers.

Headers only: pixel data is never read here (``stop_before_pixels``). Every file passes a fault
boundary: anything that goes wrong becomes a :class:`~viewer.dicom.records.Skipped` with a
reason, never an exception out of the scan. Nothing is ever written next to what is read (zips
are extracted into a private temporary folder).
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from viewer.dicom.dicomdir import is_dicomdir_file, is_dicomdir_path, referenced_files
from viewer.dicom.header_fields import scanned_file_from_dataset
from viewer.dicom.records import ScannedFile, Skipped

#: The 128-byte preamble then "DICM" (PS3.10 7.1).
PREAMBLE_LENGTH = 128
MAGIC = b"DICM"
#: First bytes of a file without preamble that still plausibly starts with a group 0002/0008
#: element in little endian (PS3.5 7.1); such files are read with ``force``.
HEADERLESS_STARTS = (b"\x02\x00", b"\x08\x00")
#: Refuse to unpack zips larger than this in total (bytes, uncompressed).
MAX_ZIP_UNCOMPRESSED = 64 * 1024**3

Cancel = Callable[[], bool]


def never_cancelled() -> bool:
    return False


def scan(
    paths: Iterable[str | os.PathLike[str]], cancel: Cancel = never_cancelled
) -> Iterator[ScannedFile | Skipped]:
    """Index every file below ``paths``, yielding a record or a skip reason per file."""
    for item in iter_files(paths, cancel):
        if cancel():
            return
        yield item if isinstance(item, Skipped) else read_instance(item)


def iter_files(
    paths: Iterable[str | os.PathLike[str]], cancel: Cancel = never_cancelled
) -> Iterator[str | Skipped]:
    """Regular files below ``paths``, each once; what cannot be read is yielded as Skipped.

    Folders are walked recursively, following symbolic links but never into a folder already
    visited (so link loops end); zips are extracted privately and walked; a DICOMDIR yields the
    files it references.
    """
    seen_files: set[str] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        path = os.path.abspath(os.fspath(raw))
        for item in _expand(path, seen_dirs, cancel):
            if isinstance(item, Skipped):
                yield item
                continue
            real = os.path.realpath(item)
            if real not in seen_files:
                seen_files.add(real)
                yield item


def _expand(path: str, seen_dirs: set[tuple[int, int]], cancel: Cancel) -> Iterator[str | Skipped]:
    try:
        info = os.stat(path)
    except OSError as error:
        yield Skipped(path, f"cannot open: {error.strerror or error}")
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk(path, seen_dirs, cancel)
    elif not stat.S_ISREG(info.st_mode):
        yield Skipped(path, "not a regular file (device, pipe or socket)")
    elif is_dicomdir_path(path) or is_dicomdir_file(path):
        # Named or not (DICOMDIR-implicit, a renamed copy...), a DICOMDIR opened on purpose
        # yields the files it references.
        yield from _from_dicomdir(path, seen_dirs, cancel)
    elif zipfile.is_zipfile(path):
        yield from _from_zip(path, seen_dirs, cancel)
    else:
        yield path


def _walk(folder: str, seen_dirs: set[tuple[int, int]], cancel: Cancel) -> Iterator[str | Skipped]:
    stack = [folder]
    while stack and not cancel():
        current = stack.pop()
        try:
            info = os.stat(current)
        except OSError as error:
            yield Skipped(current, f"cannot open folder: {error.strerror or error}")
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            continue
        seen_dirs.add(key)
        try:
            with os.scandir(current) as entries:
                children = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            yield Skipped(current, f"cannot list folder: {error.strerror or error}")
            continue
        subfolders: list[str] = []
        for entry in children:
            try:
                if entry.is_dir():
                    subfolders.append(entry.path)
                elif entry.is_file():
                    yield from _file_entry(entry.path, seen_dirs, cancel)
                elif entry.is_symlink() and not os.path.exists(entry.path):
                    yield Skipped(entry.path, "broken symbolic link")
                else:
                    yield Skipped(entry.path, "not a regular file (device, pipe or socket)")
            except OSError as error:
                yield Skipped(entry.path, f"cannot open: {error.strerror or error}")
        stack.extend(reversed(subfolders))


def _file_entry(
    path: str, seen_dirs: set[tuple[int, int]], cancel: Cancel
) -> Iterator[str | Skipped]:
    if is_dicomdir_path(path):
        # The folder walk reaches every file the DICOMDIR names; the index itself is no image.
        yield Skipped(path, "DICOMDIR (media index; its folder is scanned)")
    elif path.lower().endswith(".zip") and zipfile.is_zipfile(path):
        yield from _from_zip(path, seen_dirs, cancel)
    else:
        yield path


def _from_dicomdir(
    path: str, seen_dirs: set[tuple[int, int]], cancel: Cancel
) -> Iterator[str | Skipped]:
    files, problems = referenced_files(path)
    yield from problems
    if files is None:
        folder = os.path.dirname(path)
        yield Skipped(path, "DICOMDIR unusable; scanning its folder instead")
        yield from _walk(folder, seen_dirs, cancel)
        return
    yield from files


def _from_zip(
    path: str, seen_dirs: set[tuple[int, int]], cancel: Cancel
) -> Iterator[str | Skipped]:
    try:
        folder = extract_zip_privately(path)
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        yield Skipped(path, f"cannot unpack zip: {error}")
        return
    yield from _walk(folder, seen_dirs, cancel)


_private_folders: list[str] = []


def _remove_private_folders() -> None:
    for folder in _private_folders:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_remove_private_folders)


def extract_zip_privately(path: str) -> str:
    """Unpack a zip into a new private temporary folder (removed at exit) and return it.

    Members with absolute paths or ``..`` are refused (zip slip); a zip whose declared total
    exceeds MAX_ZIP_UNCOMPRESSED is refused before anything is written.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if sum(member.file_size for member in members) > MAX_ZIP_UNCOMPRESSED:
            raise ValueError("declared uncompressed size is too large")
        folder = tempfile.mkdtemp(prefix="dicom-viewer-zip-")
        _private_folders.append(folder)
        root = Path(folder).resolve()
        for member in members:
            target = (root / member.filename).resolve()
            if member.is_dir() or not target.is_relative_to(root):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, 1024 * 1024)
    return folder


def read_instance(path: str) -> ScannedFile | Skipped:
    """Read one file's header into records, or say why it was left out."""
    try:
        force = _needs_force(path)
    except OSError as error:
        return Skipped(path, f"cannot read: {error.strerror or error}")
    except ValueError as error:
        return Skipped(path, str(error))
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(path, stop_before_pixels=True, force=force)
            return scanned_file_from_dataset(path, dataset)
    except InvalidDicomError as error:
        return Skipped(path, f"not a DICOM file ({error})")
    except (OSError, EOFError) as error:
        return Skipped(path, f"cannot read header: {error}")
    except Exception as error:  # fault boundary: a broken header must not stop the scan
        return Skipped(path, f"unreadable header: {type(error).__name__}: {error}")


def _needs_force(path: str) -> bool:
    """False for a file with the DICM preamble; True for a plausible preamble-less file."""
    with open(path, "rb") as handle:
        head = handle.read(PREAMBLE_LENGTH + len(MAGIC))
    if len(head) == 0:
        raise ValueError("empty file")
    if head[PREAMBLE_LENGTH:] == MAGIC:
        return False
    if head[:2] in HEADERLESS_STARTS and len(head) >= 8:
        return True
    raise ValueError("not a DICOM file (no DICM marker)")
