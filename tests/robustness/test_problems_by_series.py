"""The Problems dock groups problems by series, and the study tree marks series that have some.

A CT whose one slice holds corrupt JPEG 2000 data, a good MR, a truncated file and a text file
open in the real main window (offscreen): the CT's undecodable frame is listed under the CT,
the two files no series can be named for under "Unsorted / unreadable files", the CT's row in
the tree carries a warning sign, and "Selected series only" shows just the series shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests import factories
from tests.gui_driving import open_and_wait, shown_main_window
from tests.robustness.corrupt_series import series_with_corrupt_slice
from viewer.model.problems import UNSORTED, UNSORTED_LABEL
from viewer.qt.main_window import MainWindow

CORRUPT_SLICE = 3


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def test_problems_are_listed_under_their_series(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ct_paths = series_with_corrupt_slice(
        tmp_path / "ct", 8, CORRUPT_SLICE, series_description="Thorax", series_number=1
    )
    factories.write_series(tmp_path / "mr", slices=4, modality="MR", series_number=2)
    (tmp_path / "notes.txt").write_text("not dicom")
    (tmp_path / "cut.dcm").write_bytes(Path(ct_paths[0]).read_bytes()[:300])
    open_and_wait(qtbot, window, [str(tmp_path)])
    ct = next(s for s in window.catalog.all_series() if s.info.modality == "CT")
    mr = next(s for s in window.catalog.all_series() if s.info.modality == "MR")

    window.select_series(ct.uid)
    qtbot.waitUntil(lambda: window.state.stack is not None, timeout=30_000)
    sources = [path for path, _ in window.state.stack.sources]
    window.state.set_index(sources.index(ct_paths[CORRUPT_SLICE]))
    qtbot.waitUntil(lambda: window.problems.log.count(ct.uid) == 1, timeout=60_000)

    assert window.problems.isVisible()
    by_group = {uid: label for uid, label, _shown in window.problems.groups()}
    assert by_group[ct.uid] == "#1 Thorax (CT)  —  1 problem"
    assert by_group[UNSORTED] == f"{UNSORTED_LABEL}  —  2 problems"
    assert mr.uid not in by_group
    rows = {Path(path).name: (where, reason) for path, where, reason in window.problems.rows()}
    assert rows[Path(ct_paths[CORRUPT_SLICE]).name][0] == "frame 1"
    assert {"notes.txt", "cut.dcm"} <= set(rows)
    assert all(reason and "\n" not in reason for _, reason in rows.values())

    model = window.tree_model
    assert (model.problem_count(ct.uid), model.problem_count(mr.uid)) == (1, 0)
    ct_images = model.series_item(ct.uid).parent().child(model.series_item(ct.uid).row(), 3)
    assert ct_images.data(Qt.ItemDataRole.DecorationRole) is not None
    assert "1 file(s) or frame(s) could not be used" in ct_images.toolTip()

    window.problems.only_selected.setChecked(True)
    shown = {uid for uid, _label, visible in window.problems.groups() if visible}
    assert shown == {ct.uid}
    window.select_series(mr.uid)
    qtbot.waitUntil(lambda: window.problems.selected_series == mr.uid, timeout=10_000)
    assert not any(visible for _uid, _label, visible in window.problems.groups())
