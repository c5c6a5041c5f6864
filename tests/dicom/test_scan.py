"""Finding and reading files (viewer.dicom.io.scan): folders, junk, links, pipes, zips, and the
real files pydicom ships. Good files open; everything else is listed with a reason; nothing
hangs and nothing is written next to what is read.
"""

from __future__ import annotations

import os
import tempfile
import threading
import zipfile
from pathlib import Path

import pydicom
import pytest

from tests import factories
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io import scan
from viewer.dicom.io.indexer import index_paths

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def bundled(name: str) -> str:
    """A file pydicom ships in its wheel (never one it would download)."""
    path = TEST_FILES / name
    if not path.is_file():
        pytest.skip(f"{name} is not bundled with this pydicom")
    return str(path)


def scan_with_deadline(paths, seconds: float = 15.0) -> list[ScannedFile | Skipped]:
    """Run a scan in a daemon thread so a hang fails the test instead of blocking the run."""
    results: list[ScannedFile | Skipped] = []
    worker = threading.Thread(target=lambda: results.extend(scan.scan(paths)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "scan did not finish (blocked on a pipe or a link loop?)"
    return results


def reasons(items) -> dict[str, str]:
    return {os.path.basename(i.path): i.reason for i in items if isinstance(i, Skipped)}


# ---------------------------------------------------------------------------------------------
# A junk folder


@pytest.fixture
def junk_folder(tmp_path: Path) -> tuple[Path, factories.SeriesTruth]:
    truth = factories.write_series(tmp_path / "series", slices=3)
    (tmp_path / "README").write_text("Patient CD. Insert and run viewer.exe\n")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(200))
    (tmp_path / "random.bin").write_bytes(os.urandom(4096))
    (tmp_path / "looks_headerless.bin").write_bytes(b"\x08\x00" + os.urandom(600))
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "short.dcm").write_bytes(b"\x00" * 128 + b"DICM")
    os.mkfifo(tmp_path / "pipe")
    os.symlink(tmp_path / "pipe", tmp_path / "pipe_link")
    os.symlink(tmp_path / "nowhere", tmp_path / "broken_link")
    os.symlink(tmp_path, tmp_path / "series" / "loop_to_root")  # a folder loop
    os.symlink(tmp_path / "self_b", tmp_path / "self_a")  # a link loop
    os.symlink(tmp_path / "self_a", tmp_path / "self_b")
    return tmp_path, truth


def test_junk_folder_opens_the_good_files_and_lists_the_rest(junk_folder):
    folder, truth = junk_folder
    items = scan_with_deadline([folder])
    good = sorted(i.instance.path for i in items if isinstance(i, ScannedFile))
    assert good == sorted(truth.paths)  # each once, despite the loop back to the root
    why = reasons(items)
    assert why["README"].startswith("not a DICOM file")
    assert why[".DS_Store"].startswith("not a DICOM file")
    assert why["random.bin"].startswith("not a DICOM file")
    assert why["looks_headerless.bin"]  # forced read of garbage: a reason, no exception
    assert why["empty.dcm"] == "empty file"
    assert why["short.dcm"]
    assert why["pipe"].startswith("not a regular file")
    assert why["pipe_link"].startswith("not a regular file")  # a link to a pipe is not broken
    assert why["broken_link"] == "broken symbolic link"
    assert "symbolic links" in why["self_a"] and "symbolic links" in why["self_b"]
    assert len(items) == 3 + 11


def test_junk_folder_through_the_indexer(junk_folder):
    folder, truth = junk_folder
    catalog = index_paths([folder])
    assert catalog.instance_count == 3
    assert catalog.scanned == len(catalog.skipped) + 3
    assert [path for path, _ in catalog.all_stacks()[0].sources] == truth.paths


def test_explicit_pipe_and_missing_path(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    items = scan_with_deadline([tmp_path / "pipe", tmp_path / "missing.dcm"])
    assert [i.reason for i in items] == [
        "not a regular file (device, pipe or socket)",
        "cannot open: No such file or directory",
    ]


def test_unreadable_file_is_skipped_with_reason(tmp_path):
    truth = factories.write_series(tmp_path, slices=2)
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    os.chmod(truth.paths[0], 0)
    items = scan_with_deadline([tmp_path])
    assert reasons(items)[os.path.basename(truth.paths[0])].startswith("cannot read")


def test_same_file_through_two_paths_is_read_once(tmp_path):
    truth = factories.write_series(tmp_path / "a", slices=2)
    os.symlink(tmp_path / "a", tmp_path / "b")
    items = scan_with_deadline([tmp_path / "a", tmp_path / "b", truth.paths[0]])
    assert len(items) == 2


def test_truncated_and_odd_headers_do_not_escape_the_fault_boundary(tmp_path):
    truth = factories.write_series(tmp_path, slices=1)
    data = Path(truth.paths[0]).read_bytes()
    (tmp_path / "truncated.dcm").write_bytes(data[:300])
    item = scan.read_instance(str(tmp_path / "truncated.dcm"))
    assert isinstance(item, Skipped | ScannedFile)  # whichever, never an exception


def test_cancel_stops_the_scan(tmp_path):
    factories.write_series(tmp_path, slices=6)
    seen: list[object] = []
    for item in scan.scan([tmp_path], cancel=lambda: len(seen) >= 2):
        seen.append(item)
    assert len(seen) == 2


def test_missing_uids_are_skipped(tmp_path):
    truth = factories.write_series(
        tmp_path, slices=1, per_slice=lambda k, ds: delattr(ds, "SeriesInstanceUID")
    )
    item = scan.read_instance(truth.paths[0])
    assert isinstance(item, Skipped)
    assert item.reason == "not a usable DICOM instance (no Series Instance UID)"


# ---------------------------------------------------------------------------------------------
# Zips


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_zip_with_series_and_dicomdir_writes_nothing_next_to_it(tmp_path):
    truth = factories.write_series(tmp_path / "src", slices=5, orientation="coronal")
    fileset = factories.write_fileset(truth.paths, tmp_path / "cd")
    cine = factories.write_cine(tmp_path / "src" / "cine.dcm", frames=3)
    readme = "burned by a synthetic PACS"
    extra: dict[str, str | Path] = {"loose/cine.dcm": Path(cine), "CD/README.TXT": readme}
    archive = factories.write_zip(tmp_path / "out" / "study.zip", fileset.parent, "CD", extra)
    before = listing(archive.parent)

    catalog = index_paths([archive])

    assert listing(archive.parent) == before
    assert catalog.instance_count == 6
    stacks = catalog.all_stacks()
    volume = next(s for s in stacks if s.spacing is not None)
    assert volume.frames == 5
    assert volume.origin == pytest.approx(truth.positions[0])
    assert volume.direction[2] == pytest.approx((0, 1, 0))
    # The sources point at the private copy, not into the zip's folder.
    assert all(not path.startswith(str(archive.parent)) for path, _ in volume.sources)
    # The DICOMDIR was read as the index: no problem, so not listed as skipped.
    assert {os.path.basename(s.path) for s in catalog.skipped} == {"README.TXT"}


def test_zip_inside_a_folder_is_opened(tmp_path):
    truth = factories.write_series(tmp_path / "src", slices=3)
    (tmp_path / "inbox").mkdir()
    with zipfile.ZipFile(tmp_path / "inbox" / "x.zip", "w") as zf:
        for path in truth.paths:
            zf.write(path, os.path.basename(path))
    catalog = index_paths([tmp_path / "inbox"])
    assert catalog.instance_count == 3


def test_zip_slip_members_are_not_written_outside(tmp_path):
    truth = factories.write_series(tmp_path / "src", slices=1)
    marker = f"zip-slip-{os.getpid()}-{id(tmp_path)}.dcm"
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(truth.paths[0], "ok.dcm")
        zf.write(truth.paths[0], f"../../{marker}")
        zf.write(truth.paths[0], f"/{marker}")
    catalog = index_paths([archive])
    assert catalog.instance_count == 1
    temp_root = Path(tempfile.gettempdir())
    assert not (temp_root / marker).exists()
    assert not (temp_root.parent / marker).exists()
    assert not (Path("/") / marker).exists()


def test_bad_zip_is_skipped(tmp_path):
    archive = tmp_path / "broken.zip"
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("a.txt", "x" * 1000)
    archive.write_bytes(good.read_bytes()[:-30] + b"PK\x05\x06" + bytes(18))
    items = scan_with_deadline([archive])
    assert all(isinstance(i, Skipped) for i in items)


# ---------------------------------------------------------------------------------------------
# pydicom's bundled real files


def test_real_single_frame_ct_and_mr():
    catalog = index_paths([bundled("CT_small.dcm"), bundled("MR_small.dcm")])
    assert catalog.instance_count == 2
    ct = next(s for s in catalog.all_series() if s.info.modality == "CT")
    stack = ct.stacks[0]
    assert (stack.rows, stack.columns, stack.frames) == (128, 128, 1)
    assert stack.origin == pytest.approx((-158.135803, -179.035797, -75.699997))
    assert stack.spacing[:2] == pytest.approx((0.661468, 0.661468))


def test_real_rt_dose_grid_is_a_positioned_volume():
    catalog = index_paths([bundled("rtdose.dcm")])
    stack = catalog.all_stacks()[0]
    assert stack.frames == 15
    assert stack.spacing == pytest.approx((10.0, 10.0, 5.0))
    assert stack.origin == pytest.approx((189.43125, 199.43125, -761.87))
    assert [f for _, f in stack.sources] == list(range(15))
    assert stack.warnings == ()


def test_real_ultrasound_cine():
    path = bundled("examples_ybr_color.dcm")
    stack = index_paths([path]).all_stacks()[0]
    assert list(stack.sources) == [(path, k) for k in range(30)]
    assert stack.frame_time_ms == pytest.approx(33.333)
    assert stack.spacing is None


@pytest.mark.parametrize(
    "name", ["SC_rgb_rle_2frame.dcm", "SC_rgb_rle_16bit_2frame.dcm", "SC_rgb_rle_32bit_2frame.dcm"]
)
def test_real_secondary_capture_multiframe(name):
    path = bundled(name)
    stack = index_paths([path]).all_stacks()[0]
    assert list(stack.sources) == [(path, 0), (path, 1)]
    assert stack.spacing is None and stack.origin is None


def test_real_enhanced_segmentation_without_frame_count_is_indexed():
    # liver_1frame.dcm has 3 per-frame items but no Number of Frames: indexed as one frame.
    catalog = index_paths([bundled("liver_1frame.dcm")])
    assert [s.frames for s in catalog.all_stacks()] == [1]


def test_every_bundled_file_indexes_without_raising():
    catalog = index_paths([TEST_FILES])
    assert catalog.instance_count > 60
    files = sum(len(names) for _, _, names in os.walk(TEST_FILES))
    assert catalog.scanned == files  # one result per file, however odd
    for series in catalog.all_series():
        for stack in series.stacks:
            assert stack.frames >= 1
            if stack.spacing is not None:
                assert all(v > 0 for v in stack.spacing)
    skipped = {os.path.basename(s.path): s.reason for s in catalog.skipped}
    assert skipped["README.txt"].startswith("not a DICOM file")


def raw_values(values: dict[int, bytes]):
    """A per_slice hook storing values verbatim (Implicit VR), as a careless writer would."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag
    from pydicom.uid import ImplicitVRLittleEndian

    def hook(k, ds):
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        for tag, raw in values.items():
            ds[tag] = RawDataElement(Tag(tag), None, len(raw), raw, 0, True, True)

    return hook


def test_odd_numeric_values_cost_the_attribute_not_the_file(tmp_path):
    truth = factories.write_series(
        tmp_path,
        slices=1,
        per_slice=raw_values(
            {
                0x00280030: b"0,5\\0,5 ",  # Pixel Spacing with decimal commas
                0x00200013: b" 7  ",  # Instance Number padded
                0x00180050: b"NaN ",  # Slice Thickness
                0x00181060: b"abc ",  # Trigger Time
                0x00200032: b"1e2\\-3.5E1\\+4 ",  # Image Position (Patient), exponents
                0x00200037: b"1\\0\\0\\0\\1 ",  # Image Orientation (Patient), 5 values
            }
        ),
    )
    item = scan.read_instance(truth.paths[0])
    assert isinstance(item, ScannedFile)
    record = item.instance
    assert record.instance_number == 7
    assert record.position == (100.0, -35.0, 4.0)
    assert record.pixel_spacing is None
    assert record.slice_thickness is None
    assert record.trigger_time is None
    assert record.orientation is None
    (stack,) = index_paths([tmp_path]).all_stacks()
    assert stack.spacing is None  # no usable orientation: no geometry, but the image opens
