"""The 2D view, the MPR views and ``render`` share one display pipeline (issue 12 item 3).

A fixed-seed sweep of synthetic frames (dtype, rescale slope and intercept, pixel padding,
MONOCHROME1/2, windows or none, VOI LUT Function): what the viewport shows with the VOI it
opens with (presentation.initial_voi + present) equals ``render``'s (display.to_display), and
the MPR conversion of the same values with the same VOI equals both.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from viewer.dicom.pixels import display
from viewer.dicom.pixels.frames import DecodedFrame, PixelTransform, Window
from viewer.model import mpr, presentation

RNG_SEED = 12
DTYPES = (np.uint8, np.int16, np.uint16, np.int32)
RESCALES = ((1.0, 0.0), (1.0, -1024.0), (0.5, 3.25), (2.0, -100.0), (-1.0, 0.0), (0.0123, 7.0))
FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


def frames() -> list[DecodedFrame]:
    rng = np.random.default_rng(RNG_SEED)
    made = []
    for dtype, (slope, intercept), function, photometric, padded, windowed in itertools.product(
        DTYPES, RESCALES, FUNCTIONS, ("MONOCHROME1", "MONOCHROME2"), (False, True), (False, True)
    ):
        info = np.iinfo(dtype)
        low, high = max(info.min, -3000), min(info.max, 4000)
        stored = rng.integers(low, high, size=(17, 23), endpoint=True).astype(dtype)
        padding = int(stored.flat[0]) if padded else None
        windows = (Window(float(rng.uniform(-100, 500)), float(rng.uniform(1, 900))),)
        transform = PixelTransform(
            photometric=photometric,
            rescale_slope=slope,
            rescale_intercept=intercept,
            windows=windows if windowed else (),
            voi_function=function,
            padding_value=padding,
            pixel_representation=1 if info.min < 0 else 0,
        )
        made.append(DecodedFrame(stored, transform, "synthetic", 0, "numpy", ()))
    return made


@pytest.mark.parametrize("frame", frames(), ids=lambda f: f"{f.stored.dtype}-{f.transform}"[:60])
def test_viewport_mpr_and_render_agree(frame: DecodedFrame) -> None:
    rendered = display.to_display(frame)
    voi = presentation.initial_voi(frame)
    assert voi is not None
    assert np.array_equal(presentation.present(frame, voi, False), rendered)
    inverted = presentation.present(frame, voi, True)
    assert np.array_equal(
        inverted, display.display_image(frame.stored, frame.transform, None, True)
    )
    transform = frame.transform
    if transform.padding_value is None and transform.voi_function != "SIGMOID":
        shown = mpr.to_display(
            frame.stored,
            voi,
            transform.rescale_slope or 1.0,
            transform.rescale_intercept,
            transform.shows_inverted,
        )
        assert np.array_equal(shown, rendered)
