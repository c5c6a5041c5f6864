"""Prior comparison (issue 14 item 11), driven through the real main window.

Two CT studies of one patient written by the test factories as two scanners would: the
current one (2024, 24 axial slices of 5 mm from z = 10 mm, and a sagittal series) and a prior
(2023, 20 axial slices of 5 mm from z = -310 mm: another table position), each with its own
Frame of Reference UID. They share no patient coordinates, so they link by position with an
offset, as Weasis does: turn synchronised scrolling off, align by hand, turn it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests import factories
from tests.gui_driving import drag, module_main_window, wait_for
from viewer.qt.image_view import ImageViewport
from viewer.qt.main_window import MainWindow

SPACING = 5.0


@pytest.fixture(scope="module")
def studies(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, factories.SeriesTruth, factories.SeriesTruth]:
    """(folder, current axial CT, prior axial CT)."""
    folder = tmp_path_factory.mktemp("prior")
    common = {"rows": 32, "columns": 32, "pixel_spacing": (1.0, 1.0), "spacing": SPACING}
    current = factories.write_series(
        folder / "current", slices=24, origin=(-16.0, -16.0, 10.0), study_date="20240102",
        series_number=2, series_description="Chest", **common,  # type: ignore[arg-type]
    )  # fmt: skip
    factories.write_series(
        folder / "current_sag", slices=6, orientation="sagittal", origin=(-10.0, -16.0, 100.0),
        study_uid=current.study_uid, study_date="20240102", series_number=3,
        series_description="Chest sag", **common,  # type: ignore[arg-type]
    )  # fmt: skip
    prior = factories.write_series(
        folder / "prior", slices=20, origin=(-16.0, -16.0, -310.0), study_date="20230105",
        series_number=2, series_description="Chest", seed=3, **common,  # type: ignore[arg-type]
    )  # fmt: skip
    factories.write_series(
        folder / "prior_mr", slices=5, modality="MR", study_uid=prior.study_uid,
        study_date="20230105", series_number=5, series_description="Chest MR",
    )  # fmt: skip
    return folder, current, prior


@pytest.fixture(scope="module")
def window(
    studies: tuple[Path, factories.SeriesTruth, factories.SeriesTruth],
) -> Iterator[MainWindow]:
    yield from module_main_window([str(studies[0])])


def z(viewport: ImageViewport) -> float:
    stack = viewport.state.stack
    assert stack is not None and stack.positions is not None
    return stack.positions[viewport.state.index][2]


def wheel(viewport: ImageViewport, notches: int) -> None:
    """Real wheel notches over ``viewport`` (negative: down, the next slice)."""
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    for _ in range(abs(notches)):
        event = QWheelEvent(
            centre, viewport.mapToGlobal(centre), QPoint(0, 0),
            QPoint(0, 120 if notches > 0 else -120), Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
        )  # fmt: skip
        QApplication.sendEvent(viewport.viewport(), event)
    QApplication.processEvents()


def click(viewport: ImageViewport) -> None:
    QTest.mouseClick(viewport.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    QApplication.processEvents()


def corner(viewport: ImageViewport) -> list[str]:
    return viewport.overlay.corners.get("bl", [])


def test_compare_links_by_position_with_an_offset(
    window: MainWindow, studies: tuple[Path, factories.SeriesTruth, factories.SeriesTruth]
) -> None:
    _folder, current, prior = studies
    assert window.state.series_uid == current.series_uid  # the newest study opens
    window.state.set_index(12)  # z = 70
    window.compare_action.trigger()  # View > Compare with prior
    grid = window.viewports
    assert grid.layout_name == "1x2"
    left, right = grid.visible_viewports()
    wait_for(lambda: left.frame is not None and right.frame is not None)
    assert left.state.series_uid == current.series_uid and window.viewport is left
    assert right.state.series_uid == prior.series_uid  # same modality and plane, not the MR
    assert right.state.frame_of_reference != left.state.frame_of_reference
    assert right.state.index == round(12 / 23 * 19)  # the same place in the stack: 10
    offset = z(right) - z(left)  # -260 - 70 = -330
    assert offset == pytest.approx(-330.0)
    assert "offset -330.0 mm" in corner(right)
    assert corner(right)[-3:] == [
        "Linked by position",
        "offset -330.0 mm",
        "(no shared Frame of Ref.)",
    ]
    assert "offset +330.0 mm" in corner(left)
    assert "offset -330.0 mm (no shared Frame of Reference" in window.statusBar().currentMessage()
    assert not right.reference_line.isVisible()  # no reference lines across frames
    # Scroll the current study: the prior follows by the same millimetres.
    for notches in (-3, 2, -4):
        wheel(left, notches)
        assert z(right) == pytest.approx(z(left) + offset)
    # Align by hand: sync off, scroll the prior two slices on, sync on.
    window.view_controls.sync_action.trigger()
    assert not grid.sync_scrolling and "Linked by position" not in corner(right)
    click(right)
    assert window.viewport is right
    before = left.state.index
    wheel(right, -2)
    assert left.state.index == before  # not linked while off
    click(left)
    window.view_controls.sync_action.trigger()
    new_offset = offset + 2 * SPACING
    assert "on: linked by position, offset -320.0 mm" in window.statusBar().currentMessage()
    assert "offset -320.0 mm" in corner(right)
    wheel(left, 3)
    assert z(right) == pytest.approx(z(left) + new_offset)
    # The prior leading works too, with the opposite offset.
    click(right)
    wheel(right, -1)
    assert z(left) == pytest.approx(z(right) - new_offset)
    assert "offset +320.0 mm" in corner(left)
    click(left)


def test_window_level_link_copies_to_the_same_modality(window: MainWindow) -> None:
    grid, controls = window.viewports, window.view_controls
    left, right = grid.visible_viewports()
    assert window.viewport is left
    right_before = right.state.voi
    drag(left, Qt.MouseButton.LeftButton, QPointF(60, 30))  # W/L drag, not linked yet
    assert left.state.voi != right_before and right.state.voi == right_before
    controls.link_voi_action.trigger()  # View > Link window/level: copies at once
    assert right.state.voi == left.state.voi
    drag(left, Qt.MouseButton.LeftButton, QPointF(-40, 20))
    assert right.state.voi == left.state.voi
    QTest.keyClick(left, Qt.Key.Key_3)  # a preset key goes across too
    QApplication.processEvents()
    assert right.state.voi == left.state.voi
    wait_for(
        lambda: any(f"W: {left.state.voi.width:.0f}" in t for t in right.overlay.corners["br"])  # type: ignore[union-attr]
    )
    # An MR beside it keeps its own window.
    mr = next(s.uid for s in window.catalog.all_series() if s.info.modality == "MR")
    grid.set_active(right)
    window.show_series(mr)
    wait_for(lambda: right.frame is not None and right.state.voi is not None)
    mr_window = right.state.voi
    grid.set_active(left)
    drag(left, Qt.MouseButton.LeftButton, QPointF(30, 30))
    assert right.state.voi == mr_window != left.state.voi
    controls.link_voi_action.trigger()
    controls.set_layout("1x1")


def test_compare_says_when_there_is_no_prior(window: MainWindow) -> None:
    sagittal = next(s.uid for s in window.catalog.all_series() if s.info.description == "Chest sag")
    window.show_series(sagittal)
    assert not window.compare_with_prior()  # the prior has no sagittal CT
    assert "no other study" in window.statusBar().currentMessage()
    assert window.viewports.layout_name == "1x1"


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")  # the menu, offscreen
def test_tree_context_menu_compares_from_any_viewport(
    window: MainWindow, studies: tuple[Path, factories.SeriesTruth, factories.SeriesTruth]
) -> None:
    _folder, current, prior = studies
    controls, grid = window.view_controls, window.viewports
    controls.set_layout("2x2")
    last = grid.visible_viewports()[3]
    click(last)  # the bottom-right viewport is active
    assert window.viewport is last
    item = window.tree_model.series_item(current.series_uid)
    assert item is not None
    row = window.tree_proxy.mapFromSource(item.index())
    window.tree.scrollTo(row)
    chosen: list[str] = []

    def choose() -> None:  # the menu is open now: pick its entry as a user would
        menu = QApplication.activePopupWidget()
        assert menu is not None
        action = next(a for a in menu.actions() if a.text() == "Compare with prior")
        chosen.append(action.text())
        menu.setActiveAction(action)
        QTest.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(200, choose)
    point = window.tree.visualRect(row).center()
    at = window.tree.viewport().mapToGlobal(point)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, at)  # a right click's
    QApplication.sendEvent(window.tree.viewport(), event)
    wait_for(lambda: chosen and grid.layout_name == "1x2", 10)
    left, right = grid.visible_viewports()
    assert left is last and window.viewport is left  # the series went left, then its prior
    wait_for(lambda: right.state.series_uid == prior.series_uid)
    assert left.state.series_uid == current.series_uid
    controls.set_layout("1x1")
