"""``screenshot`` of a series whose first slice shown cannot be decoded (issue 7).

The window opens a series at its middle slice; here that slice holds corrupt JPEG 2000 data
(its decoder aborts the worker process). The verb must capture what a user sees, the dark
placeholder with the notice naming the image, say why on stderr in one line, and exit 0 (the
window was shown and saved: the good part was done, /work/shared/cli-contract.md), instead of
waiting for a frame that never comes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.robustness.corrupt_series import series_with_corrupt_slice
from viewer.qt.failed_frame import PLACEHOLDER_GREY

SLICES = 3
OPENED_AT = SLICES // 2  # the slice a series opens at
#: The notice's text colour (#ffb4a8, see viewer/qt/failed_frame.py).
NOTICE_TEXT = (255, 180, 168)


def test_the_placeholder_is_captured_when_the_first_slice_fails(tmp_path: Path) -> None:
    series_with_corrupt_slice(tmp_path / "ct", SLICES, OPENED_AT)
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "viewer", "screenshot", str(out), "--size", "900x600"]
    result = subprocess.run(
        [*command, str(tmp_path / "ct")], capture_output=True, text=True, env=env, timeout=100
    )

    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("dicom-viewer:")]
    assert len(ours) == 1  # one line, the reason (a crash or a decoder's error, by machine)
    assert ours[0].startswith(f"dicom-viewer: Image {OPENED_AT + 1} could not be decoded: ")
    assert "Traceback" not in result.stderr
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert image.shape == (600, 900, 3)
    placeholder = (image == PLACEHOLDER_GREY).all(axis=-1)
    assert placeholder.sum() > 50_000  # the slice's whole matrix, drawn dark
    notice = (np.abs(image - NOTICE_TEXT) < 40).all(axis=-1)
    assert notice.sum() > 300  # the notice's text is on it
