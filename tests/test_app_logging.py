"""The log file: in the user log folder, rotating, and free of patient names."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from viewer.core import app_logging
from viewer.core.app_logging import (
    REDACTED,
    PatientNameFilter,
    configure_logging,
    log_file_path,
    register_patient_names,
)
from viewer.core.user_dirs import _config_base, _log_base


@pytest.fixture
def configured() -> Iterator[Path]:
    """configure_logging() for one test, then the root logger and hooks as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = (sys.excepthook, threading.excepthook)
    names = app_logging.PATIENT_NAMES._names
    path = configure_logging()
    assert path is not None
    yield path
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks
    app_logging.PATIENT_NAMES._names = names


def test_log_file_is_in_the_state_folder(configured: Path, user_dirs_in_tmp: Path) -> None:
    logging.getLogger("viewer.test").info("series %s shown", "1.2.3")
    assert configured == log_file_path()
    assert configured.is_relative_to(user_dirs_in_tmp / "state")
    assert "series 1.2.3 shown" in configured.read_text(encoding="utf-8")


def test_patient_names_never_reach_the_file(configured: Path) -> None:
    register_patient_names(["Anna Demo"])
    log = logging.getLogger("viewer.test")
    log.warning("skipped /data/DOE^JOHN/1.dcm: truncated")
    log.warning("opened study of %s", "Anna Demo")
    text = configured.read_text(encoding="utf-8")
    assert "DOE" not in text and "Anna Demo" not in text
    assert text.count(REDACTED) == 2


def test_uncaught_thread_exceptions_are_logged(configured: Path) -> None:
    def fail() -> None:
        raise RuntimeError("boom in a worker")

    thread = threading.Thread(target=fail, name="worker-x")
    thread.start()
    thread.join()
    text = configured.read_text(encoding="utf-8")
    assert "uncaught exception in thread worker-x" in text and "boom in a worker" in text


def test_configuring_twice_keeps_one_file_handler(configured: Path) -> None:
    configure_logging()
    files = [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]
    assert len(files) == 1


def test_filter_redacts_caret_names_only() -> None:
    names = PatientNameFilter()
    assert names.redact("DEMO^Anna^^Dr at 1.2.840.10008") == f"{REDACTED} at 1.2.840.10008"
    assert names.redact("CT 512x512, W 400 L 40") == "CT 512x512, W 400 L 40"


@pytest.mark.parametrize(
    ("platform", "config", "logs"),
    [
        ("linux", "/h/.config", "/h/.local/state"),
        ("darwin", "/h/Library/Application Support", "/h/Library/Logs"),
        ("win32", "/h/AppData/Roaming", "/h/AppData/Local"),
    ],
)
def test_platform_folders(platform: str, config: str, logs: str) -> None:
    home = Path("/h")
    assert _config_base(platform, {}, home) == Path(config)
    assert _log_base(platform, {}, home) == Path(logs)
    xdg = {"XDG_CONFIG_HOME": "/x/c", "XDG_STATE_HOME": "/x/s"}
    assert _config_base(platform, xdg, home) == Path("/x/c")
    assert _log_base(platform, xdg, home) == Path("/x/s")


def test_logging_resources_and_user_dirs_import_no_qt() -> None:
    from tests.test_boundaries import _imports_qt

    code = (
        "import viewer.core.app_logging, viewer.core.resources, viewer.core.user_dirs\n"
        "import viewer.core.startup_timing\n"
        "viewer.core.resources.toolbar_icon_svg('zoom')"
    )
    assert _imports_qt(code) == []


def test_log_lines_show_control_characters_escaped(configured: Path, tmp_path: Path) -> None:
    """A file name with ESC, BEL, CR, a newline or a bidi override cannot rewrite a terminal
    or forge a log line (issue 13 item 12): the message is one line, escapes shown; a
    traceback keeps its own lines, each escaped."""
    hostile = tmp_path / "scan\x1b[2J\x07\r\nFAKE CRITICAL line\u202e.dcm"
    hostile.write_bytes(b"not DICOM")
    log = logging.getLogger("viewer.test")
    log.warning("skipped %s: not a DICOM file", hostile)
    try:
        raise ValueError(f"cannot read {hostile}")
    except ValueError:
        log.exception("reading failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = configured.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\u202e" not in text
    assert "scan\\x1b[2J\\x07\\x0d\\x0aFAKE CRITICAL line\\u202e.dcm" in text
    assert not any(line.startswith("FAKE") for line in text.splitlines())
    assert "  Traceback (most recent call last):" in text.splitlines()  # its lines kept
