"""One interface over DIMSE and DICOMweb, and the retrieve as the verbs and the GUI run it.

:func:`connect` gives a client for a node (:class:`~viewer.net.dimse.DimseClient` or
:class:`~viewer.net.dicomweb.DicomwebClient`); both have ``echo()``, ``find(query)``,
``plan(study, series)``, ``instance_uids(study, series)`` and ``send(paths)``.
:func:`retrieve` plans a study (its series and their counts), fetches each series by the
method asked for into a :class:`~viewer.net.landing.Landing`, and, on ``retry``, fetches only
what has not arrived yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from viewer.net.dicomweb import DicomwebClient
from viewer.net.dimse import Cancel, DimseClient, Progress, StorageServer, never
from viewer.net.errors import NetError
from viewer.net.landing import Landing, SeriesCount
from viewer.net.nodes import METHODS, LocalAE, Node
from viewer.net.query import RetrievePlan

Client = DimseClient | DicomwebClient


def connect(node: Node, local: LocalAE, timeout: float | None = None) -> Client:
    """A client for ``node`` as our AE ``local``."""
    if node.kind == "dicomweb":
        return DicomwebClient(node, local, **({"timeout": timeout} if timeout else {}))
    return DimseClient(node, local, **({"timeout": timeout} if timeout else {}))


def check_method(node: Node, method: str) -> None:
    """Raise NetError when ``method`` cannot run against ``node``."""
    if method not in METHODS:
        raise NetError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if node.kind == "dicomweb" and method != "wado":
        raise NetError(f"{node.describe()} is a DICOMweb node: retrieve it with --method wado")
    if node.kind == "dimse" and method == "wado":
        raise NetError(f"{node.describe()} is a DIMSE node: retrieve it with get or move")


@dataclass
class RetrieveReport:
    """How a retrieve went: per series counts, and the error that stopped it ("" if none)."""

    plan: RetrievePlan
    series: list[SeriesCount] = field(default_factory=list)
    error: str = ""

    @property
    def failed(self) -> int:
        """Instances that did not arrive (failed, or missing from the expected total)."""
        missing = 0
        for count in self.series:
            expected = count.total if count.total is not None else count.done + count.failed
            missing += max(expected - count.done, 0)
        return missing

    @property
    def done(self) -> int:
        return sum(count.done for count in self.series)


def retrieve(
    client: Client,
    study_uid: str,
    landing: Landing,
    method: str = "get",
    series_uids: Sequence[str] = (),
    cancel: Cancel = never,
    progress: Progress | None = None,
    retry: bool = False,
    plan: RetrievePlan | None = None,
    listener: StorageServer | None = None,
) -> RetrieveReport:
    """Retrieve a study (or the series named) into ``landing``.

    ``retry``: ask the server which instances each series has and fetch only those not in
    ``landing.arrived`` (a second pass after a failure; the landing keeps what arrived).
    ``listener``: our running storage SCP, which a C-MOVE then uses (the port is taken).
    Errors after the plan are kept in the report (what arrived is kept and recorded); a
    failure to plan raises :class:`NetError`.
    """
    check_method(client.node, method)
    if plan is None:
        plan = client.plan(study_uid, series_uids)
    for series in plan.series:
        label = " ".join(
            part
            for part in (
                "/".join(series.modalities),
                str(series.series_number) if series.series_number is not None else "",
                series.description,
            )
            if part
        )
        landing.expect(series.series_uid, series.instances, label or series.series_uid)
    report = RetrieveReport(plan)
    only: dict[str, list[str]] | None = None
    try:
        if retry:
            only = {}
            for series in plan.series:
                wanted = client.instance_uids(plan.study_uid, series.series_uid)
                count = landing.count(series.series_uid)
                count.total = len(wanted)
                count.failed = 0
                count.failed_uids.clear()
                only[series.series_uid] = [uid for uid in wanted if uid not in landing.arrived]
        if isinstance(client, DicomwebClient):
            client.wado(plan, landing, cancel, progress, only)
        elif method == "move":
            client.move(plan, landing, cancel, progress, only, listener=listener)
        else:
            client.get(plan, landing, cancel, progress, only)
    except NetError as error:
        report.error = str(error)
    finally:
        landing.flush()
    report.series = [landing.count(series.series_uid) for series in plan.series]
    return report
