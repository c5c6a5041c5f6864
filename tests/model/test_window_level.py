"""Window/level from drags and from a region's values (PS3.3 C.11.2.1.2)."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.model.window_level import Voi, drag, drag_sensitivity, region_voi


def test_drag_directions_as_in_weasis_and_slicer() -> None:
    voi = Voi.from_center_width(40, 400)
    sensitivity = drag_sensitivity(4000)
    down = drag(voi, 0, 50, sensitivity)
    assert down.center < voi.center and down.width == pytest.approx(400)  # brighter
    right = drag(voi, 50, 0, sensitivity)
    assert right.width > voi.width and right.center == pytest.approx(40)
    inverted = drag(voi, 0, 50, sensitivity, invert_y=True)
    assert inverted.center > voi.center


def test_region_window_spans_its_values() -> None:
    values = np.array([[-1010.0, -990.0], [-1000.0, -950.0]])
    voi = region_voi(values)
    assert voi is not None and (voi.lower, voi.upper) == (-1010.0, -950.0)


def test_flat_or_empty_region() -> None:
    flat = region_voi(np.full((3, 3), 7, dtype=np.int16))
    assert flat is not None and flat.lower < 7 < flat.upper
    assert region_voi(np.array([np.nan, np.nan])) is None
    assert region_voi(np.zeros((0, 0))) is None
