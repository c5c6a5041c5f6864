"""Make docs/screenshot.png for the README: the demo study, CT selected, mid-volume slice.

    Xvfb :173 -screen 0 1600x1000x24 &
    DISPLAY=:173 .venv/bin/python packaging/readme_screenshot.py docs/screenshot.png

Uses temporary settings, so the picture shows the defaults (dark theme), not yours.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WINDOW_SIZE = (1400, 860)
SETTLE_MS = 1500


def main() -> int:
    output = sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png"
    user = tempfile.mkdtemp(prefix="viewer-screenshot-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(user, "config")
    os.environ["XDG_STATE_HOME"] = os.path.join(user, "state")
    from viewer.qt.app import demo_paths, make_application
    from viewer.qt.main_window import MainWindow

    app = make_application()
    window = MainWindow()
    window.resize(*WINDOW_SIZE)
    window.show()

    def save() -> None:
        if not window.grab().save(output):
            print(f"cannot write {output}", file=sys.stderr)
        app.quit()

    def show_ct() -> None:
        ct = next(s.uid for s in window.catalog.all_series() if s.info.modality == "CT")
        window.select_series(ct)
        QTimer.singleShot(
            SETTLE_MS, lambda: window.state.set_index(window.state.frame_count * 3 // 5)
        )
        QTimer.singleShot(2 * SETTLE_MS, save)

    window.indexing_finished.connect(lambda: QTimer.singleShot(300, show_ct))
    window.open_paths([], prepare=demo_paths)
    app.exec()
    window.shutdown()
    return 0 if Path(output).is_file() else 1


if __name__ == "__main__":
    sys.exit(main())
