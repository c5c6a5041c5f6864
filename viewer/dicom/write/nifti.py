"""NIfTI-1 export of stacks (3D) and phase series (4D) through nibabel, with a JSON sidecar.

Geometry (NIfTI-1 header, ``nifti1.h``; DICOM PS3.3 C.7.6.2.1.1):

* The viewer's affine maps (column i, row j, frame k) to LPS mm; NIfTI's world is RAS, so the
  NIfTI affine is ``diag(-1, -1, 1, 1) @ affine``. The data array is indexed ``[i, j, k(, t)]``
  in the stack's order (the voxels are not flipped or reordered: the affine says where each is).
* ``sform`` (code 1, scanner) is that affine. ``qform`` (code 1) is the same affine when it is a
  rotation times zooms; a sheared stack (gantry tilt) cannot be a qform, so there qform_code is 0
  and the sform keeps every slice at its true, acquired position (nothing is resampled); the
  sidecar and the caller's warnings say so.
* Irregular stacks (missing slices, mixed spacing) are written on the stack's grid (the median
  slice gap); the sidecar lists the true slice positions and the warning.

Voxels are modality values (PS3.3 C.11.1.1.2: stored x Rescale Slope + Intercept) in the
smallest dtype that holds them exactly (:func:`viewer.dicom.pixels.volume.modality_voxels`),
unscaled (nibabel writes no scl_slope/scl_inter for an array stored in its own dtype).

4D: the phases of one group of a series (stacks split by temporal position, trigger time, echo,
b-value, acquisition: :mod:`viewer.dicom.catalog.stack`) with one grid become the 4th
dimension, in phase order. ``pixdim[4]`` is the time step in seconds when the phases are times
(trigger times: their median difference; temporal positions and acquisitions: the median
difference of Acquisition Time, else Repetition Time, as dcm2niix does); otherwise (echoes,
b-values) the 4th axis has no time unit and the sidecar lists the phase values.

The sidecar uses BIDS names (BIDS 1.9, "Common metadata fields") where they exist: times in
seconds, and never a patient attribute (name, ID, birth date; with ``anonymize`` no dates,
times, institution or device serial either). No Qt.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.scan import Cancel, never_cancelled

#: LPS (DICOM) to RAS (NIfTI) world coordinates.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
#: Two phase grids are one 4D grid when no affine entry differs by more than this (mm).
GRID_TOLERANCE_MM = 1e-3
#: A matrix is a rotation times zooms (a valid qform) when R^T R is diagonal within this.
ORTHOGONAL_TOLERANCE = 1e-6
#: Phase keys whose values are times (ms in DICOM) or time points.
TIME_KEYS = frozenset({"trigger time", "trigger delay", "temporal position", "acquisition"})
#: Uncompressed by default, as dcm2niix writes: gzip costs several times the load of a large
#: CT (single-threaded zlib); ``gzip=True`` writes ``.nii.gz``.
NIFTI_SUFFIX = ".nii"
NIFTI_GZ_SUFFIX = ".nii.gz"

#: (BIDS name, DICOM keyword, scale): scale 1e-3 turns DICOM milliseconds into BIDS seconds.
SIDECAR_FIELDS: tuple[tuple[str, str, float | None], ...] = (
    ("Modality", "Modality", None),
    ("Manufacturer", "Manufacturer", None),
    ("ManufacturersModelName", "ManufacturerModelName", None),
    ("SoftwareVersions", "SoftwareVersions", None),
    ("MagneticFieldStrength", "MagneticFieldStrength", None),
    ("ImagingFrequency", "ImagingFrequency", None),
    ("ReceiveCoilName", "ReceiveCoilName", None),
    ("BodyPartExamined", "BodyPartExamined", None),
    ("PatientPosition", "PatientPosition", None),
    ("SeriesDescription", "SeriesDescription", None),
    ("ProtocolName", "ProtocolName", None),
    ("SeriesNumber", "SeriesNumber", None),
    ("ImageType", "ImageType", None),
    ("ScanningSequence", "ScanningSequence", None),
    ("SequenceVariant", "SequenceVariant", None),
    ("ScanOptions", "ScanOptions", None),
    ("SequenceName", "SequenceName", None),
    ("MRAcquisitionType", "MRAcquisitionType", None),
    ("SliceThickness", "SliceThickness", None),
    ("SpacingBetweenSlices", "SpacingBetweenSlices", None),
    ("EchoTime", "EchoTime", 1e-3),
    ("RepetitionTime", "RepetitionTime", 1e-3),
    ("InversionTime", "InversionTime", 1e-3),
    ("FlipAngle", "FlipAngle", None),
    ("EchoTrainLength", "EchoTrainLength", None),
    ("PixelBandwidth", "PixelBandwidth", None),
    ("PercentPhaseFOV", "PercentPhaseFieldOfView", None),
    ("PercentSampling", "PercentSampling", None),
    ("InPlanePhaseEncodingDirectionDICOM", "InPlanePhaseEncodingDirection", None),
    ("KVP", "KVP", None),
    ("XRayTubeCurrent", "XRayTubeCurrent", None),
    ("ExposureTime", "ExposureTime", 1e-3),
    ("ConvolutionKernel", "ConvolutionKernel", None),
    ("ReconstructionDiameter", "ReconstructionDiameter", None),
    ("GantryDetectorTilt", "GantryDetectorTilt", None),
    ("Radiopharmaceutical", "Radiopharmaceutical", None),
    ("Units", "Units", None),
    ("DecayCorrection", "DecayCorrection", None),
)
#: Sidecar fields left out of an anonymised export (PS3.15 E.1-1 removes or dummies them).
IDENTIFYING_SIDECAR = frozenset(
    {"AcquisitionDateTime", "AcquisitionTime", "InstitutionName", "DeviceSerialNumber",
     "StationName", "SeriesDescription", "ProtocolName"}
)  # fmt: skip

Progress = Callable[[int, int], None]


class NiftiError(Exception):
    """This stack (or group of phases) cannot be written as NIfTI; one line for a person."""


@dataclass(frozen=True, slots=True)
class NiftiPart:
    """One output file: ``stem`` (no suffix) and its stacks (one: 3D; phases: 4D, in order)."""

    stem: str
    stacks: tuple[Stack, ...]


@dataclass(slots=True)
class NiftiResult:
    """What :func:`nifti_image` built: the image, its sidecar and warnings (one line each)."""

    image: Any  # nibabel.Nifti1Image (nibabel is imported lazily)
    sidecar: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# ============================================================================================
# Which stacks go into which file
# ============================================================================================
def plan_parts(stem: str, stacks: Sequence[Stack]) -> list[NiftiPart]:
    """The files of one series: each run of phases on one grid is a 4D file, every other
    stack a 3D file; localizers and stacks without geometry are left out (not volumes)."""
    usable = [s for s in stacks if not s.localizer and s.affine() is not None]
    runs: list[list[Stack]] = []
    for stack in usable:
        last = runs[-1] if runs else None
        if (
            last is not None
            and stack.phases > 1
            and last[0].group == stack.group
            and same_grid(last[0], stack)
        ):
            last.append(stack)
        else:
            runs.append([stack])
    if len(runs) == 1:
        return [NiftiPart(stem, tuple(runs[0]))]
    return [NiftiPart(f"{stem}_{n}", tuple(run)) for n, run in enumerate(runs, start=1)]


def same_grid(a: Stack, b: Stack) -> bool:
    """Same matrix, frame count and affine (within :data:`GRID_TOLERANCE_MM`)."""
    first, second = a.affine(), b.affine()
    if first is None or second is None:
        return False
    return (a.rows, a.columns, a.frames) == (b.rows, b.columns, b.frames) and bool(
        np.allclose(first, second, atol=GRID_TOLERANCE_MM, rtol=0)
    )


def safe_stem(number: int | None, description: str, anonymize: bool) -> str:
    """A file name stem from the series number and (not anonymised) its description."""
    stem = f"{number:03d}" if number is not None else "series"
    if description and not anonymize:
        cleaned = "".join(c if c.isalnum() or c in "-+" else "_" for c in description)
        cleaned = "_".join(part for part in cleaned.split("_") if part)[:48]
        if cleaned:
            stem += f"_{cleaned}"
    return stem


# ============================================================================================
# One image
# ============================================================================================
def nifti_affine(stack_affine: np.ndarray) -> np.ndarray:
    """The NIfTI (RAS) affine of a viewer (LPS) affine, same voxel indices."""
    return LPS_TO_RAS @ np.asarray(stack_affine, dtype=float)


def is_rigid(affine: np.ndarray) -> bool:
    """True when the 3x3 part is a rotation (or reflection) times positive zooms."""
    matrix = affine[:3, :3]
    gram = matrix.T @ matrix
    scale = float(np.max(np.abs(np.diag(gram)))) or 1.0
    off = gram - np.diag(np.diag(gram))
    return bool(np.max(np.abs(off)) <= ORTHOGONAL_TOLERANCE * scale)


def nifti_image(
    voxels: Sequence[np.ndarray],
    stacks: Sequence[Stack],
    header: Any | None = None,
    anonymize: bool = False,
    phase_headers: Sequence[Any] = (),
) -> NiftiResult:
    """A Nifti1Image of ``voxels`` (one (frames, rows, columns) array per stack, in modality
    values), placed by ``stacks[0]``'s geometry, with its sidecar (from the pydicom
    ``header`` of the first file, if given; ``phase_headers``: the first file of each phase)."""
    import nibabel as nib

    stack = stacks[0]
    lps = stack.affine()
    if lps is None:
        raise NiftiError("the stack has no position/orientation, so it is not a volume")
    affine = nifti_affine(lps)
    arrays = [np.asarray(v).transpose(2, 1, 0) for v in voxels]  # (column, row, frame)
    data = arrays[0] if len(arrays) == 1 else np.stack(arrays, axis=-1)
    image = nib.Nifti1Image(data, affine)
    hdr = image.header
    warnings: list[str] = []
    geometry: dict[str, Any] = {}
    if is_rigid(affine):
        image.set_qform(affine, code=1)
        geometry["Qform"] = "scanner (same as sform)"
    else:
        image.set_qform(None, code=0)
        tilt = _tilt_text(stack)
        geometry["Qform"] = "unset: the grid is sheared, which a qform cannot hold"
        warnings.append(
            f"sheared stack{tilt}: not resampled; the sform keeps the true slice positions "
            "(qform unset), so tools that read only the qform will misplace it"
        )
    image.set_sform(affine, code=1)
    geometry["Sform"] = "scanner: true positions (LPS to RAS)"
    geometry["Resampled"] = False
    stack_warnings = [w for w in stack.warnings if not w.startswith(f"{len(stacks)} phases")]
    if stack_warnings:
        geometry["Warnings"] = list(stack_warnings)
        if stack.positions is not None and any(
            word in w for w in stack_warnings for word in ("missing", "irregular", "spacing")
        ):
            geometry["SlicePositionsLPS"] = [list(p) for p in stack.positions]
            warnings.append(
                "irregular slice spacing: written on the stack's grid "
                f"({stack.spacing[2] if stack.spacing else 0:.4g} mm); the true slice "
                "positions are in the sidecar (SlicePositionsLPS)"
            )
    hdr.set_xyzt_units(xyz="mm", t="sec")
    sidecar = sidecar_fields(header, anonymize) if header is not None else {}
    if len(stacks) > 1:
        phase = _phase_dimension(stacks, header, phase_headers)
        if phase.get("TimeStep") is not None:
            hdr["pixdim"][4] = phase["TimeStep"]
        else:
            hdr.set_xyzt_units(xyz="mm", t="unknown")
            hdr["pixdim"][4] = 1.0
        sidecar["PhaseDimension"] = phase
    hdr["descrip"] = b"dicom-viewer export"
    sidecar["SliceGeometry"] = geometry
    sidecar["ImageOrientationPatientDICOM"] = list(stack.orientation or ())
    from viewer import __version__

    sidecar["ConversionSoftware"] = "dicom-viewer"
    sidecar["ConversionSoftwareVersion"] = __version__
    return NiftiResult(image, sidecar, warnings)


def _tilt_text(stack: Stack) -> str:
    for warning in stack.warnings:
        if "tilt" in warning:
            start = warning.find("(")
            end = warning.find(")", start)
            if start >= 0 and end > start:
                return f" ({warning[start + 1 : end]})"
    return ""


def _phase_dimension(
    stacks: Sequence[Stack], header: Any | None, phase_headers: Sequence[Any]
) -> dict[str, Any]:
    """The 4th axis: what it is, its values and (for times) its step in seconds."""
    key = stacks[0].phase_key
    values = [_jsonable(s.phase_value) for s in stacks]
    phase: dict[str, Any] = {"Name": key, "Values": values, "TimeStep": None}
    if key not in TIME_KEYS:
        return phase
    step = None
    if key in ("trigger time", "trigger delay"):
        step = _median_step([float(v) for v in values if isinstance(v, int | float)])
        step = None if step is None else step / 1000.0
    if step is None and phase_headers:
        times = [_seconds_of_day(getattr(h, "AcquisitionTime", None)) for h in phase_headers]
        if all(t is not None for t in times):
            step = _median_step([t for t in times if t is not None])
    if step is None and header is not None:
        tr = _number(getattr(header, "RepetitionTime", None))
        step = None if tr is None or tr <= 0 else tr / 1000.0
    phase["TimeStep"] = step
    return phase


def _median_step(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    step = float(np.median(np.diff(np.asarray(values, dtype=float))))
    return step if step > 0 and math.isfinite(step) else None


def _seconds_of_day(value: object) -> float | None:
    """A DICOM TM (HHMMSS.FFFFFF, PS3.5 6.2) as seconds since midnight."""
    text = str(value or "").strip()
    if len(text) < 2 or not text[:2].isdigit():
        return None
    try:
        hours = int(text[0:2])
        minutes = int(text[2:4]) if len(text) >= 4 else 0
        seconds = float(text[4:]) if len(text) > 4 else 0.0
    except ValueError:
        return None
    return hours * 3600 + minutes * 60 + seconds


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _jsonable(value: object) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def sidecar_fields(header: Any, anonymize: bool) -> dict[str, Any]:
    """The BIDS-style fields of a pydicom data set (:data:`SIDECAR_FIELDS`), JSON types."""
    out: dict[str, Any] = {}
    for name, keyword, scale in SIDECAR_FIELDS:
        value = _header_value(header, keyword)
        if value is None or value == "" or value == []:
            continue
        if scale is not None:
            number = _number(value)
            if number is None:
                continue
            value = round(number * scale, 9)
        out[name] = value
    if not anonymize:
        for name, keyword in (
            ("InstitutionName", "InstitutionName"),
            ("StationName", "StationName"),
            ("DeviceSerialNumber", "DeviceSerialNumber"),
        ):
            value = _header_value(header, keyword)
            if value:
                out[name] = value
        date = str(getattr(header, "AcquisitionDate", "") or "")
        time = str(getattr(header, "AcquisitionTime", "") or "")
        if len(date) == 8 and len(time) >= 6:
            out["AcquisitionDateTime"] = (
                f"{date[:4]}-{date[4:6]}-{date[6:]}T{time[:2]}:{time[2:4]}:{time[4:]}"
            )
    else:
        for name in IDENTIFYING_SIDECAR:
            out.pop(name, None)
    return out


def _header_value(header: Any, keyword: str) -> Any:
    """A top-level attribute, else the first one found in the Shared then the first frame's
    Functional Groups (enhanced images, PS3.3 C.7.6.16), as a JSON value."""
    value = getattr(header, keyword, None)
    if value is None:
        for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            value = _in_groups(getattr(header, groups, None), keyword)
            if value is not None:
                break
    return _json_value(value)


def _in_groups(groups: Any, keyword: str) -> Any:
    if not groups:
        return None
    for macro in groups[0]:
        if macro.VR == "SQ" and macro.value:
            value = getattr(macro.value[0], keyword, None)
            if value is not None:
                return value
    return None


def _json_value(value: Any) -> Any:
    from pydicom.multival import MultiValue
    from pydicom.valuerep import IS, DSfloat

    if value is None:
        return None
    if isinstance(value, MultiValue | list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, DSfloat | float):
        return float(value)
    if isinstance(value, IS | int):
        return int(value)
    if isinstance(value, bytes):
        return None
    text = str(value).strip()
    return text or None


# ============================================================================================
# Files
# ============================================================================================
def read_header(path: str) -> Any | None:
    """The data set of ``path`` without pixel data, or None when it cannot be read."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        return dcmread(path, stop_before_pixels=True, force=True)
    except (OSError, InvalidDicomError, ValueError, EOFError):
        return None


def write_part(
    part: NiftiPart,
    folder: Path,
    anonymize: bool,
    progress: Progress | None = None,
    cancel: Cancel = never_cancelled,
    gzip: bool = False,
) -> list[str]:
    """Load the part's stacks and write ``folder/stem.nii`` (``gzip``: ``.nii.gz``) and
    ``stem.json``; returns the warnings."""
    import nibabel as nib

    from viewer.dicom.pixels.volume import VolumeError, load_volume, modality_voxels

    arrays = []
    warnings: list[str] = []
    total = sum(s.frames for s in part.stacks)
    done = 0
    for stack in part.stacks:
        offset = done

        def step(count: int, _of: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + count, total)

        try:
            volume = load_volume(stack, progress=step, cancel=cancel)
            arrays.append(modality_voxels(volume, reuse=True))
        except VolumeError as error:
            raise NiftiError(str(error)) from error
        phases_note = f"{len(part.stacks)} phases by {stack.phase_key}"
        warnings.extend(
            w for w in volume.warnings if w not in warnings and not w.startswith(phases_note)
        )
        done += stack.frames
        if progress is not None:
            progress(done, total)
    if len({a.dtype for a in arrays}) > 1:
        common = np.result_type(*arrays)
        arrays = [a.astype(common, copy=False) for a in arrays]
    header = read_header(part.stacks[0].sources[0][0])
    phase_headers = (
        [read_header(s.sources[0][0]) for s in part.stacks] if len(part.stacks) > 1 else []
    )
    result = nifti_image(
        arrays, part.stacks, header, anonymize, [h for h in phase_headers if h is not None]
    )
    suffix = NIFTI_GZ_SUFFIX if gzip else NIFTI_SUFFIX
    nib.save(result.image, os.fspath(folder / f"{part.stem}{suffix}"))
    with open(folder / f"{part.stem}.json", "w", encoding="utf-8") as handle:
        json.dump(result.sidecar, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return [*warnings, *result.warnings]
