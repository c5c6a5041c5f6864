"""Series thumbnails (viewer.qt.thumbnails): size, aspect, colour, the middle image, failures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from viewer.dicom.catalog.records import InstanceRecord
from viewer.dicom.pixels.decode import DecodeError
from viewer.qt.app import make_application
from viewer.qt.thumbnails import Thumbnails, middle_image, shrink, to_qimage


def test_shrink_keeps_the_aspect_ratio_and_grey_levels():
    image = np.zeros((512, 256), dtype=np.uint8)
    image[:, 128:] = 255  # right half white
    small = shrink(image, 48)
    assert small.shape == (48, 24)
    assert small[:, :10].max() == 0 and small[:, -10:].min() == 255


def test_qimages_for_grey_and_colour():
    make_application()
    grey = to_qimage(np.full((5, 7), 200, dtype=np.uint8))
    colour = to_qimage(np.dstack([np.full((5, 7), v, dtype=np.uint8) for v in (255, 0, 0)]))
    assert (grey.width(), grey.height()) == (7, 5)
    assert grey.pixelColor(3, 2).red() == 200
    assert colour.pixelColor(3, 2).getRgb()[:3] == (255, 0, 0)


def record(path: str, number: int | None, frames: int = 1, rows: int = 16) -> InstanceRecord:
    base = InstanceRecord(path, f"1.2.3.{path}", "1.2.840.10008.5.1.4.1.1.2", "1.2", "1.1")
    return dataclasses.replace(base, instance_number=number, frames=frames, rows=rows, columns=rows)


def test_middle_image_by_instance_number_skipping_objects_without_pixels():
    records = [record(f"f{k}", k) for k in (5, 1, 3, 2, 4)] + [record("sr", 9, rows=0)]
    assert middle_image(records) == ("f3", 0)
    assert middle_image([record("cine", 1, frames=30)]) == ("cine", 15)
    assert middle_image([record("sr", 1, rows=0)]) is None


def test_a_frame_that_cannot_be_decoded_gives_no_thumbnail_and_is_not_retried(qtbot):
    make_application()
    calls: list[str] = []

    def broken(path: str, frame: int) -> np.ndarray:
        calls.append(path)
        raise DecodeError(path, "no decoder")

    thumbnails = Thumbnails(renderer=broken)
    try:
        with qtbot.assertNotEmitted(thumbnails.bridge.ready, wait=300):
            thumbnails.request("series", "broken.dcm", 0)
        thumbnails.request("series", "broken.dcm", 0)
    finally:
        thumbnails.shutdown()
    assert calls == ["broken.dcm"]
    assert thumbnails.cached("series") is None


@pytest.mark.parametrize("shape", [(64, 64), (30, 90, 3)])
def test_thumbnail_is_signalled_and_cached(qtbot, shape):
    make_application()
    thumbnails = Thumbnails(renderer=lambda path, frame: np.full(shape, 128, dtype=np.uint8))
    try:
        with qtbot.waitSignal(thumbnails.bridge.ready, timeout=5000) as signal:
            thumbnails.request("series", "image.dcm", 0)
    finally:
        thumbnails.shutdown()
    key, image = signal.args
    assert key == "series" and max(image.width(), image.height()) == 48
    assert thumbnails.cached("series") is not None
