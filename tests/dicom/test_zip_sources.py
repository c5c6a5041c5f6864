"""Zips: unpacked into this process's scratch folder in the user cache (never next to the zip,
never the system's temporary folder), removed at exit, leftovers of dead processes removed;
``inspect`` names a zip member as ``ZIP!/MEMBER``, which still finds the file after exit.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pydicom
import pytest

from tests import factories
from viewer.cli.inspect_report import catalog_report
from viewer.core import scratch
from viewer.core.user_dirs import cache_dir
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.zips import MEMBER_SEPARATOR, shown_path

TIMEOUT_S = 120


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user cache of this test (``$XDG_CACHE_HOME``)."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def cd_zip(tmp_path: Path) -> tuple[Path, factories.SeriesTruth]:
    """``out/study.zip``: a CD (DICOMDIR, 4 slices, a README) under ``CD/``."""
    truth = factories.write_series(tmp_path / "src", slices=4)
    dicomdir = factories.write_fileset(truth.paths, tmp_path / "cd")
    readme = {"CD/README.TXT": "burned by a synthetic PACS"}
    archive = factories.write_zip(tmp_path / "out" / "study.zip", dicomdir.parent, "CD", readme)
    return archive, truth


def member_of(shown: str) -> tuple[str, str]:
    archive, _, member = shown.partition(MEMBER_SEPARATOR)
    return archive, member


def run_inspect(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "viewer", "inspect", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
    )


def test_inspect_names_zip_members_so_they_can_be_found_after_exit(
    tmp_path: Path, cache: Path
) -> None:
    archive, truth = cd_zip(tmp_path)
    temp_before = set(Path(tempfile.gettempdir()).glob("dicom-viewer-zip-*"))
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}

    done = run_inspect(str(archive), env=env)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (stack,) = [s for p in report["patients"] for st in p["studies"] for se in st["series"]
                for s in se["stacks"]]  # fmt: skip
    # Every source is the zip plus the member's name in it, and reads back from the zip (the
    # process that unpacked it has gone) as the very slice inspect put there, in stack order.
    uids = []
    for path, frame in stack["sources"]:
        zip_path, member = member_of(path)
        assert (zip_path, frame) == (str(archive), 0)
        assert member.startswith("CD/")
        with zipfile.ZipFile(archive) as zf:
            uids.append(pydicom.dcmread(io.BytesIO(zf.read(member))).SOPInstanceUID)
    expected = [pydicom.dcmread(p).SOPInstanceUID for p in truth.paths]
    assert uids == expected
    # The README is the only file left out (the DICOMDIR read as the index is no problem).
    assert report["skipped"] == [
        {"path": f"{archive}!/CD/README.TXT", "reason": "not a DICOM file (no DICM marker)"}
    ]
    assert done.stderr.splitlines() == [
        f"dicom-viewer: skipped {archive}!/CD/README.TXT: not a DICOM file (no DICM marker)"
    ]
    # Nothing next to the zip, nothing in the system's temporary folder, nothing left behind.
    assert os.listdir(archive.parent) == ["study.zip"]
    assert set(Path(tempfile.gettempdir()).glob("dicom-viewer-zip-*")) == temp_before
    root = cache / "dicom-viewer" / scratch.SCRATCH_FOLDER
    assert root.is_dir() and list(root.iterdir()) == []


def test_members_are_unpacked_into_this_process_scratch_folder(tmp_path: Path, cache: Path) -> None:
    archive, _ = cd_zip(tmp_path)
    catalog = index_paths([archive])
    (stack,) = catalog.all_stacks()
    own = scratch.process_folder()
    assert own.parent == cache_dir() / scratch.SCRATCH_FOLDER == cache / "dicom-viewer" / "scratch"
    assert own.name.startswith(f"{os.getpid()}-")
    for path, _ in stack.sources:
        assert Path(path).is_relative_to(own)  # the copy the viewer decodes while it runs
        assert shown_path(path).startswith(f"{archive}!/CD/")
    report = catalog_report(catalog)
    assert [s[0] for s in report["patients"][0]["studies"][0]["series"][0]["stacks"][0][
        "sources"]] == [shown_path(p) for p, _ in stack.sources]  # fmt: skip
    assert os.listdir(archive.parent) == ["study.zip"]


def test_a_zip_inside_a_zip_is_named_through_both(tmp_path: Path, cache: Path) -> None:
    truth = factories.write_series(tmp_path / "src", slices=2)
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        for k, path in enumerate(truth.paths):
            zf.write(path, f"series/IM{k}")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "nested/inner.zip")
    (stack,) = index_paths([outer]).all_stacks()
    shown = sorted(shown_path(path) for path, _ in stack.sources)
    assert shown == [f"{outer}!/nested/inner.zip!/series/IM{k}" for k in range(2)]


def test_a_walk_never_indexes_the_scratch_folders(tmp_path: Path, cache: Path) -> None:
    """The user cache may lie inside the folder being read (opening one's home folder): what
    is unpacked there, by this process or another, is not indexed again."""
    cd_zip(tmp_path)
    leftover = cache / "dicom-viewer" / "scratch" / "4242-0badcafe"  # a live-looking stranger
    factories.write_series(leftover / "zip-x", slices=3, patient_id="OTHER")
    catalog = index_paths([tmp_path])  # holds src/, cd/, out/study.zip and the cache
    ids = {patient.info.patient_id for patient in catalog.patients.values()}
    assert "OTHER" not in ids
    assert catalog.instance_count == 4  # src, cd and the zip hold the same 4 instances
    sources = [path for stack in catalog.all_stacks() for path, _ in stack.sources]
    assert not any(Path(path).is_relative_to(leftover) for path in sources)


HOLDER = """
import sys
from viewer.core import scratch
print(scratch.process_folder(), flush=True)
sys.stdin.readline()
"""


def test_folders_of_dead_processes_are_removed_and_live_ones_kept(cache: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env=env,
    ) as holder:  # fmt: skip
        try:
            assert holder.stdout is not None
            live = Path(holder.stdout.readline().strip())
            assert live.is_dir() and (live / scratch.LOCK_NAME).is_file()
            # A folder left by a process that was killed: nobody holds its lock.
            dead = live.parent / "999999-deadbeef"
            dead.mkdir()
            (dead / scratch.LOCK_NAME).touch()
            (dead / "zip-1").mkdir()
            (dead / "zip-1" / "IM1").write_bytes(b"patient data")
            unknown = live.parent / "not-ours"
            unknown.mkdir()
            old = time.time() - 3600
            for path in (live, live / scratch.LOCK_NAME, dead, dead / scratch.LOCK_NAME, unknown):
                os.utime(path, (old, old))

            removed = scratch.remove_stale_folders(live.parent)

            assert removed == [dead]
            assert not dead.exists()
            assert live.is_dir() and unknown.is_dir()
        finally:
            holder.kill()
            holder.wait()
    # Killed: its folder was left behind, and is stale now.
    assert scratch.remove_stale_folders(live.parent) == [live]


def test_a_folder_just_made_is_not_taken_for_stale(cache: Path) -> None:
    root = cache / "dicom-viewer" / "scratch"
    young = root / "999998-0123abcd"
    young.mkdir(parents=True)  # its owner has not locked it yet
    assert scratch.remove_stale_folders(root) == []
    assert young.is_dir()


def test_the_app_start_cleans_up_without_waiting(cache: Path) -> None:
    dead = cache / "dicom-viewer" / "scratch" / "999997-feedf00d"
    (dead / "zip-1").mkdir(parents=True)
    (dead / scratch.LOCK_NAME).touch()
    old = time.time() - 3600
    for path in (dead, dead / scratch.LOCK_NAME):
        os.utime(path, (old, old))
    scratch.remove_stale_folders_in_background().join(timeout=TIMEOUT_S)
    assert not dead.exists()
