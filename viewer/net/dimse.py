"""DIMSE through pynetdicom (PS3.7, PS3.8): C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE.

Queries and retrieves use the Study Root information model (PS3.4 C.6.2). C-GET (PS3.4
C.4.3) receives on the same association, so it needs no firewall set-up: each storage SOP
class the study holds is proposed once per transfer syntax with the SCP role (PS3.7 D.3.3.4),
so the server can send every file as it is stored (compressed pixel data arrive unchanged,
not transcoded). C-MOVE (PS3.4 C.4.2) has the server open an association to our own C-STORE
SCP (:class:`StorageServer`), which the server must know by AE title, host and port.

Every failure raises :class:`~viewer.net.errors.NetError` with one line: refused, timed out,
association rejected (and the reason PS3.8 9.3.4 gives), aborted, or the DIMSE status.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_file_meta_info
from pydicom.uid import (
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import (
    AE,
    ALL_TRANSFER_SYNTAXES,
    PYNETDICOM_IMPLEMENTATION_UID,
    PYNETDICOM_IMPLEMENTATION_VERSION,
    AllStoragePresentationContexts,
    build_role,
    evt,
)
from pynetdicom import _config as pynetdicom_config
from pynetdicom.association import Association
from pynetdicom.dsutils import encode_file_meta
from pynetdicom.transport import AssociationSocket

from viewer.net.errors import Cancelled, NetError, connect_problem
from viewer.net.landing import Landing
from viewer.net.nodes import LocalAE, Node, SendResult
from viewer.net.query import (
    QueryAnswer,
    QueryFilter,
    QueryResult,
    RetrievePlan,
    choose_series,
    limited,
    to_int,
)

# SOP classes (PS3.4 A.4, C.6.2.1.1): pynetdicom.sop_class makes these at run time.
Verification = UID("1.2.840.10008.1.1")
StudyRootQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootQueryRetrieveInformationModelMove = UID("1.2.840.10008.5.1.4.1.2.2.2")
StudyRootQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.1.2.2.3")


def _shutdown_then_close(self: AssociationSocket) -> None:
    """pynetdicom 3.0's ``_shutdown_socket`` skips ``close()`` when ``shutdown()`` fails,
    which it does on a socket that never connected (connection refused): each failed
    association would leak a file descriptor in a long-running viewer. Close it regardless."""
    sock = self.socket
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


AssociationSocket._shutdown_socket = _shutdown_then_close  # type: ignore[method-assign]

# pynetdicom logs identifiers (patient names) at INFO/DEBUG: keep our log free of them.
logging.getLogger("pynetdicom").setLevel(logging.WARNING)
# Nor bind its "standard" logging handlers to every association: they run for each PDU
# and DIMSE message (32 PDUs per 512x512 image) only to build INFO/DEBUG lines that the
# level above drops. Warnings and errors are still logged.
pynetdicom_config.LOG_HANDLER_LEVEL = "none"

#: Seconds to wait for a connection, an association answer, a DIMSE message.
DEFAULT_TIMEOUT = 30.0
#: PS3.8 Annex D: at most 128 presentation contexts in one association request.
MAX_CONTEXTS = 128
#: Native transfer syntaxes: one context (their pixel data bytes are the same).
NATIVE = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
#: Encapsulated and other syntaxes a server may store; each gets its own context so that the
#: server can pick the one a file is stored in.
STORED_AS = [
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLossless,
    JPEGLSLossless,
    JPEGLSNearLossless,
    JPEG2000Lossless,
    JPEG2000,
    RLELossless,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
]
#: A C-GET of a series this big is split over parallel associations, at most this many.
PARALLEL_MIN = 64
PARALLEL_ASSOCIATIONS = 3
#: SOP Instance UIDs per C-GET request of a split series (the first request: fewer).
CHUNK = 32
FIRST_CHUNK = 4
#: The extra associations start when the first instance has landed (or after this long)
#: and a moment later.
HELPERS_WAIT_S = 5.0
HELPERS_DELAY_S = 0.3
# PS3.4 C.4: C-GET/C-MOVE statuses.
_PENDING = (0xFF00, 0xFF01)
_STATUS_MEANING = {
    0xA700: "the server is out of resources",
    0xA701: "the server is out of resources (unable to calculate the number of matches)",
    0xA702: "the server is out of resources (unable to perform sub-operations)",
    0xA801: "the server does not know the move destination",
    0xA900: "the identifier does not match the SOP class",
    0xAA00: "none of the frames requested were found",
    0xC000: "the server could not process the request",
    0xFE00: "cancelled",
    0xB000: "some sub-operations failed",
}

Cancel = Callable[[], bool]
Progress = Callable[[], None]


def never() -> bool:
    return False


class DimseClient:
    """DIMSE SCU for one remote node, as the local AE ``local``."""

    protocol = "dimse"

    def __init__(self, node: Node, local: LocalAE, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.node = node
        self.local = local
        self.timeout = timeout

    # --- associations ----------------------------------------------------------------
    def _ae(self) -> AE:
        ae = AE(ae_title=self.local.aet)
        ae.acse_timeout = self.timeout
        ae.dimse_timeout = self.timeout
        ae.network_timeout = self.timeout
        ae.connection_timeout = self.timeout
        # No limit on the PDUs we receive: fewer, larger P-DATA PDUs per image.
        ae.maximum_pdu_size = 0
        return ae

    def _tls_args(self) -> tuple[ssl.SSLContext, str] | None:
        if not self.node.tls:
            return None
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=self.node.ca_file or None
        )
        return context, self.node.host

    @contextmanager
    def _association(self, ae: AE, what: str, **kwargs: Any) -> Iterator[Association]:
        started = time.monotonic()
        try:
            assoc = ae.associate(
                self.node.host,
                self.node.port,
                ae_title=self.node.aet,
                tls_args=self._tls_args(),
                **kwargs,
            )
        except socket.gaierror:
            raise NetError(
                f"{what}: cannot connect to {self.node.describe()}: unknown host {self.node.host!r}"
            ) from None
        except (OSError, ssl.SSLError) as error:
            raise NetError(
                f"{what}: cannot connect to {self.node.describe()}: {error.strerror or error}"
            ) from None
        if not assoc.is_established:
            if assoc.is_aborted and time.monotonic() - started >= self.timeout * 0.9:
                raise NetError(
                    f"{what}: {self.node.describe()} did not answer the association request "
                    f"within {self.timeout:g} s (timed out)"
                )
            raise NetError(f"{what}: {self._why_not(assoc)}")
        try:
            yield assoc
        finally:
            if assoc.is_established:
                assoc.release()

    def _why_not(self, assoc: Association) -> str:
        where = self.node.describe()
        if assoc.is_rejected:
            answer = assoc.acceptor.primitive
            reason = getattr(answer, "reason_str", "no reason given")
            hint = ""
            if "Calling AE" in reason:
                hint = f": is our AE title {self.local.aet!r} configured on the server?"
            elif "Called AE" in reason:
                hint = f": is {self.node.aet!r} the server's AE title?"
            return (
                f"association rejected by {where} ({getattr(answer, 'result_str', '')}, "
                f"{reason}{hint})"
            )
        problem = connect_problem(self.node.host, self.node.port, min(self.timeout, 5.0))
        if assoc.is_aborted and self.node.tls and problem.startswith("the connection opened"):
            tls_problem = self._tls_problem()
            if tls_problem:
                return f"TLS with {where} failed: {tls_problem}"
        if (
            assoc.is_aborted
            and not self.node.tls
            and problem.startswith("the connection opened")
            and self._speaks_tls()
        ):
            return (
                f"association aborted by {where}: it speaks TLS on this port; turn TLS on "
                "for the node"
            )
        if assoc.is_aborted and problem.startswith("the connection opened"):
            return (
                f"association aborted by {where} (it accepted none of the proposed "
                "presentation contexts, or closed the connection)"
            )
        return f"cannot connect to {where}: {problem}"

    def _tls_problem(self) -> str:
        """Why a TLS handshake with the node fails ("" if it succeeds): pynetdicom logs a
        failed handshake and reports only an aborted association."""
        args = self._tls_args()
        if args is None:
            return ""
        context, hostname = args
        try:
            with (
                socket.create_connection(
                    (self.node.host, self.node.port), timeout=min(self.timeout, 5.0)
                ) as raw,
                context.wrap_socket(raw, server_hostname=hostname),
            ):
                return ""
        except ssl.SSLCertVerificationError as error:
            return f"certificate not trusted ({error.verify_message}); set the node's CA file"
        except (ssl.SSLError, OSError) as error:
            return str(getattr(error, "reason", "") or error)

    def _speaks_tls(self) -> bool:
        """Whether the node completes a TLS handshake (certificate not checked): a plain
        association to a TLS port is aborted without a word."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with (
                socket.create_connection(
                    (self.node.host, self.node.port), timeout=min(self.timeout, 5.0)
                ) as raw,
                context.wrap_socket(raw),
            ):
                return True
        except (ssl.SSLError, OSError):
            return False

    # --- C-ECHO ----------------------------------------------------------------------
    def echo(self) -> str:
        """C-ECHO (PS3.4 A.4); returns a one-line success message."""
        ae = self._ae()
        ae.add_requested_context(Verification)
        with self._association(ae, "C-ECHO") as assoc:
            status = assoc.send_c_echo()
            if not status or "Status" not in status:
                raise NetError(f"C-ECHO: no answer from {self.node.describe()} (timed out)")
            if status.Status != 0:
                raise NetError(
                    f"C-ECHO: {self.node.describe()} answered status 0x{status.Status:04X}"
                )
        return f"C-ECHO to {self.node.describe()}: success"

    # --- C-FIND ----------------------------------------------------------------------
    def find(self, query: QueryFilter, cancel: Cancel = never) -> QueryAnswer:
        """C-FIND at STUDY or SERIES level (PS3.4 C.6.2.1); at most ``query.limit`` results,
        ``truncated`` set when there were more."""
        found = self.find_raw(_identifier(query), query.limit + 1, cancel)
        if cancel():
            raise Cancelled()
        return limited([_result(item, query.level) for item in found], query.limit)

    def find_raw(
        self,
        identifier: Dataset,
        limit: int | None = None,
        cancel: Cancel = never,
        on_found: Callable[[Dataset], None] | None = None,
    ) -> list[Dataset]:
        """Any Study Root C-FIND: the identifiers answered, stopping (the association
        aborted) at ``limit`` of them or when ``cancel()`` says so. With ``on_found``, each
        goes to it as it arrives instead (and the list stays empty)."""
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        found_all: list[Dataset] = []
        answered = 0
        with self._association(ae, "C-FIND") as assoc:
            for status, found in assoc.send_c_find(
                identifier, StudyRootQueryRetrieveInformationModelFind
            ):
                code = _status(status, "C-FIND", self.node)
                if code in _PENDING:
                    if found is not None:
                        answered += 1
                        if on_found is not None:
                            on_found(found)
                        else:
                            found_all.append(found)
                    if (limit is not None and answered >= limit) or cancel():
                        assoc.abort()
                        break
                    continue
                if code == 0xFE00:
                    break
                if code != 0:
                    raise NetError(f"C-FIND: {_meaning(code)} (status 0x{code:04X})")
        return found_all

    # --- planning a retrieve ---------------------------------------------------------
    def plan(self, study_uid: str, series_uids: Sequence[str] = ()) -> RetrievePlan:
        """The study's series (or those named) with their instance counts, and the storage
        SOP classes it holds (SOPClassesInStudy, else an IMAGE-level query)."""
        answer = self.find(QueryFilter(level="series", study_uid=study_uid, limit=100_000))
        series = choose_series(answer, study_uid, series_uids, self.node.describe())
        ask = Dataset()
        ask.QueryRetrieveLevel = "STUDY"
        ask.StudyInstanceUID = study_uid
        ask.SOPClassesInStudy = ""
        classes: list[str] = []
        for found in self.find_raw(ask):
            classes.extend(_values(found.get("SOPClassesInStudy")))
        if not classes:
            for item in series:
                ask = _image_level(study_uid, item.series_uid)
                ask.SOPClassUID = ""
                classes.extend(str(found.get("SOPClassUID", "")) for found in self.find_raw(ask))
        return RetrievePlan(study_uid, series, sorted({uid for uid in classes if uid}))

    def instance_uids(self, study_uid: str, series_uid: str) -> list[str]:
        """The series' SOP Instance UIDs (an IMAGE-level C-FIND): what a retry compares."""
        ask = _image_level(study_uid, series_uid)
        return [
            str(found.SOPInstanceUID) for found in self.find_raw(ask) if "SOPInstanceUID" in found
        ]

    # --- C-GET -----------------------------------------------------------------------
    def get(
        self,
        plan: RetrievePlan,
        landing: Landing,
        cancel: Cancel = never,
        progress: Progress | None = None,
        only: dict[str, list[str]] | None = None,
    ) -> None:
        """C-GET each series of ``plan`` into ``landing`` (``only``: series UID -> the SOP
        Instance UIDs to fetch, at IMAGE level: a retry).

        A series of at least :data:`PARALLEL_MIN` instances is fetched in chunks of
        :data:`CHUNK` SOP Instance UIDs over up to :data:`PARALLEL_ASSOCIATIONS`
        associations side by side (pynetdicom spends most of an image's time in Python per
        PDU; the server's file reads and our writes overlap with it). The UIDs come from an
        IMAGE-level C-FIND run beside the C-GETs: the first chunk is fetched as soon as its
        UIDs are known, so the first image is not held back by the query."""
        jobs: queue.Queue[tuple[str, list[str] | None] | None] = queue.Queue()
        to_find: list[str] = []
        known = 0
        for series in plan.series:
            uids = (only or {}).get(series.series_uid)
            if only is not None and not uids:
                continue
            if uids is None and (series.instances or 0) >= PARALLEL_MIN:
                to_find.append(series.series_uid)
                continue
            chunks = _chunks(uids) if uids is not None and len(uids) >= PARALLEL_MIN else [uids]
            for chunk in chunks:
                jobs.put((series.series_uid, chunk))
                known += 1
        workers = PARALLEL_ASSOCIATIONS if to_find else min(PARALLEL_ASSOCIATIONS, known)
        if not workers:
            return
        errors: list[BaseException] = []

        def stopped() -> bool:
            return bool(errors) or cancel()

        def find_uids() -> None:
            """Queue the big series' UIDs, a chunk at a time, as the C-FIND answers them."""
            try:
                for series_uid in to_find:
                    chunk: list[str] = []
                    seen = [0]

                    def found(
                        item: Dataset,
                        chunk: list[str] = chunk,
                        uid: str = series_uid,
                        seen: list[int] = seen,
                    ) -> None:
                        seen[0] += 1
                        if "SOPInstanceUID" in item:
                            chunk.append(str(item.SOPInstanceUID))
                        # The first chunk small: the first image need not wait for more.
                        if len(chunk) >= (CHUNK if seen[0] > FIRST_CHUNK else FIRST_CHUNK):
                            jobs.put((uid, list(chunk)))
                            chunk.clear()

                    self.find_raw(
                        _image_level(plan.study_uid, series_uid), cancel=stopped, on_found=found
                    )
                    if chunk or not seen[0]:  # the rest; or none found: the whole series
                        jobs.put((series_uid, list(chunk) or None))
            except BaseException as error:  # handed to the caller's thread below
                errors.append(error)
            finally:
                for _ in range(workers):
                    jobs.put(None)

        def work(helper: bool = False) -> None:
            try:
                # The extra associations join once the first instance has landed (and a
                # moment more): before that they would only compete with it, and with the
                # GUI showing it, for the interpreter.
                if helper and landing.first_landed.wait(HELPERS_WAIT_S) and not stopped():
                    time.sleep(HELPERS_DELAY_S)
                with self._get_association(plan, landing, stopped, progress) as assoc:
                    for number in itertools.count(1):
                        job = jobs.get()
                        if job is None or errors:
                            return
                        series_uid, uids = job
                        identifier = _move_identifier(plan.study_uid, series_uid, uids)
                        responses = assoc.send_c_get(
                            identifier, StudyRootQueryRetrieveInformationModelGet, msg_id=number
                        )
                        self._follow(
                            assoc, responses, "C-GET", series_uid, landing, stopped, number
                        )
            except BaseException as error:  # handed to the caller's thread below
                errors.append(error)

        threads = [
            threading.Thread(target=work, args=(True,), name=f"c-get-{n}", daemon=True)
            for n in range(workers - 1)
        ]
        if to_find:
            threads.append(threading.Thread(target=find_uids, name="c-get-find", daemon=True))
        else:
            for _ in range(workers):
                jobs.put(None)
        for thread in threads:
            thread.start()
        work()  # the first association on this thread: no wait for a thread to start
        if errors:
            while True:  # unblock the workers still waiting for a job
                try:
                    jobs.get_nowait()
                except queue.Empty:
                    break
            for _ in range(workers):
                jobs.put(None)
        for thread in threads:
            thread.join()
        if errors:
            # A real failure first; a worker stopped by another's failure says Cancelled.
            real = [e for e in errors if not isinstance(e, Cancelled)]
            raise (real or errors)[0]

    @contextmanager
    def _get_association(
        self, plan: RetrievePlan, landing: Landing, cancel: Cancel, progress: Progress | None
    ) -> Iterator[Association]:
        """A C-GET association proposing the study's storage SOP classes with the SCP role;
        each instance received is written as it came (no decoding, PS3.10 file meta added)."""
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        roles = []
        syntaxes = [NATIVE, *([ts] for ts in STORED_AS)]
        room = MAX_CONTEXTS - 1
        classes = plan.sop_classes or [
            str(c.abstract_syntax) for c in AllStoragePresentationContexts
        ]
        per_class = max(1, min(len(syntaxes), room // max(len(classes), 1)))
        for sop_class in classes[:room]:
            for group in syntaxes[:per_class]:
                ae.add_requested_context(sop_class, list(group))
            roles.append(build_role(sop_class, scp_role=True))

        def on_store(event: Any) -> int:
            if cancel():
                return 0xA700
            return _land_store(event, landing, progress)

        with self._association(
            ae, "C-GET", ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]
        ) as assoc:
            yield assoc

    # --- C-MOVE ----------------------------------------------------------------------
    def move(
        self,
        plan: RetrievePlan,
        landing: Landing,
        cancel: Cancel = never,
        progress: Progress | None = None,
        only: dict[str, list[str]] | None = None,
        destination: str | None = None,
        listener: StorageServer | None = None,
    ) -> None:
        """C-MOVE each series of ``plan`` to our storage SCP: the running ``listener`` when
        given (routed to ``landing`` meanwhile), else one started here on the local port for
        the while; or to another AE, ``destination``."""
        with contextlib.ExitStack() as stack:
            if destination is None:
                if listener is not None:
                    stack.enter_context(listener.routed(landing, progress))
                else:
                    server = StorageServer(self.local, landing, progress)
                    stack.callback(server.stop)
            self._move(plan, landing, cancel, only, destination)

    def _move(
        self,
        plan: RetrievePlan,
        landing: Landing,
        cancel: Cancel,
        only: dict[str, list[str]] | None,
        destination: str | None,
    ) -> None:
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
        with self._association(ae, "C-MOVE") as assoc:
            for number, series in enumerate(plan.series, start=1):
                uids = (only or {}).get(series.series_uid)
                if only is not None and not uids:
                    continue
                identifier = _move_identifier(plan.study_uid, series.series_uid, uids)
                responses = assoc.send_c_move(
                    identifier,
                    destination or self.local.aet,
                    StudyRootQueryRetrieveInformationModelMove,
                    msg_id=number,
                )
                self._follow(
                    assoc,
                    responses,
                    "C-MOVE",
                    series.series_uid,
                    landing,
                    cancel,
                    number,
                    destination or self.local.aet,
                )

    def _follow(
        self,
        assoc: Association,
        responses: Iterator[tuple[Dataset, Dataset | None]],
        what: str,
        series_uid: str,
        landing: Landing,
        cancel: Cancel,
        msg_id: int,
        destination: str = "",
    ) -> None:
        cancelled = False
        for status, identifier in responses:
            if not status or "Status" not in status:
                raise NetError(
                    f"{what}: connection to {self.node.describe()} lost or timed out "
                    f"({len(landing.arrived)} instance(s) arrived and are kept)"
                )
            code = int(status.Status)
            if code in _PENDING:
                if cancel() and not cancelled:
                    assoc.send_c_cancel(msg_id, None, _model(what))
                    cancelled = True
                continue
            failed = int(status.get("NumberOfFailedSuboperations", 0) or 0)
            uids: list[str] = []
            if identifier is not None and "FailedSOPInstanceUIDList" in identifier:
                value = identifier.FailedSOPInstanceUIDList
                uids = [
                    str(v)
                    for v in (
                        value
                        if isinstance(value, Sequence) and not isinstance(value, str)
                        else [value]
                    )
                    if v
                ]
            if failed or uids:
                landing.fail(series_uid, uids, failed)
            if code == 0xFE00 or cancelled:
                raise Cancelled()
            if code in (0x0000, 0xB000):
                return
            if code == 0xA801:
                raise NetError(
                    f"{what}: {self.node.describe()} does not know the move destination "
                    f"{destination!r} (status 0xA801): add it, with this host and port "
                    f"{self.local.port}, to the server's DICOM nodes"
                )
            hint = ""
            if what == "C-MOVE" and (code & 0xF000) == 0xC000:
                # Orthanc 1.10 answers an unknown destination with 0xC000, not 0xA801.
                hint = (
                    f"; does it know the move destination {destination!r} "
                    f"(this host, port {self.local.port})?"
                )
            raise NetError(f"{what}: {_meaning(code)} (status 0x{code:04X}){hint}")
        if cancel():
            raise Cancelled()

    # --- C-STORE ---------------------------------------------------------------------
    def send(
        self,
        paths: Sequence[str],
        cancel: Cancel = never,
        on_result: Callable[[SendResult], None] | None = None,
    ) -> list[SendResult]:
        """C-STORE (PS3.4 B.2) each file as it is stored (its own transfer syntax)."""
        results: list[SendResult] = []
        groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for path in paths:
            try:
                meta = read_file_meta_info(path)
                key = (str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID))
                sop_uid = str(meta.get("MediaStorageSOPInstanceUID", "") or "")
            except Exception as error:  # fault boundary: an unreadable file is one result
                result = SendResult(path, problem=f"not a DICOM file: {error}")
                results.append(result)
                if on_result is not None:
                    on_result(result)
                continue
            groups.setdefault(key, []).append((path, sop_uid))
        keys = list(groups)
        for start in range(0, len(keys), MAX_CONTEXTS):
            chunk = keys[start : start + MAX_CONTEXTS]
            ae = self._ae()
            for sop_class, syntax in chunk:
                ae.add_requested_context(sop_class, [syntax])
            with self._association(ae, "C-STORE") as assoc:
                for key in chunk:
                    for path, sop_uid in groups[key]:
                        if cancel():
                            raise Cancelled()
                        result = self._store_one(assoc, path, sop_uid)
                        results.append(result)
                        if on_result is not None:
                            on_result(result)
        return results

    def _store_one(self, assoc: Association, path: str, sop_uid: str = "") -> SendResult:
        try:
            status = assoc.send_c_store(path)
        except ValueError as error:  # no accepted context for this SOP class / syntax
            return SendResult(path, sop_uid, problem=str(error).split("\n")[0])
        if not status or "Status" not in status:
            if not assoc.is_established:
                raise NetError(f"C-STORE: connection to {self.node.describe()} lost")
            return SendResult(path, sop_uid, problem="no answer (timed out)")
        code = int(status.Status)
        sop = str(getattr(status, "AffectedSOPInstanceUID", "") or "") or sop_uid
        if code == 0 or (code & 0xF000) == 0xB000:
            return SendResult(path, sop)
        return SendResult(path, sop, f"refused with status 0x{code:04X}")


class StorageServer:
    """Our C-STORE SCP (PS3.4 B.2.2) on the local port: the C-MOVE destination and the
    optional listener. Instances go to ``landing``; ``accept_aets`` (non-empty) limits the
    calling AEs accepted."""

    def __init__(
        self,
        local: LocalAE,
        landing: Landing,
        progress: Progress | None = None,
        on_calling: Callable[[str], None] | None = None,
        host: str = "",
    ) -> None:
        #: Where instances go, and who hears of each; a C-MOVE through a running listener
        #: points them at its own landing for the while (:meth:`routed`).
        self.landing = landing
        self.progress = progress
        self.on_calling = on_calling
        ae = AE(ae_title=local.aet)
        ae.maximum_pdu_size = 0
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(str(context.abstract_syntax), ALL_TRANSFER_SYNTAXES)
        ae.add_supported_context(Verification)
        if local.accept_aets:
            ae.require_calling_aet = list(local.accept_aets)
        self._lock = threading.Lock()

        def on_store(event: Any) -> int:
            with self._lock:
                target, heard, calling = self.landing, self.progress, self.on_calling
            if calling is not None:
                calling(str(event.assoc.requestor.ae_title).strip())
            return _land_store(event, target, heard)

        try:
            server = ae.start_server(
                (host, local.port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
            )
        except OSError as error:
            raise NetError(
                f"cannot listen on port {local.port} for C-STORE: "
                f"{error.strerror or error} (is another program using it?)"
            ) from None
        assert server is not None  # block=False returns the server
        self._server = server
        self.port = int(server.server_address[1])

    @contextlib.contextmanager
    def routed(self, landing: Landing, progress: Progress | None) -> Iterator[None]:
        """Send what arrives to ``landing`` while the block runs (a C-MOVE into the running
        listener), then back."""
        with self._lock:
            saved = self.landing, self.progress, self.on_calling
            self.landing, self.progress, self.on_calling = landing, progress, None
        try:
            yield
        finally:
            landing.flush()
            with self._lock:
                self.landing, self.progress, self.on_calling = saved

    def stop(self) -> None:
        self._server.shutdown()  # pynetdicom's also closes the socket
        self.landing.flush()


def _chunks(uids: list[str]) -> list[list[str]]:
    return [uids[start : start + CHUNK] for start in range(0, len(uids), CHUNK)]


def _land_store(event: Any, landing: Landing, progress: Progress | None) -> int:
    """Land one C-STORE request's data set as it was received: the PS3.10 preamble and file
    meta, then the data set's bytes (not decoded, not copied: ``encoded_dataset()`` would
    join them into a new bytes object and encode the meta with pydicom each time)."""
    request = event.request
    context = event.context
    try:
        meta = file_meta_bytes(
            str(request.AffectedSOPClassUID),
            str(request.AffectedSOPInstanceUID),
            str(context.transfer_syntax),
        )
        with request.DataSet.getbuffer() as data:
            landing.receive(meta, data)
    except OSError:
        return 0xA700  # out of resources (disk full, ...)
    if progress is not None:
        progress()
    return 0x0000


@functools.lru_cache(maxsize=64)
def _meta_template(sop_class: str, syntax: str, uid_length: int) -> tuple[bytes, int]:
    """The preamble, prefix and file meta (PS3.10 7.1) pydicom writes for an instance of
    ``sop_class`` in ``syntax`` whose SOP Instance UID has ``uid_length`` bytes (padded to
    even), with a placeholder UID; and where the Media Storage SOP Instance UID starts."""
    placeholder = "9" * (uid_length - 1)  # odd: pydicom pads it to uid_length
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(placeholder)
    meta.TransferSyntaxUID = UID(syntax)
    meta.ImplementationClassUID = PYNETDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = PYNETDICOM_IMPLEMENTATION_VERSION
    encoded = b"\x00" * 128 + b"DICM" + encode_file_meta(meta)
    # (0002,0003) UI, explicit VR little endian: tag, VR, 2-byte length, then the value.
    return encoded, encoded.index(b"\x02\x00\x03\x00UI") + 8


def file_meta_bytes(sop_class: str, sop_uid: str, syntax: str) -> bytes:
    """The encoded file meta for one instance: pydicom's encoding of a template (cached per
    SOP class, transfer syntax and UID length) with the instance's UID in place; encoding
    the meta afresh costs about 0.7 ms an image, a noticeable share of a C-GET."""
    template, at = _meta_template(sop_class, syntax, len(sop_uid) + len(sop_uid) % 2)
    uid = sop_uid.encode("ascii")
    return b"".join((template[:at], uid, template[at + len(uid) :]))


def _identifier(query: QueryFilter) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = query.level.upper()
    ds.PatientName = query.patient_name
    ds.PatientID = query.patient_id
    ds.PatientBirthDate = ""
    ds.StudyInstanceUID = query.study_uid
    ds.StudyDate = query.date_range()
    ds.StudyTime = ""
    ds.AccessionNumber = query.accession
    ds.StudyDescription = query.description if query.level == "study" else ""
    if query.level == "study":
        ds.ModalitiesInStudy = query.modality
        ds.NumberOfStudyRelatedInstances = ""
        ds.NumberOfStudyRelatedSeries = ""
    else:
        ds.SeriesInstanceUID = ""
        ds.Modality = query.modality
        ds.SeriesNumber = ""
        ds.SeriesDescription = query.description
        ds.NumberOfSeriesRelatedInstances = ""
    return ds


def _result(found: Dataset, level: str) -> QueryResult:
    def text(keyword: str) -> str:
        value = found.get(keyword, "")
        return "" if value is None else str(value).strip()

    series = level == "series"
    modalities_value = found.get("Modality" if series else "ModalitiesInStudy", "")
    if isinstance(modalities_value, str):
        modalities = tuple(m for m in modalities_value.split("\\") if m)
    else:
        modalities = tuple(str(m) for m in (modalities_value or ()) if m)
    return QueryResult(
        level=level,
        study_uid=text("StudyInstanceUID"),
        series_uid=text("SeriesInstanceUID") if series else "",
        patient_name=text("PatientName"),
        patient_id=text("PatientID"),
        birth_date=text("PatientBirthDate"),
        date=text("StudyDate"),
        time=text("StudyTime"),
        accession=text("AccessionNumber"),
        description=text("SeriesDescription" if series else "StudyDescription"),
        modalities=modalities,
        instances=to_int(
            found.get(
                "NumberOfSeriesRelatedInstances" if series else "NumberOfStudyRelatedInstances"
            )
        ),
        series_count=None if series else to_int(found.get("NumberOfStudyRelatedSeries")),
        series_number=to_int(found.get("SeriesNumber")) if series else None,
    )


def _move_identifier(study_uid: str, series_uid: str, sop_uids: list[str] | None) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    if sop_uids:
        ds.QueryRetrieveLevel = "IMAGE"
        ds.SOPInstanceUID = sop_uids  # a list: UID list matching (PS3.4 C.2.2.2.2)
    else:
        ds.QueryRetrieveLevel = "SERIES"
    return ds


def _image_level(study_uid: str, series_uid: str) -> Dataset:
    ask = Dataset()
    ask.QueryRetrieveLevel = "IMAGE"
    ask.StudyInstanceUID = study_uid
    ask.SeriesInstanceUID = series_uid
    ask.SOPInstanceUID = ""
    return ask


def _values(value: object) -> list[str]:
    """A multi-valued element's values as text (one value, or none, as a list)."""
    if value is None or value == "":
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [str(value)]
    return [str(item) for item in value if item]


def _status(status: Dataset, what: str, node: Node) -> int:
    if not status or "Status" not in status:
        raise NetError(f"{what}: connection to {node.describe()} lost or timed out")
    return int(status.Status)


def _meaning(code: int) -> str:
    if code in _STATUS_MEANING:
        return _STATUS_MEANING[code]
    if (code & 0xF000) == 0xC000:
        return "the server could not process the request"
    return "the request failed"


def _model(what: str) -> str:
    return (
        StudyRootQueryRetrieveInformationModelGet
        if what == "C-GET"
        else StudyRootQueryRetrieveInformationModelMove
    )
