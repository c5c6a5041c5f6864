"""The managed store: copies of studies kept in the user data folder.

"Import and copy" (for CDs and USB sticks that will be ejected) and PACS retrievals put
files here, as ``store/STUDY_UID/SERIES_UID/SOP_INSTANCE_UID.dcm``. The viewer deletes files
only here (removing a study); files it holds by reference are never moved or changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from viewer.core.user_dirs import data_dir

_UNSAFE = re.compile(r"[^0-9A-Za-z.\-]")


def store_root() -> Path:
    """``store/`` in the user data folder."""
    return data_dir() / "store"


def instance_path(
    study_uid: str, series_uid: str, sop_instance_uid: str, root: Path | None = None
) -> Path:
    """Where an instance's copy lives in the managed store (UIDs are made safe as names), or
    in the same layout below ``root`` (a retrieval into a folder)."""
    parts = [_safe(uid) for uid in (study_uid, series_uid)]
    return (root or store_root()).joinpath(*parts, _safe(sop_instance_uid) + ".dcm")


def copy_into_store(source: str, study_uid: str, series_uid: str, sop_instance_uid: str) -> Path:
    """Copy one file into the managed store (atomically: a partial copy is never seen under
    its final name) and return where it is. The source is only read."""
    target = instance_path(study_uid, series_uid, sop_instance_uid)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".{os.getpid()}.partial")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target


def is_managed(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies inside the managed store."""
    try:
        return Path(os.path.abspath(path)).is_relative_to(store_root().absolute())
    except ValueError:
        return False


def delete_files(paths: Iterable[str]) -> int:
    """Delete the files of ``paths`` that lie inside the managed store (any other is left
    alone) and the folders this empties; returns how many were deleted."""
    deleted = 0
    folders: set[Path] = set()
    for path in paths:
        if not is_managed(path):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            deleted += 1
        folders.add(Path(path).parent)
    root = store_root().absolute()
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        current = folder.absolute()
        while current != root and current.is_relative_to(root):
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent
    return deleted


def _safe(uid: str) -> str:
    cleaned = _UNSAFE.sub("_", uid.strip())[:64]
    return cleaned or "unknown"
