"""Shared fixtures of the robustness tests: every class of bad file, written once per session."""

from __future__ import annotations

import os
import shutil
import stat
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pydicom
import pytest

from tests.robustness import bad_files
from viewer.dicom import limits

T = TypeVar("T")

#: A call that takes longer than this is a hang (generous: the machine may be busy).
HANG_S = 60.0
#: Peak traced allocation allowed while handling one class of small bad files.
PEAK_BYTES = 96 * 1024**2


@dataclass(frozen=True)
class BadInputs:
    """Every class of :data:`bad_files.GENERATORS`, each written into ``root / name``."""

    root: Path
    paths: dict[str, list[Path]]

    def folder(self, name: str) -> Path:
        return self.root / name


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> BadInputs:
    root = tmp_path_factory.mktemp("bad")
    return BadInputs(root, bad_files.write_all(root))


def no_hang(function: Callable[..., T], *args: object, **kw: object) -> T:
    """``function(*args, **kw)``, failing the test if it runs longer than HANG_S."""
    try:
        return limits.time_boxed(function, HANG_S, *args, **kw)
    except limits.TimedOut as error:
        pytest.fail(f"hang: {error} (args {args!r})")


@contextmanager
def peak_allocation() -> Iterator[list[int]]:
    """Trace allocations (numpy's included); the peak in bytes is in the list afterwards."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def one_line(reason: str) -> bool:
    return bool(reason.strip()) and "\n" not in reason and "Traceback" not in reason


@pytest.fixture(scope="session")
def demo_ct_folder(demo_study: Path) -> Path:
    """The demo study's CT series folder (192 slices)."""
    for folder in sorted(p for p in demo_study.rglob("*") if p.is_dir()):
        files = sorted(f for f in folder.iterdir() if f.is_file())
        if files and pydicom.dcmread(files[0], stop_before_pixels=True).Modality == "CT":
            return folder
    raise AssertionError("the demo study has no CT series")


def mixed_folder(root: Path, demo_ct: Path, bad: BadInputs) -> Path:
    """A copy of the demo CT (one slice cut inside its pixels) beside one of each bad class."""
    folder = root / "mixed"
    shutil.copytree(demo_ct, folder / "ct")
    cut_one_slice(folder / "ct")
    add_bad_files(folder / "bad", bad)
    return folder


def cut_one_slice(folder: Path) -> Path:
    """Cut the 101st file (by name) of ``folder`` inside its pixel data; return it."""
    victim = sorted(folder.iterdir())[100]
    victim.write_bytes(victim.read_bytes()[:-20000])
    return victim


def add_bad_files(folder: Path, bad: BadInputs) -> None:
    """Copy every class of bad input into ``folder/<class name>`` (links stay links)."""
    for name in bad.paths:
        shutil.copytree(bad.folder(name), folder / name, symlinks=True, copy_function=_copy_entry)


def _copy_entry(source: str, target: str) -> None:
    """shutil.copy2, but a named pipe is made anew (copying one would read from it)."""
    if stat.S_ISFIFO(os.lstat(source).st_mode):
        os.mkfifo(target)
    else:
        shutil.copy2(source, target)
