"""Time-boxed workers: a frame or a header that never finishes costs its worker, not the series.

A real decoding plugin that loops forever (:mod:`tests.robustness.stuck_workers`) is installed
in the worker processes only; the deadline is 1 s instead of 20 so each test takes seconds.
Volumes, GUI frame loads and index chunks must come back with that one frame or file reported
and everything else intact.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import wait
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import RLELossless

from tests import factories
from tests.robustness import stuck_workers
from tests.robustness.conftest import no_hang
from viewer.dicom import limits
from viewer.dicom.io import indexer
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.decode_pool import DecodePool
from viewer.dicom.pixels.reading import read_frame
from viewer.dicom.pixels.volume import load_volume
from viewer.dicom.supervised_pool import DeadlineExceeded, SupervisedPool

DEADLINE_S = 1.0
SLICES = 20  # more than volume.SEQUENTIAL_MAX_FRAMES: the frames decode in workers
STUCK_SLICE = 7


@pytest.fixture(scope="module")
def series_with_one_rle_slice(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A 20-slice CT whose 8th slice (in stack order) is RLE Lossless, the others native."""
    truth = factories.write_series(tmp_path_factory.mktemp("stuck"), slices=SLICES)
    path = truth.paths[STUCK_SLICE]
    ds = dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    return truth.paths


@pytest.fixture(scope="module")
def stuck_rle_pool() -> Iterator[DecodePool]:
    pool = DecodePool(
        workers=2, frame_deadline=DEADLINE_S, worker_setup=stuck_workers.rle_decoder_never_returns
    )
    yield pool
    pool.shutdown()


def test_a_stuck_frame_is_reported_and_the_volume_loads(
    series_with_one_rle_slice: list[str], stuck_rle_pool: DecodePool
) -> None:
    paths = series_with_one_rle_slice
    stack = index_paths([Path(paths[0]).parent], workers=0).all_stacks()[0]
    assert [path for path, _ in stack.sources] == paths
    volume = no_hang(load_volume, stack, pool=stuck_rle_pool)
    assert volume.shape == (SLICES, 16, 16)
    note = next(w for w in volume.warnings if "could not be decoded" in w)
    assert f"1 of {SLICES} frames" in note
    assert Path(paths[STUCK_SLICE]).name in note and "decode timed out after 1 s" in note
    assert not volume.voxels[STUCK_SLICE].any()
    for index, path in enumerate(paths):
        if index != STUCK_SLICE:
            assert np.array_equal(volume.voxels[index], read_frame(path).stored), index


def test_the_gui_loader_reports_the_stuck_frame_and_goes_on(
    qtbot, series_with_one_rle_slice: list[str], stuck_rle_pool: DecodePool
) -> None:  # type: ignore[no-untyped-def]
    from viewer.qt.tasks import FrameLoader

    paths = series_with_one_rle_slice
    loader = FrameLoader(pool=stuck_rle_pool)
    try:
        assert loader.warm_up(timeout=60)  # frames now decode in the workers
        with qtbot.waitSignal(loader.bridge.failed, timeout=30_000) as failed:
            loader.request(paths[STUCK_SLICE], 0)
        assert failed.args[1] == f"{paths[STUCK_SLICE]}: decode timed out after 1 s"
        with qtbot.waitSignal(loader.bridge.loaded, timeout=30_000) as loaded:
            loader.request(paths[0], 0)
        assert np.array_equal(loaded.args[1].stored, read_frame(paths[0]).stored)
    finally:
        loader.shutdown()


def test_a_stuck_header_is_skipped_and_the_rest_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = factories.write_series(tmp_path / "ct", slices=12)
    (tmp_path / "ct" / "stuck.dcm").write_bytes(Path(truth.paths[0]).read_bytes())
    indexer.warm_index_pool(2, worker_setup=stuck_workers.stuck_headers_never_end)
    monkeypatch.setattr(indexer, "POOL_MIN_FILES", 0)
    monkeypatch.setattr(indexer, "CHUNK_FILES", 4)
    monkeypatch.setattr(limits, "HEADER_DEADLINE_S", DEADLINE_S)
    try:
        catalog = no_hang(index_paths, [tmp_path], workers=2)
    finally:
        indexer.shutdown_index_pool()
    assert catalog.scanned == 13
    assert [(Path(s.path).name, s.reason) for s in catalog.skipped] == [
        ("stuck.dcm", "reading the header timed out after 1 s")
    ]
    (stack,) = catalog.all_stacks()
    assert [path for path, _ in stack.sources] == truth.paths


def test_a_kill_costs_only_the_stuck_task() -> None:
    """The worker beside the stuck one is broken by the kill too: its task is run again."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = SupervisedPool(2, context)
    try:
        stuck = pool.submit(stuck_workers.stuck_on, 3, 5, deadline=DEADLINE_S)
        steady = pool.submit(stuck_workers.steady, 2 * DEADLINE_S, 42, deadline=DEADLINE_S)
        no_hang(wait, [stuck, steady])
        with pytest.raises(DeadlineExceeded) as error:
            stuck.result()
        assert (error.value.item, error.value.seconds) == (3, DEADLINE_S)
        assert steady.result() == 42
        assert pool.submit(stuck_workers.stuck_on, -1, 5, deadline=DEADLINE_S).result() == 5
    finally:
        pool.shutdown()
