"""DICOMDIR reading (viewer.dicom.io.dicomdir) against pydicom's bundled media and synthetic CDs.

Counts are checked against what pydicom's own FileSet reports for the same DICOMDIR.
"""

from __future__ import annotations

import gc
import os
import warnings
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from tests import factories, media
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.records import ScannedFile
from viewer.dicom.io.dicomdir import (
    DirectoryPreview,
    is_dicomdir_file,
    is_dicomdir_path,
    open_dicomdir,
    referenced_files,
)
from viewer.dicom.io.indexer import index_paths, index_stream

DICOMDIR_TESTS = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests"
VARIANTS = [
    "DICOMDIR",
    "DICOMDIR-implicit",
    "DICOMDIR-bigEnd",
    "DICOMDIR-reordered",
    "DICOMDIR-nooffset",
    "DICOMDIR-nopatient",
    "TINY_ALPHA/DICOMDIR",
]


@pytest.fixture(scope="module", autouse=True)
def _require_bundled_media():
    if not (DICOMDIR_TESTS / "DICOMDIR").is_file():
        pytest.skip("pydicom's dicomdirtests are not bundled")


def counts(catalog: Catalog) -> tuple[int, int, int, int]:
    """(patients, studies, series, instances)."""
    studies = [st for p in catalog.patients.values() for st in p.studies.values()]
    series = [se for st in studies for se in st.series.values()]
    return len(catalog.patients), len(studies), len(series), catalog.instance_count


def fileset_counts(path: Path) -> tuple[int, int, int, int] | None:
    """What pydicom's FileSet says, or None when pydicom cannot load this variant.

    FileSet warns about non-conformant variants and leaves staging folders behind (some
    internal, some from a constructor that raised); both are silenced and collected here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _fileset_counts(path)
        except ValueError:
            return None
        finally:
            gc.collect()


def _fileset_counts(path: Path) -> tuple[int, int, int, int]:
    fileset = FileSet(pydicom.dcmread(path))
    try:
        return (
            len(fileset.find_values("PatientID")),
            len(fileset.find_values("StudyInstanceUID")),
            len(fileset.find_values("SeriesInstanceUID")),
            len(fileset),
        )
    finally:
        factories.close_fileset(fileset)


@pytest.mark.parametrize("variant", VARIANTS)
def test_bundled_dicomdir_variants_match_pydicom_fileset(variant):
    path = DICOMDIR_TESTS / variant
    catalog = index_paths([path])
    expected = fileset_counts(path)
    if expected is None:  # DICOMDIR-nopatient: pydicom refuses it, we still read the files
        expected = (2, 6, 13, 31)
    assert counts(catalog) == expected
    # Every file opened through the DICOMDIR is one the DICOMDIR references.
    files, problems = referenced_files(str(path))
    assert problems == []
    assert files is not None and len(files) == expected[3]
    assert catalog.scanned == expected[3] + 1  # the DICOMDIR was looked at too...
    assert catalog.skipped == []  # ...and is no problem


def test_bundled_media_counts():
    assert counts(index_paths([DICOMDIR_TESTS / "DICOMDIR"])) == (2, 6, 13, 31)
    assert counts(index_paths([DICOMDIR_TESTS / "TINY_ALPHA" / "DICOMDIR"])) == (1, 1, 1, 50)


def test_bundled_folder_holds_both_filesets():
    catalog = index_paths([DICOMDIR_TESTS])
    assert counts(catalog) == (3, 7, 14, 81)
    skipped = {os.path.relpath(s.path, DICOMDIR_TESTS): s.reason for s in catalog.skipped}
    # The DICOMDIR read as the index is no problem: not listed. A copy under another name is
    # read as a plain file and listed (not used; the folder walk reaches every image anyway).
    assert "DICOMDIR" not in skipped
    assert skipped["DICOMDIR-bigEnd"] == "DICOMDIR (media index)"
    files = sum(len(names) for _, _, names in os.walk(DICOMDIR_TESTS))
    assert catalog.scanned == files
    assert skipped["TINY_ALPHA/README"].startswith("not a DICOM file")


def test_bundled_media_stacks_are_ordered():
    catalog = index_paths([DICOMDIR_TESTS / "DICOMDIR"])
    smartscore = next(
        s for s in catalog.all_series() if s.info.description.startswith("SmartScore")
    )
    (stack,) = smartscore.stacks
    # Stored with Instance Numbers 6..10 running down z: the stack runs up z.
    assert [os.path.basename(p) for p, _ in stack.sources] == [
        "3353",
        "3023",
        "2693",
        "2392",
        "2062",
    ]
    assert stack.instance_numbers == (10, 9, 8, 7, 6)
    assert stack.spacing == pytest.approx((0.488281, 0.488281, 2.5), abs=1e-5)
    assert stack.warnings == ()
    scouts = next(s for s in catalog.all_series() if s.info.description == "Scout")
    assert [s.localizer for s in scouts.stacks] == [True, True]  # AP and lateral


def test_empty_dicomdir_falls_back_to_its_folder(tmp_path):
    truth = factories.write_series(tmp_path, slices=3)
    factories.write_minimal_dicomdir(tmp_path, [])
    catalog = index_paths([tmp_path / "DICOMDIR"])
    assert catalog.instance_count == 3
    reasons = [s.reason for s in catalog.skipped]
    assert "DICOMDIR unusable (no directory records); scanning its folder instead" in reasons
    assert [p for p, _ in catalog.all_stacks()[0].sources] == truth.paths


def test_garbage_named_dicomdir_falls_back_to_its_folder(tmp_path):
    factories.write_series(tmp_path, slices=2)
    (tmp_path / "DICOMDIR").write_bytes(os.urandom(1000))
    catalog = index_paths([tmp_path / "DICOMDIR"])
    assert catalog.instance_count == 2


# ---------------------------------------------------------------------------------------------
# Synthetic media


def test_pydicom_written_fileset_indexes_like_its_folder(tmp_path):
    truth = factories.write_series(tmp_path / "src", slices=6, orientation="oblique")
    dicomdir = factories.write_fileset(truth.paths, tmp_path / "cd")
    through_dicomdir = index_paths([dicomdir]).all_stacks()
    through_folder = index_paths([tmp_path / "cd"]).all_stacks()
    assert len(through_dicomdir) == len(through_folder) == 1
    assert through_dicomdir[0].sources == through_folder[0].sources
    assert through_dicomdir[0].origin == pytest.approx(truth.positions[0])


def cd_folder(tmp_path: Path) -> tuple[Path, factories.SeriesTruth]:
    """Files as a CD mounts them: lower case, some with an ISO 9660 ``;1`` version suffix."""
    truth = factories.write_series(tmp_path / "images", slices=4, shuffle_names=False)
    renamed = []
    for index, path in enumerate(truth.paths):
        target = Path(path).with_name(f"im{index:04d}" + (".;1" if index % 2 else ""))
        os.replace(path, target)
        renamed.append(str(target))
    truth.paths = renamed
    return tmp_path, truth


def test_cd_style_references_match_case_and_version_insensitively(tmp_path):
    root, truth = cd_folder(tmp_path)
    factories.write_minimal_dicomdir(root, [["IMAGES", f"IM{k:04d}"] for k in range(4)])
    files, problems = referenced_files(str(root / "DICOMDIR"))
    assert problems == []
    assert files == truth.paths


def test_backslash_in_one_component_and_version_suffix_in_the_reference(tmp_path):
    root, truth = cd_folder(tmp_path)
    factories.write_minimal_dicomdir(root, [["IMAGES\\IM0000;1"], ["images", "IM0001."]])
    files, problems = referenced_files(str(root / "DICOMDIR"))
    assert problems == []
    assert files == truth.paths[:2]


def test_missing_and_escaping_references_are_reported(tmp_path):
    root, truth = cd_folder(tmp_path)
    outside = factories.write_series(tmp_path.parent / f"{tmp_path.name}-outside", slices=1)
    escape = ["..", f"{tmp_path.name}-outside", os.path.basename(outside.paths[0])]
    factories.write_minimal_dicomdir(root, [["IMAGES", "IM0000"], ["IMAGES", "GONE"], escape])
    files, problems = referenced_files(str(root / "DICOMDIR"))
    assert files == truth.paths[:1]
    assert [p.reason for p in problems] == [
        "referenced by DICOMDIR but missing",
        "DICOMDIR reference points outside its folder",
    ]
    # Files gone missing may sit under other names: the folder is scanned too, and says so.
    catalog = index_paths([root / "DICOMDIR"])
    assert catalog.instance_count == 4
    assert [s.reason for s in catalog.skipped] == [
        "referenced by DICOMDIR but missing",
        "DICOMDIR reference points outside its folder",
        "DICOMDIR references 1 missing file(s); scanning its folder too",
    ]


def test_a_dicomdir_by_any_name_is_recognised_by_content(tmp_path):
    root, truth = cd_folder(tmp_path)
    factories.write_minimal_dicomdir(root, [["IMAGES", f"IM{k:04d}"] for k in range(4)])
    renamed = root / "index-copy.dcm"
    os.replace(root / "DICOMDIR", renamed)
    assert not is_dicomdir_path(str(renamed))
    assert is_dicomdir_file(str(renamed))
    assert not is_dicomdir_file(truth.paths[0])
    assert not is_dicomdir_file(str(root / "nothing-here"))
    catalog = index_paths([renamed])
    assert catalog.instance_count == 4
    assert catalog.skipped == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DICOMDIR", True),
        ("dicomdir", True),
        ("DICOMDIR.;1", True),
        ("DICOMDIR;1", True),
        ("DICOMDIR1", False),
        ("DICOMDIR.dcm", False),
        ("MYDICOMDIR", False),
    ],
)
def test_dicomdir_names(name, expected):
    assert is_dicomdir_path(f"/media/cdrom/{name}") is expected


# ---------------------------------------------------------------------------------------------
# DICOMDIR first: the preview (patients, studies, series, counts) before any file is read


def preview_counts(path: Path) -> tuple[int, int, int, int]:
    """(patients, studies, series, instances) the DICOMDIR's preview promises."""
    reading = open_dicomdir(str(path))
    series = [entry for preview in reading.previews for entry in preview.series]
    return (
        len({entry.patient.key for entry in series}),
        len({entry.study.uid for entry in series}),
        len({entry.series.uid for entry in series}),
        sum(entry.instances for entry in series),
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_bundled_dicomdir_previews_promise_what_the_files_hold(variant):
    path = DICOMDIR_TESTS / variant
    expected = counts(index_paths([path]))
    patients, studies, series, instances = preview_counts(path)
    assert (studies, series, instances) == expected[1:]
    # DICOMDIR-nopatient has no PATIENT records: its studies sit under one unnamed patient.
    assert patients == (1 if variant == "DICOMDIR-nopatient" else expected[0])


def test_preview_comes_before_any_file_is_read(tmp_path):
    truth = factories.write_series(tmp_path / "cd" / "images", slices=4)
    media.write_dicomdir(tmp_path / "cd")
    items = list(index_stream([tmp_path / "cd"], workers=0))
    kinds = [type(item).__name__ for item in items]
    assert kinds.index("DirectoryPreview") < kinds.index("ScannedFile")
    preview = next(item for item in items if isinstance(item, DirectoryPreview))
    (entry,) = preview.series
    assert (entry.series.uid, entry.instances, entry.patient.name) == (
        truth.series_uid,
        4,
        "Test, Patient",
    )
    assert entry.series.modality == "CT" and entry.study.date == "20240102"


def test_generated_cd_tree_with_upper_case_ids_and_version_suffixes(tmp_path):
    root = tmp_path / "cdrom"
    first = factories.write_series(root / "DICOM" / "ST1" / "SE1", slices=5, orientation="oblique")
    second = factories.write_series(
        root / "DICOM" / "ST1" / "SE2", slices=3, study_uid=first.study_uid, series_number=2
    )
    file_ids = media.cd_names(root)  # on disk: lower case, ";1" on every other file
    dicomdir = media.write_dicomdir(root, file_id=file_ids, name="DICOMDIR")
    on_disk = [name for _, _, names in os.walk(root / "dicom") for name in names]
    assert all(name == name.lower() for name in on_disk)
    assert any(name.endswith(";1") for name in on_disk)
    catalog = index_paths([dicomdir])
    assert counts(catalog) == (1, 1, 2, 8)
    assert catalog.skipped == []
    volume = catalog.series(first.series_uid).stacks[0]  # type: ignore[union-attr]
    assert volume.origin == pytest.approx(first.positions[0])
    assert catalog.series(second.series_uid).frame_count == 3  # type: ignore[union-attr]
    assert preview_counts(dicomdir) == (1, 1, 2, 8)


def test_zip_with_dicomdir_inside_shows_its_preview(tmp_path):
    factories.write_series(tmp_path / "cd" / "IMG", slices=3)
    media.write_dicomdir(tmp_path / "cd")
    archive = tmp_path / "out" / "cd.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "cd").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tmp_path))
    items = list(index_stream([archive], workers=0))
    previews = [item for item in items if isinstance(item, DirectoryPreview)]
    assert [p.instance_count for p in previews] == [3]
    assert sum(isinstance(item, ScannedFile) for item in items) == 3
    assert os.listdir(archive.parent) == ["cd.zip"]  # nothing written next to the zip


def test_record_cycle_makes_the_dicomdir_unusable_and_the_folder_is_scanned(tmp_path):
    factories.write_series(tmp_path / "A", slices=2)
    factories.write_series(tmp_path / "B", slices=2, series_number=2)
    dicomdir = media.write_dicomdir(tmp_path)
    media.make_cycle(dicomdir)
    catalog = index_paths([dicomdir])
    assert catalog.instance_count == 4
    assert [s.reason for s in catalog.skipped] == [
        "DICOMDIR unusable (records form a cycle); scanning its folder instead"
    ]


def test_nested_dicomdirs_are_read_once_each(tmp_path):
    """A root DICOMDIR referencing one DICOMDIR per patient folder (as some media do)."""
    a = factories.write_series(tmp_path / "PAT1" / "SER1", slices=2, patient_id="P1")
    b = factories.write_series(tmp_path / "PAT2" / "SER1", slices=3, patient_id="P2")
    media.write_dicomdir(tmp_path / "PAT1")
    media.write_dicomdir(tmp_path / "PAT2")
    root = factories.write_minimal_dicomdir(
        tmp_path, [["PAT1", "DICOMDIR"], ["PAT2", "DICOMDIR"], ["PAT1", "DICOMDIR"]]
    )
    reading = open_dicomdir(root)
    assert not reading.unusable and reading.problems == []
    assert sorted(reading.files) == sorted(a.paths + b.paths)
    (preview,) = reading.previews  # one preview for the media, nested records included
    assert sorted(entry.instances for entry in preview.series) == [2, 3]
    assert [os.path.relpath(p, tmp_path) for p in preview.nested] == [
        os.path.join("PAT1", "DICOMDIR"),
        os.path.join("PAT2", "DICOMDIR"),
    ]
    catalog = index_paths([tmp_path])  # walking meets all three: each read once
    assert catalog.instance_count == 5
    assert len(catalog.patients) == 2


def test_missing_referenced_files_are_counted_in_the_preview_and_reported(tmp_path):
    truth = factories.write_series(tmp_path / "S", slices=3)
    dicomdir = media.write_dicomdir(tmp_path)
    os.remove(truth.paths[0])
    reading = open_dicomdir(str(dicomdir))
    assert reading.previews[0].instance_count == 3  # what the DICOMDIR promised
    assert reading.missing == 1 and len(reading.files) == 2


def test_records_without_offsets_nest_by_their_order(tmp_path):
    a = factories.write_series(tmp_path / "A", slices=2)
    factories.write_series(tmp_path / "B", slices=3, study_uid=a.study_uid, series_number=2)
    factories.write_series(tmp_path / "C", slices=1, patient_id="P2", patient_name="Other^One")
    dicomdir = media.write_dicomdir(tmp_path, link=False)
    assert preview_counts(dicomdir) == (2, 2, 3, 6)
    assert index_paths([dicomdir]).instance_count == 6
