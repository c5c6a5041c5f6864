"""The retrieve benchmark's child process: a private network namespace, a real Orthanc in it
loaded with the CT series, then the same study fetched by C-GET, C-MOVE, WADO-RS (into a
study database, as the GUI does) and DCMTK's ``getscu`` (``TCP_NODELAY=1``, else delayed ACKs
cost it ~45 ms per image). Prints one JSON line:
``{"cget": [s, ...], "move": [...], "wado": [...], "getscu": [...], "first_ms": [...],
"shown_ms": [...], "images": N}`` (seconds per run; first_ms: C-GET start to the first
instance landed; shown_ms: in the real main window (offscreen), the Query/Retrieve dock's
C-GET started to the first image on the viewport).

Run as ``python -m viewer.bench.retrieve_probe CT_FOLDER RUNS``; exits 3 with a reason on
stderr when it cannot run here (no Orthanc, no namespace).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from viewer.bench.orthanc import (
    SERVER_AET,
    VIEWER_AET,
    Orthanc,
    dicomweb_plugin,
    enter_private_network,
    orthanc_binary,
)

CANNOT = 3


def main(argv: list[str]) -> int:
    folder, runs = Path(argv[0]), int(argv[1])
    why = ""
    if orthanc_binary() is None or dicomweb_plugin() is None:
        why = "Orthanc or its DICOMweb plugin not installed"
    else:
        why = enter_private_network()  # first: before any thread exists
    if why:
        print(why, file=sys.stderr)
        return CANNOT
    work = Path(tempfile.mkdtemp(prefix="dicom-viewer-bench-retrieve-"))
    os.environ["XDG_DATA_HOME"] = str(work / "data")  # the managed store goes here
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")  # nodes.json for the GUI run
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    server = Orthanc(work / "orthanc").start()
    try:
        files = sorted(p for p in folder.rglob("*.dcm"))
        server.upload(files)
        print(json.dumps(_measure(server, files, work, runs)))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _measure(server: Orthanc, files: list[Path], work: Path, runs: int) -> dict[str, object]:
    import pydicom

    from viewer.net.client import connect, retrieve
    from viewer.net.landing import Landing
    from viewer.net.nodes import LocalAE, resolve_node
    from viewer.store.database import StudyDatabase

    study = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    local = LocalAE(aet=VIEWER_AET, port=server.viewer_port)
    seconds: dict[str, list[float]] = {"cget": [], "move": [], "wado": [], "getscu": []}
    first_ms: list[float] = []
    for run in range(runs):
        for key, target, method in (
            ("cget", server.dimse, "get"),
            ("move", server.dimse, "move"),
            ("wado", server.dicomweb, "wado"),
        ):
            client = connect(resolve_node(target), local)
            first: list[float] = []

            def arrived(_item: object, first: list[float] = first) -> None:
                if not first:
                    first.append(time.perf_counter())

            with StudyDatabase(work / f"{key}-{run}.sqlite") as database:
                landing = Landing(database=database, on_arrived=arrived)
                start = time.perf_counter()
                report = retrieve(client, study, landing, method)
                landing.close()
                took = time.perf_counter() - start
            if report.error or report.done != len(files):
                raise RuntimeError(f"{key}: {report.done}/{len(files)} {report.error}")
            seconds[key].append(took)
            if key == "cget" and first:
                first_ms.append((first[0] - start) * 1000)
            shutil.rmtree(work / "data", ignore_errors=True)
        getscu = shutil.which("getscu")
        if getscu:
            out = work / f"getscu-{run}"
            out.mkdir()
            start = time.perf_counter()
            done = subprocess.run(
                [
                    getscu,
                    "-aet",
                    VIEWER_AET,
                    "-aec",
                    SERVER_AET,
                    "-S",
                    "-k",
                    "QueryRetrieveLevel=STUDY",
                    "-k",
                    f"StudyInstanceUID={study}",
                    "-od",
                    str(out),
                    "127.0.0.1",
                    str(server.dicom_port),
                ],
                env={**os.environ, "TCP_NODELAY": "1"},
                capture_output=True,
                check=False,
            )
            took = time.perf_counter() - start
            if done.returncode == 0 and len(list(out.iterdir())) == len(files):
                seconds["getscu"].append(took)
    shown_ms = _first_shown_ms(server, study, work, runs)
    return {**seconds, "first_ms": first_ms, "shown_ms": shown_ms, "images": len(files)}


def _first_shown_ms(server: Orthanc, study: str, work: Path, runs: int) -> list[float]:
    """The GUI's first image: a C-GET of the study started from the Query/Retrieve dock of a
    fresh main window (empty database), to the first frame on the viewport."""
    from PySide6.QtWidgets import QApplication

    from viewer.net.nodes import LocalAE, Node, NodeBook, save_nodes

    app = QApplication.instance() or QApplication([])
    node = Node(name="bench", aet=SERVER_AET, host="127.0.0.1", port=server.dicom_port)
    save_nodes(NodeBook([node], LocalAE(aet=VIEWER_AET, port=server.viewer_port)))
    shown: list[float] = []
    for _ in range(runs):
        shutil.rmtree(work / "data", ignore_errors=True)
        took = _one_first_shown(app, node, study)
        if took is not None:
            shown.append(took)
    return shown


def _one_first_shown(app: Any, node: Any, study: str) -> float | None:
    from viewer.bench.gui_probe import close_window, new_window, wait_until

    window = new_window()
    dock = window.show_query_retrieve()
    wait_until(lambda: False, 0.3)  # the window laid out and idle
    start = time.perf_counter()
    dock.start_retrieve(node, "get", [(study, [])])
    took = None
    if wait_until(lambda: window.viewport.frame is not None, 60):
        app.processEvents()  # the frame painted
        took = (time.perf_counter() - start) * 1000
    wait_until(lambda: dock.status.text().startswith("Retrieved"), 120)
    close_window(window)
    return took


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
