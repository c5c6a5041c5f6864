"""Retrieving big series and big studies from a real Orthanc (issue 16): a series split over
parallel C-GET associations arrives whole and byte-identical, and the retrieving process's
memory does not grow with the number of instances."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.net.conftest import require_orthanc
from viewer.bench.orthanc import VIEWER_AET, Orthanc
from viewer.net import dimse
from viewer.store.database import StudyDatabase


def write_small_study(folder: Path, instances: int, per_series: int, seed: str) -> str:
    """``instances`` 64x64 CT images (pydicom's CT_small, re-identified) in series of
    ``per_series``, one study; its Study Instance UID."""
    folder.mkdir(parents=True, exist_ok=True)
    template = dcmread(str(get_testdata_file("CT_small.dcm")))
    study = generate_uid(entropy_srcs=[seed, "study"])
    rng = np.random.default_rng(len(seed))
    for number in range(instances):
        ds = template.copy()
        ds.file_meta = FileMetaDataset(template.file_meta)
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = generate_uid(
            entropy_srcs=[seed, "series", str(number // per_series)]
        )
        ds.SeriesNumber = number // per_series + 1
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[seed, "sop", str(number)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.InstanceNumber = number % per_series + 1
        ds.Rows = ds.Columns = 64
        ds.PixelData = rng.integers(0, 2000, (64, 64), dtype=np.int16).tobytes()
        ds.save_as(folder / f"I{number:05d}.dcm", enforce_file_format=True)
    return study


def upload(server: Orthanc, folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.dcm"))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda path: server.upload([path]), files))
    return files


def test_a_big_series_is_split_over_parallel_associations_and_arrives_whole(
    own_orthanc: Orthanc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.net.client import connect, retrieve
    from viewer.net.landing import Landing
    from viewer.net.nodes import LocalAE, resolve_node

    # The extra associations join as soon as the first instance has landed (not a moment
    # later, which a fast machine could spend finishing the series alone).
    monkeypatch.setattr(dimse, "HELPERS_DELAY_S", 0.0)
    count = dimse.PARALLEL_MIN * 4 + 5
    study = write_small_study(tmp_path / "files", count, count, "split")
    files = upload(own_orthanc, tmp_path / "files")
    threads: set[str] = set()
    client = connect(
        resolve_node(own_orthanc.dimse), LocalAE(aet=VIEWER_AET, port=own_orthanc.viewer_port)
    )
    with StudyDatabase(tmp_path / "studies.sqlite") as database:
        landing = Landing(
            database=database, on_arrived=lambda _: threads.add(threading.current_thread().name)
        )
        report = retrieve(client, study, landing, "get")
        landing.close()
        assert report.error == "" and report.failed == 0
        assert report.done == count
        rows = {
            row.instance.sop_instance_uid: row.instance.path
            for row in database.scanned_files(study)
        }
    assert len(threads) > 1, "one association only"
    assert len(rows) == count
    for path in files:
        sent = dcmread(path)
        got = dcmread(rows[str(sent.SOPInstanceUID)])
        assert got.PixelData == sent.PixelData
        assert got.file_meta.TransferSyntaxUID == sent.file_meta.TransferSyntaxUID


# The child imports what the retrieve uses, resets its peak (VmHWM, Linux's clear_refs "5")
# so that start-up does not hide what the retrieve itself holds, then retrieves and prints
# its peak in kB.
CHILD = """
import sys
import pydicom, pynetdicom, dicomweb_client.api, numpy  # noqa: F401
from viewer.__main__ import main
import viewer.net.client, viewer.net.dimse, viewer.net.dicomweb  # noqa: F401
with open("/proc/self/clear_refs", "w") as reset:
    reset.write("5")
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(peak)
sys.exit(code)
"""


def _peak_rss_mb(server: Orthanc, study: str, method: str, work: Path) -> float:
    """Peak resident memory (MB) of a child process retrieving ``study`` into a database."""
    target = server.dicomweb if method == "wado" else server.dimse
    env = {**os.environ, "XDG_DATA_HOME": str(work / "data")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            "retrieve",
            target,
            "--study",
            study,
            "--method",
            method,
            "--db",
            str(work / "studies.sqlite"),
            "--aet",
            VIEWER_AET,
            "--port",
            str(server.viewer_port),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1]) / 1024


#: How much more the retrieving process may hold at its peak for 2,000 instances than for 200.
GROWTH_BOUND_MB = 15.0


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Orthanc, str, str]]:
    """An Orthanc holding a study of 200 small instances and one of 2,000."""
    require_orthanc()
    folder = tmp_path_factory.mktemp("scale")
    small = write_small_study(folder / "small", 200, 50, "small")
    large = write_small_study(folder / "large", 2000, 500, "large")
    server = Orthanc(folder / "orthanc").start()
    try:
        upload(server, folder / "small")
        upload(server, folder / "large")
        yield server, small, large
    finally:
        server.stop()


@pytest.mark.parametrize("method", ["get", "wado"])
def test_memory_does_not_grow_with_the_number_of_instances(
    two_studies: tuple[Orthanc, str, str], tmp_path: Path, method: str
) -> None:
    own_orthanc, small, large = two_studies
    peak_small = _peak_rss_mb(own_orthanc, small, method, tmp_path / "w-small")
    peak_large = _peak_rss_mb(own_orthanc, large, method, tmp_path / "w-large")
    with StudyDatabase(tmp_path / "w-large" / "studies.sqlite") as database:
        assert len(database.scanned_files(large)) == 2000
    print(f"peak RSS {method}: 200 -> {peak_small:.1f} MB, 2000 -> {peak_large:.1f} MB")
    assert peak_large - peak_small < GROWTH_BOUND_MB, (peak_small, peak_large)
