"""ROI statistics speed (issue 17): ``roi_stats_ms.512`` on a CT slice and ``roi_stats_ms.3000``
on a radiograph, an ellipse covering half the image, as the viewer measures it while a handle
is dragged (viewer.model.annotations.measure.region_stats: mask, mean, SD, min, max, median).
Targets: <= 2 ms and <= 20 ms. The pixels are the bench's deterministic phantoms at exactly
those sizes (in --quick too: the arrays are small and made in memory)."""

from __future__ import annotations

import functools
import math

from viewer.bench import phantom
from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, milliseconds, timed_runs

#: An ellipse inscribed k times the image's half-sides covers pi k^2 / 4 of it: half for this k.
HALF_AREA_SCALE = math.sqrt(2 / math.pi)


def half_image_ellipse(rows: int, columns: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two opposite corners of the centred ellipse covering half of a rows x columns image."""
    rx, ry = columns / 2 * HALF_AREA_SCALE, rows / 2 * HALF_AREA_SCALE
    cx, cy = columns / 2, rows / 2
    return ((cx - rx, cy - ry), (cx + rx, cy + ry))


def measure_roi(sizes: BenchSizes) -> dict[str, Figure]:
    from viewer.dicom.pixels.frames import DecodedFrame, PixelTransform
    from viewer.model.annotations import shapes
    from viewer.model.annotations.measure import region_stats

    ct = DecodedFrame(
        phantom.ct_slice(0, 1, 512),
        PixelTransform(pixel_representation=1, rescale_intercept=phantom.CT_INTERCEPT),
    )
    radiograph = DecodedFrame(phantom.radiograph(3000), PixelTransform(bits_stored=12))
    runs = max(10, sizes.gui_steps)
    figures: dict[str, Figure] = {}
    for key, frame in (("512", ct), ("3000", radiograph)):
        rows, columns = frame.stored.shape[:2]
        image = shapes.ImageRef("bench")
        roi = shapes.Annotation(shapes.ELLIPSE, half_image_ellipse(rows, columns), image)
        found = region_stats(roi, frame)
        assert found is not None and abs(found.count / (rows * columns) - 0.5) < 0.01
        samples = timed_runs(functools.partial(region_stats, roi, frame), runs, 3)
        figures[f"roi_stats_ms.{key}"] = milliseconds(samples)
    return figures
