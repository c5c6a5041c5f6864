"""DICOMweb through dicomweb-client (PS3.18): QIDO-RS search, WADO-RS retrieve, STOW-RS store.

Authentication is a bearer token or basic auth on the node; TLS is an ``https://`` base URL
(verified against the system's CAs, or the node's CA bundle).

Server quirks handled here, each said where it is handled:

- dicomweb-client percent-encodes query values (``PatientName=DEMO%2A``); some servers
  (Orthanc 1.10's DICOMweb plugin) do not decode them before matching, so a wildcard finds
  nothing. ``*`` and ``?`` are legal as they are in a URL query (RFC 3986 3.4), so
  :class:`_LiteralWildcards` sends them unescaped; every server reads that the same.
- A server that caps results says so in a ``Warning`` header (PS3.18 8.3.4.4 / 10.6.3.3.1);
  it is kept and shown as the answer's ``truncated``.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset

from viewer.net.dimse import Cancel, Progress, never
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

logging.getLogger("dicomweb_client").setLevel(logging.ERROR)

DEFAULT_TIMEOUT = 30.0
#: Instances per STOW-RS request.
STOW_BATCH = 16

_STUDY_FIELDS = [
    "StudyInstanceUID",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "StudyDescription",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedInstances",
    "NumberOfStudyRelatedSeries",
]
_SERIES_FIELDS = [
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "NumberOfSeriesRelatedInstances",
    "StudyInstanceUID",
    "PatientName",
    "PatientID",
    "StudyDate",
]


class _LiteralWildcards(requests.Session):
    """A session that sends ``*`` and ``?`` in query values as they are (see the module)."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        url = prepared.url or ""
        if "?" in url:
            path, query = url.split("?", 1)
            for escaped, literal in (("%2A", "*"), ("%2a", "*"), ("%3F", "?"), ("%3f", "?")):
                query = query.replace(escaped, literal)
            prepared.url = f"{path}?{query}"
        return prepared


class DicomwebClient:
    """QIDO-RS / WADO-RS / STOW-RS client for one DICOMweb base URL."""

    protocol = "dicomweb"

    def __init__(
        self, node: Node, local: LocalAE | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        from dicomweb_client.api import DICOMwebClient

        self.node = node
        self.timeout = timeout
        self.warnings: list[str] = []
        session = _LiteralWildcards()
        if node.username:
            session.auth = (node.username, node.password)
        if node.token:
            session.headers["Authorization"] = f"Bearer {node.token}"
        if node.ca_file:
            session.verify = node.ca_file

        def keep_warning(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            warning = response.headers.get("Warning")
            if warning:
                self.warnings.append(warning)

        self._client = DICOMwebClient(
            url=node.url, session=session, timeout=timeout, callback=keep_warning
        )
        self._client.set_http_retry_params(retry=False)

    # --- errors ----------------------------------------------------------------------
    def _call(self, what: str, function: Callable[[], Any]) -> Any:
        try:
            return function()
        except requests.HTTPError as error:
            response = error.response
            code = response.status_code if response is not None else 0
            reason = response.reason if response is not None else ""
            hint = {401: ": check the token or user name", 403: ": not allowed"}.get(code, "")
            raise NetError(f"{what}: HTTP {code} {reason} from {self.node.url}{hint}") from None
        except requests.exceptions.SSLError as error:
            raise NetError(
                f"{what}: TLS failed with {self.node.url}: {_first_line(error)}"
            ) from None
        except requests.Timeout:
            raise NetError(f"{what}: {self.node.url} timed out after {self.timeout:g} s") from None
        except requests.ConnectionError:
            from urllib.parse import urlparse

            parsed = urlparse(self.node.url)
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
            problem = connect_problem(parsed.hostname or "", port, min(self.timeout, 5.0))
            raise NetError(f"{what}: cannot connect to {self.node.url}: {problem}") from None
        except ValueError as error:  # a body that is not what PS3.18 says
            raise NetError(
                f"{what}: unreadable answer from {self.node.url}: {_first_line(error)}"
            ) from None

    # --- QIDO-RS ---------------------------------------------------------------------
    def echo(self) -> str:
        """A QIDO-RS ping: one study asked for (PS3.18 10.6)."""
        self._call("QIDO-RS", lambda: self._client.search_for_studies(limit=1))
        return f"QIDO-RS to {self.node.url}: success"

    def find(self, query: QueryFilter, cancel: Cancel = never) -> QueryAnswer:
        """QIDO-RS studies or a study's series (PS3.18 10.6.1), at most ``query.limit``."""
        filters: dict[str, Any] = {}
        for key, value in (
            ("PatientName", query.patient_name),
            ("PatientID", query.patient_id),
            ("AccessionNumber", query.accession),
            ("StudyDate", query.date_range()),
        ):
            if value:
                filters[key] = value
        if query.level == "study":
            if query.modality:
                filters["ModalitiesInStudy"] = query.modality
            if query.description:
                filters["StudyDescription"] = query.description
            if query.study_uid:
                filters["StudyInstanceUID"] = query.study_uid
        else:
            if query.modality:
                filters["Modality"] = query.modality
            if query.description:
                filters["SeriesDescription"] = query.description
        self.warnings.clear()
        ask = query.limit + 1
        if query.level == "study":
            found = self._call(
                "QIDO-RS",
                lambda: self._client.search_for_studies(
                    fields=_STUDY_FIELDS, search_filters=filters, limit=ask
                ),
            )
        else:
            found = self._call(
                "QIDO-RS",
                lambda: self._client.search_for_series(
                    study_instance_uid=query.study_uid or None,
                    fields=_SERIES_FIELDS,
                    search_filters=filters,
                    limit=ask,
                ),
            )
        if cancel():
            raise Cancelled()
        answer = limited([_result(item, query.level) for item in found], query.limit)
        if not answer.truncated and self.warnings:
            answer.truncated = f"the server says: {self.warnings[-1]}"
        return answer

    def plan(self, study_uid: str, series_uids: Sequence[str] = ()) -> RetrievePlan:
        """The study's series (or those named) with their instance counts."""
        answer = self.find(QueryFilter(level="series", study_uid=study_uid, limit=100_000))
        return RetrievePlan(study_uid, choose_series(answer, study_uid, series_uids, self.node.url))

    def instance_uids(self, study_uid: str, series_uid: str) -> list[str]:
        found = self._call(
            "QIDO-RS",
            lambda: self._client.search_for_instances(
                study_instance_uid=study_uid,
                series_instance_uid=series_uid,
                fields=["SOPInstanceUID"],
            ),
        )
        return [_value(item, "00080018") for item in found if _value(item, "00080018")]

    # --- WADO-RS ---------------------------------------------------------------------
    def wado(
        self,
        plan: RetrievePlan,
        landing: Landing,
        cancel: Cancel = never,
        progress: Progress | None = None,
        only: dict[str, list[str]] | None = None,
    ) -> None:
        """WADO-RS each series (PS3.18 10.4.1) as stored (``transfer-syntax=*``): instances
        land one by one as the multipart answer streams in."""
        as_stored = (("application/dicom", "*"),)
        for series in plan.series:
            uids = (only or {}).get(series.series_uid)
            if only is not None and not uids:
                continue
            if uids:
                for uid in uids:
                    if cancel():
                        raise Cancelled()
                    dataset = self._call(
                        "WADO-RS",
                        functools.partial(
                            self._client.retrieve_instance,
                            plan.study_uid,
                            series.series_uid,
                            uid,
                            media_types=as_stored,
                        ),
                    )
                    _land(landing, dataset)
                    if progress is not None:
                        progress()
                continue
            parts = self._series_files(plan.study_uid, series.series_uid)
            received = 0
            while True:
                if cancel():
                    raise Cancelled()
                part = self._call("WADO-RS", functools.partial(next, parts, None))
                if part is None:
                    break
                landing.receive(part)  # the file as the server sent it, not decoded
                received += 1
                if progress is not None:
                    progress()
            # A multipart answer cut short (the server went away) reads like a short one:
            # compare with the count the series query gave.
            if series.instances is not None and received < series.instances:
                raise NetError(
                    f"WADO-RS: the answer for series {series.series_uid} ended after "
                    f"{received} of {series.instances} instances (connection lost?)"
                )

    def _series_files(self, study_uid: str, series_uid: str) -> Iterator[bytes]:
        """WADO-RS Retrieve Series (PS3.18 10.4.1) as stored: each part of the multipart
        answer, a DICOM file, as bytes while the answer streams in. dicomweb-client's
        ``iter_series`` would parse each one into a pydicom Dataset that we would then
        write out again; its own URL builder and multipart decoder are used instead (the
        latter yields one part at a time: at most one instance is held in memory)."""
        from dicomweb_client.web import _Transaction

        client = self._client
        url = client._get_series_url(_Transaction.RETRIEVE, study_uid, series_uid)
        response = client._http_get(
            url,
            headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
            stream=True,
        )
        if response.headers.get("Content-Type", "").startswith("application/dicom"):
            yield response.content  # a server that sends one part bare (dicomweb-client copes)
            return
        yield from client._decode_multipart_message(response, stream=True)

    # --- STOW-RS ---------------------------------------------------------------------
    def send(
        self,
        paths: Sequence[str],
        cancel: Cancel = never,
        on_result: Callable[[SendResult], None] | None = None,
    ) -> list[SendResult]:
        """STOW-RS (PS3.18 10.5) in batches; each instance's outcome from the response's
        Referenced / Failed SOP Sequences."""
        results: list[SendResult] = []

        def done(result: SendResult) -> None:
            results.append(result)
            if on_result is not None:
                on_result(result)

        batch: list[tuple[str, Dataset]] = []
        for path in paths:
            try:
                batch.append((path, dcmread(path)))
            except Exception as error:  # fault boundary: an unreadable file is one result
                done(SendResult(path, problem=f"not a DICOM file: {_first_line(error)}"))
            if len(batch) >= STOW_BATCH:
                self._stow(batch, done, cancel)
                batch = []
        if batch:
            self._stow(batch, done, cancel)
        return results

    def _stow(
        self,
        batch: list[tuple[str, Dataset]],
        done: Callable[[SendResult], None],
        cancel: Cancel,
    ) -> None:
        if cancel():
            raise Cancelled()
        answer = self._call(
            "STOW-RS", lambda: self._client.store_instances([ds for _, ds in batch])
        )
        failed: dict[str, str] = {}
        for item in getattr(answer, "FailedSOPSequence", []) or []:
            reason = item.get("FailureReason")
            failed[str(item.get("ReferencedSOPInstanceUID", ""))] = (
                f"refused with failure reason 0x{int(reason):04X}"
                if reason is not None
                else "refused"
            )
        for path, ds in batch:
            uid = str(ds.get("SOPInstanceUID", ""))
            done(SendResult(path, uid, failed.get(uid, "")))


def _land(landing: Landing, dataset: Dataset) -> None:
    def write(path: Path) -> None:
        buffer = io.BytesIO()
        dataset.save_as(buffer, enforce_file_format=True)
        path.write_bytes(buffer.getvalue())

    landing.receive_file(write)


def _value(item: dict[str, Any], tag: str) -> str:
    """A DICOM JSON attribute's first value as text (PS3.18 F.2); PN as its alphabetic form."""
    values = item.get(tag, {}).get("Value") or []
    if not values:
        return ""
    first = values[0]
    if isinstance(first, dict):
        return str(first.get("Alphabetic", ""))
    return str(first)


def _values(item: dict[str, Any], tag: str) -> tuple[str, ...]:
    return tuple(str(value) for value in item.get(tag, {}).get("Value") or [] if value)


def _result(item: dict[str, Any], level: str) -> QueryResult:
    series = level == "series"
    return QueryResult(
        level=level,
        study_uid=_value(item, "0020000D"),
        series_uid=_value(item, "0020000E") if series else "",
        patient_name=_value(item, "00100010"),
        patient_id=_value(item, "00100020"),
        birth_date=_value(item, "00100030"),
        date=_value(item, "00080020"),
        time=_value(item, "00080030"),
        accession=_value(item, "00080050"),
        description=_value(item, "0008103E" if series else "00081030"),
        modalities=_values(item, "00080060" if series else "00080061"),
        instances=to_int(_value(item, "00201209" if series else "00201208")),
        series_count=None if series else to_int(_value(item, "00201206")),
        series_number=to_int(_value(item, "00200011")) if series else None,
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
