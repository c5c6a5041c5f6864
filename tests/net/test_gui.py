"""The GUI's side of issue 16 against a real Orthanc: Preferences > Network with Test, the
Query/Retrieve dock (background, cancellable, per-series progress) and images appearing in
the viewport while a retrieve runs."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
import pytest

from tests.gui_driving import shown_main_window, wait_for
from tests.net.conftest import Sample, demo_files
from viewer.bench.orthanc import SERVER_AET, VIEWER_AET, Orthanc
from viewer.net.nodes import LocalAE, Node, NodeBook, load_nodes, save_nodes
from viewer.qt.main_window import MainWindow
from viewer.qt.query_retrieve import QueryRetrieveDock, date_filter
from viewer.store.database import StudyDatabase


def book_for(server: Orthanc) -> NodeBook:
    return NodeBook(
        [
            Node(name="orthanc", aet=SERVER_AET, host="127.0.0.1", port=server.dicom_port),
            Node(name="orthanc-web", kind="dicomweb", url=server.dicomweb),
        ],
        LocalAE(aet=VIEWER_AET, port=server.viewer_port),
    )


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def test_date_presets() -> None:
    import datetime

    today = datetime.date(2026, 3, 1)
    start, end = datetime.date(2026, 2, 20), datetime.date(2026, 2, 10)
    assert date_filter("Any date", start, end, today) == ""
    assert date_filter("Today", start, end, today) == "20260301"
    assert date_filter("Yesterday", start, end, today) == "20260228"
    assert date_filter("Last 7 days", start, end, today) == "20260223-20260301"
    assert date_filter("Range", start, end, today) == "20260210-20260220"


def test_preferences_network_test_and_save(qtbot, orthanc: Orthanc) -> None:  # type: ignore[no-untyped-def]
    from viewer.qt.preferences import PreferencesDialog
    from viewer.qt.settings import ViewerSettings

    save_nodes(NodeBook(local=LocalAE(aet=VIEWER_AET, port=orthanc.viewer_port)))
    dialog = PreferencesDialog(ViewerSettings())
    qtbot.addWidget(dialog)
    page = dialog.network_page
    dialog.tabs.setCurrentWidget(page)
    dialog.show()
    page.add_node()
    page.name.setText("main")
    page.name.textEdited.emit("main")
    page.aet.setText(SERVER_AET)
    page.aet.textEdited.emit(SERVER_AET)
    page.host.setText("127.0.0.1")
    page.host.textEdited.emit("127.0.0.1")
    page.port.setValue(orthanc.dicom_port)
    page.test_node()
    wait_for(lambda: page.test_button.isEnabled())
    assert "success" in page.test_result.text()
    page.aet.setText("NOTORTHANC")
    page.aet.textEdited.emit("NOTORTHANC")
    page.test_node()
    wait_for(lambda: page.test_button.isEnabled())
    assert "association rejected" in page.test_result.text()
    page.aet.setText(SERVER_AET)
    page.aet.textEdited.emit(SERVER_AET)
    dialog.accept()
    saved = load_nodes()
    assert [(n.name, n.aet, n.port) for n in saved.nodes] == [
        ("main", SERVER_AET, orthanc.dicom_port)
    ]


def _dock(window: MainWindow, server: Orthanc, node: str) -> QueryRetrieveDock:
    save_nodes(book_for(server))
    dock = window.show_query_retrieve()
    dock.node_box.setCurrentIndex(dock.node_box.findText(node))
    return dock


@pytest.mark.parametrize(
    ("node", "method"), [("orthanc", "get"), ("orthanc", "move"), ("orthanc-web", "wado")]
)
def test_query_expand_retrieve_shows_it(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, orthanc: Orthanc, samples: list[Sample], node: str, method: str
) -> None:
    dock = _dock(window, orthanc, node)
    dock.patient_name.setText("CompressedSamples*")
    with qtbot.waitSignal(dock.finished, timeout=30_000):
        dock.search()
    expected = {s.study_uid for s in samples if s.patient_name.startswith("CompressedSamples")}
    assert dock.results.topLevelItemCount() == len(expected)
    study = dock.results.topLevelItem(0)
    assert study is not None
    uid = study.data(0, 256).study_uid
    dock.results.expandItem(study)
    wait_for(lambda: study.childCount() > 0)
    assert study.childCount() == len({s.series_uid for s in samples if s.study_uid == uid})
    study.setSelected(True)
    dock.method_box.setCurrentIndex(dock.method_box.findData(method))
    with qtbot.waitSignal(dock.finished, timeout=60_000):
        dock.retrieve_selected()
    assert "Retrieved" in dock.status.text() and "did not arrive" not in dock.status.text()
    child = study.child(0)
    assert child is not None
    count = sum(1 for s in samples if s.series_uid == child.data(0, 256).series_uid)
    assert child.text(3) == f"{count}/{count}"
    wait_for(lambda: window.state.series_uid != "")
    shown = window.catalog.series(window.state.series_uid)
    assert shown is not None and shown.info.uid in {
        s.series_uid for s in samples if s.study_uid == uid
    }
    with StudyDatabase() as database:
        assert len(database.scanned_files(uid)) == sum(1 for s in samples if s.study_uid == uid)


def test_images_appear_while_the_retrieve_runs_and_cancel_keeps_them(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, own_orthanc: Orthanc, demo_study: Path
) -> None:
    files = demo_files(demo_study)
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    ct = [f for f, h in zip(files, headers, strict=True) if h.Modality == "CT"]
    own_orthanc.upload(ct)
    total = len(ct)
    dock = _dock(window, own_orthanc, "orthanc")
    with qtbot.waitSignal(dock.finished, timeout=30_000):
        dock.search()
    study = dock.results.topLevelItem(0)
    assert study is not None
    study.setSelected(True)
    frames_seen: list[int] = []
    window.viewports.active.state.changed.connect(
        lambda what: frames_seen.append(window.state.frame_count)
    )
    dock.method_box.setCurrentIndex(dock.method_box.findData("get"))
    with qtbot.waitSignal(dock.finished, timeout=120_000):
        dock.retrieve_selected()
    wait_for(lambda: window.viewport.frame is not None)
    growth = [n for n in dict.fromkeys(frames_seen) if n]
    assert growth[0] < total, "the first image should show before the series is complete"
    assert growth[-1] == total and len(growth) > 2
    assert window.state.frame_count == total

    # Again into a fresh database, cancelled part way: what arrived stays; Retry completes.
    with StudyDatabase() as database:
        database.remove_study(study.data(0, 256).study_uid)
    dock._landing = None
    arrived: list[int] = []
    dock.retrieved.connect(lambda items: arrived.append(len(items)))
    dock.retrieve_selected()
    wait_for(lambda: sum(arrived) >= 10, 60)
    with qtbot.waitSignal(dock.finished, timeout=60_000):
        dock.cancel()
    assert "Cancelled" in dock.status.text() or "did not arrive" in dock.status.text()
    assert dock.retry_button.isEnabled()
    with StudyDatabase() as database:
        kept = len(database.scanned_files(study.data(0, 256).study_uid))
    assert 10 <= kept < total
    with qtbot.waitSignal(dock.finished, timeout=120_000):
        dock.retry()
    with StudyDatabase() as database:
        assert len(database.scanned_files(study.data(0, 256).study_uid)) == total


def _push(server: Orthanc, instance_ids: list[str]) -> None:
    """Orthanc sends instances to our AE (its C-STORE SCU), as a modality pushing would."""
    import json

    body = json.dumps({"Resources": instance_ids, "Synchronous": True}).encode()
    server.rest("POST", "/modalities/viewer/store", body)


def test_storage_scp_receives_pushes_and_shows_them(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, own_orthanc: Orthanc, samples: list[Sample]
) -> None:
    ids = own_orthanc.upload([s.path for s in samples[:3]])
    book = book_for(own_orthanc)
    book.local = LocalAE(aet=VIEWER_AET, port=own_orthanc.viewer_port, listen=True)
    save_nodes(book)
    messages: list[str] = []
    window.listener.message.connect(messages.append)
    window.apply_network()
    assert window.listener.running
    _push(own_orthanc, ids)
    wait_for(lambda: all(window.catalog.series(s.series_uid) for s in samples[:3]))
    wait_for(lambda: any("from ORTHANC" in m for m in messages))
    assert window.state.series_uid in {s.series_uid for s in samples[:3]}
    window.listener.stop()
    with StudyDatabase() as database:
        for sample in samples[:3]:
            uids = {i.instance.sop_instance_uid for i in database.scanned_files(sample.study_uid)}
            assert sample.sop_uid in uids

    # A C-MOVE while listening goes through the listener (our port is taken by it).
    dock = _dock(window, own_orthanc, "orthanc")  # writes the nodes with listen off
    save_nodes(book)
    window.apply_network()
    assert window.listener.running
    with qtbot.waitSignal(dock.finished, timeout=30_000):
        dock.search()
    dock.results.topLevelItem(0).setSelected(True)  # type: ignore[union-attr]
    dock.method_box.setCurrentIndex(dock.method_box.findData("move"))
    with qtbot.waitSignal(dock.finished, timeout=60_000):
        dock.retrieve_selected()
    assert "Retrieved" in dock.status.text() and "did not arrive" not in dock.status.text()


def test_storage_scp_refuses_a_calling_ae_it_was_not_told_to_accept(  # type: ignore[no-untyped-def]
    window: MainWindow, own_orthanc: Orthanc, samples: list[Sample]
) -> None:
    import urllib.error

    ids = own_orthanc.upload([samples[0].path])
    book = book_for(own_orthanc)
    book.local = LocalAE(
        aet=VIEWER_AET, port=own_orthanc.viewer_port, listen=True, accept_aets=("CT_SCANNER",)
    )
    save_nodes(book)
    window.apply_network()
    assert window.listener.running
    with pytest.raises(urllib.error.HTTPError):
        _push(own_orthanc, ids)
    assert window.catalog.series(samples[0].series_uid) is None
    assert (
        "rejected" in own_orthanc.log_tail().lower() or "refused" in own_orthanc.log_tail().lower()
    )


@pytest.mark.parametrize("node", ["orthanc", "orthanc-web"])
def test_send_the_shown_study(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, own_orthanc: Orthanc, samples: list[Sample], node: str
) -> None:
    from tests.gui_driving import open_and_wait

    mr = [s for s in samples if s.study_uid == samples[1].study_uid]
    open_and_wait(qtbot, window, [str(s.path) for s in mr])
    window.show_series(mr[0].series_uid)
    dock = _dock(window, own_orthanc, node)
    with qtbot.waitSignal(dock.finished, timeout=60_000):
        dock.send_shown()
    assert dock.status.text().startswith(f"Sent {len(mr)} of {len(mr)}"), dock.status.text()
    assert own_orthanc.count_instances() == len(mr)
    for sample in mr:
        assert own_orthanc.instance_file(sample.sop_uid)


def _tree_rows(window: MainWindow, role: int, uids: set[str]) -> list[Any]:
    """The tree's (proxy) indexes whose ``role`` holds one of ``uids``."""
    model = window.tree_proxy
    found = []
    pending = [model.index(row, 0) for row in range(model.rowCount())]
    while pending:
        index = pending.pop()
        if str(index.data(role) or "") in uids:
            found.append(index)
        pending.extend(model.index(row, 0, index) for row in range(model.rowCount(index)))
    return found


def test_send_from_the_tree_and_the_viewers_own_objects(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, own_orthanc: Orthanc, samples: list[Sample]
) -> None:
    """Select a whole study and one series of another in the study tree, "Send to…" a DIMSE
    node: every instance is listed as sent and is on the server; then the viewer's own
    objects (an ellipse ROI as SR and GSPS, a key image as KO) go by STOW-RS."""
    from PySide6.QtCore import QItemSelectionModel, QPointF, Qt
    from PySide6.QtTest import QTest

    from tests.gui_driving import drag, focus_viewport, open_and_wait, show_modality
    from viewer.qt.study_tree import SERIES_UID_ROLE, STUDY_UID_ROLE

    open_and_wait(qtbot, window, [str(s.path) for s in samples])
    save_nodes(book_for(own_orthanc))
    study = samples[1].study_uid  # MR_small's study: several series
    other = next(s for s in samples if s.study_uid != study)
    wanted = [s for s in samples if s.study_uid == study or s.series_uid == other.series_uid]
    selection = window.tree.selectionModel()
    selection.clearSelection()
    for index in _tree_rows(window, STUDY_UID_ROLE, {study}) + _tree_rows(
        window, SERIES_UID_ROLE, {other.series_uid}
    ):
        selection.select(
            index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        )
    menu = window.tree_send.make_menu()
    assert [a.text() for a in menu.actions()] == ["Send to…", "Send measurements to…"]
    assert menu.actions()[0].isEnabled()
    chosen: list[str] = []

    def choose(_parent: object, book: NodeBook) -> Node | None:
        chosen.append("asked")
        return book.find("orthanc")

    window.tree_send.choose = choose
    dock = window.show_query_retrieve()
    with qtbot.waitSignal(dock.finished, timeout=60_000):
        assert window.tree_send.send_selected()
    assert chosen == ["asked"]
    rows = dock.sent_results()
    assert sorted(uid for _, uid, _ in rows) == sorted(s.sop_uid for s in wanted)
    assert all(result == "sent" for _, _, result in rows), rows
    assert dock.status.text().startswith(f"Sent {len(wanted)} of {len(wanted)}")
    assert own_orthanc.count_instances() == len(wanted)
    for sample in wanted:
        assert own_orthanc.instance_file(sample.sop_uid)

    # The viewer's own objects, to the DICOMweb node.
    window.viewports.set_active_tool("")
    show_modality(window, "CT")
    focus_viewport(window)
    QTest.keyClick(window.viewport, Qt.Key.Key_E)
    view = window.viewport.viewport()
    centre = QPointF(view.width() / 2, view.height() / 2)
    drag(window.viewport, Qt.MouseButton.LeftButton, QPointF(60, 50), centre - QPointF(30, 25))
    QTest.keyClick(window.viewport, Qt.Key.Key_K)
    assert len(list(window.viewports.annotations)) == 1
    window.tree_send.choose = lambda _parent, book: book.find("orthanc-web")
    with qtbot.waitSignal(dock.finished, timeout=60_000):
        assert window.tree_send.send_measurements()
    rows = dock.sent_results()
    assert len(rows) == 3 and all(result == "sent" for _, _, result in rows), rows
    assert own_orthanc.count_instances() == len(wanted) + 3
    kinds = set()
    for _, uid, _ in rows:
        kinds.add(str(pydicom.dcmread(BytesIO(own_orthanc.instance_file(uid))).Modality))
    assert kinds == {"SR", "PR", "KO"}
    window.viewports.annotations.key_images.clear()
