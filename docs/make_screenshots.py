"""Regenerate the README screenshot and the user guide's pictures from the real viewer.

    .venv/bin/python docs/make_screenshots.py            # offscreen, writes docs/*.png
    .venv/bin/python docs/make_screenshots.py OUT_DIR    # somewhere else

The README's picture is what ``dicom-viewer screenshot docs/screenshot.png --size 1400x900``
draws of the demo study (tests/test_docs.py checks it still is). The guide's pictures drive the
real main window as a user would (open, choose a layout, open the tag browser...) on the demo
study and on a dynamic MR made from the demo's MR (4 time points of the same slices). Nothing is
mocked; user folders are temporary, so your own settings never show.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
README_SIZE = (1400, 900)
GUIDE_SIZE = (1280, 800)


def readme_screenshot(out: Path) -> None:
    """``dicom-viewer screenshot`` of the demo, as the README shows it."""
    size = "x".join(str(v) for v in README_SIZE)
    command = [sys.executable, "-m", "viewer", "screenshot", str(out), "--size", size]
    subprocess.run(command, check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def make_dynamic_mr(demo: Path, out: Path, phases: int = 4) -> None:
    """A dynamic (4D) MR from the demo's MR: ``phases`` time points 12.5 s apart, the
    enhancing parts brighter each time (Temporal Position Identifier, Trigger Time)."""
    import numpy as np
    from pydicom import dcmread
    from pydicom.uid import generate_uid

    sources = []
    for path in sorted(demo.rglob("*")):
        if path.is_file() and path.name != "DICOMDIR":
            header = dcmread(path, stop_before_pixels=True)
            if header.get("Modality") == "MR":
                sources.append(path)
    out.mkdir(parents=True, exist_ok=True)
    series, study = generate_uid(), generate_uid()
    for phase in range(phases):
        for number, path in enumerate(sources):
            ds = dcmread(path)
            pixels = ds.pixel_array.astype(np.float32)
            bright = pixels > pixels.mean()
            enhanced = pixels * (1.0 + 0.2 * phase) + 60.0 * phase * bright
            ds.PixelData = np.clip(enhanced, 0, 4095).astype(ds.pixel_array.dtype).tobytes()
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
            ds.StudyDescription, ds.SeriesDescription = "Dynamic MR", "DCE 4 time points"
            ds.SeriesNumber = 7
            ds.TemporalPositionIdentifier = phase + 1
            ds.NumberOfTemporalPositions = phases
            ds.TriggerTime = str(phase * 12500)
            ds.InstanceNumber = phase * 100 + number + 1
            ds.save_as(out / f"T{phase}_{number:03d}.dcm")


def wait_for(predicate: Callable[[], object], timeout_s: float = 60.0) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the viewer did not get there in time")
        QApplication.processEvents()
        time.sleep(0.005)


def settle(ms: int = 400) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.005)


def guide_pictures(out: Path, demo: Path, dynamic: Path, broken: Path) -> None:
    """The user guide's pictures, from one real main window."""
    from viewer.qt.app import make_application
    from viewer.qt.main_window import MainWindow

    make_application()
    window = MainWindow()
    window.resize(*GUIDE_SIZE)
    window.show()
    done: list[bool] = []
    window.indexing_finished.connect(lambda: done.append(True))

    def open_and_wait(paths: list[str]) -> None:
        done.clear()
        window.open_paths(paths)
        wait_for(lambda: done and window.viewport.frame is not None)
        wait_for(lambda: window.thumbnails_settled, 30)
        settle()

    def shoot(name: str, widget: object = None) -> None:
        settle()
        picture = (widget or window).grab()  # type: ignore[attr-defined]
        path = out / name
        if not picture.save(str(path)):
            raise OSError(f"cannot write {path}")
        print(path)

    try:
        open_and_wait([str(dynamic)])  # phases: rows per time point, the phase bar
        window.state.set_index(window.state.frame_count // 2)
        window.state.set_phase(2)
        wait_for(lambda: window.viewport.frame is not None)
        shoot("phases.png")
        open_and_wait([str(demo)])  # the demo joins the tree; 2x2 filled in series order
        window.view_controls.set_layout("2x2")
        for viewport in window.viewports.visible_viewports():
            window.viewports.set_active(viewport)
            viewport.state.set_stack(None)
        window.viewports.set_active(window.viewports.visible_viewports()[0])
        window.fill_empty_viewports()
        wait_for(lambda: all(v.frame for v in window.viewports.visible_viewports()[:4]))
        shoot("layout.png")
        window.view_controls.set_layout("1x1")
        ct = next(s for s in window.catalog.all_series() if s.info.modality == "CT")
        window.select_series(ct.uid)
        wait_for(lambda: window.viewport.frame is not None)
        window.view_controls.toggle_tag_browser()
        wait_for(lambda: window.view_controls.tag_browser.model.rowCount() > 0)
        shoot("tags.png")
        window.view_controls.toggle_tag_browser()
        window.mpr_action.setChecked(True)
        view = window.mpr_view
        assert view is not None
        wait_for(lambda: view.ready and all(w.final for w in view.views.values()), 120)
        quadrant = view.volume_3d  # its first frame (VTK renders it in its own thread)
        wait_for(lambda: quadrant is None or quadrant.was_painted or quadrant.problem, 120)
        shoot("mpr.png")
        window.mpr_action.setChecked(False)
        open_and_wait([str(broken)])
        window.problems.show()
        shoot("problems.png")
        window.problems.hide()
        dialog = window.window_settings.show_preferences()
        settle()
        shoot("preferences.png", dialog)
        dialog.reject()
        window.view_controls.show_keyboard_help()
        help_page = window.view_controls._help
        assert help_page is not None
        shoot("keys.png", help_page)
        help_page.hide()
    finally:
        window.shutdown()
        window.close()


def broken_files(demo: Path, out: Path) -> None:
    """A folder with a cut file and a text file next to a good series (for Problems)."""
    out.mkdir(parents=True, exist_ok=True)
    first = next(p for p in sorted(demo.rglob("*")) if p.is_file() and p.name != "DICOMDIR")
    (out / "cut.dcm").write_bytes(first.read_bytes()[:400])
    (out / "notes.txt").write_text("not a DICOM file\n")


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else HERE
    guide = out / "guide"
    guide.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="viewer-docs-") as scratch:
        root = Path(scratch)
        for name in ("CONFIG", "CACHE", "DATA", "STATE"):
            os.environ[f"XDG_{name}_HOME"] = str(root / name.lower())
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        readme_screenshot(out / "screenshot.png")
        from viewer.demo import write_demo_study

        write_demo_study(root / "demo")  # (returns its DICOMDIR)
        demo = root / "demo"
        make_dynamic_mr(demo, root / "dynamic")
        broken_files(demo, root / "broken")
        guide_pictures(guide, demo, root / "dynamic", root / "broken")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
