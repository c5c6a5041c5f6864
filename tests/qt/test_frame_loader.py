"""FrameLoader: frames decoded in worker processes reach the GUI thread through the bridge."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from pydicom.data import get_testdata_file

from viewer.dicom.pixels.decode import DecodedFrame
from viewer.dicom.pixels.reading import read_frame
from viewer.qt.tasks import FrameLoader, FrameRequest


def bundled(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None, name
    return str(path)


def test_frames_arrive_on_the_gui_thread_with_the_right_pixels(qtbot) -> None:  # type: ignore[no-untyped-def]
    loader = FrameLoader()
    arrived: list[tuple[FrameRequest, DecodedFrame, bool]] = []
    main_thread = threading.current_thread()
    loader.bridge.loaded.connect(
        lambda r, d: arrived.append((r, d, threading.current_thread() is main_thread))
    )
    try:
        path = bundled("rtdose.dcm")
        loader.prefetch([(path, frame) for frame in range(5, 10)])
        requests = [loader.request(path, frame) for frame in (0, 3)]
        qtbot.waitUntil(lambda: len(arrived) == 2, timeout=30_000)
        for request, decoded, on_gui_thread in arrived:
            assert on_gui_thread
            assert np.array_equal(decoded.stored, read_frame(path, request.frame).stored)
        assert {r.request_id for r, _, _ in arrived} == {r.request_id for r in requests}
        qtbot.waitUntil(lambda: loader.cache.get((path, 9)) is not None, timeout=30_000)
        again = loader.request(path, 9)  # prefetched: answered at once from the cache
        assert arrived[-1][0] == again
    finally:
        loader.shutdown()


def test_a_bad_file_fails_with_a_reason(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loader = FrameLoader()
    failures: list[tuple[FrameRequest, str]] = []
    loader.bridge.failed.connect(lambda r, reason: failures.append((r, reason)))
    (tmp_path / "junk.dcm").write_bytes(b"junk")
    try:
        request = loader.request(str(tmp_path / "junk.dcm"), 0)
        qtbot.waitUntil(lambda: bool(failures), timeout=30_000)
        assert failures[0][0] == request
        assert "junk.dcm" in failures[0][1] and "\n" not in failures[0][1]
    finally:
        loader.shutdown()


def test_nothing_is_signalled_after_shutdown(qtbot) -> None:  # type: ignore[no-untyped-def]
    loader = FrameLoader()
    arrived: list[object] = []
    loader.bridge.loaded.connect(lambda r, d: arrived.append(r))
    path = bundled("rtdose.dcm")
    loader.prefetch([(path, frame) for frame in range(15)])
    loader.request(path, 14)
    loader.shutdown()
    count = len(arrived)
    loader.request(path, 13)  # after shutdown: ignored, no crash
    qtbot.wait(200)
    assert len(arrived) == count
