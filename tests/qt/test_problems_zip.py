"""The Problems dock names a zip's members as ``study.zip!/MEMBER`` (issue 7), as ``inspect``
does, never by the scratch copy the zip was unpacked into (gone when the viewer exits).

A zip holding a 5-slice CT under ``CD/`` whose middle slice (the one a series opens at) is cut
inside its pixel data, and a file cut inside its header, opens in the real main window: both
problems are listed by member.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTreeWidgetItem

from tests import factories
from tests.gui_driving import open_and_wait, shown_main_window
from viewer.core.user_dirs import cache_dir
from viewer.qt.main_window import MainWindow

SLICES = 5
CUT = SLICES // 2  # the slice a series opens at


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def problem_items(window: MainWindow) -> list[QTreeWidgetItem]:
    table = window.problems.table
    groups = (table.topLevelItem(i) for i in range(table.topLevelItemCount()))
    return [
        child
        for group in groups
        if group is not None
        for child in (group.child(i) for i in range(group.childCount()))
        if child is not None
    ]


def test_zip_members_are_named_inside_their_zip(
    qtbot, window: MainWindow, tmp_path: Path, caplog
) -> None:  # type: ignore[no-untyped-def]
    truth = factories.write_series(tmp_path / "cd", slices=SLICES, rows=64, columns=64)
    victim = Path(truth.paths[CUT])
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    broken = pydicom.dcmread(victim)  # corrupt RLE: indexed, then fails to decode
    broken.PixelData = encapsulate([bytes(64)])
    broken["PixelData"].VR = "OB"
    broken.file_meta.TransferSyntaxUID = RLELossless
    broken.save_as(victim, enforce_file_format=False)
    (tmp_path / "cd" / "cut.dcm").write_bytes(Path(truth.paths[0]).read_bytes()[:300])
    archive = factories.write_zip(tmp_path / "out" / "study.zip", tmp_path / "cd", "CD")

    open_and_wait(qtbot, window, [str(archive)])
    (series,) = window.catalog.all_series()
    window.select_series(series.uid)
    qtbot.waitUntil(lambda: window.problems.total == 2, timeout=60_000)

    files = {item.text(0): (item.text(1), item.toolTip(0)) for item in problem_items(window)}
    assert files == {
        f"study.zip!/CD/{victim.name}": ("frame 1", f"{archive}!/CD/{victim.name}"),
        "study.zip!/CD/cut.dcm": ("indexing", f"{archive}!/CD/cut.dcm"),
    }
    assert {path for path, _where, _reason in window.problems.rows()} == {
        f"{archive}!/CD/{victim.name}",
        f"{archive}!/CD/cut.dcm",
    }
    shown = [*files, *(tip for _where, tip in files.values())]
    assert not any(str(cache_dir()) in text for text in shown)  # the scratch copy's folder
    failed = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert any(f"{archive}!/CD/{victim.name}" in message for message in failed)  # the log too
    assert not any(str(cache_dir()) in message for message in failed)
