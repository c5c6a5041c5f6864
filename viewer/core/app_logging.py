"""The GUI's logging: stderr plus a rotating file in the user log folder, with no patient names.

Log records name series by UID and files by path; patient names must never reach the file. A
:class:`PatientNameFilter` on every handler replaces DICOM person names (``FAMILY^GIVEN``) and
any name registered with :func:`register_patient_names` by ``<name>``. Uncaught exceptions, on
any thread, are logged too, so a user can send the file when something went wrong.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

from viewer.core.printable import printable
from viewer.core.user_dirs import log_dir

LOG_FILE_NAME = "dicom-viewer.log"
#: The file rotates at this size, keeping this many old files (about 10 MB on disk at most).
LOG_FILE_BYTES = 2_000_000
LOG_BACKUPS = 4
LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
REDACTED = "<name>"
#: Shorter names are not redacted by plain text replacement (too many false hits).
MIN_NAME_LENGTH = 3

#: A DICOM Person Name: components joined by carets (``DOE^JOHN``, ``DEMO^Anna^^Dr``).
_CARET_NAME = re.compile(r"[^\s/\\'\"(),;:=]*\^[^\s/\\'\"(),;:=]*")

log = logging.getLogger(__name__)


class PatientNameFilter(logging.Filter):
    """Rewrites each record's message with person names replaced by :data:`REDACTED`."""

    def __init__(self) -> None:
        super().__init__()
        self._names: frozenset[str] = frozenset()
        self._sources: list[weakref.WeakMethod[Callable[[], Iterable[str]]]] = []
        self._lock = threading.Lock()

    def add_names(self, names: Iterable[str]) -> None:
        cleaned = {name.strip() for name in names if len(name.strip()) >= MIN_NAME_LENGTH}
        with self._lock:
            self._names = self._names | cleaned

    def add_source(self, source: Callable[[], Iterable[str]]) -> None:
        """A bound method answering the names known now, asked at every record (held weakly,
        so a closed window's source goes away with it)."""
        with self._lock:
            self._sources.append(weakref.WeakMethod(source))

    def known_names(self) -> set[str]:
        with self._lock:
            names, sources = set(self._names), list(self._sources)
        for reference in sources:
            source = reference()
            if source is None:
                with self._lock, contextlib.suppress(ValueError):
                    self._sources.remove(reference)
                continue
            try:
                names.update(n.strip() for n in source() if len(n.strip()) >= MIN_NAME_LENGTH)
            except Exception:  # a log filter must never fail; caret names are still caught
                continue
        return names

    def redact(self, text: str) -> str:
        for name in sorted(self.known_names(), key=len, reverse=True):
            text = text.replace(name, REDACTED)
        return _CARET_NAME.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


#: The one filter shared by the handlers :func:`configure_logging` installs.
PATIENT_NAMES = PatientNameFilter()


def register_patient_names(names: Iterable[str]) -> None:
    """Names (as shown, e.g. ``DEMO, Anna``) to keep out of the log from now on."""
    PATIENT_NAMES.add_names(names)


def register_patient_name_source(source: Callable[[], Iterable[str]]) -> None:
    """A bound method answering the patient names open now (see PatientNameFilter)."""
    PATIENT_NAMES.add_source(source)


def log_file_path() -> Path:
    return log_dir() / LOG_FILE_NAME


def configure_logging(level: int = logging.INFO) -> Path | None:
    """Log to stderr and to :func:`log_file_path`; answer the file, or None if it cannot be made.

    Safe to call again: handlers it added before are replaced.
    """
    root = logging.getLogger()
    root.setLevel(level)
    for handler in [h for h in root.handlers if getattr(h, "_viewer_handler", False)]:
        root.removeHandler(handler)
        handler.close()
    _add_handler(root, logging.StreamHandler(sys.stderr))
    path = log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as error:
        log.warning("cannot write the log file %s: %s", path, error)
        return None
    _add_handler(root, file_handler)
    _log_uncaught_exceptions()
    return path


class PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped (:func:`viewer.core.printable.printable`).

    A file name or patient name with ESC, CR or a newline cannot rewrite the terminal or
    forge a log line: the message is one line, escapes shown. A traceback keeps its lines,
    each escaped and indented (an exception's message may hold a newline: no line of it
    starts where a record starts)."""

    def format(self, record: logging.LogRecord) -> str:
        cached = record.exc_text  # another handler's formatter may have cached it raw
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return _lines_printable(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _lines_printable(super().formatStack(stack_info))


def _lines_printable(text: str) -> str:
    return "\n".join(f"  {printable(line)}" for line in text.split("\n"))


def _add_handler(root: logging.Logger, handler: logging.Handler) -> None:
    handler.setFormatter(PrintableFormatter(LOG_FORMAT))
    handler.addFilter(PATIENT_NAMES)
    handler._viewer_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)


def _log_uncaught_exceptions() -> None:
    def on_exception(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        logging.getLogger("viewer").critical("uncaught exception", exc_info=(kind, error, trace))

    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            logging.getLogger("viewer").critical(
                "uncaught exception in thread %s",
                args.thread.name if args.thread else "?",
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            )

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception
