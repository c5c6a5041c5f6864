"""The network verbs against a real Orthanc: echo, query, retrieve (C-GET, C-MOVE, WADO-RS),
send (C-STORE, STOW-RS), and how failures read (issue 16).

The verbs run in this process (``viewer.__main__.main``), as the console command does.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.net.conftest import Sample
from viewer.__main__ import main
from viewer.bench.orthanc import SERVER_AET, VIEWER_AET, Orthanc
from viewer.store.database import StudyDatabase
from viewer.store.managed import store_root


def run(capsys: pytest.CaptureFixture[str], orthanc: Orthanc, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--aet", VIEWER_AET, "--port", str(orthanc.viewer_port)])
    out, err = capsys.readouterr()
    return code, out, err


NODES = ["dimse", "dicomweb"]


def node(orthanc: Orthanc, kind: str) -> str:
    return orthanc.dimse if kind == "dimse" else orthanc.dicomweb


# --- echo ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", NODES)
def test_echo_succeeds(capsys: pytest.CaptureFixture[str], orthanc: Orthanc, kind: str) -> None:
    code, out, err = run(capsys, orthanc, "echo", node(orthanc, kind))
    assert code == 0, err
    assert "success" in out


def test_echo_says_why_it_failed(capsys: pytest.CaptureFixture[str], orthanc: Orthanc) -> None:
    closed = _closed_port()
    cases = {
        f"WRONG@127.0.0.1:{orthanc.dicom_port}": ["association rejected", "Called AE title"],
        f"{SERVER_AET}@127.0.0.1:{closed}": ["cannot connect", "connection refused"],
        f"{SERVER_AET}@no-such-host.invalid:104": ["unknown host"],
        f"http://127.0.0.1:{closed}/dicom-web": ["cannot connect", "connection refused"],
        f"{orthanc.url}/no-dicom-web-here": ["HTTP 404"],
    }
    for target, words in cases.items():
        code, _out, err = run(capsys, orthanc, "echo", target)
        assert code == 1, target
        assert err.count("\n") == 1 and "Traceback" not in err, err  # one line
        for word in words:
            assert word in err, (target, err)


def test_echo_times_out_on_a_silent_peer(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc
) -> None:
    with socket.socket() as silent:  # accepts the TCP connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        code, _, err = run(
            capsys, orthanc, "echo", f"{SERVER_AET}@127.0.0.1:{port}", "--timeout", "1"
        )
    assert code == 1
    assert "timed out" in err


def test_bad_node_is_a_usage_error(capsys: pytest.CaptureFixture[str], orthanc: Orthanc) -> None:
    code, _, err = run(capsys, orthanc, "echo", "not-a-configured-node")
    assert code == 2
    assert "no node named" in err


# --- query --------------------------------------------------------------------------------
def _query(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc, kind: str, *args: str
) -> list[dict[str, object]]:
    code, out, err = run(capsys, orthanc, "query", node(orthanc, kind), "--json", *args)
    assert code == 0, err
    return list(json.loads(out)["results"])


@pytest.mark.parametrize("kind", NODES)
def test_query_each_filter_finds_exactly_the_matching_studies(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc, samples: list[Sample], kind: str
) -> None:
    every = {sample.study_uid for sample in samples}
    assert {r["study_uid"] for r in _query(capsys, orthanc, kind)} == every
    # A sweep over the values the files hold: each filter, each value.
    for sample in samples:
        checks = [
            (["--patient-id", sample.patient_id], lambda s, v=sample.patient_id: s.patient_id == v),
            (["--modality", sample.modality], lambda s, v=sample.modality: s.modality == v),
            (["--date", sample.date], lambda s, v=sample.date: s.date == v),
            (
                ["--date", f"{sample.date}-"],
                lambda s, v=sample.date: bool(s.date) and s.date >= v,
            ),
            (
                ["--date", f"-{sample.date}"],
                lambda s, v=sample.date: bool(s.date) and s.date <= v,
            ),
        ]
        name = sample.patient_name
        if name:
            prefix = name[: max(3, len(name) // 2)]
            checks.append(
                (["--patient-name", prefix + "*"], lambda s, p=prefix: s.patient_name.startswith(p))
            )
        if sample.accession:
            checks.append(
                (["--accession", sample.accession], lambda s, v=sample.accession: s.accession == v)
            )
        for args, matches in checks:
            if not args[1] or args[1] in ("-",):
                continue
            expected = {s.study_uid for s in samples if matches(s)}
            found = {r["study_uid"] for r in _query(capsys, orthanc, kind, *args)}
            assert found == expected, (kind, args)


@pytest.mark.parametrize("kind", NODES)
def test_query_series_of_each_study(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc, samples: list[Sample], kind: str
) -> None:
    for study in {sample.study_uid for sample in samples}:
        results = _query(capsys, orthanc, kind, "--level", "series", "--study", study)
        expected = {s.series_uid for s in samples if s.study_uid == study}
        assert {r["series_uid"] for r in results} == expected
        for result in results:
            assert result["level"] == "series"
            count = sum(1 for s in samples if s.series_uid == result["series_uid"])
            assert result["instances"] == count


@pytest.mark.parametrize("kind", NODES)
def test_query_limit_says_it_truncated(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc, kind: str
) -> None:
    code, out, err = run(capsys, orthanc, "query", node(orthanc, kind), "--json", "--limit", "2")
    assert code == 0
    data = json.loads(out)
    assert len(data["results"]) == 2
    assert "more than 2 results" in data["truncated"]
    assert "more than 2 results" in err


def test_orthanc_does_not_decode_percent_encoded_wildcards(
    orthanc: Orthanc, samples: list[Sample]
) -> None:
    """The server quirk the DICOMweb client works around: documented, not hidden."""
    import urllib.request

    name = next(s.patient_name for s in samples if s.patient_name.startswith("Compressed"))
    base = f"{orthanc.dicomweb}/studies?PatientName="

    def count(query: str) -> int:
        with urllib.request.urlopen(base + query, timeout=30) as answer:
            data = answer.read()
        return len(json.loads(data)) if data else 0

    assert count(name[:10] + "*") > 0
    assert count(name[:10] + "%2A") == 0  # if this starts failing, Orthanc fixed it


# --- retrieve -----------------------------------------------------------------------------
METHODS = [("dimse", "get"), ("dimse", "move"), ("dicomweb", "wado")]


@pytest.mark.parametrize(("kind", "method"), METHODS)
def test_retrieve_into_the_database_is_byte_identical(
    capsys: pytest.CaptureFixture[str],
    orthanc: Orthanc,
    samples: list[Sample],
    tmp_path: Path,
    kind: str,
    method: str,
) -> None:
    database_file = tmp_path / "studies.sqlite"
    for study in sorted({sample.study_uid for sample in samples}):
        code, out, err = run(
            capsys,
            orthanc,
            "retrieve",
            node(orthanc, kind),
            "--study",
            study,
            "--method",
            method,
            "--db",
            str(database_file),
        )
        assert code == 0, err
        expected = [s for s in samples if s.study_uid == study]
        for series in {s.series_uid for s in expected}:
            count = sum(1 for s in expected if s.series_uid == series)
            assert f"{series}: {count}/{count}, failed 0" in out
    with StudyDatabase(database_file) as database:
        for sample in samples:
            files = {
                item.instance.sop_instance_uid: item.instance.path
                for item in database.scanned_files(sample.study_uid)
            }
            assert sample.sop_uid in files
            path = files[sample.sop_uid]
            assert Path(path).is_relative_to(store_root())
            _assert_same_instance(Path(path), sample)
        assert all(row.location == "pacs" for row in database.list_studies())
    assert not list(store_root().glob(".incoming/*"))


@pytest.mark.parametrize(("kind", "method"), METHODS)
def test_retrieve_one_series_into_a_folder(
    capsys: pytest.CaptureFixture[str],
    orthanc: Orthanc,
    samples: list[Sample],
    tmp_path: Path,
    kind: str,
    method: str,
) -> None:
    sample = next(s for s in samples if s.transfer_syntax != "1.2.840.10008.1.2.1")
    out_dir = tmp_path / "out"
    code, _out, err = run(
        capsys,
        orthanc,
        "retrieve",
        node(orthanc, kind),
        "--study",
        sample.study_uid,
        "--series",
        sample.series_uid,
        "--method",
        method,
        "--out",
        str(out_dir),
    )
    assert code == 0, err
    files = list(out_dir.rglob("*.dcm"))
    assert [f.stem for f in files] == [sample.sop_uid]
    _assert_same_instance(files[0], sample)


def test_retrieve_an_unknown_study_fails(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc, tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, orthanc, "retrieve", orthanc.dimse, "--study", "1.2.3.4", "--out", str(tmp_path)
    )
    assert code == 1
    assert "not found" in err


def test_wado_is_refused_for_a_dimse_node(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc, tmp_path: Path
) -> None:
    code, _, err = run(
        capsys,
        orthanc,
        "retrieve",
        orthanc.dimse,
        "--study",
        "1.2.3",
        "--method",
        "wado",
        "--out",
        str(tmp_path),
    )
    assert code == 1
    assert "DIMSE node" in err


def _assert_same_instance(path: Path, sample: Sample) -> None:
    """Same SOP Instance, same transfer syntax, pixel data byte for byte."""
    got = dcmread(path)
    want = dcmread(sample.path)
    assert str(got.SOPInstanceUID) == sample.sop_uid
    assert str(got.file_meta.TransferSyntaxUID) == sample.transfer_syntax
    assert got.PixelData == want.PixelData


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- send ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", NODES)
def test_send_then_find_it_on_the_server(
    capsys: pytest.CaptureFixture[str], own_orthanc: Orthanc, samples: list[Sample], kind: str
) -> None:
    paths = [str(sample.path) for sample in samples]
    code, out, err = run(capsys, own_orthanc, "send", node(own_orthanc, kind), *paths)
    assert code == 0, err
    assert f"sent {len(samples)} of {len(samples)}" in out
    assert own_orthanc.count_instances() == len(samples)
    for sample in samples:
        stored = own_orthanc.instance_file(sample.sop_uid)
        (own_orthanc.folder / "check.dcm").write_bytes(stored)
        _assert_same_instance(own_orthanc.folder / "check.dcm", sample)


def test_send_reports_a_file_that_is_not_dicom(
    capsys: pytest.CaptureFixture[str], own_orthanc: Orthanc, samples: list[Sample], tmp_path: Path
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not DICOM")
    code, out, err = run(
        capsys, own_orthanc, "send", own_orthanc.dimse, str(samples[0].path), str(junk)
    )
    assert code == 1
    assert "notes.txt: not a DICOM file" in err
    assert "sent 1 of 2" in out


# --- a server that goes away, a destination it does not know ------------------------------
@pytest.mark.parametrize(("kind", "method"), METHODS)
def test_server_killed_mid_retrieve_keeps_what_arrived_and_a_retry_completes(
    own_orthanc: Orthanc, demo_study: Path, tmp_path: Path, kind: str, method: str
) -> None:
    import pydicom

    from tests.net.conftest import demo_files
    from viewer.net.client import connect, retrieve
    from viewer.net.landing import Landing
    from viewer.net.nodes import LocalAE, resolve_node

    files = demo_files(demo_study)
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    series_size: dict[str, int] = {}
    for header in headers:
        series_size[str(header.SeriesInstanceUID)] = (
            series_size.get(str(header.SeriesInstanceUID), 0) + 1
        )
    biggest = max(series_size, key=lambda uid: series_size[uid])
    chosen = [f for f, h in zip(files, headers, strict=True) if str(h.SeriesInstanceUID) == biggest]
    study = str(next(h.StudyInstanceUID for h in headers if str(h.SeriesInstanceUID) == biggest))
    own_orthanc.upload(chosen)
    total = len(chosen)
    assert total > 50

    local = LocalAE(aet=VIEWER_AET, port=own_orthanc.viewer_port)
    target = resolve_node(node(own_orthanc, kind))
    client = connect(target, local, timeout=10)
    with StudyDatabase(tmp_path / "studies.sqlite") as database:
        landing = Landing(database=database)
        kill_after = 20

        def progress() -> None:
            if len(landing.arrived) == kill_after:
                own_orthanc.kill()

        first = retrieve(client, study, landing, method, [biggest], progress=progress)
        assert first.error, "the retrieve should say the server went away"
        assert "Traceback" not in first.error and "\n" not in first.error
        kept = len(landing.arrived)
        assert kill_after <= kept < total
        # What arrived is in the database already.
        assert len(database.scanned_files(study)) == kept

        own_orthanc.start()  # same storage: the series is still there
        second = retrieve(client, study, landing, method, [biggest], retry=True)
        assert second.error == ""
        assert second.failed == 0
        assert len(landing.arrived) == total
        landing.close()
        rows = database.scanned_files(study)
        assert len(rows) == total
        assert len({row.instance.sop_instance_uid for row in rows}) == total


def test_move_to_a_destination_the_server_does_not_know(
    orthanc: Orthanc, samples: list[Sample], tmp_path: Path
) -> None:
    from viewer.net.dimse import DimseClient
    from viewer.net.errors import NetError
    from viewer.net.landing import Landing
    from viewer.net.nodes import LocalAE, resolve_node

    client = DimseClient(
        resolve_node(orthanc.dimse), LocalAE(aet=VIEWER_AET, port=orthanc.viewer_port)
    )
    plan = client.plan(samples[0].study_uid)
    # PS3.4 C.4.2.1.5 says 0xA801; Orthanc 1.10 answers 0xC000: either way, the line names it.
    with pytest.raises(NetError, match=r"move destination 'NOBODY'"):
        client.move(plan, Landing(out_dir=tmp_path), destination="NOBODY")


def test_move_when_our_port_is_taken(
    capsys: pytest.CaptureFixture[str], orthanc: Orthanc, samples: list[Sample], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        taken.bind(("", orthanc.viewer_port))
        taken.listen(1)
        code, _, err = run(
            capsys,
            orthanc,
            "retrieve",
            orthanc.dimse,
            "--study",
            samples[0].study_uid,
            "--method",
            "move",
            "--out",
            str(tmp_path),
        )
    assert code == 1
    assert f"cannot listen on port {orthanc.viewer_port}" in err
