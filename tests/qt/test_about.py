"""Help > About: version, licence, libraries, and which transfer syntaxes this install decodes."""

from __future__ import annotations

import pydicom
from pydicom.uid import MPEG2MPML, JPEG2000Lossless, JPEGLSLossless, RLELossless
from PySide6.QtWidgets import QLabel

from viewer import __version__
from viewer.qt.about import AboutDialog, facts_as_text
from viewer.qt.app import make_application


def test_about_lists_versions_and_transfer_syntaxes(qtbot) -> None:  # type: ignore[no-untyped-def]
    make_application()
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=20_000)
    facts = dialog.facts
    assert facts is not None
    versions = dict(facts.versions)
    assert versions["DICOM Viewer"] == __version__
    assert versions["pydicom"] == pydicom.__version__
    assert {"Python", "Qt", "PySide6", "Platform"} <= set(versions)
    decodes = {row.uid: row.decodable for row in facts.syntaxes}
    assert decodes[JPEG2000Lossless] and decodes[JPEGLSLossless] and decodes[RLELossless]
    assert decodes[MPEG2MPML] is False  # video is not decoded, and the dialog says so
    shown = [dialog.syntaxes.topLevelItem(i) for i in range(dialog.syntaxes.topLevelItemCount())]
    assert len(shown) == len(facts.syntaxes)
    jpeg_ls = next(item for item in shown if item.text(3) == JPEGLSLossless)
    assert jpeg_ls.text(0) == "yes" and "pyjpegls" in jpeg_ls.text(2)
    assert [item.text(0) for item in shown] == sorted((i.text(0) for i in shown), reverse=True)
    assert any("MIT licence" in label.text() for label in dialog.findChildren(QLabel))
    text = facts_as_text(facts)
    assert f"DICOM Viewer: {__version__}" in text and "JPEG-LS Lossless" in text
    assert dialog.copy_button.isEnabled()


def test_about_from_the_help_menu(qtbot) -> None:  # type: ignore[no-untyped-def]
    from viewer.qt.main_window import MainWindow

    make_application()
    window = MainWindow()
    qtbot.addWidget(window)
    window.window_settings.about_action.trigger()
    dialog = window.window_settings.about_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=20_000)  # type: ignore[attr-defined]
    window.shutdown()
