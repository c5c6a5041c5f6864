"""What others put into a study, shown (issue 17 item 7): a TID 1500 SR as a readable report
whose measurements show their images, a KO as "Key images", an encapsulated PDF opened in the
system viewer from a private copy. Real files: the demo CT, and objects written with highdicom
(the SR as another system would) or with the project's own writer (the KO)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.foreign_objects import presentation_state
from tests.gui_driving import open_and_wait, show_modality, wait_for
from viewer.core.user_dirs import cache_dir
from viewer.model.orientation import FLIP_HORIZONTAL, IDENTITY, ROTATE_CLOCKWISE, compose
from viewer.qt.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton
#: Where the tests save what they show, to be looked at: only when this variable names a folder.
SHOTS = Path(os.environ.get("DICOM_VIEWER_TEST_SHOTS", "") or "/nonexistent")


def click_row(window: MainWindow, series_uid: str) -> None:
    """A real click on the study tree's row of ``series_uid``."""
    item = window.tree_model.series_item(series_uid)
    assert item is not None
    index = window.tree_proxy.mapFromSource(item.index())
    window.tree.scrollTo(index)
    QApplication.processEvents()
    rect = window.tree.visualRect(index)
    QTest.mouseClick(window.tree.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, rect.center())
    QApplication.processEvents()


def series_of(window: MainWindow, modality: str) -> str:
    return next(s.uid for s in window.catalog.all_series() if s.info.modality == modality)


def shown_key(window: MainWindow) -> tuple[str, int]:
    stack = window.state.stack
    assert stack is not None
    path, frame = stack.sources[window.state.index]
    return (path, frame)


def grab(window: MainWindow, name: str) -> None:
    if SHOTS.is_dir():
        window.grab().save(str(SHOTS / name))


def other_systems_report(sources: list[pydicom.Dataset]) -> pydicom.Dataset:
    """A TID 1500 report as another system writes it (highdicom directly): a length on the
    first image, an ellipse ROI with its mean on the second, and a finding as text."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    first, second = sources
    length = hd.sr.Measurement(
        codes.SCT.Length,
        12.5,
        codes.UCUM.Millimeter,
        referenced_coordinates=[
            hd.sr.CoordinatesForMeasurement(
                hd.sr.GraphicTypeValues.POLYLINE,
                np.array([[100.0, 100.0], [140.0, 120.0]]),
                hd.sr.SourceImageForRegion.from_source_image(first),
            )
        ],
    )
    tracking = hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="lesion 1")
    lesion = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=tracking, measurements=[length]
    )
    region = hd.sr.ImageRegion(
        hd.sr.GraphicTypeValues.ELLIPSE,
        np.array([[200.0, 250.0], [260.0, 250.0], [230.0, 230.0], [230.0, 270.0]]),
        hd.sr.SourceImageForRegion.from_source_image(second),
    )
    mean = hd.sr.Measurement(
        codes.DCM.AttenuationCoefficient,
        42.0,
        hd.sr.CodedConcept("[hnsf'U]", "UCUM", "Hounsfield unit"),
        derivation=codes.SCT.Mean,
    )
    roi = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="ROI 1"),
        referenced_region=region,
        measurements=[mean],
    )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name="Other^Reader"
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=codes.SCT.ImagingProcedure,
        imaging_measurements=[lesion, roi],
    )
    return hd.sr.Comprehensive3DSR(
        evidence=sources,
        content=report,
        series_instance_uid=hd.UID(),
        series_number=77,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="Other PACS",
        is_complete=True,
    )


def test_a_report_lists_its_measurements_and_a_click_shows_the_image(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    show_modality(window, "CT")
    stack = window.state.stack
    assert stack is not None
    (path_a, _), (path_b, _) = stack.sources[5], stack.sources[40]
    sources = [pydicom.dcmread(path_a), pydicom.dcmread(path_b)]
    other_systems_report(sources).save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    open_and_wait(qtbot, window, [str(tmp_path)])
    click_row(window, series_of(window, "SR"))
    documents = window.documents
    wait_for(lambda: documents.dock is not None and documents.dock.measurement_items(), 30)
    dock = documents.dock
    assert dock is not None and dock.isVisible()
    rows = {item.text(0): item for item in dock.measurement_items()}
    assert rows["Length"].text(1) == "12.5 mm"
    assert rows["Length"].parent().text(0) == "lesion 1"  # its measurement group
    assert rows["Attenuation Coefficient (Mean)"].parent().text(0) == "ROI 1"
    assert rows["Attenuation Coefficient (Mean)"].text(1) == "42 HU"
    assert rows["Length"].text(2) == "Se 2, Im 6/192"
    assert rows["Attenuation Coefficient (Mean)"].text(2) == "Se 2, Im 41/192"
    window.state.set_index(100)
    for name, path in (("Attenuation Coefficient (Mean)", path_b), ("Length", path_a)):
        item = rows[name]
        dock.tree.scrollToItem(item)
        QApplication.processEvents()
        centre = dock.tree.visualItemRect(item).center()
        QTest.mouseClick(dock.tree.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, centre)
        wait_for(lambda p=path: shown_key(window) == (p, 0), 10)  # type: ignore[misc]
        wait_for(lambda: window.viewport.frame is not None, 30)
    assert window.state.series_uid == series_of(window, "CT")
    # Its length and its ellipse are drawn on their images, as another system's.
    store = window.viewports.annotations
    drawn = [store.get(i) for i in documents.drawn]
    assert sorted((a.kind, a.image.path) for a in drawn if a) == [
        ("ellipse", path_b),
        ("length", path_a),
    ]
    assert set(documents.drawn) <= store.foreign
    length = next(a for a in drawn if a and a.kind == "length")
    assert length.points == ((100.0, 100.0), (140.0, 120.0))
    ids = list(documents.drawn)
    window.viewport.refresh_annotations()
    grab(window, "report-dock.png")  # the Length row chosen, its line on image 6
    dock.hide()
    assert ids and not any(i in store for i in ids) and not documents.drawn


def test_key_images_row_shows_just_those_images(window: MainWindow, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from viewer.model.annotations.dicom_objects import key_object_selection
    from viewer.model.annotations.shapes import ImageRef

    show_modality(window, "CT")
    stack = window.state.stack
    assert stack is not None
    keys = [stack.sources[i] for i in (30, 10, 60)]
    images = [ImageRef(path, frame) for path, frame in keys]
    sources = {path: pydicom.dcmread(path) for path, _ in keys}
    key_object_selection(images, sources).save_as(tmp_path / "ko.dcm", enforce_file_format=True)
    open_and_wait(qtbot, window, [str(tmp_path)])
    uid = series_of(window, "KO")
    assert window.tree_model.series_item(uid).text().startswith("#9903 Key images\n")  # type: ignore[union-attr]
    click_row(window, uid)
    wait_for(lambda: window.state.stack is not None and window.state.stack.frames == 3, 30)
    shown = window.state.stack
    assert shown is not None and list(shown.sources) == keys  # the KO's order
    assert shown_key(window) == keys[0]
    wait_for(lambda: window.viewport.frame is not None, 30)
    window.state.step(1)
    assert shown_key(window) == keys[1]
    wait_for(lambda: window.viewport.overlay.corners["tr"][2].startswith("Key images · Se: 2"), 10)
    if window.documents.dock is not None:
        window.documents.dock.hide()  # the picture shows the viewport at its width
        wait_for(lambda: window.viewport.width() > 400, 10)
    grab(window, "key-images.png")


def test_a_pdf_opens_from_a_private_copy_in_the_cache(
    window: MainWindow, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]

    show_modality(window, "CT")
    stack = window.state.stack
    assert stack is not None
    source = pydicom.dcmread(stack.sources[0][0], stop_before_pixels=True)
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n!"  # odd length: padded
    ds = pydicom.Dataset()
    for name in ("PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "StudyTime"):
        setattr(ds, name, source.get(name, ""))
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.SeriesInstanceUID = pydicom.uid.generate_uid()
    ds.Modality = "DOC"
    ds.SeriesNumber = 88
    ds.InstanceNumber = 1
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.DocumentTitle = "Referral"
    ds.EncapsulatedDocument = pdf
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(tmp_path / "doc.dcm", enforce_file_format=True)
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    open_and_wait(qtbot, window, [str(tmp_path)])
    doc = series_of(window, "DOC")
    window.tree.chosen.emit(doc, -1, False)  # reached by the arrow keys: no viewer started
    QApplication.processEvents()
    assert not opened and "Click" in window.statusBar().currentMessage()
    click_row(window, doc)
    wait_for(lambda: opened, 30)
    copy = Path(opened[0].toLocalFile())
    assert copy.read_bytes() == pdf
    assert copy.resolve().is_relative_to(cache_dir().resolve())
    assert not copy.resolve().is_relative_to(tmp_path.resolve())
    assert copy.stat().st_mode & 0o077 == 0


def test_several_presentation_states_the_user_chooses_one_or_none(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    show_modality(window, "CT")
    stack = window.state.stack
    assert stack is not None
    path, _ = stack.sources[150]
    source = pydicom.dcmread(path)
    uid = str(source.SOPInstanceUID)
    for name, text, created, centre in (
        ("OLDER", "older text", "080000", 300.0),
        ("NEWER", "newer text", "090000", None),
    ):
        window_ = (centre, 100.0) if centre is not None else None
        state = presentation_state(source, name, (), [(text, (130.0, 100.0))], created, window_)
        if name == "OLDER":  # PS3.3 C.10.6: a quarter turn clockwise, then mirrored
            state.ImageHorizontalFlip = "Y"
            state.ImageRotation = 90
        state.save_as(tmp_path / f"{name}.dcm", enforce_file_format=True)
    open_and_wait(qtbot, window, [str(tmp_path)])
    states = window.presentation_states
    wait_for(lambda: len(states.states_for(uid)) == 2, 30)

    def texts() -> list[str]:
        return sorted(a.text for a in window.viewports.annotations.on_instance(uid))

    assert texts() == ["newer text"]  # the newest applies by default
    window.show_series(window.state.series_uid, 0, 150)
    assert states.shown_image() == uid
    states.menu.aboutToShow.emit()
    entries = [a.text() for a in states.menu.actions()]
    assert entries == ["None", "NEWER (2026-01-01 09:00)", "OLDER (2026-01-01 08:00)"]
    assert [a.isChecked() for a in states.menu.actions()] == [False, True, False]
    if SHOTS.is_dir():  # the menu, drawn without popping up
        states.menu.adjustSize()
        states.menu.grab().save(str(SHOTS / "presentation-state-menu.png"))
    states.menu.actions()[2].trigger()
    assert texts() == ["older text"]
    assert window.state.voi is not None and window.state.voi.center == pytest.approx(300.0)
    assert window.state.screen_matrix == compose(FLIP_HORIZONTAL, ROTATE_CLOCKWISE)
    window.viewport.refresh_annotations()
    assert ["older text"] in window.viewport.annotation_layer.labels
    states.menu.aboutToShow.emit()
    states.menu.actions()[0].trigger()  # None
    assert texts() == []
    assert window.state.screen_matrix == IDENTITY
    states.menu.aboutToShow.emit()
    assert [a.isChecked() for a in states.menu.actions()] == [True, False, False]
    # A click on the OLDER state's row in the tree shows its image with it applied.
    older = next(
        s.uid
        for s in window.catalog.all_series()
        if s.instances
        and s.instances[0].sop_instance_uid in states.states
        and states.states[s.instances[0].sop_instance_uid].label == "OLDER"
    )
    window.state.set_index(0)
    click_row(window, older)
    assert shown_key(window) == (path, 0)
    assert texts() == ["older text"]
    tip = window.tree_model.series_item(older).toolTip()  # type: ignore[union-attr]
    assert "a click shows its image with it applied" in tip


def test_an_enhanced_sr_from_another_system_reads_as_text(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    """pydicom's test-SR.dcm (Enhanced SR, another vendor): its title, texts and numbers
    show; its image references are to images that are not open, and say so."""
    import shutil

    from pydicom.data import get_testdata_file

    shutil.copy(get_testdata_file("test-SR.dcm"), tmp_path / "sr.dcm")
    open_and_wait(qtbot, window, [str(tmp_path)])
    uid = "1.2.276.0.7230010.3.1.4.2139363186.7819.982086466.3"
    click_row(window, uid)
    documents = window.documents
    wait_for(lambda: documents.dock is not None and documents.dock.tree.topLevelItemCount(), 30)
    dock = documents.dock
    assert dock is not None
    wait_for(lambda: dock.tree.topLevelItem(0).text(0) == "Diagnosis", 30)  # type: ignore[union-attr]
    top = dock.tree.topLevelItem(0)
    assert top is not None
    groups = {top.child(i).text(0): top.child(i) for i in range(top.childCount())}
    values = [groups["Measurements"].child(i) for i in range(groups["Measurements"].childCount())]
    assert [(v.text(0), v.text(1)) for v in values] == [("Diameter", "3 cm")] * 2
    texts = [groups["Text"].child(i).text(1) for i in range(groups["Text"].childCount())]
    assert "A mass of" in texts and "was detected." in texts
    images = groups["Images referenced"]
    assert images.child(0).text(2) == "not open"
    dock.tree.scrollToItem(images.child(0))
    QApplication.processEvents()
    centre = dock.tree.visualItemRect(images.child(0)).center()
    QTest.mouseClick(dock.tree.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, centre)
    assert "not open" in window.statusBar().currentMessage()
