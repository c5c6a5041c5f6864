"""Indexing bad input: every file gives a record or a one-line reason, quickly and cheaply.

Each class of :mod:`tests.robustness.bad_files` goes through the indexer the GUI, ``inspect``
and ``volume`` share (viewer.dicom.io.indexer.index_paths), and the per-file readers behind it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.robustness import bad_files
from tests.robustness.conftest import (
    PEAK_BYTES,
    BadInputs,
    no_hang,
    one_line,
    peak_allocation,
)
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io.dicomdir import is_dicomdir_path, open_dicomdir
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.scan import read_instance, read_instance_pydicom

CLASSES = list(bad_files.GENERATORS)


def index_items(folder: Path) -> tuple[Catalog, list[ScannedFile | Skipped]]:
    items: list[ScannedFile | Skipped] = []
    catalog = no_hang(index_paths, [folder], on_item=items.append, workers=0)
    return catalog, items


@pytest.mark.parametrize("name", CLASSES)
def test_every_file_gives_a_record_or_a_reason(bad_inputs: BadInputs, name: str) -> None:
    with peak_allocation() as peak:
        catalog, items = index_items(bad_inputs.folder(name))
        for stack in catalog.all_stacks():  # stacks are built on demand: build them too
            assert stack.frames >= 1
    assert peak[0] < PEAK_BYTES, f"indexing {name} allocated {peak[0] / 1e6:.0f} MB"
    for item in items:
        assert isinstance(item, ScannedFile | Skipped)
        if isinstance(item, Skipped):
            assert one_line(item.reason), item
    seen = {os.path.realpath(i.path) for i in items if isinstance(i, Skipped)}
    seen |= {os.path.realpath(i.instance.path) for i in items if isinstance(i, ScannedFile)}
    for path in bad_files.regular_files(bad_inputs.paths[name]):
        if is_dicomdir_path(str(path)) and not open_dicomdir(str(path)).unusable:
            continue  # read as the media index: looked at, no problem, so not listed
        assert os.path.realpath(path) in seen, f"{path.name} was neither indexed nor skipped"


@pytest.mark.parametrize("name", CLASSES)
def test_both_header_readers_survive(bad_inputs: BadInputs, name: str) -> None:
    """The lean reader and pydicom's (its fallback) each give a record or a reason."""
    for path in bad_files.regular_files(bad_inputs.paths[name]):
        for reader in (read_instance, read_instance_pydicom):
            item = no_hang(reader, str(path))
            assert isinstance(item, ScannedFile | Skipped)
            if isinstance(item, Skipped):
                assert one_line(item.reason), item


def reasons(bad_inputs: BadInputs, name: str) -> dict[str, str]:
    _, items = index_items(bad_inputs.folder(name))
    return {Path(i.path).name: i.reason for i in items if isinstance(i, Skipped)}


def test_empty_and_foreign_files_are_skipped_with_a_reason(bad_inputs: BadInputs) -> None:
    assert reasons(bad_inputs, "empty")["empty.dcm"] == "empty file"
    not_dicom = reasons(bad_inputs, "not_dicom")
    assert set(not_dicom) == {p.name for p in bad_inputs.paths["not_dicom"]}


def test_a_deflate_bomb_is_skipped_without_inflating_it(bad_inputs: BadInputs) -> None:
    with peak_allocation() as peak:
        reason = reasons(bad_inputs, "deflate_bomb")["bomb.dcm"]
    assert "deflate bomb" in reason
    assert peak[0] < 32 * 1024**2  # the bomb inflates to 256 MiB


def test_corrupt_deflate_streams_say_so(bad_inputs: BadInputs) -> None:
    found = reasons(bad_inputs, "corrupt_deflate")
    assert "corrupt deflated data set" in found["deflate_noise.dcm"]
    assert "truncated" in found["deflate_truncated.dcm"]


def test_pipes_and_devices_are_never_opened(bad_inputs: BadInputs) -> None:
    found = reasons(bad_inputs, "device_files")
    assert set(found) == {"pipe.dcm", "zero.dcm", "null.dcm", "urandom.dcm"}
    assert all("not a regular file" in reason for reason in found.values())


def test_symlink_loops_end(bad_inputs: BadInputs) -> None:
    catalog, items = index_items(bad_inputs.folder("symlink_loops"))
    assert catalog.instance_count == 1  # good.dcm, once, however many loops lead to it
    assert "broken" in {Path(i.path).name for i in items if isinstance(i, Skipped)}


def test_a_claimed_frame_count_is_cut_or_refused(bad_inputs: BadInputs) -> None:
    """Native frames the Pixel Data cannot hold are refused (issue 13 item 3); encapsulated
    frame counts are cut to what the file can hold."""
    catalog, items = index_items(bad_inputs.folder("huge_dimensions"))
    frames = {Path(r.path).name: r.frames for s in catalog.all_series() for r in s.instances}
    skipped = {Path(i.path).name: i.reason for i in items if isinstance(i, Skipped)}
    for name in ("native_many_frames.dcm", "native_huge.dcm"):
        assert name not in frames and "pixel data truncated" in skipped[name], name
    assert all(count <= 1000 for count in frames.values())


def test_dicomdir_escapes_and_cycles_are_reported(bad_inputs: BadInputs) -> None:
    outside = reasons(bad_inputs, "dicomdir_outside")
    assert "DICOMDIR reference points outside its folder" in outside.values()
    _, items = index_items(bad_inputs.folder("dicomdir_cycle") / "cd" / "DICOMDIR")
    cycle = [i.reason for i in items if isinstance(i, Skipped)]
    assert any("cycle" in reason for reason in cycle)
    assert sum(isinstance(i, ScannedFile) for i in items) == 3  # its folder is scanned instead


def test_series_level_oddities_still_make_stacks(bad_inputs: BadInputs) -> None:
    """Duplicate positions and UIDs, mixed matrices, NaN/text numbers, degenerate orientation."""
    for name in ("duplicate_positions", "duplicate_sop_uids", "mixed_matrix"):
        catalog, _ = index_items(bad_inputs.folder(name))
        assert catalog.all_stacks(), name
    catalog, _ = index_items(bad_inputs.folder("mixed_matrix"))
    shapes = {(s.rows, s.columns) for s in catalog.all_stacks()}
    assert shapes == {(16, 16), (8, 12)}  # never one stack of two matrix sizes
    for name in ("bad_numeric_strings", "bad_orientation"):
        catalog, _ = index_items(bad_inputs.folder(name))
        assert catalog.instance_count == len(bad_inputs.paths[name]), name
        assert sum(s.frames for s in catalog.all_stacks()) == catalog.instance_count, name
