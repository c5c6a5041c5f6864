"""Synchronised scrolling and reference lines between stacks in one Frame of Reference."""

from __future__ import annotations

import pytest

from viewer.model.cross_reference import nearest_slice, reference_segment

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


def axial_positions(z0: float, step: float, count: int) -> list[tuple[float, float, float]]:
    return [(-100.0, -100.0, z0 + k * step) for k in range(count)]


def test_nearest_parallel_slice_by_position() -> None:
    thin = axial_positions(0.0, 1.25, 80)  # 0 .. 98.75 mm
    point = (10.0, 20.0, 50.2)
    assert nearest_slice(thin, AXIAL, point, AXIAL) == 40  # z = 50.0
    thick = axial_positions(0.0, 5.0, 20)
    assert nearest_slice(thick, AXIAL, point, AXIAL) == 10


def test_no_sync_across_planes_or_far_outside() -> None:
    positions = axial_positions(0.0, 5.0, 20)
    assert nearest_slice(positions, AXIAL, (0.0, 0.0, 50.0), SAGITTAL) is None
    assert nearest_slice(positions, AXIAL, (0.0, 0.0, 200.0), AXIAL) is None


def test_axial_slice_cuts_a_sagittal_image_horizontally() -> None:
    # Sagittal image: 256 x 256, 1 mm pixels, top-left at y=-128 (anterior), z=+128 (head).
    segment = reference_segment(
        plane_point=(0.0, 0.0, 28.0),
        plane_orientation=AXIAL,
        image_position=(0.0, -128.0, 128.0),
        image_orientation=SAGITTAL,
        pixel_spacing=(1.0, 1.0),
        size=(256, 256),
    )
    assert segment is not None
    (c0, r0), (c1, r1) = segment
    assert r0 == pytest.approx(100.0) and r1 == pytest.approx(100.0)  # z=28 is 100 rows down
    assert sorted((c0, c1)) == pytest.approx([-0.5, 255.5])  # across the whole image


def test_no_line_for_parallel_or_missing_planes() -> None:
    common = {"image_orientation": AXIAL, "pixel_spacing": (1.0, 1.0), "size": (64, 64)}
    assert reference_segment((0, 0, 5), AXIAL, (0, 0, 0), **common) is None  # type: ignore[arg-type]
    # A coronal plane in front of an axial image's field of view misses it.
    assert reference_segment((0, 500, 0), CORONAL, (0, 0, 0), **common) is None  # type: ignore[arg-type]
