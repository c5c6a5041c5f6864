"""Measurements and annotations as DICOM objects, written with highdicom (MIT), and read back.

* :func:`measurement_report`: a Comprehensive 3D SR Measurement Report (PS3.16 TID 1500).
  Lengths, angles and probes are TID 1501 groups whose TID 300 measurement is inferred from
  an SCOORD on its image; ellipse, rectangle and polygon ROIs are TID 1410 planar ROI groups
  (an SCOORD ELLIPSE or POLYGON on the image) with area, perimeter and the statistics (mean,
  SD, min, max, median as TID 300 derivations, CID 7464) of the modality values: Attenuation
  Coefficient in HU for CT, MR signal intensity for MR, else a pixel value with no unit.
* :func:`presentation_state`: a Grayscale Softcopy Presentation State (PS3.3 A.33.1) with the
  annotations as graphic and text objects (PIXEL units, C.10.5) and the current window
  (Softcopy VOI LUT, C.11.8).
* :func:`key_object_selection`: a Key Object Selection Document (A.35.4, TID 2010) flagging
  key images ("Of Interest").
* :func:`read_report`: what an SR, a presentation state or a KO written by anyone says, as
  plain values: measurements with the image they reference, text, graphics, references.

Coordinates are image coordinates with (0, 0) the top left corner of the top left pixel, the
convention of SCOORD (C.18.6.1.1) and of PIXEL annotation units, so points go unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from viewer import __version__
from viewer.model.annotations import shapes
from viewer.model.annotations.measure import Measurement
from viewer.model.annotations.shapes import Annotation, ImageRef

MANUFACTURER = "dicom-viewer"
#: SOP Class UIDs this module reads (PS3.4 B.5).
GSPS_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"
KO_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."


def _hd() -> Any:
    import highdicom

    return highdicom


def _uid() -> str:
    from pydicom.uid import generate_uid

    return str(generate_uid())


def _frames(image: ImageRef, source: Any) -> list[int] | None:
    """1-based referenced frame numbers for a multi-frame source, else None."""
    return [image.frame + 1] if int(source.get("NumberOfFrames", 1) or 1) > 1 else None


def _value_concept(measurement: Measurement, modality: str) -> tuple[Any, Any]:
    """(concept name, unit) of ROI statistics and probes: Attenuation Coefficient in HU for
    CT, MR signal intensity for MR (both CID 7180), else a pixel value with no unit."""
    from highdicom.sr import CodedConcept
    from pydicom.sr.codedict import codes

    if measurement.value_unit == "HU":
        return codes.DCM.AttenuationCoefficient, codes.UCUM.HounsfieldUnit
    if modality.upper() == "MR":
        return CodedConcept("110852", "DCM", "MR signal intensity"), codes.UCUM.NoUnits
    return CodedConcept("128780", "DCM", "Pixel value"), codes.UCUM.NoUnits


def _length_unit(measurement: Measurement) -> Any:
    from highdicom.sr import CodedConcept
    from pydicom.sr.codedict import codes

    if measurement.scale.spacing is not None:
        return codes.UCUM.Millimeter, codes.UCUM.SquareMillimeter
    return CodedConcept("{pixels}", "UCUM", "pixels"), CodedConcept(
        "{pixels}2", "UCUM", "square pixels"
    )


def _scoord(annotation: Annotation) -> tuple[str, np.ndarray]:
    """SCOORD graphic type and data (C.18.6.1.2) of an annotation."""
    points = np.asarray(annotation.points, dtype=np.float64)
    kind = annotation.kind
    if kind == shapes.ELLIPSE:
        cx, cy, rx, ry = shapes.ellipse_axes(annotation.points)
        if rx >= ry:  # major axis end points first, then the minor axis's
            data = [(cx - rx, cy), (cx + rx, cy), (cx, cy - ry), (cx, cy + ry)]
        else:
            data = [(cx, cy - ry), (cx, cy + ry), (cx - rx, cy), (cx + rx, cy)]
        return "ELLIPSE", np.asarray(data, dtype=np.float64)
    if kind in (shapes.RECTANGLE, shapes.POLYGON, shapes.FREEHAND):
        outline = np.asarray(shapes.outline(annotation), dtype=np.float64)
        return "POLYLINE", np.vstack(
            [outline, outline[:1]]
        )  # closed: last point = first (C.18.6.1.2)
    if kind in (shapes.POINT, shapes.TEXT):
        return "POINT", points[:1]
    return "POLYLINE", points


def _scoords(annotation: Annotation) -> list[tuple[str, np.ndarray]]:
    """The SCOORDs of an annotation: a Cobb angle's and a bidirectional measurement's two
    lines are one POLYLINE of two points each; everything else is one (:func:`_scoord`)."""
    if annotation.kind in shapes.SEGMENTS:
        points = np.asarray(annotation.points, dtype=np.float64)
        return [("POLYLINE", points[i : i + 2]) for i in range(0, len(points) - 1, 2)]
    return [_scoord(annotation)]


def measurement_report(
    items: Sequence[tuple[Annotation, Measurement]],
    sources: Mapping[str, Any],
    modality: str = "",
    series_number: int = 9901,
) -> Any:
    """The TID 1500 report of ``items`` (``sources``: each image's header by path)."""
    hd = _hd()
    from pydicom.sr.codedict import codes

    groups = []
    for number, (annotation, measured) in enumerate(items, start=1):
        if annotation.kind in shapes.ANNOTATIONS:
            continue
        source = sources[annotation.image.path]
        source_image = hd.sr.SourceImageForRegion.from_source_image(
            source, _frames(annotation.image, source)
        )
        tracking = hd.sr.TrackingIdentifier(uid=_uid(), identifier=f"{annotation.kind} {number}")
        graphic_type, data = _scoord(annotation)
        length_unit, area_unit = _length_unit(measured)
        if annotation.kind in shapes.REGIONS:
            rows = []
            if "area" in measured.values:
                rows.append(hd.sr.Measurement(codes.SCT.Area, measured.values["area"], area_unit))
                rows.append(
                    hd.sr.Measurement(
                        codes.SCT.Perimeter, measured.values["perimeter"], length_unit
                    )
                )
            stats = measured.stats
            if stats is not None:
                name, unit = _value_concept(measured, modality)
                for derivation, value in (
                    (codes.SCT.Mean, stats.mean),
                    (codes.SCT.StandardDeviation, stats.sd),
                    (codes.SCT.Minimum, stats.min),
                    (codes.SCT.Maximum, stats.max),
                    (codes.SCT.Median, stats.median),
                ):
                    rows.append(hd.sr.Measurement(name, value, unit, derivation=derivation))
            region = hd.sr.ImageRegion(graphic_type, data, source_image)
            groups.append(
                hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                    tracking_identifier=tracking,
                    referenced_region=region,
                    measurements=rows,
                )
            )
            continue
        coordinates = [
            hd.sr.CoordinatesForMeasurement(kind, points, source_image)
            for kind, points in _scoords(annotation)
        ]
        if "long" in measured.values:
            axes = []
            for name, key, line in (
                (codes.SCT.LongAxis, "long", coordinates[:1]),
                (codes.SCT.ShortAxis, "short", coordinates[1:2]),
            ):
                axes.append(
                    hd.sr.Measurement(
                        name, measured.values[key], length_unit, referenced_coordinates=line
                    )
                )
            groups.append(
                hd.sr.MeasurementsAndQualitativeEvaluations(
                    tracking_identifier=tracking, measurements=axes
                )
            )
            continue
        if "length" in measured.values:
            row = hd.sr.Measurement(
                codes.SCT.Length,
                measured.values["length"],
                length_unit,
                referenced_coordinates=coordinates,
            )
        elif "angle" in measured.values:
            row = hd.sr.Measurement(
                codes.SCT.CobbAngle if annotation.kind == shapes.COBB else codes.SCT.Angle,
                measured.values["angle"],
                codes.UCUM.Degree,
                referenced_coordinates=coordinates,
            )
        elif "value" in measured.values:
            name, unit = _value_concept(measured, modality)
            row = hd.sr.Measurement(
                name, measured.values["value"], unit, referenced_coordinates=coordinates
            )
        else:
            continue
        groups.append(
            hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking,
                measurements=[row],
            )
        )
    if not groups:
        raise ValueError("nothing to report: no measurement")
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=_uid(), name=MANUFACTURER, model_name=MANUFACTURER
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.ImagingProcedure,
        imaging_measurements=groups,
    )
    evidence = _evidence(sources, [a.image.path for a, _ in items])
    return hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=_uid(),
        series_number=series_number,
        sop_instance_uid=_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
    )


def _evidence(sources: Mapping[str, Any], paths: Sequence[str]) -> list[Any]:
    seen: dict[str, Any] = {}
    for path in paths:
        seen.setdefault(path, sources[path])
    return list(seen.values())


def presentation_state(
    items: Sequence[tuple[Annotation, Sequence[str]]],
    sources: Mapping[str, Any],
    window: tuple[float, float] | None = None,
    label: str = "MEASUREMENTS",
    series_number: int = 9902,
) -> Any:
    """A GSPS of ``items`` (annotation, its label lines) and ``window`` (centre, width)."""
    hd = _hd()
    layer = hd.pr.GraphicLayer(
        layer_name="MEASUREMENTS", order=1, description="dicom-viewer measurements"
    )
    annotations = []
    for annotation, lines in items:
        source = sources[annotation.image.path]
        graphics = []
        _graphic_type, data = _scoord(annotation)
        if annotation.kind in shapes.SEGMENTS:
            for _kind, line in _scoords(annotation):
                graphics.append(hd.pr.GraphicObject("POLYLINE", line, "PIXEL"))
        elif annotation.kind == shapes.ELLIPSE:
            graphics.append(hd.pr.GraphicObject("ELLIPSE", data, "PIXEL"))
        elif annotation.kind not in (shapes.TEXT, shapes.POINT):
            graphics.append(hd.pr.GraphicObject("POLYLINE", data, "PIXEL"))
        elif annotation.kind == shapes.POINT:
            graphics.append(hd.pr.GraphicObject("POINT", data, "PIXEL"))
        text = annotation.text if annotation.kind in shapes.ANNOTATIONS else " ".join(lines)
        texts = []
        if text:
            at = 0 if annotation.kind == shapes.ARROW else -1  # an arrow's text at its tail
            anchor = annotation.points[at] if annotation.points else (0.0, 0.0)
            texts.append(
                hd.pr.TextObject(
                    text[:1024],
                    "PIXEL",
                    anchor_point=anchor,
                    anchor_point_visible=annotation.kind != shapes.TEXT,
                )
            )
        annotations.append(
            hd.pr.GraphicAnnotation(
                referenced_images=[source],
                graphic_layer=layer,
                referenced_frame_number=_frames(annotation.image, source),
                graphic_objects=graphics or None,
                text_objects=texts or None,
            )
        )
    referenced = _evidence(sources, [a.image.path for a, _ in items])
    voi = None
    if window is not None:
        voi = [hd.pr.SoftcopyVOILUTTransformation(window_center=window[0], window_width=window[1])]
    return hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=referenced,
        series_instance_uid=_uid(),
        series_number=series_number,
        sop_instance_uid=_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MANUFACTURER,
        software_versions=__version__,
        device_serial_number="0",
        content_label=label,
        graphic_annotations=annotations or None,
        graphic_layers=[layer],
        voi_lut_transformations=voi,
    )


def key_object_selection(
    images: Sequence[ImageRef], sources: Mapping[str, Any], series_number: int = 9903
) -> Any:
    """A KO document flagging ``images`` as "Of Interest" (PS3.16 TID 2010, CID 7010)."""
    hd = _hd()
    from pydicom.sr.codedict import codes

    datasets = _evidence(sources, [image.path for image in images])
    content = hd.ko.KeyObjectSelection(
        document_title=codes.DCM.OfInterest,
        referenced_objects=datasets,
        observer_device_context=hd.sr.ObserverContext(
            observer_type=codes.DCM.Device,
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=_uid(), name=MANUFACTURER
            ),
        ),
        description="Key images flagged in dicom-viewer",
    )
    return hd.ko.KeyObjectSelectionDocument(
        evidence=datasets,
        content=content,
        series_instance_uid=_uid(),
        series_number=series_number,
        sop_instance_uid=_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
    )


# --- reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportedValue:
    """One numeric value of an SR: its concept, number, unit, and the image and graphic it
    was inferred from (when the SR says)."""

    name: str
    value: float
    unit: str
    derivation: str = ""
    graphic_type: str = ""
    points: tuple[tuple[float, float], ...] = ()
    sop_instance_uid: str = ""
    frame: int = 0  # 0-based
    #: The Tracking Identifier of the measurement group it is in (TID 1410/1411/1501: "lesion
    #: 1"), "" outside one.
    group: str = ""


@dataclass(frozen=True)
class ReportedGraphic:
    """One graphic or text of a presentation state on one image."""

    sop_instance_uid: str
    frame: int  # 0-based; -1: every frame
    graphic_type: str  # POLYLINE, ELLIPSE, ... or TEXT
    points: tuple[tuple[float, float], ...]
    units: str = "PIXEL"
    text: str = ""
    layer: str = ""


@dataclass
class Report:
    """What a structured report, a presentation state or a key object selection says."""

    kind: str  # "SR", "PR", "KO"
    title: str = ""
    sop_instance_uid: str = ""
    values: list[ReportedValue] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (concept, text)
    graphics: list[ReportedGraphic] = field(default_factory=list)
    references: list[tuple[str, int]] = field(default_factory=list)  # (SOP UID, frame)
    window: tuple[float, float] | None = None  # (centre, width)
    label: str = ""
    #: A presentation state's spatial transformation (PS3.3 C.10.6): the rotation clockwise
    #: in degrees (0, 90, 180, 270), then a horizontal flip.
    flip: bool = False
    rotation: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "sop_instance_uid": self.sop_instance_uid,
            "label": self.label,
            "measurements": [
                {
                    "name": v.name,
                    "value": v.value,
                    "unit": v.unit,
                    "derivation": v.derivation,
                    "graphic_type": v.graphic_type,
                    "points": [list(p) for p in v.points],
                    "sop_instance_uid": v.sop_instance_uid,
                    "frame": v.frame,
                    "group": v.group,
                }
                for v in self.values
            ],
            "texts": [{"name": name, "text": text} for name, text in self.texts],
            "graphics": [
                {
                    "sop_instance_uid": g.sop_instance_uid,
                    "frame": g.frame,
                    "graphic_type": g.graphic_type,
                    "points": [list(p) for p in g.points],
                    "units": g.units,
                    "text": g.text,
                    "layer": g.layer,
                }
                for g in self.graphics
            ],
            "references": [{"sop_instance_uid": uid, "frame": f} for uid, f in self.references],
            "window": list(self.window) if self.window else None,
        }


def _meaning(item: Any, name: str = "ConceptNameCodeSequence") -> str:
    sequence = item.get(name)
    if not sequence:
        return ""
    code = sequence[0]
    return str(code.get("CodeMeaning", "") or code.get("CodeValue", ""))


def _numbers(value: Any) -> list[float]:
    """A DICOM value that may be one number or several, as a list."""
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes, int, float)):
        return [float(value)]
    return [float(v) for v in value]


def _pairs(values: Any) -> tuple[tuple[float, float], ...]:
    flat = [float(v) for v in (values or [])]
    return tuple((flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2))


def _image_ref(item: Any) -> tuple[str, int] | None:
    refs = item.get("ReferencedSOPSequence")
    if not refs:
        return None
    ref = refs[0]
    frames = _numbers(ref.get("ReferencedFrameNumber"))
    frame = int(frames[0]) - 1 if frames else 0
    return (str(ref.get("ReferencedSOPInstanceUID", "")), max(frame, 0))


def _walk(items: Any) -> Iterator[Any]:
    for item in items or []:
        yield item
        yield from _walk(item.get("ContentSequence"))


def _scoord_of(item: Any) -> tuple[str, tuple[tuple[float, float], ...], str, int]:
    """The first SCOORD under ``item`` (or ``item`` itself) and the image it is on."""
    for child in [item, *_walk(item.get("ContentSequence"))]:
        if child.get("ValueType") == "SCOORD":
            ref = next(
                (
                    _image_ref(g)
                    for g in _walk(child.get("ContentSequence"))
                    if g.get("ValueType") == "IMAGE"
                ),
                None,
            )
            uid, frame = ref if ref is not None else ("", 0)
            return str(child.get("GraphicType", "")), _pairs(child.get("GraphicData")), uid, frame
    return "", (), "", 0


def read_report(ds: Any) -> Report:
    """What ``ds`` (an SR, a presentation state or a KO) says; ValueError for other objects."""
    sop_class = str(ds.get("SOPClassUID", ""))
    uid = str(ds.get("SOPInstanceUID", ""))
    if sop_class == KO_CLASS:
        report = Report("KO", _meaning(ds), uid)
        for item in _walk(ds.get("ContentSequence")):
            if item.get("ValueType") == "IMAGE":
                ref = _image_ref(item)
                if ref is not None:
                    report.references.append(ref)
            elif item.get("ValueType") == "TEXT":
                report.texts.append((_meaning(item), str(item.get("TextValue", ""))))
        return report
    if sop_class.startswith(SR_CLASS_PREFIX):
        return _read_sr(ds, uid)
    if "GraphicAnnotationSequence" in ds or sop_class.startswith("1.2.840.10008.5.1.4.1.1.11."):
        return _read_presentation_state(ds, uid)
    raise ValueError("not a structured report, presentation state or key object selection")


def _walk_groups(items: Any, group: str = "") -> Iterator[tuple[Any, str]]:
    """Every content item with the Tracking Identifier of the group it is in (a CONTAINER
    with a TEXT child of that concept names its group, PS3.16 TID 4108)."""
    for item in items or []:
        yield item, group
        children = item.get("ContentSequence") or []
        inner = group
        if item.get("ValueType") == "CONTAINER":
            inner = next(
                (
                    str(c.get("TextValue", ""))
                    for c in children
                    if c.get("ValueType") == "TEXT" and _meaning(c) == "Tracking Identifier"
                ),
                group,
            )
        yield from _walk_groups(children, inner)


def _read_sr(ds: Any, uid: str) -> Report:
    report = Report("SR", _meaning(ds), uid)
    for item, group in _walk_groups(ds.get("ContentSequence")):
        kind = item.get("ValueType")
        if kind == "NUM":
            measured = item.get("MeasuredValueSequence")
            if not measured:
                continue
            number = measured[0]
            unit = _meaning(number, "MeasurementUnitsCodeSequence")
            unit_code = number.get("MeasurementUnitsCodeSequence")
            if unit_code:
                unit = str(unit_code[0].get("CodeValue", unit))
            derivation = next(
                (
                    _meaning(c, "ConceptCodeSequence")
                    for c in item.get("ContentSequence", [])
                    if _meaning(c) == "Derivation"
                ),
                "",
            )
            graphic, points, sop_uid, frame = _scoord_of(item)
            if not graphic:  # a planar ROI: its region is a sibling of the measurement
                graphic, points, sop_uid, frame = _parent_region(ds, item)
            report.values.append(
                ReportedValue(
                    _meaning(item),
                    float(number.NumericValue),
                    unit,
                    derivation,
                    graphic,
                    points,
                    sop_uid,
                    frame,
                    group,
                )
            )
        elif kind == "TEXT":
            report.texts.append((_meaning(item), str(item.get("TextValue", ""))))
        elif kind == "IMAGE":
            ref = _image_ref(item)
            if ref is not None and ref not in report.references:
                report.references.append(ref)
    return report


def _parent_region(ds: Any, target: Any) -> tuple[str, tuple[tuple[float, float], ...], str, int]:
    """The SCOORD beside ``target`` in its group (TID 1410 puts the region there)."""

    def search(items: Any) -> tuple[str, tuple[tuple[float, float], ...], str, int] | None:
        for item in items or []:
            children = item.get("ContentSequence") or []
            if any(child is target for child in children):
                for child in children:
                    if child.get("ValueType") == "SCOORD":
                        return _scoord_of(child)
                return None
            found = search(children)
            if found is not None:
                return found
        return None

    return search(ds.get("ContentSequence")) or ("", (), "", 0)


def _read_presentation_state(ds: Any, uid: str) -> Report:
    report = Report("PR", str(ds.get("ContentDescription", "") or ""), uid)
    report.label = str(ds.get("ContentLabel", "") or "")
    for series in ds.get("ReferencedSeriesSequence", []) or []:
        for image in series.get("ReferencedImageSequence", []) or []:
            report.references.append((str(image.ReferencedSOPInstanceUID), 0))
    for annotation in ds.get("GraphicAnnotationSequence", []) or []:
        layer = str(annotation.get("GraphicLayer", "") or "")
        targets = []
        for image in annotation.get("ReferencedImageSequence", []) or []:
            numbers = [int(f) for f in _numbers(image.get("ReferencedFrameNumber"))]
            for frame in numbers or [0]:
                targets.append((str(image.ReferencedSOPInstanceUID), frame - 1 if numbers else -1))
        for graphic in annotation.get("GraphicObjectSequence", []) or []:
            for sop_uid, frame in targets:
                report.graphics.append(
                    ReportedGraphic(
                        sop_uid,
                        frame,
                        str(graphic.get("GraphicType", "")),
                        _pairs(graphic.get("GraphicData")),
                        str(graphic.get("GraphicAnnotationUnits", "PIXEL")),
                        "",
                        layer,
                    )
                )
        for text in annotation.get("TextObjectSequence", []) or []:
            anchor = text.get("AnchorPoint")
            box = text.get("BoundingBoxTopLeftHandCorner")
            point = _pairs(anchor) if anchor is not None else _pairs(box)
            units = text.get("AnchorPointAnnotationUnits") or text.get(
                "BoundingBoxAnnotationUnits", "PIXEL"
            )
            for sop_uid, frame in targets:
                report.graphics.append(
                    ReportedGraphic(
                        sop_uid,
                        frame,
                        "TEXT",
                        point,
                        str(units),
                        str(text.get("UnformattedTextValue", "")),
                        layer,
                    )
                )
    window = _first_window(ds)
    if window is not None:
        report.window = window
    report.flip = str(ds.get("ImageHorizontalFlip", "") or "").upper() == "Y"
    rotation = int(ds.get("ImageRotation", 0) or 0)
    report.rotation = rotation % 360 if rotation % 90 == 0 else 0
    return report


def _first_window(ds: Any) -> tuple[float, float] | None:
    for item in ds.get("SoftcopyVOILUTSequence", []) or []:
        centres, widths = _numbers(item.get("WindowCenter")), _numbers(item.get("WindowWidth"))
        if not centres or not widths:
            continue
        centre, width = centres[0], widths[0]
        if math.isfinite(float(centre)) and float(width) > 0:
            return (float(centre), float(width))
    return None


def annotations_from_report(report: Report, image_of: Mapping[str, ImageRef]) -> list[Annotation]:
    """The graphics of a presentation state (PIXEL units) and the SCOORDs of an SR as
    annotations on the images ``image_of`` knows (SOP Instance UID -> image)."""
    found: list[Annotation] = []
    for graphic in report.graphics:
        image = image_of.get(graphic.sop_instance_uid)
        if image is None or graphic.units != "PIXEL" or not graphic.points:
            continue
        frame = graphic.frame if graphic.frame >= 0 else image.frame
        ref = ImageRef(
            image.path,
            frame,
            graphic.sop_instance_uid,
            image.sop_class_uid,
            image.series_uid,
            image.study_uid,
            image.frame_of_reference_uid,
        )
        annotation = _from_graphic(graphic.graphic_type, graphic.points, ref, graphic.text)
        if annotation is not None:
            found.append(annotation)
    seen: set[tuple[str, tuple[tuple[float, float], ...]]] = set()
    for value in report.values:
        image = image_of.get(value.sop_instance_uid)
        if image is None or not value.points or (value.graphic_type, value.points) in seen:
            continue
        seen.add((value.graphic_type, value.points))
        ref = ImageRef(
            image.path,
            value.frame,
            value.sop_instance_uid,
            image.sop_class_uid,
            image.series_uid,
            image.study_uid,
            image.frame_of_reference_uid,
        )
        annotation = _from_graphic(value.graphic_type, value.points, ref, "")
        if annotation is not None:
            found.append(annotation)
    return found


def _from_graphic(
    graphic_type: str, points: tuple[tuple[float, float], ...], image: ImageRef, text: str
) -> Annotation | None:
    if graphic_type == "TEXT":
        return Annotation(shapes.TEXT, points[:1] or ((0.0, 0.0),), image, text=text)
    if graphic_type == "POINT":
        return Annotation(shapes.POINT, points[:1], image)
    if graphic_type == "ELLIPSE" and len(points) >= 4:
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = points[:4]
        centre = ((ax + bx) / 2, (ay + by) / 2)
        rx = max(abs(bx - ax), abs(dx - cx)) / 2
        ry = max(abs(by - ay), abs(dy - cy)) / 2
        corners = ((centre[0] - rx, centre[1] - ry), (centre[0] + rx, centre[1] + ry))
        return Annotation(shapes.ELLIPSE, corners, image)
    if graphic_type == "CIRCLE" and len(points) >= 2:
        (cx, cy), (ex, ey) = points[:2]
        r = math.hypot(ex - cx, ey - cy)
        return Annotation(shapes.ELLIPSE, ((cx - r, cy - r), (cx + r, cy + r)), image)
    if graphic_type in ("POLYLINE", "POLYGON", "INTERPOLATED", "MULTIPOINT") and points:
        closed = len(points) > 3 and points[0] == points[-1]
        if closed:
            return Annotation(shapes.POLYGON, points[:-1], image)
        if len(points) == 2:
            return Annotation(shapes.LENGTH, points, image)
        if len(points) == 3:
            return Annotation(shapes.ANGLE, points, image)
        return Annotation(shapes.POLYGON, points, image)
    return None
