"""The 2D viewport and the decoded-frame cache (issue 15, item 4): a JPEG 2000 series decoded
once is shown again, reopened from the study database in a new window, without a decode:
every frame comes from the cache (its values, and its PixelTransform from the header).

Real JPEG 2000 files (compressed by pydicom), the real FrameLoader with its worker processes
(frames decoded there say which decoder made them: ``"frame cache"`` for a cache hit), decodes
in this process counted, a real SQLite database in the test's user data folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless

from tests import gui_driving
from tests.factories import write_series
from tests.gui_driving import shown_main_window
from viewer.dicom.pixels import decode, frame_store
from viewer.qt.main_window import MainWindow

SLICES = 5


@pytest.fixture
def jpeg2000(tmp_path: Path) -> Path:
    native = tmp_path / "native"
    write_series(native, slices=SLICES, rows=64, columns=48, seed=5)
    target = tmp_path / "j2k"
    target.mkdir()
    for path in sorted(native.iterdir()):
        ds = pydicom.dcmread(path)
        ds.compress(JPEG2000Lossless)
        ds.save_as(target / path.name, enforce_file_format=True)
    return target


def _new_window(qtbot) -> tuple[MainWindow, Iterator[MainWindow]]:  # type: ignore[no-untyped-def]
    """A shown window and its fixture generator (``next(gen, None)`` shuts it down)."""
    windows = shown_main_window(qtbot)
    return next(windows), windows


def _every_frame(qtbot, window: MainWindow) -> dict[tuple[str, int], object]:  # type: ignore[no-untyped-def]
    """Step through the stack shown, each frame shown by the viewport; the frames it got."""
    stack = window.state.stack
    assert stack is not None and stack.frames == SLICES
    shown: dict[tuple[str, int], object] = {}
    for index in range(SLICES):
        window.state.set_index(index)
        key = stack.sources[index]
        qtbot.waitUntil(
            lambda key=key: (
                window.viewport.frame is not None
                and (window.viewport.frame.path, window.viewport.frame.frame) == key
            ),
            timeout=30_000,
        )
        shown[key] = window.viewport.frame
    return shown


def test_a_reopened_jpeg2000_series_is_shown_without_decoding(
    qtbot,  # type: ignore[no-untyped-def]
    jpeg2000: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, first_windows = _new_window(qtbot)
    try:
        assert frame_store.max_bytes() > 0  # the default setting: the cache is on
        gui_driving.open_and_wait(qtbot, first, [str(jpeg2000)])
        decoded = _every_frame(qtbot, first)
        assert {frame.decoder for frame in decoded.values()} != {"frame cache"}  # type: ignore[attr-defined]
        store = frame_store.default_store()
        assert store is not None
        qtbot.waitUntil(lambda: len(store.entries()) == SLICES, timeout=30_000)
        assert first.library.flush()
        (study_uid,) = {s.instances[0].study_uid for s in first.catalog.all_series()}
    finally:
        next(first_windows, None)
    in_process: list[str] = []
    real = decode.read_frame
    monkeypatch.setattr(
        decode, "read_frame", lambda *args, **kw: in_process.append(args[0]) or real(*args, **kw)
    )
    again, again_windows = _new_window(qtbot)
    try:
        again.open_study(study_uid)
        qtbot.waitUntil(lambda: again.viewport.frame is not None, timeout=30_000)
        shown = _every_frame(qtbot, again)
    finally:
        next(again_windows, None)
    assert {frame.decoder for frame in shown.values()} == {"frame cache"}  # type: ignore[attr-defined]
    assert in_process == []  # no decode here either (while the worker processes warm up)
    for key, frame in shown.items():
        before = decoded[key]
        assert np.array_equal(frame.stored, before.stored)  # type: ignore[attr-defined]
        assert frame.transform == before.transform  # type: ignore[attr-defined]
