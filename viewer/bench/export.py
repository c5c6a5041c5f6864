"""Export speed on the generated CT series (issue 18).

* ``export_anonymized_files_per_s``: ``export_dicom`` with the PS3.15 E.1 profile (the byte
  walk of :mod:`viewer.dicom.write.anonymize`) into a new folder, beside
  ``export_pydicom_loop_files_per_s``: the plain pydicom loop a script would write for the
  same table (read each file, apply each attribute's action wherever it occurs, new UIDs,
  private attributes removed, save). Both write every file; run alternately.
* ``export_nifti_s`` (index + load + ``.nii`` + sidecar, :func:`export_nifti`) beside
  ``volume_s`` (what ``dicom-viewer volume`` does: index + load + modality values + ``.npz``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, interleaved_runs, rate

Log = Callable[[str], None]


def measure_export(folder: Path, slices: int, sizes: BenchSizes, log: Log) -> dict[str, Figure]:
    files = sorted(str(p) for p in folder.iterdir() if p.is_file())
    if len(files) != slices:
        raise RuntimeError(f"expected {slices} files in {folder}, found {len(files)}")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
        root = Path(scratch)
        log("export: anonymised DICOM and the pydicom loop")
        dicom = interleaved_runs(
            [
                _fresh(root, lambda out: _anonymise(files, folder, out)),
                _fresh(root, lambda out: _pydicom_loop(files, out)),
            ],
            sizes.runs,
            sizes.warmups,
        )
        log("export: NIfTI and volume")
        volumes = interleaved_runs(
            [
                _fresh(root, lambda out: _nifti(folder, out)),
                _fresh(root, lambda out: _volume(folder, out)),
            ],
            sizes.runs,
            sizes.warmups,
        )
    return {
        "export_anonymized_files_per_s": rate(len(files), dicom[0], "files/s"),
        "export_pydicom_loop_files_per_s": rate(len(files), dicom[1], "files/s"),
        "export_nifti_s": Figure.of(volumes[0], "s"),
        "volume_s": Figure.of(volumes[1], "s"),
    }


def _fresh(root: Path, action: Callable[[Path], object]) -> Callable[[], None]:
    """``action(out)`` with ``out`` a path that does not exist yet, removed afterwards."""

    def run() -> None:
        out = root / "out"
        try:
            action(out)
        finally:
            shutil.rmtree(out, ignore_errors=True)

    return run


def _anonymise(files: list[str], folder: Path, out: Path) -> None:
    from viewer.dicom.write.anonymize import DeidPolicy
    from viewer.dicom.write.export import DicomExportOptions, SeriesFiles, export_dicom

    options = DicomExportOptions(anonymize=DeidPolicy(salt="bench"))
    result = export_dicom([SeriesFiles("bench", tuple(files))], out, [folder], options)
    if result.failures or result.written != len(files):
        raise RuntimeError(f"anonymised {result.written} of {len(files)} files")


def _pydicom_loop(files: list[str], out: Path) -> None:
    """The read-modify-write loop a script would write with pydicom for the same table."""
    import hashlib

    from pydicom import dcmread
    from pydicom.dataset import Dataset

    from viewer.dicom.write import deid_table

    actions = deid_table.profile_actions(frozenset())
    out.mkdir()

    def new_uid(old: str) -> str:
        return "2.25." + str(int(hashlib.sha256(b"bench" + old.encode()).hexdigest()[:32], 16))

    def clean(ds: Dataset) -> None:
        ds.remove_private_tags()
        for element in list(ds):
            action = actions.get(int(element.tag))
            if element.VR == "SQ":
                for item in element.value:
                    clean(item)
            if action is None or action == "K":
                continue
            if action.startswith("X"):
                del ds[element.tag]
            elif action == "U" or element.VR == "UI":
                element.value = new_uid(str(element.value))
            elif element.VR != "SQ":
                element.value = ""

    for number, path in enumerate(files):
        ds = dcmread(path)
        clean(ds)
        ds.PatientIdentityRemoved = "YES"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(out / f"IM{number:06d}.dcm", enforce_file_format=True)


def _nifti(folder: Path, out: Path) -> None:
    from viewer.dicom.io.indexer import index_paths
    from viewer.dicom.write.export import export_nifti
    from viewer.dicom.write.nifti import plan_parts

    stacks = index_paths([str(folder)]).all_stacks()
    export_nifti(plan_parts("ct", stacks), out, [folder])


def _volume(folder: Path, out: Path) -> None:
    import numpy as np

    from viewer.dicom.io.indexer import index_paths
    from viewer.dicom.pixels.volume import load_volume, modality_voxels

    (stack,) = index_paths([str(folder)]).all_stacks()
    volume = load_volume(stack)
    out.mkdir()
    with open(out / "volume.npz", "wb") as handle:
        np.savez(handle, voxels=modality_voxels(volume, reuse=True), affine=volume.affine)
