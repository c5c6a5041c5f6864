"""SR (TID 1500), GSPS and KO written with highdicom from real files' measurements, validated
by DCMTK (dsrdump, dcmpschk, dcmdump) and read back with highdicom and by our reader; a GSPS
written by "another system" (highdicom directly, with its own choices) read as annotations."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from viewer.dicom.pixels.reading import read_frame
from viewer.model.annotations import dicom_objects, shapes
from viewer.model.annotations.calibration import read_calibration
from viewer.model.annotations.measure import measure
from viewer.model.annotations.shapes import Annotation, ImageRef

CT_SMALL = str(get_testdata_file("CT_small.dcm"))


def dcmtk(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(tool) is None:
        pytest.skip("DCMTK is not installed (./dev test installs it)")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def ct() -> tuple[pydicom.Dataset, ImageRef, list[tuple[Annotation, object]]]:
    header = pydicom.dcmread(CT_SMALL, stop_before_pixels=True)
    image = ImageRef(CT_SMALL, 0, str(header.SOPInstanceUID))
    frame = read_frame(CT_SMALL)
    calibration = read_calibration(header)
    drawn = [
        Annotation(shapes.LENGTH, ((10.5, 20.5), (40.5, 60.5)), image),
        Annotation(shapes.ELLIPSE, ((30.0, 40.0), (90.0, 80.0)), image),
        Annotation(shapes.RECTANGLE, ((5.0, 5.0), (20.0, 25.0)), image),
        Annotation(shapes.POLYGON, ((60.0, 60.0), (100.0, 62.0), (80.0, 100.0)), image),
        Annotation(shapes.ANGLE, ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0)), image),
        Annotation(shapes.POINT, ((64.5, 64.5),), image),
        Annotation(shapes.ARROW, ((100.0, 100.0), (110.0, 90.0)), image),
        Annotation(shapes.TEXT, ((5.0, 100.0),), image, text="Note"),
        Annotation(shapes.COBB, ((10.0, 10.0), (50.0, 20.0), (10.0, 80.0), (50.0, 60.0)), image),
        Annotation(shapes.BIDIRECTIONAL, shapes.bidirectional_axes(((20, 30), (60, 50))), image),
        Annotation(
            shapes.FREEHAND, ((70.0, 10.0), (90.0, 12.0), (95.0, 30.0), (75.0, 35.0)), image
        ),
    ]
    return header, image, [(a, measure(a, calibration, frame, "CT")) for a in drawn]


def test_measurement_report_passes_dsrdump_and_reads_back(ct, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header, image, items = ct
    path = tmp_path / "sr.dcm"
    dicom_objects.measurement_report(items, {CT_SMALL: header}, "CT").save_as(path)
    run = dcmtk("dsrdump", "-Ee", str(path))  # -Ee: check the encoding and report errors
    assert run.returncode == 0, run.stderr
    assert "E:" not in run.stderr, run.stderr
    assert '"Imaging Measurement Report"' in run.stdout
    assert 'NUM:(,,"Length")' in run.stdout and "(POLYLINE," in run.stdout
    assert "(ELLIPSE," in run.stdout and '(373098007,SCT,"Mean")' in run.stdout
    dump = dcmtk("dcmdump", "-E", str(path))
    assert dump.returncode == 0 and "E:" not in dump.stderr, dump.stderr

    import highdicom

    sr = highdicom.sr.srread(path)
    groups = sr.content.get_planar_roi_measurement_groups()
    assert len(groups) == 4  # ellipse, rectangle, polygon, freehand
    ellipse = next(g for g in groups if g.roi.graphic_type.value == "ELLIPSE")
    _, ellipse_measured = items[1]
    names = {
        (m.name.meaning, m.derivation.meaning if m.derivation else ""): m.value
        for m in ellipse.get_measurements()
    }
    assert names[("Attenuation Coefficient", "Mean")] == pytest.approx(ellipse_measured.stats.mean)
    assert names[("Area", "")] == pytest.approx(ellipse_measured.values["area"])

    report = dicom_objects.read_report(pydicom.dcmread(path))
    lengths = [v for v in report.values if v.name == "Length"]
    assert lengths[0].value == pytest.approx(items[0][1].values["length"])
    assert lengths[0].sop_instance_uid == image.sop_instance_uid
    assert lengths[0].points == ((10.5, 20.5), (40.5, 60.5))
    assert lengths[0].group == "length 1"  # its group's Tracking Identifier
    assert all(v.group for v in report.values)
    assert {v.name for v in report.values} >= {"Angle", "Area", "Perimeter", "Length"}
    by_name = {v.name: v for v in report.values}
    cobb, bidirectional = items[8][1], items[9][1]
    assert by_name["Cobb angle"].value == pytest.approx(cobb.values["angle"])
    assert by_name["Long axis"].value == pytest.approx(bidirectional.values["long"])
    assert by_name["Short axis"].value == pytest.approx(bidirectional.values["short"])
    assert by_name["Long axis"].points == ((20.0, 30.0), (60.0, 50.0))
    assert len(by_name["Short axis"].points) == 2
    assert 'NUM:(,,"Cobb angle")' in run.stdout and 'NUM:(,,"Long axis")' in run.stdout


def test_presentation_state_passes_dcmpschk_and_keeps_graphics_and_window(
    ct, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    header, image, items = ct
    path = tmp_path / "pr.dcm"
    state = dicom_objects.presentation_state(
        [(a, m.lines) for a, m in items], {CT_SMALL: header}, window=(40.0, 400.0)
    )
    state.save_as(path)
    run = dcmtk("dcmpschk", str(path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Test passed" in run.stdout + run.stderr
    report = dicom_objects.read_report(pydicom.dcmread(path))
    assert report.kind == "PR" and report.window == (40.0, 400.0)
    kinds = [g.graphic_type for g in report.graphics]
    assert kinds.count("ELLIPSE") == 1 and "TEXT" in kinds
    assert any(g.text == "Note" for g in report.graphics)
    back = dicom_objects.annotations_from_report(report, {image.sop_instance_uid: image})
    ellipse = next(a for a in back if a.kind == shapes.ELLIPSE)
    assert np.allclose(ellipse.points, items[1][0].points)
    assert any(a.kind == shapes.LENGTH and a.points == items[0][0].points for a in back)


def test_key_object_selection_references_the_key_image(ct, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header, image, _ = ct
    path = tmp_path / "ko.dcm"
    dicom_objects.key_object_selection([image], {CT_SMALL: header}).save_as(path)
    run = dcmtk("dsrdump", "-Ee", str(path))
    assert run.returncode == 0 and "E:" not in run.stderr, run.stderr
    assert "Key Object Selection Document" in run.stdout
    report = dicom_objects.read_report(pydicom.dcmread(path))
    assert report.kind == "KO" and report.title == "Of Interest"
    assert report.references == [(image.sop_instance_uid, 0)]


def test_a_gsps_from_another_system_becomes_annotations(tmp_path: Path) -> None:
    """Written with highdicom directly: a circle, a closed polyline, a text box, a window."""
    import highdicom as hd

    source = pydicom.dcmread(CT_SMALL)
    layer = hd.pr.GraphicLayer(layer_name="OTHER", order=1)
    annotation = hd.pr.GraphicAnnotation(
        referenced_images=[source],
        graphic_layer=layer,
        graphic_objects=[
            hd.pr.GraphicObject("CIRCLE", np.array([[50.0, 50.0], [60.0, 50.0]]), "PIXEL"),
            hd.pr.GraphicObject(
                "POLYLINE",
                np.array([[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 10.0]]),
                "PIXEL",
            ),
        ],
        text_objects=[hd.pr.TextObject("lesion", "PIXEL", bounding_box=(70, 70, 110, 80))],
    )
    state = hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=[source],
        series_instance_uid=hd.UID(),
        series_number=77,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="Other PACS",
        manufacturer_model_name="X",
        software_versions="1",
        device_serial_number="1",
        content_label="OTHER",
        graphic_annotations=[annotation],
        graphic_layers=[layer],
        voi_lut_transformations=[
            hd.pr.SoftcopyVOILUTTransformation(window_center=-600, window_width=1500)
        ],
    )
    assert dicom_objects.read_report(state).rotation == 0  # highdicom writes none
    state.ImageRotation, state.ImageHorizontalFlip = 270, "Y"  # PS3.3 C.10.6
    path = tmp_path / "other.dcm"
    state.save_as(path)
    report = dicom_objects.read_report(pydicom.dcmread(path))
    assert report.window == (-600.0, 1500.0) and report.label == "OTHER"
    assert (report.rotation, report.flip) == (270, True)
    image = ImageRef(CT_SMALL, 0, str(source.SOPInstanceUID))
    back = dicom_objects.annotations_from_report(report, {image.sop_instance_uid: image})
    kinds = sorted(a.kind for a in back)
    assert kinds == ["ellipse", "polygon", "text"]
    circle = next(a for a in back if a.kind == shapes.ELLIPSE)
    assert circle.points == ((40.0, 40.0), (60.0, 60.0))
    assert next(a for a in back if a.kind == shapes.TEXT).text == "lesion"


def test_study_objects_are_written_per_study_and_never_beside_the_sources(
    tmp_path: Path,
) -> None:
    from viewer.model.annotations.export import ExportRefused, write_study_objects

    image = ImageRef(CT_SMALL, 0)
    drawn = [
        Annotation(shapes.ELLIPSE, ((30.0, 40.0), (90.0, 80.0)), image),
        Annotation(shapes.TEXT, ((5.0, 100.0),), image, text="Note"),
        Annotation(shapes.COBB, ((10.0, 10.0), (50.0, 20.0), (10.0, 80.0), (50.0, 60.0)), image),
        Annotation(shapes.BIDIRECTIONAL, shapes.bidirectional_axes(((20, 30), (60, 50))), image),
        Annotation(
            shapes.FREEHAND, ((70.0, 10.0), (90.0, 12.0), (95.0, 30.0), (75.0, 35.0)), image
        ),
    ]
    paths = write_study_objects(drawn, [image], tmp_path / "out", window=(40.0, 400.0))
    kinds = sorted(Path(p).name.split("_")[0] for p in paths)
    assert kinds == ["KO", "PR", "SR"]
    for path in paths:
        assert dicom_objects.read_report(pydicom.dcmread(path)).kind in ("SR", "PR", "KO")
    with pytest.raises(ExportRefused, match="holds source images"):
        write_study_objects(drawn, [], Path(CT_SMALL).parent)
