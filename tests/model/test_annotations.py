"""Measurements against known geometry and numpy on real files; calibration as each header
states it; the store's undo/redo. Pixel centres sit at (c + 0.5, r + 0.5) in annotation
coordinates (PS3.3 C.18.6.1.1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from viewer.dicom.pixels.reading import read_frame
from viewer.model.annotations import shapes
from viewer.model.annotations.calibration import (
    CALIBRATED,
    DETECTOR,
    MAGNIFICATION,
    PIXEL_SPACING,
    ULTRASOUND,
    UNCALIBRATED,
    Calibration,
    read_calibration,
)
from viewer.model.annotations.measure import _stats, measure, region_mask, region_values
from viewer.model.annotations.shapes import Annotation, ImageRef
from viewer.model.annotations.store import AnnotationStore

CT_SMALL = str(get_testdata_file("CT_small.dcm"))
CT_MM = 0.661468
CT_CAL = Calibration(PIXEL_SPACING, (CT_MM, CT_MM), "")
IMAGE = ImageRef(CT_SMALL, 0)


def ann(kind: str, *points: tuple[float, float]) -> Annotation:
    return Annotation(kind, tuple(points), IMAGE)


def brute_inside(kind: str, points: tuple, shape: tuple[int, int]) -> np.ndarray:
    """Which pixel centres are inside, one pixel at a time (the oracle)."""
    rows, columns = shape
    inside = np.zeros(shape, dtype=bool)
    for r in range(rows):
        for c in range(columns):
            x, y = c + 0.5, r + 0.5
            if kind == shapes.ELLIPSE:
                cx, cy, rx, ry = shapes.ellipse_axes(points)
                inside[r, c] = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
            elif kind == shapes.RECTANGLE:
                left, top, right, bottom = shapes.box(points)
                inside[r, c] = left <= x <= right and top <= y <= bottom
            else:
                crossings = 0
                for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
                    spans = (y0 <= y < y1) or (y1 <= y < y0)
                    if spans and x0 + (y - y0) * (x1 - x0) / (y1 - y0) >= x:
                        crossings += 1
                inside[r, c] = crossings % 2 == 1
    return inside


def full_mask(annotation: Annotation, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    found = region_mask(annotation, shape)
    if found is not None:
        (r0, c0, r1, c1), part = found
        mask[r0:r1, c0:c1] = part
    return mask


def test_length_on_ct_small_is_pixels_times_pixel_spacing() -> None:
    m = measure(ann(shapes.LENGTH, (10.5, 20.5), (40.5, 60.5)), CT_CAL)
    assert m.values["length"] == pytest.approx(50 * CT_MM)  # a 30-40-50 triangle
    assert m.lines == [f"{50 * CT_MM:.1f} mm"]


def test_angle_of_a_right_angle_and_of_a_known_triangle() -> None:
    right = measure(ann(shapes.ANGLE, (10, 10), (10, 50), (60, 50)), CT_CAL)
    assert right.values["angle"] == pytest.approx(90.0)
    sixty = measure(ann(shapes.ANGLE, (0, 0), (10, 0), (5, 0 + 5 * math.sqrt(3))), CT_CAL)
    assert sixty.values["angle"] == pytest.approx(60.0)


def test_ellipse_statistics_in_hu_match_numpy_on_ct_small() -> None:
    frame = read_frame(CT_SMALL)
    hu = frame.stored.astype(np.float64) * 1 - 1024  # Rescale Slope 1, Intercept -1024
    annotation = ann(shapes.ELLIPSE, (30.0, 40.0), (90.0, 80.0))
    m = measure(annotation, CT_CAL, frame, "CT")
    oracle = brute_inside(shapes.ELLIPSE, annotation.points, hu.shape)
    values = hu[oracle]
    stats = m.stats
    assert stats is not None
    assert stats.count == oracle.sum()
    assert stats.mean == pytest.approx(values.mean())
    assert stats.sd == pytest.approx(values.std())
    assert (stats.min, stats.max, stats.median) == pytest.approx(
        (values.min(), values.max(), np.median(values))
    )
    assert m.value_unit == "HU"
    assert m.values["area"] == pytest.approx(math.pi * 30 * 20 * CT_MM**2)
    assert m.lines[0].startswith("Mean") and "HU" in m.lines[0]


@pytest.mark.parametrize("seed", range(6))
def test_region_masks_match_the_pixel_centre_rule(seed: int) -> None:
    """Fixed-seed random ellipses, rectangles and polygons (some crossing the edge)."""
    rng = np.random.default_rng(seed)
    shape = (37, 29)
    for kind in (shapes.ELLIPSE, shapes.RECTANGLE, shapes.POLYGON):
        count = 2 if kind != shapes.POLYGON else int(rng.integers(3, 9))
        points = tuple((float(x), float(y)) for x, y in rng.uniform(-5, 40, size=(count, 2)))
        annotation = ann(kind, *points)
        if kind == shapes.ELLIPSE and min(shapes.ellipse_axes(points)[2:]) <= 0:
            continue
        np.testing.assert_array_equal(
            full_mask(annotation, shape), brute_inside(kind, points, shape), err_msg=kind
        )


@pytest.mark.parametrize("seed", range(6))
def test_region_values_are_the_pixels_inside_in_row_order(seed: int) -> None:
    """The gathered values (row spans for ellipses, no mask) are the pixel-centre rule's
    pixels, row by row, for fixed-seed shapes, some crossing the edge, some pixel-centred."""
    rng = np.random.default_rng(seed)
    shape = (37, 29)
    stored = rng.integers(0, 4096, size=shape).astype(np.uint16)
    for kind in (shapes.ELLIPSE, shapes.RECTANGLE, shapes.POLYGON, shapes.ELLIPSE):
        count = 2 if kind != shapes.POLYGON else int(rng.integers(3, 9))
        points = tuple((float(x), float(y)) for x, y in rng.uniform(-5, 40, size=(count, 2)))
        if seed % 2 and kind != shapes.POLYGON:  # ties: ends exactly on pixel centres
            points = tuple((round(x) + 0.5, round(y) + 0.5) for x, y in points)
        annotation = ann(kind, *points)
        if kind == shapes.ELLIPSE and min(shapes.ellipse_axes(points)[2:]) <= 0:
            continue
        inside = brute_inside(kind, points, shape)
        got = region_values(annotation, stored)
        expected = stored[inside]
        if got is None:
            assert expected.size == 0
        else:
            np.testing.assert_array_equal(got, expected, err_msg=kind)


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint8, np.float32])
@pytest.mark.parametrize("count", [1, 2, 7, 1000, 1001])
def test_statistics_match_numpy(dtype: type, count: int) -> None:
    rng = np.random.default_rng(count)
    values = rng.integers(-2000 if dtype is np.int16 else 0, 4000, size=count).astype(dtype)
    stats = _stats(values.copy(), 0.5, -100.0)
    mapped = values.astype(np.float64) * 0.5 - 100.0
    assert stats.count == count
    assert stats.mean == pytest.approx(mapped.mean(), rel=1e-12, abs=1e-9)
    assert stats.sd == pytest.approx(mapped.std(), rel=1e-9, abs=1e-9)
    assert (stats.min, stats.max) == (mapped.min(), mapped.max())
    assert stats.median == pytest.approx(np.median(mapped), rel=1e-12)


def test_rectangle_area_perimeter_and_count() -> None:
    frame = read_frame(CT_SMALL)
    m = measure(ann(shapes.RECTANGLE, (10.0, 10.0), (30.0, 20.0)), CT_CAL, frame, "CT")
    assert m.stats is not None and m.stats.count == 20 * 10
    assert m.values["area"] == pytest.approx(200 * CT_MM**2)
    assert m.values["perimeter"] == pytest.approx(60 * CT_MM)
    hu = frame.stored[10:20, 10:30].astype(float) - 1024
    assert m.stats.mean == pytest.approx(hu.mean())


def test_polygon_area_is_the_shoelace_and_probe_reads_one_pixel() -> None:
    frame = read_frame(CT_SMALL)
    triangle = measure(ann(shapes.POLYGON, (0, 0), (40, 0), (0, 30)), CT_CAL, frame, "CT")
    assert triangle.values["area"] == pytest.approx(600 * CT_MM**2)
    assert triangle.values["perimeter"] == pytest.approx(120 * CT_MM)
    probe = measure(ann(shapes.POINT, (64.7, 70.2)), CT_CAL, frame, "CT")
    assert probe.values["value"] == float(frame.stored[70, 64]) - 1024


def test_ellipse_perimeter_of_a_circle() -> None:
    m = measure(ann(shapes.ELLIPSE, (0, 0), (20, 20)), Calibration())
    assert m.values["perimeter"] == pytest.approx(2 * math.pi * 10)
    assert m.scale.unit == "px" and "px" in m.lines[-1]


# --- calibration ------------------------------------------------------------------------
def header(**values: object) -> Dataset:
    ds = Dataset()
    for name, value in values.items():
        setattr(ds, name, value)
    return ds


def test_ct_pixel_spacing_is_the_patient_plane() -> None:
    import pydicom

    calibration = read_calibration(pydicom.dcmread(CT_SMALL, stop_before_pixels=True))
    assert (calibration.kind, calibration.spacing) == (PIXEL_SPACING, (CT_MM, CT_MM))
    assert calibration.scale([(0, 0)]).note == ""


def test_radiograph_with_magnification_factor_is_corrected_and_says_so() -> None:
    cr = header(
        Modality="CR", ImagerPixelSpacing=[0.2, 0.2], EstimatedRadiographicMagnificationFactor=1.25
    )
    calibration = read_calibration(cr)
    assert calibration.kind == MAGNIFICATION
    assert calibration.spacing == pytest.approx((0.16, 0.16))
    m = measure(ann(shapes.LENGTH, (0, 0), (100, 0)), calibration)
    assert m.values["length"] == pytest.approx(16.0)
    assert "×1.25" in m.lines[0]


def test_radiograph_without_factor_is_at_detector() -> None:
    dx = header(Modality="DX", ImagerPixelSpacing=[0.143, 0.143])
    calibration = read_calibration(dx)
    assert (calibration.kind, calibration.note) == (DETECTOR, "at detector")
    assert "at detector" in measure(ann(shapes.LENGTH, (0, 0), (10, 0)), calibration).lines[0]
    same = header(Modality="DX", ImagerPixelSpacing=[0.143, 0.143], PixelSpacing=[0.143, 0.143])
    assert read_calibration(same).kind == DETECTOR
    calibrated = header(
        Modality="DX",
        ImagerPixelSpacing=[0.143, 0.143],
        PixelSpacing=[0.1, 0.1],
        PixelSpacingCalibrationType="GEOMETRY",
    )
    assert read_calibration(calibrated).kind == CALIBRATED
    assert read_calibration(calibrated).spacing == (0.1, 0.1)


def test_ultrasound_regions_calibrate_only_inside_one_region() -> None:
    import pydicom

    ds = pydicom.dcmread(get_testdata_file("OBXXXX1A.dcm"), stop_before_pixels=True)
    calibration = read_calibration(ds)
    assert calibration.kind == ULTRASOUND
    area = calibration.areas[0]
    inside = ((area.x0 + 10.0, area.y0 + 10.0), (area.x0 + 60.0, area.y0 + 10.0))
    m = measure(ann(shapes.LENGTH, *inside), calibration)
    assert m.values["length"] == pytest.approx(50 * area.spacing[1])
    assert "US region 1" in m.lines[0]
    outside = ((area.x0 + 10.0, area.y0 + 10.0), (area.x1 + 50.0, area.y1 + 50.0))
    assert measure(ann(shapes.LENGTH, *outside), calibration).scale.unit == "px"


def test_two_regions_each_with_its_own_spacing() -> None:
    def region(x0: int, x1: int, delta: float) -> Dataset:
        return header(
            RegionLocationMinX0=x0,
            RegionLocationMinY0=0,
            RegionLocationMaxX1=x1,
            RegionLocationMaxY1=99,
            PhysicalUnitsXDirection=3,
            PhysicalUnitsYDirection=3,
            PhysicalDeltaX=delta,
            PhysicalDeltaY=delta,
        )

    us = header(
        Modality="US",
        SequenceOfUltrasoundRegions=DicomSequence([region(0, 99, 0.01), region(100, 199, 0.02)]),
    )
    calibration = read_calibration(us)
    left = measure(ann(shapes.LENGTH, (10, 10), (20, 10)), calibration)
    right = measure(ann(shapes.LENGTH, (110, 10), (120, 10)), calibration)
    assert left.values["length"] == pytest.approx(1.0)  # 10 px x 0.1 mm
    assert right.values["length"] == pytest.approx(2.0)
    assert measure(ann(shapes.LENGTH, (90, 10), (110, 10)), calibration).scale.unit == "px"


def test_secondary_capture_without_spacing_measures_pixels() -> None:
    sc = header(Modality="OT")
    calibration = read_calibration(sc)
    assert calibration.kind == UNCALIBRATED
    m = measure(ann(shapes.LENGTH, (0, 0), (3, 4)), calibration)
    assert m.values["length"] == 5 and m.lines == ["5.00 px"]


# --- the store ----------------------------------------------------------------------------
def test_unload_takes_loaded_annotations_away_for_good() -> None:
    """Another presentation state chosen: its graphics leave, and no undo brings them back."""
    store = AnnotationStore()
    mine = ann(shapes.LENGTH, (0, 0), (10, 0))
    theirs = ann(shapes.TEXT, (5, 5))
    store.add(mine)
    store.load([theirs])
    store.update(theirs.moved(1, 1))  # the user moved it: an undo step
    store.selected = theirs.id
    seen: list[tuple[str, ...]] = []
    store.changed.connect(seen.append)
    store.unload([theirs.id, "not there"])
    assert list(store) == [mine] and store.selected == "" and seen == [(theirs.id,)]
    assert store.undo() and len(store) == 0  # the add of ``mine``; the move is gone
    assert not store.undo()


def test_undo_redo_of_add_move_and_delete() -> None:
    store = AnnotationStore()
    seen: list[tuple[str, ...]] = []
    store.changed.connect(seen.append)
    line = ann(shapes.LENGTH, (0, 0), (10, 0))
    store.add(line)
    moved = line.moved(5, 5)
    for step in (1, 2, 3):  # a drag shows live values, then ends as one step
        store.show_live(line.moved(step, step))
    store.update(moved, before=line)
    store.remove(line.id)
    assert len(store) == 0
    assert store.undo() and store.get(line.id) == moved
    assert store.undo() and store.get(line.id) == line
    assert store.undo() and len(store) == 0
    assert not store.undo()
    assert store.redo() and store.redo() and store.get(line.id) == moved
    assert store.redo() and len(store) == 0 and not store.redo()
    assert all(ids == (line.id,) for ids in seen)
    assert store.on_frame(IMAGE.key) == []
