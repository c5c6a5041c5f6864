"""Read-only: a whole session never writes, renames or deletes anything in what it reads.

A copy of the demo study (with its DICOMDIR), one demo CT slice cut inside its pixels, and one
of each class of bad file, is fingerprinted (every entry's type, bytes, size and mtime, every
folder's entries) before and after a session: indexing, the main window offscreen (open,
show each series, scroll, window), ``inspect``, ``render`` and ``volume`` writing elsewhere.
The same session checks that the GUI opens the good CT whole beside the bad files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.gui_driving import wheel_down
from tests.robustness.conftest import BadInputs, add_bad_files, cut_one_slice
from viewer.__main__ import main
from viewer.dicom.io.indexer import index_paths
from viewer.qt.app import make_application
from viewer.qt.main_window import MainWindow

Fingerprint = dict[str, tuple[object, ...]]


def fingerprint(root: Path) -> Fingerprint:
    """Every entry below ``root`` (links not followed): kind, size, mtime, content hash."""
    found: Fingerprint = {}
    for folder, folders, files in os.walk(root, followlinks=False):
        info = os.lstat(folder)
        found[folder] = ("dir", info.st_mtime_ns, tuple(sorted(folders + files)))
        for name in files + [f for f in folders if os.path.islink(os.path.join(folder, f))]:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                found[path] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                found[path] = ("file", info.st_size, info.st_mtime_ns, info.st_mode, digest)
            else:
                found[path] = ("special", info.st_mode, info.st_mtime_ns)
    return found


@pytest.fixture
def session_folder(
    bad_inputs: BadInputs, demo_study: Path, demo_ct_folder: Path, tmp_path: Path
) -> Path:
    """The demo study copied (one CT slice cut inside its pixels) plus every bad class."""
    root = tmp_path / "media"
    shutil.copytree(demo_study, root)
    cut_one_slice(root / demo_ct_folder.relative_to(demo_study))
    add_bad_files(root / "extra", bad_inputs)
    return root


def cut_slice_of(folder: Path) -> Path:
    """The CT slice session_folder cut (the only CT file shorter than the others)."""
    sizes = {path: path.stat().st_size for path in folder.iterdir()}
    return min(sizes, key=lambda path: sizes[path])


def gui_session(qtbot, folder: Path, victim: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """Open ``folder``, show every series, scroll the CT to its end; the cut slice ``victim``
    is left out at indexing with its reason (issue 13 item 3); the status messages."""
    make_application()
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    messages: list[str] = []
    window.viewport.status.connect(messages.append)
    try:
        with qtbot.waitSignal(window.indexing_finished, timeout=120_000):
            window.open_paths([str(folder)])
        cts = [s for s in window.catalog.all_series() if s.info.modality == "CT"]
        good = max(cts, key=lambda s: s.frame_count)
        assert good.frame_count == 191 and len(good.stacks) == 1  # the cut slice left out
        reasons = {item.path: item.reason for item in window.catalog.skipped}
        assert reasons[str(victim)].startswith("pixel data truncated")
        for series in window.catalog.all_series():
            if series.stacks:  # each shows a frame, or says in the status bar why it cannot
                said = len(messages)
                window.select_series(series.uid)
                qtbot.waitUntil(
                    lambda said=said: window.viewport.frame is not None or len(messages) > said,
                    timeout=60_000,
                )
        window.select_series(good.uid)
        qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=60_000)
        for _ in range(4):
            wheel_down(window, 50)
            qtbot.wait(50)
        qtbot.waitUntil(lambda: window.state.index == window.state.frame_count - 1, timeout=30_000)
    finally:
        window.shutdown()
        window.close()
    return messages


def test_a_full_session_changes_nothing_in_the_folder(  # type: ignore[no-untyped-def]
    qtbot,
    session_folder: Path,
    demo_study: Path,
    demo_ct_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = fingerprint(session_folder)
    catalog = index_paths([session_folder])
    assert catalog.instance_count > 290 and len(catalog.skipped) > 30

    victim = cut_slice_of(session_folder / demo_ct_folder.relative_to(demo_study))
    gui_session(qtbot, session_folder, victim)

    out = tmp_path / "out"
    out.mkdir()
    assert main(["inspect", str(session_folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    first_ct = next(
        stack["sources"][0][0]
        for patient in report["patients"]
        for study in patient["studies"]
        for series in study["series"]
        for stack in series["stacks"]
        if series["modality"] == "CT"
    )
    assert main(["render", first_ct, str(out / "ct.png")]) == 0
    assert main(["volume", str(session_folder), str(out / "volume.npz")]) in (0, 1)
    capsys.readouterr()

    assert fingerprint(session_folder) == before
