"""Find DICOM files under paths (folders, files, zips, DICOMDIR) and read their headers.

Headers only: pixel data is never read. Every file passes a fault boundary: anything that goes
wrong becomes a :class:`~viewer.dicom.catalog.records.Skipped` with a reason, never an exception out
of the scan. Nothing is ever written next to what is read: zips are unpacked into this
process's scratch folder in the user cache (:mod:`viewer.dicom.io.zips`,
:mod:`viewer.core.scratch`), which a walk never enters.

A DICOMDIR comes first (PS3.10 8.6: the media's index): opened directly or met at any folder
of a walk, its :class:`~viewer.dicom.io.dicomdir.DirectoryPreview` is yielded before any file,
then the files it references, in record order, then the rest of the folder. A DICOMDIR read
as the index is no problem and is not reported (its previews say it was looked at); an
unusable one (unreadable, no records, a record cycle, missing files) is reported as skipped
with the reason, and its folder is scanned instead.
"""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING

from viewer.core.scratch import scratch_root
from viewer.dicom import decoding_stack, limits, reasons
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io import bounded, pixel_module
from viewer.dicom.io.dicomdir import (
    DicomdirReading,
    DirectoryPreview,
    dicomdir_items,
    is_dicomdir_file,
    is_dicomdir_path,
)
from viewer.dicom.io.fast_header import read_instance_fast
from viewer.dicom.io.zips import extract_zip_privately
from viewer.dicom.supervised_pool import beat

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

#: The 128-byte preamble then "DICM" (PS3.10 7.1).
PREAMBLE_LENGTH = 128
MAGIC = b"DICM"
#: First bytes of a file without preamble that still plausibly starts with a group 0002/0008
#: element in little endian (PS3.5 7.1); such files are read with ``force``.
HEADERLESS_STARTS = (b"\x02\x00", b"\x08\x00")

Cancel = Callable[[], bool]
#: What walking paths gives: a file to read, a reason a path was left out, or a preview.
Found = str | Skipped | DirectoryPreview


def never_cancelled() -> bool:
    return False


def scan(
    paths: Iterable[str | os.PathLike[str]], cancel: Cancel = never_cancelled
) -> Iterator[ScannedFile | Skipped]:
    """Index every file below ``paths``, yielding a record or a skip reason per file."""
    for item in iter_files(paths, cancel):
        if cancel():
            return
        if isinstance(item, str):
            yield read_instance(item)
        elif isinstance(item, Skipped):
            yield item


def iter_files(
    paths: Iterable[str | os.PathLike[str]], cancel: Cancel = never_cancelled
) -> Iterator[Found]:
    """Regular files below ``paths``, each once; what cannot be read is yielded as Skipped.

    Folders are walked recursively, following symbolic links but never into a folder already
    visited (so link loops end) and never into the viewer's own scratch folders; zips are
    extracted privately and walked; a DICOMDIR yields its previews, then the files it
    references.
    """
    walk = _Walk(cancel)
    for raw in paths:
        path = os.path.abspath(os.fspath(raw))
        for item in walk.expand(path):
            if not isinstance(item, str):
                yield item
                continue
            key = walk.file_key(item)
            if key in walk.read_dicomdirs:
                continue  # a nested DICOMDIR (DIRFILE) read as the media's index already
            if key not in walk.seen_files:
                walk.seen_files.add(key)
                yield item


class _Walk:
    """The state of one walk: folders and DICOMDIRs already visited, files already given."""

    def __init__(self, cancel: Cancel) -> None:
        self.cancel = cancel
        self.seen_dirs: set[tuple[int, int]] = set()
        self.seen_files: set[str] = set()
        self.read_dicomdirs: set[str] = set()
        self._real_folders: dict[str, str] = {}
        self._scratch_root = str(scratch_root())
        self._scratch_key: tuple[int, int] | None = None

    def file_key(self, path: str) -> str:
        """The file's real path (links resolved), one ``lstat`` per file: folders' real paths
        are cached, and only a file that is itself a link is resolved in full."""
        folder, name = os.path.split(path)
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = self._real_folders[folder] = os.path.realpath(folder)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return os.path.realpath(path)
        except OSError:
            pass
        return os.path.join(real_folder, name)

    def expand(self, path: str) -> Iterator[Found]:
        try:
            info = os.stat(path)
        except OSError as error:
            yield Skipped(path, f"cannot open: {error.strerror or error}")
            return
        if stat.S_ISDIR(info.st_mode):
            yield from self.walk(path)
        elif not stat.S_ISREG(info.st_mode):
            yield Skipped(path, "not a regular file (device, pipe or socket)")
        elif is_dicomdir_path(path) or is_dicomdir_file(path):
            # Named or not (DICOMDIR-implicit, a renamed copy...), a DICOMDIR opened on purpose
            # yields the files it references.
            yield from self.dicomdir_opened(path)
        elif zipfile.is_zipfile(path):
            yield from self.from_zip(path)
        else:
            yield path

    def walk(self, folder: str) -> Iterator[Found]:
        stack = [folder]
        while stack and not self.cancel():
            current = stack.pop()
            children = yield from self._children(current)
            if children is None:
                continue
            subfolders: list[str] = []
            for entry in _dicomdirs_first(children):
                try:
                    if entry.is_dir():
                        subfolders.append(entry.path)
                    elif entry.is_file():
                        yield from self._file_entry(entry.path)
                    elif entry.is_symlink() and not os.path.exists(entry.path):
                        yield Skipped(entry.path, "broken symbolic link")
                    else:
                        yield Skipped(entry.path, "not a regular file (device, pipe or socket)")
                except OSError as error:
                    yield Skipped(entry.path, f"cannot open: {error.strerror or error}")
            stack.extend(reversed(subfolders))

    def _children(self, folder: str) -> Generator[Found, None, list[os.DirEntry[str]] | None]:
        """The folder's entries by name, or None (with a reason) when it cannot be listed."""
        try:
            info = os.stat(folder)
        except OSError as error:
            yield Skipped(folder, f"cannot open folder: {error.strerror or error}")
            return None
        key = (info.st_dev, info.st_ino)
        if key in self.seen_dirs or self._is_scratch_root(key):
            return None
        self.seen_dirs.add(key)
        try:
            with os.scandir(folder) as entries:
                return sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            yield Skipped(folder, f"cannot list folder: {error.strerror or error}")
            return None

    def _is_scratch_root(self, key: tuple[int, int]) -> bool:
        """The folder is where zips are unpacked (the user cache may lie inside a folder
        being read): its files are reached through their zips only."""
        if self._scratch_key is None:
            try:
                info = os.stat(self._scratch_root)
            except OSError:
                return False
            self._scratch_key = (info.st_dev, info.st_ino)
        return key == self._scratch_key

    def _file_entry(self, path: str) -> Iterator[Found]:
        if is_dicomdir_path(path):
            yield from self.dicomdir_in_folder(path)
        elif path.lower().endswith(".zip") and zipfile.is_zipfile(path):
            yield from self.from_zip(path)
        else:
            yield path

    def dicomdir_in_folder(self, path: str) -> Iterator[Found]:
        """A DICOMDIR met while walking: its previews and files first; the walk goes on.

        Only an unusable one is reported (as skipped, with why): the walk covers its folder.
        """
        if os.path.realpath(path) in self.read_dicomdirs:
            return  # read (and reported) already: opened on purpose, or nested
        reading = DicomdirReading(os.path.abspath(path))
        yield from self._dicomdir_items(reading)
        if reading.unusable:
            yield Skipped(path, f"{reading.unusable}; its folder is scanned")

    def dicomdir_opened(self, path: str) -> Iterator[Found]:
        """A DICOMDIR opened on purpose: previews, problems, files; its folder if unusable."""
        reading = DicomdirReading(os.path.abspath(path))
        yield from self._dicomdir_items(reading)
        folder = os.path.dirname(reading.path)
        if reading.unusable:
            yield Skipped(path, f"{reading.unusable}; scanning its folder instead")
            yield from self.walk(folder)
        elif reading.missing:
            yield Skipped(
                path,
                f"DICOMDIR references {reading.missing} missing file(s); scanning its folder too",
            )
            yield from self.walk(folder)
        elif reading.unfollowed:
            yield Skipped(
                path,
                f"DICOMDIR: {reading.unfollowed} nested DICOMDIR(s) not followed; "
                "scanning its folder too",
            )
            yield from self.walk(folder)

    def _dicomdir_items(self, reading: DicomdirReading) -> Iterator[Found]:
        for item in dicomdir_items(reading):
            self.read_dicomdirs |= reading.opened
            yield item
        self.read_dicomdirs |= reading.opened

    def from_zip(self, path: str) -> Iterator[Found]:
        try:
            folder = extract_zip_privately(path)
        except (OSError, zipfile.BadZipFile, ValueError) as error:
            yield Skipped(path, f"cannot unpack zip: {error}")
            return
        yield from self.walk(folder)


def _dicomdirs_first(entries: list[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
    """A folder's entries with any DICOMDIR first (its tree is shown before files are read)."""
    first = [entry for entry in entries if is_dicomdir_path(entry.name)]
    if not first:
        return entries
    return first + [entry for entry in entries if not is_dicomdir_path(entry.name)]


def read_chunk(paths: list[str]) -> list[ScannedFile | Skipped]:
    """:func:`read_instance` for each path (what an index worker process runs); each file
    restarts the worker's deadline, and a file it is stuck on is named by its position."""
    results: list[ScannedFile | Skipped] = []
    for position, path in enumerate(paths):
        beat(position)
        results.append(read_instance(path))
    return results


def read_instance(path: str) -> ScannedFile | Skipped:
    """Read one file's header into records, or say why it was left out.

    The lean reader (:mod:`viewer.dicom.io.fast_header`) handles the usual files; whatever it
    is unsure of is read by pydicom, which gives the same records.
    """
    fast = read_instance_fast(path)
    return limits.plausible_frames(fast if fast is not None else read_instance_pydicom(path))


def read_instance_pydicom(path: str) -> ScannedFile | Skipped:
    """Read one file's header with pydicom into records, or say why it was left out."""
    try:
        force = _needs_force(path)
    except OSError as error:
        return Skipped(path, f"cannot read: {error.strerror or error}")
    except ValueError as error:
        return Skipped(path, str(error))
    decoding_stack.load()
    from pydicom.errors import InvalidDicomError

    decoding_stack.load()
    from viewer.dicom.io.header_fields import scanned_file_from_dataset

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = _dcmread_header(path, force)
            built = scanned_file_from_dataset(path, header)
            usable = isinstance(built, ScannedFile)
            reason = pixel_module.problem(_pixel_module(path, header)) if usable else None
            return Skipped(path, reason) if reason else built
    except InvalidDicomError as error:
        return Skipped(path, f"not a DICOM file ({error})")
    except OSError as error:
        return Skipped(
            path, f"cannot read header: {error.strerror or reasons.explain(error, path)}"
        )
    except EOFError as error:
        return Skipped(path, f"cannot read header: {reasons.explain(error, path)}")
    except limits.Refused as error:  # a deflate bomb, a device...: the reason says which
        return Skipped(path, str(error))
    except Exception as error:  # fault boundary: a broken header must not stop the scan
        return Skipped(path, f"unreadable header: {reasons.explain(error, path)}")


def _pixel_module(path: str, ds: Dataset) -> pixel_module.PixelModule:
    """The pixel module of a header pydicom read, with Pixel Data located by a lean walk."""
    from viewer.dicom.io.header_fields import integer, text

    located = pixel_module.locate_pixel_data(path)
    meta = getattr(ds, "file_meta", None)
    return pixel_module.PixelModule(
        rows=integer(ds, "Rows"),
        columns=integer(ds, "Columns"),
        samples=integer(ds, "SamplesPerPixel"),
        photometric=text(ds, "PhotometricInterpretation"),
        bits_allocated=integer(ds, "BitsAllocated"),
        bits_stored=integer(ds, "BitsStored"),
        high_bit=integer(ds, "HighBit"),
        frames=max(1, integer(ds, "NumberOfFrames") or 1),
        transfer_syntax=text(meta, "TransferSyntaxUID") if meta else "",
        pixel_offset=located[0] if located else None,
        pixel_length=located[1] if located else None,
        file_size=located[2] if located else 0,
        has_pixel_data=(located[1] is not None) if located else None,
    )


def _dcmread_header(path: str, force: bool) -> Dataset:
    decoding_stack.load()
    import pydicom

    return bounded.bounded(pydicom.dcmread, path, stop_before_pixels=True, force=force)


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
