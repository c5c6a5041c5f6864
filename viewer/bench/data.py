"""The generated data set, under ``<user cache>/dicom-viewer/bench-v1`` (quick: its own).

A run deletes what it generated once it is done (:func:`bench_data`), unless asked to keep it
(``bench --keep``): the next run then reuses it. Either way the run says where the data is
and how big (issue 13, item 13: a run used to leave 5.7 GB behind). The full set is about
1.1 GB: the 10,000 indexing files are 128 x 128 (indexing reads headers only, and 512 x 512
made them 5.2 GB).

Each item is written into a temporary sibling folder, renamed into place, and then marked
complete by ``<name>.complete`` beside it (outside the folder, so indexers never see it). The
marker records the data version and sizes; an item whose marker is missing or different, or
whose file count differs, is written again. Generation is
deterministic: seeded pixels, name-based UIDs.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.bench import phantom
from viewer.bench.dicom_files import (
    SeriesIdentity,
    cine_dataset,
    ct_dataset,
    radiograph_dataset,
)
from viewer.bench.encodings import ENCODINGS, write_encoded
from viewer.bench.sizes import DATA_VERSION, BenchSizes
from viewer.demo import default_demo_dir

Log = Callable[[str], None]
Writer = Callable[[Path], None]
#: A temporary folder not written to for this long was left by an interrupted run.
ABANDONED_AFTER_S = 600.0
#: Slice spacing of the MPR volume (mm); in-plane spacing is that of the CT series.
VOLUME_SLICE_SPACING_MM = 0.625


@dataclass(frozen=True)
class BenchData:
    """Where each generated item lives."""

    root: Path
    ct: dict[str, Path]  # encoding -> folder holding one CT series
    index_folder: Path
    index_files: int
    radiograph: Path  # folder with one file
    cine: Path  # folder with one multi-frame file
    volume: Path  # .npy, (slices, rows, columns) int16


def cache_root(sizes: BenchSizes) -> Path:
    """``<user cache>/dicom-viewer/<bench folder>`` (honours XDG_CACHE_HOME like the demo)."""
    return default_demo_dir().parent / sizes.folder_name


class CtSlices:
    """CT stored values per slice index, computed once per generation run."""

    def __init__(self, slices: int, matrix: int) -> None:
        self.slices, self.matrix = slices, matrix
        self._cache: dict[int, NDArray[np.int16]] = {}

    def __call__(self, k: int) -> NDArray[np.int16]:
        if k not in self._cache:
            self._cache[k] = phantom.ct_slice(k, self.slices, self.matrix)
        return self._cache[k]


@contextlib.contextmanager
def bench_data(sizes: BenchSizes, log: Log, keep: bool = False) -> Iterator[BenchData]:
    """The data set for one run: what is missing is generated, and deleted again afterwards
    (also after an error or Ctrl+C) unless ``keep``; items an earlier ``keep`` run left are
    reused and left alone. Logs where the data is and how big."""
    made: list[str] = []
    root = cache_root(sizes)
    try:
        data = ensure_data(sizes, log, made)
        log(f"data: {root}, {_size_text(folder_bytes(root))}")
        yield data
    finally:
        if keep or not made:
            why = "--keep" if keep else "an earlier run's --keep"
            log(f"data kept ({why}): {root}, {_size_text(folder_bytes(root))}")
        else:
            removed = remove_items(root, made)
            left = folder_bytes(root)
            log(
                f"data removed: {_size_text(removed)} generated in {root} by this run "
                f"(bench --keep keeps it for the next run)"
                + (f"; {_size_text(left)} kept there by an earlier --keep run" if left else "")
            )


def remove_items(root: Path, names: list[str]) -> int:
    """Delete the items ``names`` of ``root`` (folders and their markers), then ``root`` if
    nothing else is in it; returns the bytes freed."""
    freed = 0
    for name in names:
        for path in (root / name, root / f"{name}.complete"):
            freed += folder_bytes(path)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        root.rmdir()  # only when empty
    return freed


def folder_bytes(path: Path) -> int:
    """The bytes of the files under ``path`` (or of ``path`` itself); 0 when it is missing."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _size_text(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.2f} GiB"
    return f"{size / 1024**2:.1f} MiB"


def ensure_data(sizes: BenchSizes, log: Log, made: list[str] | None = None) -> BenchData:
    """Generate whatever is missing or incomplete and return where everything is. The names
    of the items generated now are appended to ``made``."""
    root = cache_root(sizes)
    root.mkdir(parents=True, exist_ok=True)
    stamp = {"version": DATA_VERSION, **sizes.data_fields()}
    made = [] if made is None else made
    ct_slices = CtSlices(sizes.ct_slices, sizes.ct_matrix)
    ct = {
        encoding: _ensure(
            root,
            made,
            stamp,
            f"ct-{encoding}",
            sizes.ct_slices,
            log,
            functools.partial(_write_ct, encoding=encoding, slices=ct_slices),
        )
        for encoding in ENCODINGS
    }
    index_slices = (
        ct_slices
        if sizes.index_matrix == sizes.ct_matrix
        else CtSlices(sizes.ct_slices, sizes.index_matrix)
    )
    index_folder = _ensure(
        root,
        made,
        stamp,
        "index",
        sizes.index_files,
        log,
        lambda out: _write_index(out, sizes.index_files, index_slices),
    )
    radiograph = _ensure(
        root,
        made,
        stamp,
        "radiograph",
        1,
        log,
        lambda out: _write_radiograph(out, sizes.radiograph_matrix),
    )
    cine = _ensure(root, made, stamp, "cine", 1, log, lambda out: _write_cine(out, sizes))
    volume = _ensure(root, made, stamp, "volume", 1, log, lambda out: _write_volume(out, sizes))
    return BenchData(
        root, ct, index_folder, sizes.index_files, radiograph, cine, volume / "volume.npy"
    )


def _ensure(
    root: Path,
    made: list[str],
    stamp: dict[str, Any],
    name: str,
    files: int,
    log: Log,
    write: Writer,
) -> Path:
    """``root/name``, written by ``write`` unless complete for ``stamp`` with ``files`` files
    (then ``name`` is appended to ``made``)."""
    target, marker = root / name, root / f"{name}.complete"
    stamp = {**stamp, "files": files}
    if _is_complete(target, marker, stamp):
        return target
    made.append(name)  # from here on, a part of it may be on disk
    log(f"generating {name} ({files} file{'s' if files != 1 else ''}) in {root}")
    marker.unlink(missing_ok=True)
    _remove_abandoned(root, name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        write(tmp)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    marker.write_text(json.dumps(stamp))
    return target


def _remove_abandoned(root: Path, name: str) -> None:
    """Temporary folders of an interrupted run (untouched for ABANDONED_AFTER_S)."""
    for folder in root.glob(f".{name}-*"):
        with contextlib.suppress(OSError):
            if time.time() - folder.stat().st_mtime > ABANDONED_AFTER_S:
                shutil.rmtree(folder, ignore_errors=True)


def _is_complete(target: Path, marker: Path, stamp: dict[str, Any]) -> bool:
    try:
        if json.loads(marker.read_text()) != stamp:
            return False
    except (OSError, ValueError):
        return False
    return sum(len(files) for _, _, files in os.walk(target)) == stamp["files"]


def _write_ct(out: Path, encoding: str, slices: CtSlices) -> None:
    description = f"CT {slices.slices} {encoding}"
    series = SeriesIdentity(f"ct-{encoding}", "BENCH^CT", "BENCH-CT", "ct", 2, description)
    for k in range(slices.slices):
        write_encoded(ct_dataset(series, k, slices(k)), encoding, out / f"CT{k:04d}.dcm")


def _write_index(out: Path, files: int, slices: CtSlices) -> None:
    """``files`` single-frame CT files in series of ``slices.slices``, 3 series per patient."""
    for number in range(files):
        series_index, k = divmod(number, slices.slices)
        patient = series_index // 3
        series = SeriesIdentity(
            f"index-{series_index}",
            f"BENCH^Patient{patient:02d}",
            f"BENCH-{patient:04d}",
            f"index-study-{patient}",
            series_index % 3 + 1,
            f"Index series {series_index}",
        )
        folder = out / f"P{patient:02d}" / f"S{series_index:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        write_encoded(ct_dataset(series, k, slices(k)), "uncompressed", folder / f"I{k:04d}.dcm")


def _write_radiograph(out: Path, matrix: int) -> None:
    radiograph_dataset(phantom.radiograph(matrix)).save_as(out / "DX.dcm", enforce_file_format=True)


def _write_cine(out: Path, sizes: BenchSizes) -> None:
    frames = np.stack(
        [
            phantom.cine_frame(i, sizes.cine_frames, sizes.cine_rows, sizes.cine_columns)
            for i in range(sizes.cine_frames)
        ]
    )
    cine_dataset(frames).save_as(out / "US.dcm", enforce_file_format=True)


def _write_volume(out: Path, sizes: BenchSizes) -> None:
    np.save(out / "volume.npy", phantom.ct_volume(sizes.volume_slices, sizes.volume_matrix))


@contextlib.contextmanager
def private_user_data(**extra: str) -> Iterator[dict[str, str]]:
    """An environment for a child viewer whose user data folder (its study database) is a
    fresh temporary one, removed afterwards: the bench never records into the user's
    database, and every run starts from an empty one. ``extra``: more variables."""
    with tempfile.TemporaryDirectory(prefix="dicom-viewer-bench-data-") as folder:
        yield {**os.environ, "XDG_DATA_HOME": folder, **extra}
