"""Frame -> display: file windows, auto window, reduction of big frames, header facts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.dicom.pixels.decode import DecodedFrame, LookupTable, PixelTransform, Window
from viewer.dicom.pixels.reading import read_frame
from viewer.model.presentation import (
    Region,
    auto_voi,
    file_voi,
    file_voi_lut,
    present,
    read_display_facts,
    reduce_for_display,
    voi_lut_range,
)
from viewer.model.window_level import Voi


def ct_frame(stored: np.ndarray) -> DecodedFrame:
    transform = PixelTransform(
        rescale_intercept=-1024.0,
        windows=(Window(40, 400, "SOFT"), Window(-600, 1500, "LUNG")),
    )
    return DecodedFrame(stored, transform)


def test_file_windows_by_number() -> None:
    frame = ct_frame(np.zeros((4, 4), np.uint16))
    first, second = file_voi(frame, 1), file_voi(frame, 2)
    assert first is not None and (first.width, first.center) == (400, 40)
    assert second is not None and (second.width, second.center) == (1500, -600)
    assert file_voi(frame, 3) is None and file_voi(frame, 0) is None


def test_auto_window_ignores_outliers_and_padding() -> None:
    rng = np.random.default_rng(1)
    stored = rng.integers(900, 1200, (256, 256)).astype(np.uint16)  # -124..176 HU
    stored[0, :10] = 4000  # a few metal pixels
    voi = auto_voi(ct_frame(stored))
    assert -130 < voi.lower < -110 and 160 < voi.upper < 180
    padded = DecodedFrame(
        np.where(np.arange(256)[:, None] < 128, 0, stored).astype(np.uint16),
        PixelTransform(rescale_intercept=-1024.0, padding_value=0),
    )
    assert auto_voi(padded).lower > -130  # the padding (-1024 HU) is not in the window


def test_reduction_averages_blocks_and_keeps_the_grey_levels() -> None:
    stored = np.arange(36, dtype=np.uint16).reshape(6, 6)
    reduced = reduce_for_display(ct_frame(stored), Region(0, 0, 6, 6, stride=2))
    assert reduced.stored.shape == (3, 3)
    assert reduced.stored[0, 0] == pytest.approx((0 + 1 + 6 + 7) / 4)
    crop = reduce_for_display(ct_frame(stored), Region(2, 3, 5, 6))
    assert np.array_equal(crop.stored, stored[2:5, 3:6])
    # The same window on the full and the reduced frame gives the same greys for flat areas.
    flat = np.full((8, 8), 1064, np.uint16)  # 40 HU
    window = Voi.from_center_width(40, 400)
    small = present(reduce_for_display(ct_frame(flat), Region(0, 0, 8, 8, 4)), window, False)
    assert small.shape == (2, 2) and np.all(small == present(ct_frame(flat), window, False)[0, 0])


def test_reduction_decimates_where_averaging_would_lie() -> None:
    stored = np.arange(16, dtype=np.int16).reshape(4, 4)
    padded = DecodedFrame(stored, PixelTransform(padding_value=0))
    assert np.array_equal(reduce_for_display(padded, Region(0, 0, 4, 4, 2)).stored,
                          stored[::2, ::2])  # fmt: skip


def test_colour_reduction_stays_rgb() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    reduced = reduce_for_display(DecodedFrame(rgb, PixelTransform("RGB", 3, 8, 8)),
                                 Region(0, 0, 4, 4, 2))  # fmt: skip
    assert reduced.stored.dtype == np.uint8 and reduced.stored.shape == (2, 2, 3)
    assert reduced.stored[0, 0].tolist() == [200, 0, 0]


def test_display_facts_of_the_demo_radiograph(demo_study: Path) -> None:
    radiograph = next(
        path for path in demo_study.rglob("IM*") if read_frame(path).transform.shows_inverted
    )
    facts = read_display_facts(radiograph)
    assert facts.patient_orientation == ("L", "F")
    assert facts.pixel_aspect_ratio is None  # square pixels, as Pixel Spacing says
    assert read_display_facts(demo_study / "no-such-file").patient_orientation is None


def test_a_voi_lut_table_is_the_files_own_window_when_it_gives_no_window() -> None:
    table = LookupTable(first_mapped=100, bits=8, data=np.array([0, 64, 128, 255], np.uint16),
                        explanation="STEP")  # fmt: skip
    stored = np.array([[99, 100], [102, 200]], np.uint16)
    frame = DecodedFrame(stored, PixelTransform(voi_luts=(table,)))
    assert file_voi_lut(frame) is table
    assert present(frame, None, False).tolist() == [[0, 0], [128, 255]]  # C.11.2.1.1
    assert (voi_lut_range(table).lower, voi_lut_range(table).upper) == (100, 103)
    # A window in the header wins, and any window the user picks replaces the table.
    windowed = DecodedFrame(stored, PixelTransform(voi_luts=(table,), windows=(Window(150, 100),)))
    assert file_voi_lut(windowed) is None
    assert present(frame, Voi(100, 200), False).tolist() == [[0, 0], [5, 255]]
