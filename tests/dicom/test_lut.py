"""viewer.dicom.pixels.lut on hand-computed values (PS3.3 C.11 and C.7.6.3)."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.dicom.pixels import lut


# --- VOI range <-> window (C.11.2.1.2) --------------------------------------------------------
def test_window_to_range_linear_ct_soft_tissue() -> None:
    # lower = 40 - 0.5 - 399/2, upper = 40 - 0.5 + 399/2
    assert lut.window_to_range(40, 400) == (-160.0, 239.0)


def test_window_to_range_linear_exact() -> None:
    assert lut.window_to_range(40, 400, "LINEAR_EXACT") == (-160.0, 240.0)


def test_linear_width_below_one_is_clamped_to_a_threshold() -> None:
    assert lut.window_to_range(100, 0) == (99.5, 99.5)
    assert lut.window_to_range(100, -5) == (99.5, 99.5)


def test_linear_exact_width_zero_is_clamped_positive() -> None:
    lower, upper = lut.window_to_range(100, 0, "LINEAR_EXACT")
    assert lower < 100 < upper
    assert upper - lower < 1e-6


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize(("center", "width"), [(40, 400), (600, 1600), (-600, 1500), (0.5, 1)])
def test_range_to_window_inverts_window_to_range(
    function: str, center: float, width: float
) -> None:
    back = lut.range_to_window(*lut.window_to_range(center, width, function), function)
    assert back == pytest.approx((center, width))


def test_range_to_window_clamps_an_inverted_range() -> None:
    assert lut.range_to_window(10, 5) == (10.5, 1.0)


# --- voi_linear (C.11.2.1.2.1 with output 0..255) ---------------------------------------------
def test_voi_linear_window_40_400_on_hounsfield_units() -> None:
    hu = np.array([-1000, -161, -160, -159, 0, 40, 238, 239, 240, 3000], dtype=np.int16)
    out = lut.voi_linear(hu, *lut.window_to_range(40, 400))
    # (x + 160) * 255 / 399, truncated: 0 -> 102.25, 40 -> 127.8, 238 -> 254.36
    assert out.tolist() == [0, 0, 0, 0, 102, 127, 254, 255, 255, 255]
    assert out.dtype == np.uint8


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32, np.uint32, np.float32])
def test_voi_linear_accepts_every_pixel_type(dtype: type) -> None:
    values = np.array([[10, 20], [30, 40]], dtype=dtype)
    out = lut.voi_linear(values, 10, 40)
    assert out.tolist() == [[0, 85], [170, 255]]
    assert out.shape == values.shape


def test_voi_linear_collapsed_range_is_a_threshold() -> None:
    out = lut.voi_linear(np.array([98, 99, 100, 101]), 99.5, 99.5)
    assert out.tolist() == [0, 0, 255, 255]


def test_voi_linear_float_pixel_data_with_nan_and_infinity() -> None:
    values = np.array([np.nan, -np.inf, 0.5, np.inf], np.float32)
    assert lut.voi_linear(values, 0.0, 1.0).tolist() == [0, 0, 127, 255]
    assert lut.auto_range(values) == (0.5, 0.5)


def test_voi_sigmoid() -> None:
    # y = 255 / (1 + exp(-4 (x - c) / w))
    out = lut.voi_sigmoid(np.array([-1000, 40, 140, 1000], dtype=np.int16), 40, 400)
    expected = 255 / (1 + np.exp(-4 * (np.array([-1000, 40, 140, 1000]) - 40) / 400))
    assert out.tolist() == np.floor(expected).astype(int).tolist() == [0, 127, 186, 254]


def test_voi_sigmoid_width_zero_is_a_step() -> None:
    assert lut.voi_sigmoid(np.array([39, 41]), 40, 0).tolist() == [0, 255]


def test_voi_lut_table_clamps_and_scales_to_8_bits() -> None:
    table = np.array([0, 1000, 4095], dtype=np.uint16)  # 12-bit entries
    values = np.array([-5, 10, 11, 12, 13, 500])
    out = lut.voi_lut_table(values, 10, table, 12)
    # below first -> entry 0; 1000 >> 4 = 62; 4095 >> 4 = 255; beyond -> last
    assert out.tolist() == [0, 0, 62, 255, 255, 255]


def test_voi_lut_table_rounds_float_inputs_to_the_nearest_entry() -> None:
    out = lut.voi_lut_table(np.array([0.4, 0.6, 1.49]), 0, np.array([0, 128, 255]), 8)
    assert out.tolist() == [0, 128, 128]


# --- Modality LUT (C.11.1) ---------------------------------------------------------------------
def test_apply_rescale_integral_stays_exact_and_small() -> None:
    stored = np.array([0, 1024, 4095], dtype=np.uint16)
    hu = lut.apply_rescale(stored, 1, -1024)
    assert hu.tolist() == [-1024, 0, 3071]
    assert hu.dtype == np.int16


def test_apply_rescale_identity_returns_the_stored_array() -> None:
    stored = np.arange(4, dtype=np.int16)
    assert lut.apply_rescale(stored, 1, 0) is stored


@pytest.mark.parametrize(
    ("stored", "intercept", "expected", "dtype"),
    [
        (np.array([40000, 50000], np.uint16), -40000, [0, 10000], np.uint16),
        (np.array([100, 120], np.uint8), -200, [-100, -80], np.int8),
        (np.array([-2000, 3000], np.int16), 100000, [98000, 103000], np.uint32),
        (np.array([-2000, 3000], np.int16), -100000, [-102000, -97000], np.int32),
        (np.array([0, 255], np.uint8), 1.0, [1, 256], np.uint16),
    ],
)
def test_apply_rescale_picks_the_smallest_exact_type(
    stored: np.ndarray, intercept: float, expected: list[int], dtype: type
) -> None:
    values = lut.apply_rescale(stored, 1, intercept)
    assert values.tolist() == expected
    assert values.dtype == dtype


def test_apply_rescale_non_integral_is_float32() -> None:
    values = lut.apply_rescale(np.array([0, 1000], dtype=np.uint16), 0.684, 200)
    assert values.dtype == np.float32
    assert values.tolist() == pytest.approx([200.0, 884.0])
    assert lut.apply_rescale(np.array([3], np.int16), 1, 0.5).tolist() == [3.5]


def test_apply_modality_lut_table_clamps_outside_the_table() -> None:
    table = [10, 20, 30, 40, 50]
    out = lut.apply_modality_lut_table(np.array([-5, -2, 0, 2, 100], np.int16), -2, table, 16)
    assert out.tolist() == [10, 10, 30, 50, 50]
    assert out.dtype == np.uint16
    assert lut.apply_modality_lut_table(np.array([1]), 0, [7, 8], 8).dtype == np.uint8


# --- Presentation (C.11.6, C.7.6.3.1.2) --------------------------------------------------------
def test_invert_for_monochrome1() -> None:
    image = np.array([0, 1, 128, 254, 255], np.uint8)
    assert lut.invert_for_monochrome1(image).tolist() == [255, 254, 127, 1, 0]


@pytest.mark.parametrize(
    ("photometric", "shape", "inverted"),
    [
        ("MONOCHROME1", "", True),
        ("MONOCHROME2", "", False),
        ("MONOCHROME1", "INVERSE", True),
        ("MONOCHROME2", "INVERSE", True),
        ("MONOCHROME2", "IDENTITY", False),
        ("MONOCHROME1", "IDENTITY", False),
        ("MONOCHROME1", "LIN OD", True),
    ],
)
def test_shows_inverted(photometric: str, shape: str, inverted: bool) -> None:
    assert lut.shows_inverted(photometric, shape) is inverted


def test_apply_presentation_lut_shape() -> None:
    image = np.array([0, 200], np.uint8)
    assert lut.apply_presentation_lut_shape(image, "INVERSE").tolist() == [255, 55]
    assert lut.apply_presentation_lut_shape(image, "IDENTITY") is image


# --- Pixel padding (C.7.5.1.1.2) and automatic range -------------------------------------------
def test_apply_pixel_padding_single_value_and_range() -> None:
    stored = np.array([-2000, -1999, 0, 5, 7], np.int16)
    assert lut.apply_pixel_padding(stored, None) is None
    value_mask = lut.apply_pixel_padding(stored, -2000)
    assert value_mask is not None
    assert value_mask.tolist() == [True, False, False, False, False]
    range_mask = lut.apply_pixel_padding(stored, 7, 0)  # range limit below the value
    assert range_mask is not None
    assert range_mask.tolist() == [False, False, True, True, True]


def test_black_out() -> None:
    image = np.array([255, 10], np.uint8)
    out = lut.black_out(image, np.array([True, False]))
    assert out.tolist() == [0, 10]
    assert image.tolist() == [255, 10]
    assert lut.black_out(image, None) is image


def test_auto_range_ignores_padding() -> None:
    values = np.array([-2000, -5, 100, -2000], np.int16)
    assert lut.auto_range(values) == (-2000.0, 100.0)
    assert lut.auto_range(values, values == -2000) == (-5.0, 100.0)
    assert lut.auto_range(values, np.ones(4, bool)) == (-2000.0, 100.0)
    assert lut.auto_range(np.array([], np.int16)) == (0.0, 0.0)


# --- Colour (C.7.6.3.1.2, C.7.6.3.1.5) ---------------------------------------------------------
@pytest.mark.parametrize(
    ("bits", "values", "expected"),
    [
        (16, [0, 255, 256, 32896, 65535], [0, 0, 1, 128, 255]),
        (12, [0, 16, 4095], [0, 1, 255]),
        (32, [0, 2**31, 2**32 - 1], [0, 128, 255]),
        (8, [0, 7, 255], [0, 7, 255]),
        (1, [0, 1], [0, 255]),
        (6, [0, 32, 63], [0, 129, 255]),
    ],
)
def test_scale_to_8bit(bits: int, values: list[int], expected: list[int]) -> None:
    dtype = np.uint32 if bits > 16 else (np.uint16 if bits > 8 else np.uint8)
    assert lut.scale_to_8bit(np.array(values, dtype), bits).tolist() == expected


def test_ybr_full_to_rgb_known_colours() -> None:
    # Gray has no chroma; pure red is Y 76.245, Cb 84.97, Cr 255.5 (ITU T.871).
    ybr = np.array([[[128, 128, 128], [76, 85, 255], [255, 128, 128]]], np.uint8)
    rgb = lut.to_rgb(ybr, "YBR_FULL_422")
    assert rgb[0, 0].tolist() == [128, 128, 128]
    assert np.abs(rgb[0, 1].astype(int) - [255, 0, 0]).max() <= 1
    assert rgb[0, 2].tolist() == [255, 255, 255]


def test_to_rgb_passes_rgb_and_j2k_component_transforms_through() -> None:
    rgb = np.array([[[1, 2, 3]]], np.uint8)
    for photometric in ("RGB", "YBR_RCT", "YBR_ICT"):
        assert lut.to_rgb(rgb, photometric).tolist() == [[[1, 2, 3]]]
    assert lut.to_rgb(np.array([[[65535, 0, 32896]]], np.uint16), "RGB", 16).tolist() == [
        [[255, 0, 128]]
    ]
    with pytest.raises(ValueError, match="YBR_PARTIAL_420"):
        lut.to_rgb(rgb, "YBR_PARTIAL_420")


def test_apply_palette_clamps_and_scales() -> None:
    table = np.array([[0, 0, 0], [65535, 0, 0], [0, 65280, 256]], np.uint16)
    indices = np.array([[-3, 10], [11, 12], [13, 99]], np.int16)  # first mapped 11
    rgb = lut.apply_palette(indices, 11, table, 16)
    assert rgb.shape == (3, 2, 3)
    assert rgb.dtype == np.uint8
    assert rgb.tolist() == [
        [[0, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [255, 0, 0]],
        [[0, 255, 1], [0, 255, 1]],
    ]
