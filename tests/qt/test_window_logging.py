"""The running window keeps patient names out of the log; background work waits for the first
paint."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from viewer.core import app_logging
from viewer.core.app_logging import REDACTED, configure_logging
from viewer.qt.app import make_application
from viewer.qt.first_paint import call_after_first_paint
from viewer.qt.main_window import MainWindow


@pytest.fixture
def log_file() -> Iterator[Path]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = (sys.excepthook, threading.excepthook)
    names = app_logging.PATIENT_NAMES._names
    path = configure_logging()
    assert path is not None
    yield path
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks
    app_logging.PATIENT_NAMES._names = names


def test_names_of_opened_patients_are_redacted(qtbot, log_file: Path, demo_study: Path) -> None:  # type: ignore[no-untyped-def]
    make_application()
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.indexing_finished, timeout=60_000):
        window.open_paths([str(demo_study)])
    (patient,) = window.catalog.patients.values()
    logging.getLogger("viewer.test").warning("showing %s", patient.info.name)
    window.shutdown()
    text = log_file.read_text(encoding="utf-8")
    assert patient.info.name not in text and "Anna" not in text
    assert f"showing {REDACTED}" in text


def test_callback_runs_after_the_first_paint(qtbot) -> None:  # type: ignore[no-untyped-def]
    make_application()
    widget = QWidget()
    qtbot.addWidget(widget)
    calls: list[str] = []
    call_after_first_paint(widget, lambda: calls.append("painted"), fallback_ms=60_000)
    assert calls == []
    widget.show()
    qtbot.waitUntil(lambda: calls == ["painted"], timeout=5_000)


def test_callback_runs_even_without_a_paint(qtbot) -> None:  # type: ignore[no-untyped-def]
    make_application()
    widget = QWidget()  # never shown
    qtbot.addWidget(widget)
    calls: list[str] = []
    call_after_first_paint(widget, lambda: calls.append("late"), fallback_ms=50)
    qtbot.waitUntil(lambda: calls == ["late"], timeout=5_000)
    qtbot.wait(100)
    assert calls == ["late"]  # once
