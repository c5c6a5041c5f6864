"""The ``inspect --json`` report: the catalog as the CLI contract's JSON object.

Paths are reported as a person finds them again after the command exits: a file read from a
zip as ``/path/study.zip!/DICOM/IM1`` (:func:`viewer.dicom.io.zips.shown_path`), not as the
private copy that is removed at exit.
"""

from __future__ import annotations

from typing import Any

from viewer.cli.skipped import skipped_lines
from viewer.core.printable import printable
from viewer.dicom.catalog.catalog import Catalog, SeriesNode
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.zips import shown_path


def catalog_report(catalog: Catalog) -> dict[str, Any]:
    """``{"scanned", "skipped", "patients": [...]}`` exactly as shared/cli-contract.md says."""
    return {
        "scanned": catalog.scanned,
        "skipped": [{"path": shown_path(s.path), "reason": s.reason} for s in catalog.skipped],
        "patients": [
            {
                "id": patient.info.patient_id,
                "name": patient.info.name,
                "studies": [
                    {
                        "uid": study.info.uid,
                        "date": study.info.date,
                        "description": study.info.description,
                        "series": [series_report(series) for series in study.sorted_series()],
                    }
                    for study in patient.sorted_studies()
                ],
            }
            for patient in catalog.sorted_patients()
        ],
    }


def series_report(series: SeriesNode) -> dict[str, Any]:
    return {
        "uid": series.info.uid,
        "number": series.info.number,
        "modality": series.info.modality,
        "description": series.info.description,
        "instances": len(series.instances),
        "stacks": [stack_report(stack) for stack in series.stacks],
    }


def stack_report(stack: Stack) -> dict[str, Any]:
    return {
        "frames": stack.frames,
        "rows": stack.rows,
        "columns": stack.columns,
        "sources": [[shown_path(path), frame] for path, frame in stack.sources],
        "spacing": list(stack.spacing) if stack.spacing else None,
        "origin": list(stack.origin) if stack.origin else None,
        "direction": [list(axis) for axis in stack.direction] if stack.direction else None,
        "warnings": list(stack.warnings),
    }


def text_report(catalog: Catalog) -> str:
    """A short human-readable tree for ``inspect`` without ``--json``."""
    lines = [f"scanned {catalog.scanned} file(s), skipped {len(catalog.skipped)}"]
    for patient in catalog.sorted_patients():
        lines.append(f"{patient.info.name or '(no name)'}  [{patient.info.patient_id}]")
        for study in patient.sorted_studies():
            lines.append(f"  {study.info.date or '--------'}  {study.info.description}")
            for series in study.sorted_series():
                info = series.info
                lines.append(
                    f"    #{info.number if info.number is not None else '-'} {info.modality:<3} "
                    f"{info.description}  ({len(series.instances)} instance(s))"
                )
                if not series.stacks:
                    lines.extend(f"      warning: {w}" for w in series.warnings)
                for stack in series.stacks:
                    lines.append(f"      {_stack_line(stack)}")
                    lines.extend(f"        warning: {w}" for w in stack.warnings)
    lines.extend(skipped_lines(catalog.skipped))
    return "\n".join(printable(line) for line in lines)  # names may hold ESC, CR, BEL...


def _stack_line(stack: Stack) -> str:
    size = f"{stack.frames} x {stack.rows} x {stack.columns}"
    if stack.spacing is None:
        return f"stack {size}" + (f" ({stack.label})" if stack.label else "")
    spacing = " x ".join(f"{v:.4g}" for v in stack.spacing)
    label = f" ({stack.label})" if stack.label else ""
    return f"stack {size}, spacing {spacing} mm{label}"
