"""Export: where it may write, and DICOM export (as is, re-encoded or de-identified).

Rules every export follows (and the GUI's File > Export... too):

* It never writes inside a folder it reads: :func:`check_destination` refuses an ``OUT`` that
  is, or lies inside, a source folder (or a source folder inside ``OUT``), and one that exists
  and is not an empty folder.
* Everything is written below a hidden temporary sibling of ``OUT`` (``.NAME.partial-*``) that
  is renamed to ``OUT`` at the very end, so a cancelled or failed export leaves nothing behind.

DICOM export writes ``OUT/SE000001/IM000001.dcm`` ... (series in the order given), or with
``dicomdir`` a File-set with a DICOMDIR through :func:`viewer.dicom.write.fileset.write_file_set`
(``PTxxxxxx/STxxxxxx/SExxxxxx/IMxxxxxx``). No Qt.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from viewer.dicom import reasons
from viewer.dicom.io.scan import Cancel, never_cancelled
from viewer.dicom.write.anonymize import Deidentifier, DeidError, DeidPolicy, FileFacts
from viewer.dicom.write.nifti import NiftiPart

#: Modalities whose images often carry burned-in identifiers (PS3.15 E.1.1, 1.c): US, secondary
#: capture, external-camera photography, digital radiography, and scanned documents (DOC, OT).
BURNED_IN_MODALITIES = frozenset({"US", "SC", "XC", "DX", "DOC", "OT"})

Progress = Callable[[int, int], None]
Rectangle = tuple[int, int, int, int]
"""(x, y, width, height): pixel columns and rows, 0-based, of a region to black out."""
"""``progress(done, total)``: called after each file; may raise :class:`ExportCancelled`."""


class ExportError(Exception):
    """The export cannot run or failed as a whole; the message is one line for a person."""


class ExportCancelled(ExportError):
    """Raised by a progress callback to stop; nothing is left in the destination."""


@dataclass(frozen=True, slots=True)
class SeriesFiles:
    """The files of one series to export, in the order they are written."""

    uid: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DicomExportOptions:
    """``anonymize``: a policy (PS3.15 E.1) or None (copy as is); ``reencode``: write Explicit
    VR Little Endian with decompressed pixel data; ``dicomdir``: a File-set with a DICOMDIR;
    ``blackout``: rectangles (x, y, width, height in pixel columns and rows, 0-based) set to 0
    in every frame, for identifiers burned into the pixels (PS3.15 E.1.1, 1.c); the file is
    then written re-encoded (the pixel data changes)."""

    anonymize: DeidPolicy | None = None
    reencode: bool = False
    dicomdir: bool = False
    blackout: tuple[Rectangle, ...] = ()


@dataclass(slots=True)
class ExportResult:
    out: Path
    written: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: What was written, for stdout ("" : "N file(s) written to OUT").
    summary: str = ""


# ============================================================================================
# Where an export may write
# ============================================================================================
def source_folders(paths: Sequence[str | Path]) -> list[Path]:
    """The folders an export reads: each folder given, else the folder of each file given."""
    folders = []
    for path in paths:
        resolved = Path(path).resolve()
        folders.append(resolved if resolved.is_dir() else resolved.parent)
    return folders


def check_destination(out: str | Path, sources: Sequence[str | Path]) -> Path:
    """``out`` resolved, or :class:`ExportError` saying why it may not be written."""
    target = Path(out).resolve()
    for folder in source_folders(sources):
        if target == folder or folder in target.parents:
            raise ExportError(f"will not write into a folder it reads: {out} is inside {folder}")
        if target in folder.parents:
            raise ExportError(f"will not write into a folder it reads: {folder} is inside {out}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(f"{out} exists and is not an empty folder")
    if not target.parent.is_dir():
        raise ExportError(f"no such folder: {target.parent}")
    return target


@contextlib.contextmanager
def staged_output(target: Path) -> Iterator[Path]:
    """A temporary sibling folder of ``target``, renamed to ``target`` on success and removed
    on any error or cancellation (PS: the rename is the commit)."""
    stage = target.parent / f".{target.name}.partial-{secrets.token_hex(6)}"
    stage.mkdir()  # not mkdtemp (mode 0700): OUT gets the mode the umask gives new folders
    try:
        yield stage
        if target.is_dir():
            target.rmdir()  # empty, checked before: a directory rename cannot replace a folder
        os.replace(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


# ============================================================================================
# DICOM
# ============================================================================================
def export_dicom(
    series: Sequence[SeriesFiles],
    out: str | Path,
    sources: Sequence[str | Path],
    options: DicomExportOptions,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the files of ``series`` into the new folder ``out`` (see the module doc)."""
    target = check_destination(out, sources)
    total = sum(len(s.paths) for s in series)
    result = ExportResult(target)
    deid = Deidentifier(options.anonymize) if options.anonymize is not None else None
    facts: list[FileFacts] = []
    with staged_output(target) as stage:
        files_root = stage / "files" if options.dicomdir else stage
        written: list[Path] = []
        done = 0
        for number, entry in enumerate(series, start=1):
            folder = files_root / f"SE{number:06d}"
            folder.mkdir(parents=True)
            for index, path in enumerate(entry.paths, start=1):
                destination = folder / f"IM{index:06d}.dcm"
                try:
                    fact = _export_file(path, destination, deid, options)
                except (OSError, DeidError, ValueError) as error:
                    result.failures.append((path, _reason(error)))
                else:
                    written.append(destination)
                    if fact is not None:
                        facts.append(fact)
                done += 1
                if progress is not None:
                    progress(done, total)
        if not written:
            raise ExportError("no file could be exported")
        if options.dicomdir:
            media = stage / "media"
            _write_dicomdir(written, media)
            shutil.rmtree(files_root)
            for child in media.iterdir():
                os.replace(child, stage / child.name)
            media.rmdir()
        result.written = len(written)
    result.warnings.extend(burned_in_warnings(facts))
    return result


# ============================================================================================
# NIfTI
# ============================================================================================
def export_nifti(
    parts: Sequence[NiftiPart],
    out: str | Path,
    sources: Sequence[str | Path],
    anonymize: bool = False,
    progress: Progress | None = None,
    cancel: Cancel = never_cancelled,
    gzip: bool = False,
) -> ExportResult:
    """Write each part as ``OUT/STEM.nii`` (``gzip``: ``.nii.gz``) with ``OUT/STEM.json`` (see
    :mod:`viewer.dicom.write.nifti`); a part that cannot be written is a failure, named by
    its stem. ``progress(done, total)`` counts frames."""
    from viewer.dicom.write.nifti import NiftiError, write_part

    target = check_destination(out, sources)
    result = ExportResult(target)
    total = sum(stack.frames for part in parts for stack in part.stacks)
    done = 0
    with staged_output(target) as stage:
        for part in parts:
            offset = done

            def step(count: int, _of: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + count, total)

            try:
                warnings = write_part(part, stage, anonymize, step, cancel, gzip)
            except NiftiError as error:
                if cancel():
                    raise ExportCancelled("export cancelled") from None
                result.failures.append((part.stem, _reason(error)))
            else:
                result.written += 1
                result.warnings.extend(f"{part.stem}: {w}" for w in warnings)
            done += sum(stack.frames for stack in part.stacks)
            if cancel():
                raise ExportCancelled("export cancelled")
        if not result.written:
            raise ExportError("no stack could be exported as NIfTI")
    return result


def _export_file(
    path: str, destination: Path, deid: Deidentifier | None, options: DicomExportOptions
) -> FileFacts | None:
    if options.reencode or options.blackout:
        data = _reencoded(path, options.blackout)
    elif deid is None:
        shutil.copyfile(path, destination)
        return None
    else:
        with open(path, "rb") as handle:
            data = handle.read()
    fact = None
    if deid is not None:
        data, fact = deid.deidentify(data)
    with open(destination, "wb") as handle:
        handle.write(data)
    return fact


def _reencoded(path: str, blackout: Sequence[Rectangle] = ()) -> bytes:
    """The file as Explicit VR Little Endian, pixel data decompressed (PS3.5 A.2), with the
    ``blackout`` rectangles set to 0 in every frame."""
    import io

    from pydicom import dcmread
    from pydicom.uid import ExplicitVRLittleEndian

    ds = dcmread(path)
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if syntax is not None and syntax.is_compressed and "PixelData" in ds:
        ds.decompress()
    if blackout and "PixelData" in ds:
        ds.PixelData = black_out(ds.pixel_array, int(ds.get("NumberOfFrames", 1) or 1), blackout)
    buffer = io.BytesIO()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(buffer, implicit_vr=False, little_endian=True, enforce_file_format=True)
    return buffer.getvalue()


def black_out(pixels: Any, frames: int, rectangles: Sequence[Rectangle]) -> bytes:
    """``pixels`` (pydicom's pixel_array: rows x columns [x samples], frames first when more
    than one) with each rectangle set to 0, as Pixel Data bytes (native, PS3.5 8.1.1)."""
    import numpy as np

    array = np.array(pixels, copy=True)
    stacked = array if frames > 1 else array[np.newaxis]
    rows, columns = stacked.shape[1:3]
    for x, y, width, height in rectangles:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(columns, x + width), min(rows, y + height)
        if x1 > x0 and y1 > y0:
            stacked[:, y0:y1, x0:x1] = 0
    return bytes(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())


def _write_dicomdir(files: Sequence[Path], media: Path) -> None:
    from viewer.dicom.write.fileset import write_file_set

    try:
        write_file_set(files, media, file_set_id="EXPORT")
    except (ValueError, KeyError, AttributeError) as error:
        raise ExportError(f"cannot write the DICOMDIR: {_reason(error)}") from None


def burned_in_warnings(facts: Sequence[FileFacts]) -> list[str]:
    """One line per series that may show identifiers in its pixels (PS3.15 E.1.1: Burned In
    Annotation (0028,0301) YES, or absent on a modality that often burns text in)."""
    flagged: dict[str, str] = {}
    for fact in facts:
        burned = (fact.burned_in or "").upper()
        if burned == "YES" or (
            fact.burned_in is None and fact.modality.upper() in BURNED_IN_MODALITIES
        ):
            flagged.setdefault(fact.series_uid, f"{fact.modality or '?'}, {burned or 'absent'}")
    return [
        f"series {uid} may have identifiers burned into its pixels "
        f"(modality, Burned In Annotation: {why}): check the images before sharing"
        for uid, why in flagged.items()
    ]


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return reasons.explain(error, "export")
