"""One worker-pool factory (viewer.dicom.supervised_pool.worker_pool) for the decode and index
pools: one start method, one forkserver preload list holding what every pool asked for (the
list is the process's one forkserver's), and workers that leave Ctrl+C to the parent."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import signal

from viewer.dicom import supervised_pool
from viewer.dicom.supervised_pool import worker_context, worker_pool


def test_every_pool_adds_to_the_one_preload_list() -> None:
    worker_context(["viewer.dicom.io.scan"])
    context = worker_context(["viewer.dicom.pixels.decode_pool"])
    wanted = {"viewer.dicom.io.scan", "viewer.dicom.pixels.decode_pool"}
    assert wanted <= set(supervised_pool._preload)
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert context.get_start_method() == "forkserver"
        assert wanted <= set(multiprocessing.forkserver._forkserver._preload_modules)


def test_workers_leave_ctrl_c_to_the_parent_then_run_the_initializer() -> None:
    pool = worker_pool(1, initializer=signal.signal, initargs=(signal.SIGUSR1, signal.SIG_IGN))
    try:
        assert pool.submit(signal.getsignal, signal.SIGINT).result(timeout=120) == signal.SIG_IGN
        assert pool.submit(signal.getsignal, signal.SIGUSR1).result(timeout=120) == signal.SIG_IGN
    finally:
        pool.shutdown()
