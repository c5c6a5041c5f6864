"""The optional storage SCP while the GUI runs (issue 16 item 5): receive what a modality or
PACS pushes (C-STORE), into the study database, with the calling AE shown.

Off by default (Preferences > Network, "Listen for C-STORE"); when "Accept from" lists AE
titles, an association from any other calling AE is rejected ("calling AE title not
recognised", PS3.8 9.3.4). Received instances reach the study tree in batches, as a retrieve's
do; a C-MOVE from the Query/Retrieve dock goes through this listener while it runs (the port
is taken).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from viewer.dicom.catalog.records import ScannedFile
from viewer.net.nodes import LocalAE

if TYPE_CHECKING:
    from viewer.net.dimse import StorageServer
    from viewer.store.database import StudyDatabase

log = logging.getLogger(__name__)

#: Received instances are handed to the window at most this often (ms).
BATCH_INTERVAL_MS = 200


class _Bridge(QObject):
    arrived = Signal(object)  # a ScannedFile


class StorageListener(QObject):
    """Our C-STORE SCP on the local port, landing into the study database."""

    #: Instances received (list[ScannedFile]).
    received = Signal(object)
    #: One line for the status bar ("Received 12 instance(s) from CT_SCANNER").
    message = Signal(str)

    def __init__(self, parent: QObject | None = None, database: str | None = None) -> None:
        super().__init__(parent)
        self.database_path = database
        self.server: StorageServer | None = None
        self._database: StudyDatabase | None = None
        self._bridge = _Bridge()
        self._bridge.arrived.connect(self._on_arrived)
        self._pending: list[ScannedFile] = []
        self._callers: dict[str, int] = {}
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(BATCH_INTERVAL_MS)
        self._timer.timeout.connect(self._flush)
        self.local: LocalAE | None = None

    @property
    def running(self) -> bool:
        return self.server is not None

    def start(self, local: LocalAE) -> None:
        """Listen on ``local.port`` as ``local.aet`` (restarting if already listening).
        Raises :class:`~viewer.net.errors.NetError` when the port cannot be had."""
        from viewer.net.dimse import StorageServer
        from viewer.net.landing import Landing
        from viewer.store.database import StudyDatabase

        self.stop()
        self._database = StudyDatabase(self.database_path, check=True)
        landing = Landing(database=self._database, on_arrived=self._bridge.arrived.emit)
        try:
            self.server = StorageServer(local, landing, on_calling=self._heard)
        except Exception:
            self._database.close()
            self._database = None
            raise
        self.local = local
        self._timer.start()
        accepted = ", ".join(local.accept_aets) or "any AE"
        log.info(
            "listening for C-STORE as %s on port %d (from %s)", local.aet, local.port, accepted
        )
        self.message.emit(f"Listening for C-STORE as {local.aet} on port {local.port}")

    def _heard(self, calling_aet: str) -> None:
        with self._lock:
            self._callers[calling_aet] = self._callers.get(calling_aet, 0) + 1

    def _on_arrived(self, item: ScannedFile) -> None:
        self._pending.append(item)

    def _flush(self) -> None:
        if self.server is not None:
            self.server.landing.flush()
        with self._lock:
            callers, self._callers = self._callers, {}
        if self._pending:
            batch, self._pending = self._pending, []
            self.received.emit(batch)
        if callers:
            text = ", ".join(f"{count} from {aet}" for aet, count in callers.items())
            self.message.emit(f"Received {text}")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._timer.stop()
        self._flush()
        if self._database is not None:
            self._database.close()
            self._database = None
