"""The session's measurements as DICOM files, one set per study: a TID 1500 SR of the
measurements, a GSPS of every annotation with the window shown, a KO of the key images
(:mod:`.dicom_objects`). Headers and pixels are read here (statistics are recomputed on the
full frames, so a measurement drawn on a reduced view is exact), so callers run it off the GUI
thread. Files are named by kind and SOP Instance UID in a folder the caller chose; never in a
folder that holds one of the source images."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from viewer.model.annotations import shapes
from viewer.model.annotations.calibration import read_calibration
from viewer.model.annotations.measure import measure
from viewer.model.annotations.shapes import Annotation, ImageRef


class ExportRefused(ValueError):
    """The objects cannot be written there; the message says why, in one line."""


def source_folders(paths: Sequence[str]) -> set[str]:
    return {os.path.dirname(os.path.abspath(path)) for path in paths}


def write_study_objects(
    annotations: Sequence[Annotation],
    key_images: Sequence[ImageRef],
    out_dir: str | os.PathLike[str],
    window: tuple[float, float] | None = None,
) -> list[str]:
    """Write SR, GSPS and KO files into ``out_dir``; the paths written."""
    from pydicom import dcmread

    from viewer.dicom import decoding_stack
    from viewer.dicom.pixels.decode import read_frame
    from viewer.model.annotations import dicom_objects

    out = Path(out_dir)
    paths = [a.image.path for a in annotations] + [k.path for k in key_images]
    if os.path.abspath(out) in source_folders(paths):
        raise ExportRefused(f"{out} holds source images: choose another folder")
    if not paths:
        raise ExportRefused("nothing to save: no measurement, annotation or key image")
    decoding_stack.load()
    headers: dict[str, Any] = {}
    for path in dict.fromkeys(paths):
        headers[path] = dcmread(path, stop_before_pixels=True)
    out.mkdir(parents=True, exist_ok=True)
    by_study: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        header = headers[annotation.image.path]
        image = replace(
            annotation.image,
            sop_instance_uid=str(header.SOPInstanceUID),
            study_uid=str(header.StudyInstanceUID),
        )
        by_study.setdefault(image.study_uid, []).append(replace(annotation, image=image))
    keys_by_study: dict[str, list[ImageRef]] = {}
    for key in key_images:
        keys_by_study.setdefault(str(headers[key.path].StudyInstanceUID), []).append(key)
    written: list[str] = []
    for study in sorted(set(by_study) | set(keys_by_study)):
        drawn = by_study.get(study, [])
        items = []
        for annotation in drawn:
            header = headers[annotation.image.path]
            frame = read_frame(annotation.image.path, annotation.image.frame)
            modality = str(header.get("Modality", "") or "")
            items.append(
                (annotation, measure(annotation, read_calibration(header), frame, modality))
            )
        study_headers = {a.image.path: headers[a.image.path] for a in drawn}
        modality = str(next(iter(study_headers.values())).get("Modality", "")) if drawn else ""
        measured = [(a, m) for a, m in items if a.kind not in shapes.ANNOTATIONS]
        if measured:
            sr = dicom_objects.measurement_report(measured, study_headers, modality)
            written.append(_save(sr, out, "SR"))
        if items:
            state = dicom_objects.presentation_state(
                [(a, m.lines) for a, m in items], study_headers, window
            )
            written.append(_save(state, out, "PR"))
        keys = keys_by_study.get(study, [])
        if keys:
            ko = dicom_objects.key_object_selection(keys, {k.path: headers[k.path] for k in keys})
            written.append(_save(ko, out, "KO"))
    return written


def _save(dataset: Any, out: Path, kind: str) -> str:
    path = out / f"{kind}_{dataset.SOPInstanceUID}.dcm"
    dataset.save_as(path, enforce_file_format=True)
    return str(path)
