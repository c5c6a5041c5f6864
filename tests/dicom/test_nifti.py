"""``dicom-viewer export --format nifti``: affine, voxels and sidecar, against dcm2niix.

dcm2niix (Debian package, installed by ``./dev test``) is the oracle: both images are brought
to the closest canonical (RAS+) orientation by nibabel, then the affines must agree within
1e-3 mm and the voxels exactly (dcm2niix flips rows, we do not: the affine says where each
voxel is). Data: the demo study's CT and sagittal MR, pydicom-data's enhanced CT files, and
4D phase series written by :mod:`tests.factories` in every orientation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests import factories
from viewer import demo
from viewer.__main__ import main
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.write.export import ExportCancelled, export_nifti
from viewer.dicom.write.nifti import LPS_TO_RAS, is_rigid, plan_parts

DCM2NIIX = shutil.which("dcm2niix")
needs_dcm2niix = pytest.mark.skipif(DCM2NIIX is None, reason="dcm2niix is not installed")
AFFINE_TOLERANCE_MM = 1e-3
IDENTIFIERS = (
    demo.PATIENT_NAME,
    demo.PATIENT_ID,
    demo.PATIENT_BIRTH_DATE,
    demo.INSTITUTION_NAME,
    demo.CT_STUDY_DESCRIPTION,
    "2024",  # no dates
)


def _pydicom_data(name: str) -> Path:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"pydicom-data has no {name}")
    return Path(path)


def export(sources: list[Path], out: Path, *options: str) -> int:
    return main(["export", *map(str, sources), str(out), "--format", "nifti", *options])


def dcm2niix(source: Path, out: Path) -> list[Path]:
    out.mkdir()
    assert DCM2NIIX is not None
    subprocess.run(
        [DCM2NIIX, "-z", "n", "-b", "n", "-f", "%s_%p", "-o", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return sorted(out.glob("*.nii"))


def assert_same_image(ours: Path, theirs: Path) -> None:
    mine = nib.as_closest_canonical(nib.load(ours))
    other = nib.as_closest_canonical(nib.load(theirs))
    assert mine.shape == other.shape
    assert np.abs(mine.affine - other.affine).max() <= AFFINE_TOLERANCE_MM
    assert np.array_equal(np.asarray(mine.dataobj), np.asarray(other.get_fdata()))


@pytest.fixture(scope="module")
def demo_nifti(demo_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nifti") / "demo"
    assert export([demo_study], out) == 0
    return out


@needs_dcm2niix
def test_demo_ct_and_mr_agree_with_dcm2niix(
    demo_nifti: Path, demo_study: Path, tmp_path: Path
) -> None:
    theirs = {p.name.split("_")[0]: p for p in dcm2niix(demo_study, tmp_path / "d")}
    ours = sorted(demo_nifti.glob("*.nii"))
    assert [p.name for p in ours] == [
        "002_Thorax-Abdomen_1_25mm.nii",
        "004_T2_TSE_SAG.nii",
    ]  # the radiograph and the echo cine are not volumes
    for path in ours:
        assert_same_image(path, theirs[str(int(path.name[:3]))])


def test_voxels_are_modality_values_in_index_order(demo_nifti: Path, demo_study: Path) -> None:
    from viewer.dicom.pixels.volume import load_volume, modality_voxels

    ct = next(s for s in index_paths([demo_study]).all_stacks() if s.frames == 192)
    image = nib.load(demo_nifti / "002_Thorax-Abdomen_1_25mm.nii")
    expected = modality_voxels(load_volume(ct)).transpose(2, 1, 0)
    data = np.asarray(image.dataobj)
    assert data.dtype == expected.dtype == np.int16  # HU, exact
    assert np.array_equal(data, expected)
    assert (image.dataobj.slope, image.dataobj.inter) == (1.0, 0.0)  # unscaled
    # voxel (i, j, k) sits where DICOM puts it: LPS of the stack's affine, in RAS
    assert np.allclose(image.affine, LPS_TO_RAS @ ct.affine(), atol=1e-5)
    assert int(image.header["qform_code"]) == int(image.header["sform_code"]) == 1


def test_sidecar_has_bids_fields_in_seconds(demo_nifti: Path) -> None:
    sidecar = json.loads((demo_nifti / "004_T2_TSE_SAG.json").read_text())
    assert sidecar["Modality"] == "MR"
    assert sidecar["EchoTime"] == pytest.approx(0.098)
    assert sidecar["RepetitionTime"] == pytest.approx(4.0)
    assert sidecar["MagneticFieldStrength"] == 1.5
    assert sidecar["SliceGeometry"]["Resampled"] is False
    assert not {"PatientName", "PatientID", "PatientBirthDate"} & set(sidecar)


@needs_dcm2niix
@pytest.mark.parametrize("name", ["liver.dcm", "eCT_Supplemental.dcm"])
def test_enhanced_ct_files_agree_with_dcm2niix(name: str, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(_pydicom_data(name), source / name)
    assert export([source], tmp_path / "ours") == 0
    (ours,) = sorted((tmp_path / "ours").glob("*.nii"))
    (theirs,) = dcm2niix(source, tmp_path / "d")
    assert_same_image(ours, theirs)


@needs_dcm2niix
@pytest.mark.parametrize("orientation", sorted(factories.ORIENTATIONS))
def test_4d_trigger_phases_agree_with_dcm2niix(orientation: str, tmp_path: Path) -> None:
    source = tmp_path / "src"
    delays = ["0", "45", "90", "135"]
    factories.write_phases(
        source, "TriggerTime", delays, orientation=orientation, slices=5, modality="MR"
    )
    assert export([source], tmp_path / "ours") == 0
    (ours,) = sorted((tmp_path / "ours").glob("*.nii"))
    (theirs,) = dcm2niix(source, tmp_path / "d")
    assert_same_image(ours, theirs)
    image = nib.load(ours)
    assert image.shape == (16, 16, 5, 4)
    assert image.header.get_zooms()[3] == pytest.approx(0.045)  # trigger step, seconds
    assert image.header.get_xyzt_units() == ("mm", "sec")
    phase = json.loads(ours.with_name(ours.name[: -len(".nii")] + ".json").read_text())
    assert phase["PhaseDimension"] == {
        "Name": "trigger time",
        "Values": [0.0, 45.0, 90.0, 135.0],
        "TimeStep": pytest.approx(0.045),
    }


def test_echo_phases_have_no_time_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    factories.write_phases(tmp_path / "src", "EchoNumbers", ["1", "2", "3"], modality="MR")
    assert export([tmp_path / "src"], tmp_path / "ours") == 0
    (ours,) = sorted((tmp_path / "ours").glob("*.nii"))
    image = nib.load(ours)
    assert image.shape[3] == 3
    assert image.header.get_xyzt_units() == ("mm", "unknown")
    assert "phases by" not in capsys.readouterr().err  # a 4D file is not a warning


@pytest.mark.parametrize("tilt", [7.5, 20.0])
def test_tilted_stack_keeps_true_positions_and_says_so(
    tilt: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = factories.write_series(tmp_path / "src", slices=8, tilt_deg=tilt)
    assert export([tmp_path / "src"], tmp_path / "ours") == 0
    err = capsys.readouterr().err
    assert "sheared stack" in err and "not resampled" in err
    (ours,) = sorted((tmp_path / "ours").glob("*.nii"))
    image = nib.load(ours)
    assert int(image.header["qform_code"]) == 0
    assert int(image.header["sform_code"]) == 1
    sform = image.get_sform()
    for k, position in enumerate(truth.positions):
        ras = LPS_TO_RAS @ np.array([*position, 1.0])
        assert np.allclose(sform @ [0, 0, k, 1], ras, atol=AFFINE_TOLERANCE_MM)
    sidecar = json.loads(ours.with_name(ours.name.replace(".nii", ".json")).read_text())
    assert sidecar["SliceGeometry"]["Resampled"] is False
    assert "unset" in sidecar["SliceGeometry"]["Qform"]


def test_missing_slice_lists_true_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = factories.write_series(tmp_path / "src", offsets=[0, 2.5, 5, 10, 12.5, 15])
    assert export([tmp_path / "src"], tmp_path / "ours") == 0
    assert "irregular slice spacing" in capsys.readouterr().err
    (sidecar_path,) = (tmp_path / "ours").glob("*.json")
    sidecar = json.loads(sidecar_path.read_text())
    assert np.allclose(sidecar["SliceGeometry"]["SlicePositionsLPS"], truth.positions)


@pytest.mark.parametrize("seed", range(6))
def test_every_voxel_lands_where_dicom_puts_it(seed: int, tmp_path: Path) -> None:
    """Fixed-seed sweep of random orientations, spacings and origins."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    orientation = tuple(float(v) for v in (*rotation[:, 0], *rotation[:, 1]))
    spacing = (float(rng.uniform(0.3, 2)), float(rng.uniform(0.3, 2)))
    gap = float(rng.uniform(0.5, 5))
    origin = tuple(float(v) for v in rng.uniform(-200, 200, 3))
    truth = factories.write_series(
        tmp_path / "src",
        orientation=orientation,  # type: ignore[arg-type]
        pixel_spacing=spacing,
        spacing=gap,
        origin=origin,  # type: ignore[arg-type]
        slices=4,
    )
    assert export([tmp_path / "src"], tmp_path / "ours") == 0
    (ours,) = (tmp_path / "ours").glob("*.nii")
    image = nib.load(ours)
    assert is_rigid(image.affine)
    iop = truth.orientation
    row, column = np.asarray(iop[:3]), np.asarray(iop[3:])
    for k, position in enumerate(truth.positions):
        for i, j in ((0, 0), (15, 0), (0, 15), (7, 11)):
            lps = (
                np.asarray(position)
                + i * truth.pixel_spacing[1] * row
                + j * truth.pixel_spacing[0] * column
            )
            ras = image.affine @ [i, j, k, 1]
            assert np.allclose(ras[:3], (LPS_TO_RAS[:3, :3] @ lps), atol=AFFINE_TOLERANCE_MM)


def test_anonymised_names_and_sidecar_carry_no_identifier(demo_study: Path, tmp_path: Path) -> None:
    assert export([demo_study], tmp_path / "anon", "--anonymize") == 0
    names = sorted(p.name for p in (tmp_path / "anon").iterdir())
    assert names == ["002.json", "002.nii", "004.json", "004.nii"]
    for sidecar_path in (tmp_path / "anon").glob("*.json"):
        text = sidecar_path.read_text()
        for identifier in IDENTIFIERS:
            assert identifier not in text
        sidecar = json.loads(text)
        assert not {"AcquisitionDateTime", "InstitutionName", "SeriesDescription"} & set(sidecar)
    image = nib.load(tmp_path / "anon" / "004.nii")
    header = image.header.binaryblock
    assert not any(i.encode("latin-1") in header for i in IDENTIFIERS)


def test_stack_selection_and_bad_arguments(demo_study: Path, tmp_path: Path) -> None:
    stacks = index_paths([demo_study]).all_stacks()
    mr = next(k for k, s in enumerate(stacks) if s.frames == 27)
    assert export([demo_study], tmp_path / "one", "--stack", str(mr)) == 0
    assert [p.name for p in (tmp_path / "one").glob("*.nii")] == [f"004_T2_TSE_SAG_stack{mr}.nii"]
    assert export([demo_study], tmp_path / "x", "--dicomdir") == 2
    assert export([demo_study], demo_study / "inside") == 1
    assert not (tmp_path / "x").exists()


def test_cancel_leaves_nothing(demo_study: Path, tmp_path: Path) -> None:
    series = index_paths([demo_study]).all_series()
    parts = [p for s in series for p in plan_parts(f"{s.info.number:03d}", s.stacks)]
    seen: list[int] = []

    def cancel() -> bool:
        return len(seen) > 3

    with pytest.raises(ExportCancelled):
        export_nifti(
            parts,
            tmp_path / "out",
            [demo_study],
            progress=lambda d, t: seen.append(d),
            cancel=cancel,
        )
    assert list(tmp_path.iterdir()) == []


def test_gzip_writes_the_same_image_compressed(demo_study: Path, tmp_path: Path) -> None:
    stacks = index_paths([demo_study]).all_stacks()
    mr = next(k for k, s in enumerate(stacks) if s.frames == 27)
    assert export([demo_study], tmp_path / "plain", "--stack", str(mr)) == 0
    assert export([demo_study], tmp_path / "gz", "--stack", str(mr), "--gzip") == 0
    (plain,) = (tmp_path / "plain").glob("*.nii")
    (packed,) = (tmp_path / "gz").glob("*.nii.gz")
    assert packed.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    a, b = nib.load(plain), nib.load(packed)
    assert np.array_equal(a.affine, b.affine)
    assert np.array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj))
