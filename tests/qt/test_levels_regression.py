"""Guard for the PySide6 pin: level changes in a loop must not kill the interpreter.

PySide6 6.12.0 with pyqtgraph 0.14 dies ("Fatal Python error: bool_dealloc") in
HistogramLUTItem's slots after a few thousand ImageView.setLevels calls; 6.11.x survives. Run
in a subprocess so a crash fails this test instead of taking the whole suite down.
"""

from __future__ import annotations

import os
import subprocess
import sys

LOOP = """
import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication
pg.setConfigOptions(imageAxisOrder="row-major")
app = QApplication([])
view = pg.ImageView()
view.setImage(np.random.default_rng(0).integers(-1000, 2000, (256, 256)).astype(np.int16))
for i in range(3000):
    view.setLevels(-1000 + i % 500, 1000 + i % 700)
    if i % 100 == 0:
        app.processEvents()
print("survived")
"""


def test_thousands_of_level_changes_survive() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", LOOP], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived" in result.stdout
