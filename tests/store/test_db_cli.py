"""``dicom-viewer db ...`` headless verbs, two processes at once, a kill mid-import."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import write_series
from viewer.__main__ import main
from viewer.store.database import StudyDatabase


def _db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.sqlite")


def test_import_list_remove(
    demo_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_path)
    assert main(["db", "import", str(demo_study), "--db", db]) == 0
    assert "221 recorded" in capsys.readouterr().out
    assert main(["db", "list", "--json", "--db", db]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert len(listing["studies"]) == 4
    keys = {
        "uid",
        "patient_name",
        "patient_id",
        "date",
        "description",
        "modalities",
        "series",
        "instances",
        "location",
    }
    assert all(set(study) == keys for study in listing["studies"])
    assert (
        main(["db", "list", "--json", "--modality", "MR", "--date", "20240201-", "--db", db]) == 0
    )
    (mr,) = json.loads(capsys.readouterr().out)["studies"]
    assert mr["modalities"] == ["MR"] and mr["instances"] == 27 and mr["location"] == "file"
    assert main(["db", "list", "--patient", "demo", "--id", "DEMO", "--db", db]) == 0
    assert capsys.readouterr().out.count("DEMO, Anna") == 4
    assert main(["db", "remove", mr["uid"], "--db", db]) == 0
    assert main(["db", "remove", mr["uid"], "--db", db]) == 1
    assert "no study" in capsys.readouterr().err
    assert main(["db", "list", "--json", "--db", db]) == 0
    assert len(json.loads(capsys.readouterr().out)["studies"]) == 3
    assert any(demo_study.rglob("*"))  # the source is untouched


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "list", "--date", "2024-13", "--db", _db(tmp_path)]) == 2
    assert "--date" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["db", "frobnicate"])
    assert caught.value.code == 2


def test_an_unusable_database_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["db", "list", "--db", str(blocker / "x.sqlite")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot" in err and "Traceback" not in err


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "viewer", "db", *args]


def test_two_processes_importing_at_once_never_corrupt(tmp_path: Path) -> None:
    folders = []
    for n in range(2):
        folder = tmp_path / f"set{n}"
        for k in range(3):
            write_series(
                folder / f"s{k}",
                slices=120,
                rows=4,
                columns=4,
                patient_id=f"P{n}{k}",
                series_number=k + 1,
            )
        folders.append(folder)
    db = _db(tmp_path)
    StudyDatabase(db).close()
    runs = [
        subprocess.Popen(
            _cli("import", str(folder), "--db", db),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in folders
    ]
    for run in runs:
        _out, err = run.communicate(timeout=240)
        assert run.returncode == 0, err
    with StudyDatabase(db, check=True) as database:
        assert database.counts()["instances"] == 720
        assert sum(s.instances for s in database.list_studies()) == 720
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_a_kill_mid_import_loses_at_most_the_batch_in_flight(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    for k in range(8):
        write_series(
            folder / f"s{k}", slices=500, rows=4, columns=4, series_number=k + 1, patient_id=f"P{k}"
        )
    db = _db(tmp_path)
    run = subprocess.Popen(
        _cli("import", str(folder), "--db", db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    counted = 0
    while time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
        try:
            raw = sqlite3.connect(db, timeout=0.1)
            counted = raw.execute("SELECT count(*) FROM instances").fetchone()[0]
            raw.close()
        except sqlite3.Error:
            continue
        if counted >= 500:
            break
    if run.poll() is None:
        os.kill(run.pid, signal.SIGKILL)
    run.wait(30)
    with StudyDatabase(db, check=True) as database:
        counts = database.counts()
        studies = database.list_studies()
    # whole batches only, and the per-study counts agree with the rows
    assert counts["instances"] % 500 == 0 or counts["instances"] == 4000
    assert sum(s.instances for s in studies) == counts["instances"]
    # the next import completes it
    assert (
        subprocess.run(
            _cli("import", str(folder), "--db", db), timeout=240, capture_output=True
        ).returncode
        == 0
    )
    with StudyDatabase(db) as database:
        assert database.counts()["instances"] == 4000
    shutil.rmtree(folder)


def test_open_starts_the_window_on_that_database_and_study(
    demo_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db open --db FILE UID`` hands FILE and UID to the GUI (which reopens from FILE's rows:
    tests/qt/test_database_browser.py drives that window); an unknown UID exits 1, no GUI."""
    from viewer.qt import app

    db = _db(tmp_path)
    assert main(["db", "import", str(demo_study), "--db", db]) == 0
    with StudyDatabase(db) as database:
        uid = database.list_studies()[0].uid
    started: list[tuple[list[str], str | None, str]] = []

    def run_gui(paths: list[str], database: str | None = None, study_uid: str = "") -> int:
        started.append((list(paths), database, study_uid))
        return 0

    monkeypatch.setattr(app, "run_gui", run_gui)
    assert main(["db", "open", uid, "--db", db]) == 0
    assert started == [([], str(Path(db)), uid)]
    assert main(["db", "open", "1.2.3.4", "--db", db]) == 1
    assert len(started) == 1
