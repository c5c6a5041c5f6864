"""File > Export...: the dialog exports what the viewport shows, off the GUI thread, with
progress and cancel; results are the same files ``dicom-viewer export`` writes."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pytestqt.qtbot import QtBot

from tests.gui_driving import show_modality, wait_for
from viewer import demo
from viewer.dicom.pixels.display import render_frame
from viewer.qt.export_dialog import ExportDialog
from viewer.qt.main_window import MainWindow


def _dialog(window: MainWindow, qtbot: QtBot, kind: str, out: Path) -> ExportDialog:
    dialog = window.show_export_dialog()
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData(kind))
    dialog.destination.setText(str(out))
    return dialog


def _finish(dialog: ExportDialog) -> None:
    wait_for(lambda: not dialog.running and dialog.export_button.isEnabled(), 120)


def test_file_menu_has_export(window: MainWindow) -> None:
    (file_menu,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&File"]
    assert "&Export…" in [action.text() for action in file_menu.actions()]


def test_nifti_of_the_series_shown(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    show_modality(window, "MR")
    dialog = _dialog(window, qtbot, "nifti", tmp_path / "nifti")
    seen: list[int] = []
    dialog.progress.valueChanged.connect(seen.append)
    assert dialog.start()
    assert dialog.running or dialog.outcome is not None  # returned at once: a worker writes
    _finish(dialog)
    assert dialog.outcome is not None and dialog.outcome.written == 1
    assert seen and max(seen) == demo.MR_SLICES  # progress counted the frames
    (image,) = (tmp_path / "nifti").glob("*.nii")
    assert nib.load(image).shape == (256, 256, demo.MR_SLICES)
    assert "written" in dialog.status.text()


def test_png_with_the_window_shown(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    show_modality(window, "CT")
    voi = window.state.voi
    assert voi is not None
    dialog = _dialog(window, qtbot, "png", tmp_path / "png")
    dialog.scope.setCurrentIndex(dialog.scope.findData("stack"))
    assert dialog.use_window.isChecked()
    assert dialog.start()
    _finish(dialog)
    stack = window.state.stack
    assert stack is not None
    (folder,) = (tmp_path / "png").iterdir()
    first = np.asarray(Image.open(folder / "0001.png"))
    expected = render_frame(*stack.sources[0], window=(voi.center, voi.width))
    assert np.array_equal(first, expected)


def test_anonymised_dicom_with_dicomdir(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    show_modality(window, "CR")
    dialog = _dialog(window, qtbot, "dicom", tmp_path / "cd")
    dialog.anonymize.setChecked(True)
    dialog.dicomdir.setChecked(True)
    assert dialog.keep["dates"].isEnabled()
    assert dialog.start()
    _finish(dialog)
    assert (tmp_path / "cd" / "DICOMDIR").is_file()
    (image,) = [p for p in (tmp_path / "cd").rglob("*") if p.is_file() and p.name != "DICOMDIR"]
    ds = dcmread(image)
    assert ds.PatientIdentityRemoved == "YES"
    assert str(ds.PatientName) != demo.PATIENT_NAME


def test_refusals_are_one_line_in_the_dialog(
    window: MainWindow, qtbot: QtBot, demo_study: Path
) -> None:
    dialog = _dialog(window, qtbot, "dicom", demo_study / "inside")
    assert not dialog.start()
    assert "will not write into a folder it reads" in dialog.status.text()
    dialog.destination.setText("")
    assert not dialog.start()
    assert "Choose" in dialog.status.text()


def test_cancel_leaves_nothing(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    show_modality(window, "CT")
    dialog = _dialog(window, qtbot, "png", tmp_path / "png")
    dialog.progress.valueChanged.connect(lambda value: value >= 3 and dialog.cancel())
    assert dialog.start()
    _finish(dialog)
    assert dialog.outcome is None
    assert "Cancelled" in dialog.status.text()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".gif"])
def test_video_of_the_cine(window: MainWindow, qtbot: QtBot, tmp_path: Path, suffix: str) -> None:
    show_modality(window, "US")
    dialog = _dialog(window, qtbot, "video", tmp_path / "echo")
    dialog.container.setCurrentIndex(dialog.container.findText(suffix))
    assert dialog.scope.currentData() != "all"
    assert dialog.start()
    _finish(dialog)
    with Image.open(tmp_path / f"echo{suffix}") as image:
        assert image.n_frames == demo.US_FRAMES


def test_blackout_is_previewed_then_written(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    show_modality(window, "US")
    dialog = _dialog(window, qtbot, "dicom", tmp_path / "us")
    dialog.scope.setCurrentIndex(dialog.scope.findData("stack"))
    dialog.blackout.setText("0,0,80,40")
    assert dialog.show_preview()
    wait_for(lambda: dialog.preview.isVisible() and not dialog.preview.pixmap().isNull())
    shown = dialog.preview.pixmap().toImage()
    assert shown.pixelColor(5, 5).value() == 0  # the corner is black in the preview
    dialog.blackout.setText("0,0,80")
    assert not dialog.start()
    assert "x,y,width,height" in dialog.status.text()
    dialog.blackout.setText("0,0,80,40")
    assert dialog.start()
    _finish(dialog)
    (written,) = [p for p in (tmp_path / "us").rglob("*") if p.is_file()]
    assert not dcmread(written).pixel_array[:, :40, :80].any()
