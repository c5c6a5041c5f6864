"""Issue 13 item 5: nested DICOMDIR media, as Philips writes them.

The root DICOMDIR holds STUDY (or SERIES) records, no PATIENT record, whose Referenced File ID
names a further directory file (``S1/DIRFILE``, then ``S1/S1/DIRFILE``...), and only the
deepest files list the images. The media are made with the project's own File-set writer
(:func:`viewer.dicom.write.fileset.write_file_set`: one File-set per series or study, its
DICOMDIR renamed DIRFILE) and hand-linked directory files above them. Swept: the level that
references (STUDY, SERIES), 1-3 nesting levels, File IDs relative to the media root (as
Philips writes them) or to the nested file's folder (a File-set copied into a folder); each
through the indexer (opened and walked), ``inspect --json`` and the GUI's study tree. Then
what must not be followed: a cycle, more than MAX_NESTING levels, references leaving the
media root (``..`` and a symbolic link), a missing or broken nested file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from tests import factories, media
from tests.gui_driving import open_and_wait, shown_main_window
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.io.dicomdir import MAX_NESTING, open_dicomdir
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.write.fileset import write_file_set

DIRFILE = "DIRFILE"


@dataclass
class Media:
    """Nested media and what they hold."""

    root: Path
    series: list[factories.SeriesTruth]
    #: Every directory file below the root DICOMDIR.
    nested: list[Path] = field(default_factory=list)

    @property
    def dicomdir(self) -> Path:
        return self.root / "DICOMDIR"

    @property
    def instances(self) -> int:
        return sum(len(truth.paths) for truth in self.series)


def file_set(folder: Path, paths: list[str]) -> Path:
    """The project's File-set of ``paths`` in ``folder``, its DICOMDIR named DIRFILE."""
    written = write_file_set(paths, folder, file_set_id="NESTED")
    target = folder / DIRFILE
    os.replace(written, target)
    return target


class Builder:
    """Writes the nested media: relays (hand-linked directory files) down to File-sets."""

    def __init__(self, root: Path, ids: str) -> None:
        self.root = root
        self.ids = (
            ids  # "root": File IDs from the media root (Philips); "own": from the file's folder
        )
        self.nested: list[Path] = []

    def file_id(self, holder: Path, target: Path) -> list[str]:
        base = (
            self.root if self.ids == "root" or holder == self.root / "DICOMDIR" else holder.parent
        )
        return list(target.relative_to(base).parts)

    def series_index(self, folder: Path, truth: factories.SeriesTruth, relays: int) -> Path:
        """``folder/DIRFILE`` for one series: ``relays`` SERIES-record files above a File-set."""
        if relays == 0:
            target = file_set(folder, truth.paths)
        else:
            inner = self.series_index(folder / "FS", truth, relays - 1)
            target = folder / DIRFILE
            record = self.series_record(truth, self.file_id(target, inner))
            media.write_directory_file(target, [(0, record)])
        self.nested.append(target)
        return target

    @staticmethod
    def series_record(truth: factories.SeriesTruth, file_id: list[str] = ()) -> object:  # type: ignore[assignment]
        number = int(truth.folder.name.lstrip("SE"))
        return media.directory_record(
            "SERIES",
            file_id,
            SeriesInstanceUID=truth.series_uid,
            Modality="CT",
            SeriesNumber=number,
        )

    @staticmethod
    def study_record(truth: factories.SeriesTruth, file_id: list[str] = ()) -> object:  # type: ignore[assignment]
        return media.directory_record(
            "STUDY",
            file_id,
            StudyInstanceUID=truth.study_uid,
            StudyDate="20240102",
            StudyTime="101500",
            StudyDescription="nested media",
            StudyID="1",
            AccessionNumber="",
        )


def nested_media(tmp_path: Path, at: str, levels: int, ids: str = "root") -> Media:
    """Two studies of two series each (one patient), on media nested ``levels`` deep with the
    references in ``at`` (STUDY or SERIES) records of the root DICOMDIR."""
    source = tmp_path / "source"
    studies: list[list[factories.SeriesTruth]] = []
    for study in range(2):
        uid = generate_uid()
        studies.append(
            [
                factories.write_series(
                    source / f"ST{study}" / f"SE{number}",
                    slices=2 + number,
                    study_uid=uid,
                    series_number=number,
                )
                for number in (1, 2)
            ]
        )
    root = tmp_path / "cdrom"
    build = Builder(root, ids)
    top = root / "DICOMDIR"
    records: list[tuple[int, object]] = []
    for index, series in enumerate(studies, start=1):
        folder = root / f"S{index}"
        if at == "STUDY":
            if levels == 1:
                target = file_set(folder, [p for truth in series for p in truth.paths])
                build.nested.append(target)
            else:
                target = folder / DIRFILE
                relayed = [
                    (0, build.series_record(t, build.file_id(target, inner)))
                    for number, t in enumerate(series, start=1)
                    for inner in [build.series_index(folder / f"S{index}{number}0", t, levels - 2)]
                ]
                media.write_directory_file(target, relayed)  # type: ignore[arg-type]
                build.nested.append(target)
            records.append((0, build.study_record(series[0], build.file_id(top, target))))
        else:
            records.append((0, build.study_record(series[0])))
            for number, truth in enumerate(series, start=1):
                inner = build.series_index(folder / f"S{index}{number}0", truth, levels - 1)
                records.append((1, build.series_record(truth, build.file_id(top, inner))))
    media.write_directory_file(top, records)  # type: ignore[arg-type]
    return Media(root, [t for series in studies for t in series], sorted(build.nested))


def tree(catalog: Catalog) -> list[tuple[str, str, str, list[str]]]:
    """(patient, study, series, sorted SOP Instance UIDs) of every series."""
    rows = []
    for patient in catalog.patients.values():
        for study in patient.studies.values():
            for series in study.series.values():
                uids = sorted(instance.sop_instance_uid for instance in series.instances)
                rows.append((patient.info.key, study.info.uid, series.info.uid, uids))
    return sorted(rows)


SHAPES = [
    pytest.param(at, levels, ids, id=f"{at.lower()}-{levels}-{ids}")
    for at in ("STUDY", "SERIES")
    for levels in (1, 2, 3)
    for ids in ("root", "own")
    if not (levels == 1 and ids == "own")  # one level: File IDs come from the root DICOMDIR
]


@pytest.mark.parametrize(("at", "levels", "ids"), SHAPES)
def test_nested_media_are_read_as_their_index(tmp_path, at, levels, ids):
    disc = nested_media(tmp_path, at, levels, ids)
    expected = tree(index_paths([tmp_path / "source"], workers=0))
    reading = open_dicomdir(str(disc.dicomdir))
    assert not reading.unusable and reading.problems == [] and reading.missing == 0
    assert len(reading.files) == disc.instances
    (preview,) = reading.previews
    assert sorted(Path(p) for p in preview.nested) == disc.nested
    promised = sorted((e.study.uid, e.series.uid, e.instances) for e in preview.series)
    assert promised == sorted((t.study_uid, t.series_uid, len(t.paths)) for t in disc.series)
    assert {e.patient.name for e in preview.series} == {"Test, Patient"}  # from the File-sets
    assert {e.study.description for e in preview.series} == {"nested media"}  # from the root
    for opened in (disc.dicomdir, disc.root):  # the DICOMDIR itself, or its folder walked
        catalog = index_paths([opened], workers=0)
        assert tree(catalog) == expected
        assert catalog.skipped == []  # the DIRFILEs are the index, not skipped files
        assert catalog.scanned == disc.instances + 1 + len(disc.nested)


def test_inspect_json_lists_the_nested_media(tmp_path):
    disc = nested_media(tmp_path, "STUDY", 2)
    done = subprocess.run(
        [sys.executable, "-m", "viewer", "inspect", "--json", str(disc.dicomdir)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["skipped"] == []
    series = [se for p in report["patients"] for st in p["studies"] for se in st["series"]]
    assert sorted(se["uid"] for se in series) == sorted(t.series_uid for t in disc.series)
    assert "unusable" not in done.stderr and "DIRFILE" not in done.stderr


@pytest.fixture
def window(qtbot) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def test_gui_study_tree_shows_the_nested_media(qtbot, window, tmp_path):  # type: ignore[no-untyped-def]
    disc = nested_media(tmp_path, "SERIES", 2)
    open_and_wait(qtbot, window, [str(disc.dicomdir)])
    model = window.tree_model
    counts = sorted(model.series_count_text(t.series_uid) for t in disc.series)
    assert counts == sorted(str(len(t.paths)) for t in disc.series)
    assert window.catalog.skipped == []
    rows = window.tree_proxy
    assert rows.rowCount() == 1  # one patient (named by the nested File-sets)
    patient = rows.index(0, 0)
    assert "Test, Patient" in str(patient.data())
    assert rows.rowCount(patient) == 2  # two studies
    shots = os.environ.get("NESTED_SHOTS")
    if shots:
        window.tree.expandAll()
        window.grab().save(os.path.join(shots, "nested-dicomdir-tree.png"))


# ---------------------------------------------------------------------------------------------
# What is not followed


def reasons(catalog: Catalog, root: Path) -> list[tuple[str, str]]:
    """Skip reasons, less the directory files a folder walk meets past an index not followed
    (listed as "DICOMDIR (media index)", which the GUI does not count as a problem)."""
    return [
        (os.path.relpath(s.path, root), s.reason)
        for s in catalog.skipped
        if s.reason != "DICOMDIR (media index)"
    ]


def test_a_cycle_is_reported_once_and_the_rest_is_read(tmp_path):
    disc = nested_media(tmp_path, "STUDY", 2)
    relay = disc.root / "S1" / DIRFILE  # its SERIES records, then one back to the root
    back = media.directory_record("SERIES", ["DICOMDIR"], SeriesInstanceUID=generate_uid())
    loop = media.directory_record("SERIES", ["S1", DIRFILE], SeriesInstanceUID=generate_uid())
    s1 = [t for t in disc.series if t.folder.parent.name == "ST0"]
    records = [
        (0, Builder.series_record(t, ["S1", f"S1{n}0", DIRFILE])) for n, t in enumerate(s1, 1)
    ]
    media.write_directory_file(relay, [*records, (0, back), (0, loop)])  # type: ignore[list-item]
    reading = open_dicomdir(str(disc.dicomdir))
    assert len(reading.files) == disc.instances
    assert [(os.path.relpath(p.path, disc.root), p.reason) for p in reading.problems] == [
        ("DICOMDIR", "nested DICOMDIR refers back to one that contains it (not followed)"),
        (f"S1/{DIRFILE}", "nested DICOMDIR refers back to one that contains it (not followed)"),
    ]
    catalog = index_paths([disc.dicomdir], workers=0)
    assert catalog.instance_count == disc.instances


def relay_chain(tmp_path: Path, depth: int) -> tuple[Path, factories.SeriesTruth]:
    """A root DICOMDIR whose SERIES record leads through ``depth - 1`` relays to a File-set."""
    truth = factories.write_series(tmp_path / "source" / "SE1", slices=3)
    root = tmp_path / "cdrom"
    build = Builder(root, "root")
    inner = build.series_index(root / "S1", truth, depth - 1)
    top = root / "DICOMDIR"
    study = build.study_record(truth)
    media.write_directory_file(
        top, [(0, study), (1, build.series_record(truth, build.file_id(top, inner)))]
    )  # type: ignore[list-item]
    return root, truth


@pytest.mark.parametrize("depth", [MAX_NESTING, MAX_NESTING + 1, MAX_NESTING + 3])
def test_nesting_is_followed_to_the_bound_and_the_folder_scanned_past_it(tmp_path, depth):
    root, _truth = relay_chain(tmp_path, depth)
    reading = open_dicomdir(str(root / "DICOMDIR"))
    catalog = index_paths([root / "DICOMDIR"], workers=0)
    assert catalog.instance_count == 3  # past the bound the folder walk finds them
    if depth <= MAX_NESTING:
        assert len(reading.files) == 3 and reading.problems == [] and catalog.skipped == []
        return
    assert reading.files == [] and reading.unfollowed == 1
    too_deep = f"nested DICOMDIR more than {MAX_NESTING} levels deep (not followed)"
    assert [p.reason for p in reading.problems] == [too_deep]
    found = reasons(catalog, root)
    assert found[0][1] == too_deep
    assert found[1] == (
        "DICOMDIR",
        "DICOMDIR unusable (references no readable files); scanning its folder instead",
    )


def test_references_leaving_the_media_root_are_not_followed(tmp_path):
    disc = nested_media(tmp_path, "STUDY", 2)
    outside = tmp_path / "elsewhere"
    stray = factories.write_series(tmp_path / "stray-source", slices=2, patient_id="STRAY")
    file_set(outside / "FS", stray.paths)
    (disc.root / "LINK").symlink_to(outside / "FS", target_is_directory=True)
    # The first relay also references ../elsewhere/FS/DIRFILE and LINK/DIRFILE.
    relay = disc.root / "S1" / DIRFILE
    s1 = [t for t in disc.series if t.folder.parent.name == "ST0"]
    records = [
        (0, Builder.series_record(t, ["S1", f"S1{n}0", DIRFILE])) for n, t in enumerate(s1, 1)
    ]
    escape = media.directory_record("SERIES", ["..", "elsewhere", "FS", DIRFILE])
    linked = media.directory_record("SERIES", ["LINK", DIRFILE])
    media.write_directory_file(relay, [*records, (0, escape), (0, linked)])  # type: ignore[list-item]
    reading = open_dicomdir(str(disc.dicomdir))
    assert len(reading.files) == disc.instances
    assert [p.reason for p in reading.problems] == [
        "DICOMDIR reference points outside its folder"
    ] * 2
    catalog = index_paths([disc.dicomdir], workers=0)
    assert "STRAY" not in {p.info.patient_id for p in catalog.patients.values()}


def test_a_missing_or_broken_nested_file_is_reported_and_its_folder_scanned(tmp_path):
    disc = nested_media(tmp_path, "SERIES", 2)
    gone = disc.root / "S1" / "S110" / DIRFILE
    gone.unlink()
    broken = disc.root / "S2" / "S220" / DIRFILE
    dangling = media.directory_record("SERIES", OffsetOfReferencedLowerLevelDirectoryEntity=9999)
    media.write_directory_file(broken, [(0, dangling)])
    reading = open_dicomdir(str(disc.dicomdir))
    problems = [(os.path.relpath(p.path, disc.root), p.reason) for p in reading.problems]
    assert problems[0] == (f"S1/S110/{DIRFILE}", "referenced by DICOMDIR but missing")
    assert problems[1][0] == f"S2/S220/{DIRFILE}"
    assert problems[1][1] == "nested DICOMDIR unusable: record offsets point nowhere"
    assert reading.missing == 1 and reading.unfollowed == 1
    catalog = index_paths([disc.dicomdir], workers=0)
    # Walking the folder finds the files the missing and the broken index would have named.
    assert catalog.instance_count == disc.instances
    assert reasons(catalog, disc.root)[-1] == (
        "DICOMDIR",
        "DICOMDIR references 1 missing file(s); scanning its folder too",
    )


def philips_media(tmp_path: Path) -> Media:
    """No PATIENT record anywhere, as on Philips media: the root's STUDY record names
    ``S1/DIRFILE``, whose SERIES records name ``S1/S110/DIRFILE``, whose IMAGE records name
    the images (every File ID from the media root)."""
    root = tmp_path / "cdrom"
    series = [
        factories.write_series(
            root / "S1" / f"S1{n}0", slices=2 + n, series_number=n, study_uid=uid
        )
        for uid in [generate_uid()]
        for n in (1, 2)
    ]
    nested: list[Path] = []
    relayed = []
    for truth in series:
        index = Path(truth.folder) / DIRFILE
        images = [
            (0, media.directory_record("IMAGE", list(Path(p).relative_to(root).parts)))
            for p in truth.paths
        ]
        media.write_directory_file(index, images)  # type: ignore[arg-type]
        nested.append(index)
        relayed.append((0, Builder.series_record(truth, list(index.relative_to(root).parts))))
    study = root / "S1" / DIRFILE
    media.write_directory_file(study, relayed)  # type: ignore[arg-type]
    nested.append(study)
    top = [(0, Builder.study_record(series[0], ["S1", DIRFILE]))]
    media.write_directory_file(root / "DICOMDIR", top)  # type: ignore[arg-type]
    return Media(root, series, sorted(nested))


def test_philips_media_without_patient_records(qtbot, window, tmp_path):  # type: ignore[no-untyped-def]
    disc = philips_media(tmp_path)
    reading = open_dicomdir(str(disc.dicomdir))
    assert reading.problems == [] and len(reading.files) == disc.instances
    assert {e.patient.name for e in reading.previews[0].series} == {""}  # none on the media
    catalog = index_paths([disc.dicomdir], workers=0)
    assert catalog.skipped == [] and catalog.instance_count == disc.instances
    assert catalog.scanned == disc.instances + 1 + len(disc.nested)
    open_and_wait(qtbot, window, [str(disc.dicomdir)])
    rows = window.tree_proxy
    assert rows.rowCount() == 1, [rows.index(r, 0).data() for r in range(rows.rowCount())]
    assert "Test, Patient" in str(rows.index(0, 0).data())  # named by the files
    counts = sorted(window.tree_model.series_count_text(t.series_uid) for t in disc.series)
    assert counts == ["3", "4"]
    shots = os.environ.get("NESTED_SHOTS")
    if shots:
        window.tree.expandAll()
        window.grab().save(os.path.join(shots, "philips-no-patient-tree.png"))
