"""Loading stacks as volumes (in worker processes) and the ``volume`` verb, on the demo CT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import Dataset

from tests import factories
from tests.robustness.conftest import peak_allocation
from viewer.__main__ import main
from viewer.demo import CT_LANDMARKS, CT_ORIGIN, CT_RESCALE_INTERCEPT, CT_SLICES
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.decode_pool import DecodePool
from viewer.dicom.pixels.reading import read_frame
from viewer.dicom.pixels.volume import (
    Volume,
    VolumeError,
    common_rescale,
    load_volume,
    modality_voxels,
    smallest_integer_dtype,
)

#: The landmarks are noise-free HU inside homogeneous regions; a 5 x 5 mean is within noise/5.
HU_TOLERANCE = 6.0


@pytest.fixture(scope="module")
def demo_catalog(demo_study: Path) -> Catalog:
    return index_paths([demo_study])


def ct_stack_index(catalog: Catalog) -> int:
    return next(i for i, stack in enumerate(catalog.all_stacks()) if stack.frames == CT_SLICES)


@pytest.fixture(scope="module")
def ct_volume(demo_catalog: Catalog) -> Volume:
    steps: list[tuple[int, int]] = []
    stack = demo_catalog.all_stacks()[ct_stack_index(demo_catalog)]
    volume = load_volume(stack, progress=lambda done, total: steps.append((done, total)))
    assert steps[-1] == (CT_SLICES, CT_SLICES)
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    return volume


def roi_mean(hu: np.ndarray, affine: np.ndarray, point: tuple[float, float, float]) -> float:
    column, row, k = np.rint(np.linalg.inv(affine) @ np.array([*point, 1.0]))[:3].astype(int)
    return float(hu[k, row - 2 : row + 3, column - 2 : column + 3].mean())


def test_demo_ct_landmarks_have_their_hounsfield_units(ct_volume: Volume) -> None:
    assert ct_volume.voxels.dtype == np.int16  # stored dtype, never float
    assert ct_volume.rescale_intercept == CT_RESCALE_INTERCEPT
    hu = ct_volume.modality(ct_volume.voxels)
    for name, (point, expected) in CT_LANDMARKS.items():
        assert roi_mean(hu, ct_volume.affine, point) == pytest.approx(expected, abs=HU_TOLERANCE), (
            name
        )


def test_demo_ct_affine_and_slice_order(ct_volume: Volume) -> None:
    origin = ct_volume.affine @ np.array([0.0, 0.0, 0.0, 1.0])
    assert origin[:3] == pytest.approx(CT_ORIGIN)
    z = [position[2] for position in ct_volume.stack.positions or ()]
    assert np.all(np.diff(z) > 0)  # ascending along the normal
    for k in (0, 77, CT_SLICES - 1):  # each slice is the file the stack names, decoded
        assert np.array_equal(ct_volume.voxels[k], read_frame(*ct_volume.stack.sources[k]).stored)


def test_volume_verb_writes_hounsfield_units_and_affine(
    demo_study: Path, demo_catalog: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "ct.out"  # written exactly there, no ".npz" appended
    stack = str(ct_stack_index(demo_catalog))
    assert main(["volume", str(demo_study), str(out), "--stack", stack]) == 0
    with np.load(out) as saved:
        voxels, affine = saved["voxels"], saved["affine"]
    assert voxels.shape == (CT_SLICES, 256, 256) and voxels.dtype == np.int16
    assert (affine @ np.array([0.0, 0.0, 0.0, 1.0]))[:3] == pytest.approx(CT_ORIGIN)
    for name, (point, expected) in CT_LANDMARKS.items():
        assert roi_mean(voxels, affine, point) == pytest.approx(expected, abs=HU_TOLERANCE), name


def test_volume_verb_errors(
    demo_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["volume", str(demo_study), str(tmp_path / "x.npz"), "--stack", "99"]) == 1
    assert "no stack 99" in capsys.readouterr().err
    (tmp_path / "junk.txt").write_text("not dicom")
    assert main(["volume", str(tmp_path / "junk.txt"), str(tmp_path / "x.npz")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no image stacks" in err


def test_negative_stack_is_a_usage_error(demo_study: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["volume", str(demo_study), str(tmp_path / "x.npz"), "--stack", "-1"])
    assert stopped.value.code == 2


def test_different_intercepts_become_one_exact_rescale(tmp_path: Path) -> None:
    def intercept(k: int, ds: Dataset) -> None:
        ds.RescaleIntercept = str(-1024 + 10 * k)

    truth = factories.write_series(tmp_path, slices=5, per_slice=intercept)
    stack = index_paths([tmp_path]).all_stacks()[0]
    volume = load_volume(stack)
    assert volume.voxels.dtype == np.uint16
    hu = modality_voxels(volume)
    for k, path in enumerate(truth.paths):
        expected = read_frame(path).stored.astype(np.int64) - 1024 + 10 * k
        assert np.array_equal(hu[k], expected)
    assert any("Rescale Intercepts" in warning for warning in volume.warnings)


def test_different_slopes_fall_back_to_float32_with_a_warning() -> None:
    voxels = np.array([[[1, 2]], [[3, 4]]], dtype=np.int16)
    values, slope, intercept, notes = common_rescale(voxels, [0, 1], [(1.0, 0.0), (0.5, -1.0)])
    assert values.dtype == np.float32 and (slope, intercept) == (1.0, 0.0)
    assert values.tolist() == [[[1.0, 2.0]], [[0.5, 1.0]]]
    assert notes


@pytest.mark.parametrize(
    ("slope", "intercept", "dtype"),
    [
        ("0.5", "-1024.5", np.float32),  # half-HU steps: exact in float32
        ("0.0123456789", "0", np.float64),  # PET-like (Bq/ml per stored unit): float64
    ],
)
def test_non_integer_rescale_gives_exact_modality_values(
    tmp_path: Path, slope: str, intercept: str, dtype: type
) -> None:
    truth = factories.write_series(
        tmp_path, slices=4, extra={"RescaleSlope": slope, "RescaleIntercept": intercept}
    )
    volume = load_volume(index_paths([tmp_path]).all_stacks()[0])
    assert volume.voxels.dtype == np.uint16  # still the stored values
    assert (volume.rescale_slope, volume.rescale_intercept) == (float(slope), float(intercept))
    values = modality_voxels(volume)
    assert values.dtype == dtype
    for k, path in enumerate(truth.paths):  # PS3.3 C.11.1.1.2, in float64
        expected = read_frame(path).stored.astype(np.float64) * float(slope) + float(intercept)
        np.testing.assert_array_equal(values[k], expected)


@pytest.mark.parametrize(
    ("slope", "intercept", "dtype"),
    [(0.5, -1024.0, np.float32), (0.0123456789, 0.0, np.float64)],
)
def test_non_integer_rescale_makes_no_whole_volume_float64_temporary(
    slope: float, intercept: float, dtype: type
) -> None:
    frames = 64
    voxels = np.random.default_rng(3).integers(-1000, 3000, (frames, 256, 256), dtype=np.int16)
    voxels[:8] = 0  # air first: the float32 attempt is exact for a while before it fails
    volume = Volume(Stack(sources=(), rows=256, columns=256), voxels, np.eye(4), slope, intercept)
    with peak_allocation() as peaks:
        values = modality_voxels(volume)
    (peak,) = peaks
    assert values.dtype == dtype
    float64_volume = voxels.size * 8
    # Beyond the result itself, only a few slices of float64 at a time (4 MB; the volume is
    # 32 MB as float64). Whole-volume float64 temporaries took 76 to 92 MB more here.
    assert peak - values.nbytes < float64_volume / 4, f"peak {peak}, result {values.nbytes}"
    np.testing.assert_array_equal(values, voxels.astype(np.float64) * slope + intercept)


def test_smallest_exact_dtype() -> None:
    assert smallest_integer_dtype(0, 255) == np.uint8
    assert smallest_integer_dtype(-1024, 3071) == np.int16
    assert smallest_integer_dtype(0, 65535) == np.uint16
    assert smallest_integer_dtype(-1, 65535) == np.int32


def test_a_stack_without_geometry_is_refused(tmp_path: Path) -> None:
    stack = Stack(sources=((str(tmp_path / "a.dcm"), 0),), rows=2, columns=2)
    with pytest.raises(VolumeError, match="position"):
        load_volume(stack)


def test_a_broken_slice_is_named_and_the_rest_loads(tmp_path: Path) -> None:
    truth = factories.write_series(tmp_path, slices=4)
    stack = index_paths([tmp_path]).all_stacks()[0]
    Path(truth.paths[2]).write_bytes(Path(truth.paths[2]).read_bytes()[:-100])
    volume = load_volume(stack)
    assert not volume.voxels[2].any()
    assert np.array_equal(volume.voxels[3], read_frame(truth.paths[3]).stored)
    assert any("1 of 4 frames" in warning and "truncated" in warning for warning in volume.warnings)


def test_cancel_raises(demo_catalog: Catalog) -> None:
    stack = demo_catalog.all_stacks()[ct_stack_index(demo_catalog)]
    with pytest.raises(VolumeError, match="cancelled"):
        load_volume(stack, cancel=lambda: True)


def test_without_worker_processes_the_volume_still_loads(
    demo_catalog: Catalog, ct_volume: Volume
) -> None:
    pool = DecodePool(workers=1)
    pool.shutdown()  # as at exit: submitting fails, the load decodes in this process
    stack = demo_catalog.all_stacks()[ct_stack_index(demo_catalog)]
    volume = load_volume(stack, pool=pool)
    assert np.array_equal(volume.voxels, ct_volume.voxels)
