"""Ultrasound pixel spacing from the Sequence of Ultrasound Regions (PS3.3 C.8.5.5).

Both header readers (pydicom and the lean byte walker) must derive the same spacing: the demo
US cine, pydicom's bundled ultrasound files (one region, a B-mode region beside a Doppler one,
three regions in implicit VR and big endian), and synthetic files whose regions disagree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from tests import factories
from viewer.demo import US_PHYSICAL_DELTA_CM
from viewer.dicom.catalog.ultrasound_regions import UsRegion, region_pixel_spacing
from viewer.dicom.io.fast_header import read_instance_fast
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.scan import read_instance_pydicom


def both_readers(path: str) -> tuple[float, float] | None:
    """The spacing the index records, after checking the two readers agree."""
    slow = read_instance_pydicom(path)
    fast = read_instance_fast(path)
    assert fast is None or fast == slow, path
    return slow.instance.pixel_spacing  # type: ignore[union-attr]


def test_demo_us_stack_is_calibrated_in_mm(demo_study: Path) -> None:
    catalog = index_paths([demo_study])
    (series,) = [s for s in catalog.all_series() if s.info.modality == "US"]
    (stack,) = series.stacks
    mm = US_PHYSICAL_DELTA_CM * 10
    assert stack.pixel_spacing == pytest.approx((mm, mm))
    assert read_instance_fast(stack.sources[0][0]) is not None  # the lean reader answered
    assert both_readers(stack.sources[0][0]) == pytest.approx((mm, mm))


@pytest.mark.parametrize(
    ("name", "delta_cm"),
    [
        ("examples_ybr_color.dcm", 0.05104970559477806),  # one B-mode region
        ("OBXXXX1A.dcm", 0.02622878766196998),  # B-mode in cm beside a Doppler strip in s
        ("OBXXXX1A_expb.dcm", 0.02622878766196998),  # the same in big endian
        ("gdcm-US-ALOKA-16.dcm", 0.03826530650258064),  # implicit VR: two cm regions agree
        ("gdcm-US-ALOKA-16_big.dcm", 0.03826530650258064),
    ],
)
def test_bundled_ultrasound_files(name: str, delta_cm: float) -> None:
    path = get_testdata_file(name)
    assert path is not None
    assert both_readers(str(path)) == pytest.approx((delta_cm * 10, delta_cm * 10))


def region(units: tuple[int, int], delta_cm: tuple[float, float]) -> Dataset:
    item = Dataset()
    item.RegionSpatialFormat = 1
    item.RegionDataType = 1
    item.PhysicalUnitsXDirection, item.PhysicalUnitsYDirection = units
    item.PhysicalDeltaX, item.PhysicalDeltaY = delta_cm
    return item


def us_file(
    tmp_path: Path, regions: list[Dataset], syntax: str | None = None, **extra: object
) -> str:
    """A one-file series with ``regions`` as its Sequence of Ultrasound Regions."""

    def make_ultrasound(_k: int, ds: Dataset) -> None:
        ds.Modality = "US"
        for keyword in ("PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient"):
            delattr(ds, keyword)
        ds.SequenceOfUltrasoundRegions = DicomSequence(regions)
        for keyword, value in extra.items():
            setattr(ds, keyword, value)
        if syntax is not None:
            ds.file_meta.TransferSyntaxUID = syntax

    truth = factories.write_series(
        tmp_path, slices=1, rows=8, columns=8, modality="MR", per_slice=make_ultrasound
    )
    return truth.paths[0]


@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian, ExplicitVRBigEndian])
def test_rows_and_columns_keep_their_own_deltas(tmp_path: Path, syntax: str | None) -> None:
    path = us_file(tmp_path, [region((3, 3), (0.02, 0.05))], syntax)
    assert read_instance_fast(path) is not None
    assert both_readers(path) == pytest.approx((0.5, 0.2))  # (between rows, between columns)


def test_disagreeing_or_non_spatial_regions_give_no_spacing(tmp_path: Path) -> None:
    two_panes = [region((3, 3), (0.02, 0.02)), region((3, 3), (0.03, 0.03))]
    assert both_readers(us_file(tmp_path / "a", two_panes)) is None
    doppler_only = [region((4, 7), (0.01, 0.5))]  # seconds across, cm/s up: not a distance
    assert both_readers(us_file(tmp_path / "b", doppler_only)) is None


def test_pixel_spacing_wins_over_the_regions(tmp_path: Path) -> None:
    path = us_file(tmp_path, [region((3, 3), (0.02, 0.02))], PixelSpacing=["0.3", "0.3"])
    assert both_readers(path) == pytest.approx((0.3, 0.3))


def test_region_rule() -> None:
    cm = UsRegion(3, 3, 0.07, 0.07)
    assert region_pixel_spacing([]) is None
    assert region_pixel_spacing([cm, UsRegion(4, 3, 0.01, 0.07)]) == pytest.approx((0.7, 0.7))
    assert region_pixel_spacing([cm, UsRegion(3, 3, 0.07, 0.0)]) == pytest.approx((0.7, 0.7))
    assert region_pixel_spacing([UsRegion(3, 3, None, 0.07)]) is None
    assert region_pixel_spacing([UsRegion(3, 3, -0.07, 0.07)]) is None
