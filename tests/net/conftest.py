"""Fixtures for the network tests: a real Orthanc loaded with real files.

Collected only with tests/net: importing this moves the test process into a private network
namespace (see :mod:`viewer.bench.orthanc`) before any test runs, so every thread and child
(Orthanc, pynetdicom's association threads, Qt workers) shares the same loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from viewer.bench.orthanc import Orthanc, dicomweb_plugin, enter_private_network, orthanc_binary

_why_not = ""
if orthanc_binary() is None:
    _why_not = "Orthanc not installed (Debian package orthanc)"
elif dicomweb_plugin() is None:
    _why_not = "Orthanc's DICOMweb plugin not installed (Debian package orthanc-dicomweb)"
else:
    _why_not = enter_private_network()

#: pydicom's own files, one per transfer syntax family: native, JPEG baseline, JPEG lossless,
#: JPEG-LS, JPEG 2000, RLE, a multi-frame, and a second modality.
SAMPLE_FILES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "JPGLosslessP14SV1_1s_1f_8b.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "JPEG2000.dcm",
    "MR_small_RLE.dcm",
    "emri_small.dcm",
]


def require_orthanc() -> None:
    if _why_not:
        pytest.skip(_why_not)


@dataclass(frozen=True)
class Sample:
    """One uploaded file and what identifies it."""

    path: Path
    study_uid: str
    series_uid: str
    sop_uid: str
    transfer_syntax: str
    patient_name: str
    patient_id: str
    date: str
    modality: str
    accession: str


def write_samples(folder: Path) -> list[Sample]:
    """pydicom's sample files, copied; variants of one image (MR_small as JPEG-LS, RLE) get
    their own series and SOP Instance UIDs (fixed, from their names), or the server would
    keep only the first of them. Pixel data are left as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    seen: set[str] = set()
    for name in SAMPLE_FILES:
        found = get_testdata_file(name)
        if found is None:
            continue
        dataset = dcmread(str(found))
        if str(dataset.SOPInstanceUID) in seen:
            dataset.SOPInstanceUID = generate_uid(entropy_srcs=[name, "sop"])
            dataset.SeriesInstanceUID = generate_uid(entropy_srcs=[name, "series"])
            dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        seen.add(str(dataset.SOPInstanceUID))
        target = folder / name
        dataset.save_as(target, enforce_file_format=True)
        samples.append(
            Sample(
                path=target,
                study_uid=str(dataset.StudyInstanceUID),
                series_uid=str(dataset.SeriesInstanceUID),
                sop_uid=str(dataset.SOPInstanceUID),
                transfer_syntax=str(dataset.file_meta.TransferSyntaxUID),
                patient_name=str(dataset.get("PatientName", "")),
                patient_id=str(dataset.get("PatientID", "")),
                date=str(dataset.get("StudyDate", "")),
                modality=str(dataset.get("Modality", "")),
                accession=str(dataset.get("AccessionNumber", "")),
            )
        )
    return samples


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> Iterator[Orthanc]:
    """One Orthanc for the session, loaded with pydicom's sample files.
    Tests may add to it (send) but not remove from it or stop it."""
    require_orthanc()
    server = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        server.upload([sample.path for sample in samples])
        yield server
    finally:
        server.stop()


def demo_files(demo_study: Path) -> list[Path]:
    return sorted(p for p in demo_study.rglob("*") if p.is_file() and p.name != "DICOMDIR")


@pytest.fixture
def own_orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    """An Orthanc of the test's own (empty), for tests that stop or kill it."""
    require_orthanc()
    server = Orthanc(tmp_path / "orthanc").start()
    try:
        yield server
    finally:
        server.stop()
