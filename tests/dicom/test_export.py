"""``dicom-viewer export``: DICOM copies, anonymised copies and File-sets of the demo study,
read back by our indexer, pydicom's FileSet and DCMTK; where an export may write."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.fileset import FileSet

from tests.dicom.test_deid import walk
from viewer import demo
from viewer.__main__ import main
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.write.anonymize import DeidPolicy
from viewer.dicom.write.export import (
    DicomExportOptions,
    ExportCancelled,
    ExportError,
    SeriesFiles,
    check_destination,
    export_dicom,
)
from viewer.dicom.write.fileset import discard_file_set_stage

DEMO_IDENTIFIERS = (
    demo.PATIENT_NAME.encode(),
    demo.PATIENT_ID.encode(),
    demo.PATIENT_BIRTH_DATE.encode(),
    demo.INSTITUTION_NAME.encode("latin-1"),
    demo.CT_STUDY_DESCRIPTION.encode("latin-1"),
)


@pytest.fixture(scope="module")
def anonymised(demo_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "anon"
    options = ["--format", "dicom", "--anonymize", "--dicomdir", "--salt", "test"]
    code = main(["export", str(demo_study), str(out), *options])
    assert code == 0
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "DICOMDIR")


def test_anonymised_file_set_has_no_identifier_anywhere(anonymised: Path) -> None:
    files = _files(anonymised)
    assert len(files) == len(_files_of_demo())
    for path in [*files, anonymised / "DICOMDIR"]:
        data = path.read_bytes()
        for identifier in DEMO_IDENTIFIERS:
            assert identifier not in data, (path, identifier)


def _files_of_demo() -> list[int]:
    return [0] * sum(s.instances for s in demo.DEMO_SERIES)


def test_file_ids_are_cd_names(anonymised: Path) -> None:
    for path in _files(anonymised):
        for part in path.relative_to(anonymised).parts:
            assert re.fullmatch(r"[A-Z0-9_]{1,8}", part), part
    assert [p.name for p in anonymised.iterdir() if p.is_dir()] == ["PT000000"]


def test_dicomdir_reads_back_in_pydicom_and_the_viewer(anonymised: Path) -> None:
    fs = FileSet(dcmread(anonymised / "DICOMDIR"))
    try:
        assert len(fs) == len(_files_of_demo())
        assert len(fs.find_values("StudyInstanceUID")) == 4
        assert fs.find_values("PatientID")[0].startswith("ANON-")
    finally:
        discard_file_set_stage(fs)
    catalog = index_paths([anonymised])
    assert not catalog.skipped
    series = catalog.all_series()
    assert sorted(s.info.modality for s in series) == ["CR", "CT", "MR", "US"]
    ct = next(s for s in series if s.info.modality == "CT")
    (stack,) = ct.stacks
    assert stack.frames == demo.CT_SLICES
    assert stack.spacing is not None
    assert stack.spacing[2] == pytest.approx(demo.CT_SLICE_SPACING)


def test_uids_are_consistent_across_the_export(anonymised: Path, demo_study: Path) -> None:
    studies: dict[str, set[str]] = {}
    frames_of_reference: dict[str, set[str]] = {}
    sop_uids: set[str] = set()
    for path in _files(anonymised):
        ds = dcmread(path, stop_before_pixels=True)
        studies.setdefault(str(ds.Modality), set()).add(ds.StudyInstanceUID)
        if "FrameOfReferenceUID" in ds:
            frames_of_reference.setdefault(str(ds.Modality), set()).add(ds.FrameOfReferenceUID)
        sop_uids.add(ds.SOPInstanceUID)
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.PatientIdentityRemoved == "YES"
    assert all(len(uids) == 1 for uids in studies.values())
    assert all(len(uids) == 1 for uids in frames_of_reference.values())
    assert len(sop_uids) == len(_files_of_demo())
    originals = {dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in _files(demo_study)}
    assert not originals & sop_uids


def test_pixels_are_unchanged(anonymised: Path, demo_study: Path) -> None:
    by_number = {}
    for path in _files(demo_study):
        ds = dcmread(path)
        if ds.Modality == "MR":
            by_number[int(ds.InstanceNumber)] = ds.PixelData
    seen = 0
    for path in _files(anonymised):
        ds = dcmread(path)
        if ds.Modality == "MR":
            assert ds.PixelData == by_number[int(ds.InstanceNumber)]
            seen += 1
    assert seen == demo.MR_SLICES


def test_dcmdump_reads_the_dicomdir_and_files(anonymised: Path) -> None:
    if shutil.which("dcmdump") is None:
        pytest.skip("DCMTK is not installed")
    for path in [anonymised / "DICOMDIR", *_files(anonymised)[::40]]:
        run = subprocess.run(["dcmdump", "-E", str(path)], capture_output=True, text=True)
        assert run.returncode == 0 and "E:" not in run.stderr, (path, run.stderr)


def test_plain_copy_is_byte_identical(demo_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    code = main(["export", str(demo_study), str(out), "--format", "dicom"])
    assert code == 0
    sources = sorted(p.read_bytes() for p in _files(demo_study))
    copies = sorted(p.read_bytes() for p in _files(out))
    assert sources == copies
    assert all(p.suffix == ".dcm" for p in _files(out))


def test_reencode_writes_explicit_little_endian(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    source = tmp_path / "in"
    source.mkdir()
    path = get_testdata_file("JPEG2000.dcm")
    assert path is not None
    shutil.copy(path, source)
    out = tmp_path / "out"
    assert main(["export", str(source), str(out), "--format", "dicom", "--reencode"]) == 0
    (written,) = _files(out)
    ds = dcmread(written)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    original = dcmread(path)
    assert (ds.pixel_array == original.pixel_array).all()


def test_refuses_to_write_into_a_source_folder(demo_study: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="folder it reads"):
        check_destination(demo_study / "out", [demo_study])
    with pytest.raises(ExportError, match="folder it reads"):
        check_destination(demo_study, [demo_study])
    with pytest.raises(ExportError, match="folder it reads"):
        check_destination(demo_study.parent, [demo_study])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ExportError, match="not an empty folder"):
        check_destination(tmp_path / "full", [demo_study])
    before = sorted(demo_study.rglob("*"))
    assert main(["export", str(demo_study), str(demo_study / "o"), "--format", "dicom"]) == 1
    assert sorted(demo_study.rglob("*")) == before


def test_cancelled_export_leaves_nothing(demo_study: Path, tmp_path: Path) -> None:
    paths = tuple(str(p) for p in _files(demo_study))

    def cancel_at_ten(done: int, total: int) -> None:
        if done == 10:
            raise ExportCancelled("cancelled")

    out = tmp_path / "out"
    with pytest.raises(ExportCancelled):
        export_dicom(
            [SeriesFiles("x", paths)],
            out,
            [demo_study],
            DicomExportOptions(anonymize=DeidPolicy(salt="c"), dicomdir=True),
            cancel_at_ten,
        )
    assert list(tmp_path.iterdir()) == []


def test_burned_in_warning_lists_the_series(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    source = tmp_path / "in"
    source.mkdir()
    path = get_testdata_file("SC_rgb.dcm")  # Modality OT, no Burned In Annotation
    assert path is not None
    shutil.copy(path, source)
    uid = dcmread(path).SeriesInstanceUID
    run = subprocess.run(
        [
            *_cli(),
            "export",
            str(source),
            str(tmp_path / "out"),
            "--format",
            "dicom",
            "--anonymize",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert f"series {uid} may have identifiers burned into its pixels" in run.stderr


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "viewer"]


def test_bad_arguments_exit_2(demo_study: Path, tmp_path: Path) -> None:
    assert main(["export", str(tmp_path / "only-out"), "--format", "dicom"]) == 2
    out = str(tmp_path / "o")
    assert main(["export", str(demo_study), out, "--format", "dicom", "--keep", "dates"]) == 2
    assert main(["export", str(demo_study), out, "--format", "dicom", "--series", "1.2.3"]) == 1


def test_series_and_stack_selection(demo_study: Path, tmp_path: Path) -> None:
    mr = next(s for s in index_paths([demo_study]).all_series() if s.info.modality == "MR")
    out = tmp_path / "mr"
    assert main(["export", str(demo_study), str(out), "--format", "dicom", "--series", mr.uid]) == 0
    assert len(_files(out)) == demo.MR_SLICES
    data = _files(out)[0].read_bytes()
    assert dcmread(io.BytesIO(data)).SeriesInstanceUID == mr.uid


def test_nested_sequences_hold_no_identifier(anonymised: Path) -> None:
    from viewer.dicom.write import deid_table

    removed = {t for t, c in deid_table.basic_profile()[0].items() if c in ("X", "X/D")}
    for path in _files(anonymised)[::20]:
        ds = dcmread(path, stop_before_pixels=True)
        assert not [hex(t) for t, _, _ in walk(ds) if t in removed]
