"""De-identification (PS3.15 Annex E) on the standard's table and on real files.

Every attribute of Table E.1-1 is written into one file with an identifying value and must come
out with its action; real files (pydicom's, the demo study with its known patient) must keep
no identifying attribute anywhere (nested sequences included), keep their pixels, and get
UIDs that stay consistent with every reference.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, SecondaryCaptureImageStorage

from viewer import demo
from viewer.dicom.write import deid_table
from viewer.dicom.write.anonymize import (
    SAFE_PRIVATE,
    Z_AS_DUMMY,
    Deidentifier,
    DeidPolicy,
)

REAL_FILES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "rtplan.dcm",
    "rtstruct.dcm",
    "rtdose.dcm",
    "JPEG2000.dcm",
    "emri_small.dcm",
    "SC_rgb.dcm",
    "image_dfl.dcm",
    "MR-SIEMENS-DICOM-WithOverlays.dcm",
    "JPEG-LL.dcm",
)
CODES = {"D", "Z", "X", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"}


def walk(ds: Dataset) -> Iterator[tuple[int, object, str]]:
    """Every element (tag, value, VR) of ``ds``, nested sequences included."""
    for element in ds:
        yield int(element.tag), element.value, element.VR
        if element.VR == "SQ":
            for item in element.value:
                yield from walk(item)


def deidentify_file(path: str | Path, policy: DeidPolicy) -> Dataset:
    data = Path(path).read_bytes()
    out, _ = Deidentifier(policy).deidentify(data)
    return dcmread(io.BytesIO(out))


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------
def test_the_table_comes_whole_from_the_library() -> None:
    exact, masked = deid_table.basic_profile()
    assert len(exact) > 600  # Table E.1-1 of 2026c has about 650 rows
    assert set(exact.values()) <= CODES
    # Spot checks against PS3.15 Table E.1-1 (edition 2026c)
    assert exact[0x00100010] == "Z"  # Patient's Name
    assert exact[0x00100020] == "Z/D"  # Patient ID
    assert exact[0x00100030] == "Z"  # Patient's Birth Date
    assert exact[0x00080018] == "U"  # SOP Instance UID
    assert exact[0x00081155] == "U"  # Referenced SOP Instance UID
    assert exact[0x00200052] == "U"  # Frame of Reference UID
    assert exact[0x00080080] == "X/Z/D"  # Institution Name
    assert exact[0x00081030] == "X"  # Study Description
    assert exact[0x00080050] == "Z"  # Accession Number
    assert {rule.tag >> 16 for rule in masked} == {0x5000, 0x6000}  # curves, overlays


def _value_for(vr: str, tag: int) -> object:
    """An identifying-looking value of ``vr`` (distinct per tag, so leaks are traceable)."""
    marker = f"{tag:08X}"
    return {
        "DA": "20200101",
        "TM": "101010",
        "DT": "20200101101010",
        "UI": f"1.2.3.{tag}",
        "PN": f"SMITH^J{marker}",
        "AS": "042Y",
        "DS": "12.5",
        "IS": "7",
        "US": 7,
        "SS": 7,
        "UL": 7,
        "SL": 7,
        "FL": 7.0,
        "FD": 7.0,
        "AT": 0x00100010,
        "CS": "SECRET",
        "OB": b"SECRET" + marker.encode(),
        "OW": b"SECRET" + marker.encode(),
        "UN": b"SECRET" + marker.encode(),
        "UR": "http://example.org/secret",
    }.get(vr, f"SECRET {marker}")


def table_dataset() -> Dataset:
    """One instance holding every exact attribute of Table E.1-1 with a value."""
    exact, _ = deid_table.basic_profile()
    ds = Dataset()
    for tag in sorted(exact):
        if tag >> 16 in (0x0002, 0x0000, 0x0004, 0xFFFA) or tag == 0x00080016:
            continue
        try:
            vr = str(dictionary_VR(tag)).split(" ")[0]
        except KeyError:
            continue
        if vr == "SQ":
            item = Dataset()
            item.CodeValue = "SECRET"
            item.ReferencedSOPInstanceUID = f"1.2.3.{tag}.1"
            ds.add_new(tag, vr, Sequence([item]))
        else:
            ds.add_new(tag, vr, _value_for(vr, tag))
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.Modality = "OT"
    ds.SeriesNumber = 1
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _encode(ds: Dataset, syntax: str) -> bytes:
    ds.file_meta.TransferSyntaxUID = syntax
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize(
    "keep", [(), ("dates", "patient-characteristics", "device", "descriptions")]
)
def test_every_attribute_of_the_table_gets_its_action(syntax: str, keep: tuple[str, ...]) -> None:
    source = table_dataset()
    original = {int(e.tag): e.value for e in source}
    unparsed = {int(e.tag) for e in source if e.VR == "UN"}
    policy = DeidPolicy(frozenset(keep), salt="table")
    out, _ = Deidentifier(policy).deidentify(_encode(source, syntax))
    result = dcmread(io.BytesIO(out))
    got = {int(e.tag): e for e in result}
    actions = deid_table.profile_actions(frozenset(keep))
    checked = 0
    for tag, value in original.items():
        action = actions.get(tag)
        if action is None or tag in (0x00100010, 0x00100020):
            continue
        checked += 1
        element = got.get(tag)
        name = f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {action}"
        if action in ("X", "X/D") or (tag in unparsed and action != "K"):
            assert element is None, name
        elif action in ("Z", "X/Z", "X/Z/D"):
            assert element is not None, name
            expected = Z_AS_DUMMY.get(tag, b"").decode()
            assert element.value in ("", None, expected) or element.value == [], name
            if element.VR == "SQ":
                assert len(element.value) == 0, name
        elif action in ("D", "Z/D"):
            assert element is not None, name
            assert element.value != value or element.VR == "SQ", name
        elif action == "U":
            assert element is not None, name
            assert str(element.value).startswith("2.25."), name
        elif action == "X/Z/U*":
            assert element is not None and element.VR == "SQ", name
            for item in element.value:
                assert str(item.ReferencedSOPInstanceUID).startswith("2.25."), name
        elif action == "K":
            assert element is not None and element.value == value, name
        elif action == "S":
            assert element is not None and element.value != value, name
            assert len(str(element.value)) >= 8, name
        elif action == "C":
            assert element is not None, name
        else:
            pytest.fail(f"unexpected action {name}")
    assert checked > 500
    assert result.PatientIdentityRemoved == "YES"
    codes = [item.CodeValue for item in result.DeidentificationMethodCodeSequence]
    assert codes[0] == "113100"
    assert {deid_table.KEEP_OPTIONS[k][0] for k in keep} <= set(codes)
    assert result.LongitudinalTemporalInformationModified == (
        "MODIFIED" if "dates" in keep else "REMOVED"
    )


def test_options_keep_what_they_name() -> None:
    plain = deid_table.profile_actions(frozenset())
    assert plain[0x00100040] != "K"  # Patient's Sex
    chars = deid_table.profile_actions(frozenset({"patient-characteristics"}))
    assert chars[0x00100040] == chars[0x00101010] == chars[0x00101030] == "K"
    device = deid_table.profile_actions(frozenset({"device"}))
    assert device[0x00181000] == device[0x00081010] == "K"  # serial number, station name
    dates = deid_table.profile_actions(frozenset({"dates"}))
    assert dates[0x00080020] == dates[0x00080021] == "S"  # study, series date
    assert dates[0x00100030] == plain[0x00100030]  # birth date stays removed
    desc = deid_table.profile_actions(frozenset({"descriptions"}))
    assert desc[0x00081030] == desc[0x0008103E] == desc[0x00181030] == "C"


# ---------------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------------
def _identifying_tags() -> set[int]:
    exact, _ = deid_table.basic_profile()
    return {tag for tag, code in exact.items() if code != "U"}


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_files_keep_no_identifier_and_their_pixels(name: str) -> None:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    original = dcmread(path, force=True)
    result = deidentify_file(path, DeidPolicy(salt="real"))
    identifying = _identifying_tags()
    actions = deid_table.profile_actions(frozenset())
    for tag, value, vr in walk(result):
        assert (
            not (tag >> 16) & 1
            or (tag >> 16, tag & 0xFF) in {(g, e) for _, g, e in SAFE_PRIVATE}
            or 0x10 <= tag & 0xFFFF <= 0xFF
        ), f"private ({tag >> 16:04X},{tag & 0xFFFF:04X}) left"
        if tag in identifying and tag not in (0x00100010, 0x00100020):
            code = actions[tag]
            assert code not in ("X", "X/D"), f"({tag >> 16:04X},{tag & 0xFFFF:04X}) not removed"
            if vr != "SQ" and code in ("Z", "X/Z", "X/Z/D"):
                assert value in ("", None, Z_AS_DUMMY.get(tag, b"").decode()), hex(tag)
        assert (tag >> 16) & 0xFF00 not in (0x5000, 0x6000)
        if vr == "UI" and tag in deid_table.basic_profile()[0] and value:
            assert str(value).startswith("2.25."), hex(tag)
    name_text = str(original.get("PatientName", "") or "")
    if len(name_text) > 3:
        assert name_text.encode() not in _bytes(result)
    syntax = original.file_meta.get("TransferSyntaxUID")
    if "PixelData" in original and syntax.is_little_endian and not syntax.is_deflated:
        assert result.PixelData == original.PixelData
    assert result.PatientIdentityRemoved == "YES"


def _bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer)
    return buffer.getvalue()


def test_same_salt_same_uids_other_salt_other_uids() -> None:
    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    a = deidentify_file(path, DeidPolicy(salt="one"))
    b = deidentify_file(path, DeidPolicy(salt="one"))
    c = deidentify_file(path, DeidPolicy(salt="two"))
    assert a.SOPInstanceUID == b.SOPInstanceUID != c.SOPInstanceUID
    assert a.StudyInstanceUID == b.StudyInstanceUID != c.StudyInstanceUID
    assert a.PatientID == b.PatientID != c.PatientID
    assert a.file_meta.MediaStorageSOPInstanceUID == a.SOPInstanceUID


def test_references_in_sequences_follow_the_new_uids() -> None:
    """RT Structure Set references (Referenced Frame of Reference, Referenced SOP Instance in
    nested sequences) map through the same table as the images' own UIDs."""
    path = get_testdata_file("rtstruct.dcm")
    assert path is not None
    original = dcmread(path, force=True)
    deid = Deidentifier(DeidPolicy(salt="refs"))
    out, _ = deid.deidentify(Path(path).read_bytes())
    result = dcmread(io.BytesIO(out))
    old = [v for t, v, vr in walk(original) if vr == "UI" and t == 0x00081155]
    new = [v for t, v, vr in walk(result) if vr == "UI" and t == 0x00081155]
    assert old and len(old) == len(new)
    assert new == [deid.new_uid(str(v).encode()).decode() for v in old]
    old_for = [v for t, v, _ in walk(original) if t == 0x00200052]
    new_for = [v for t, v, _ in walk(result) if t == 0x00200052]
    assert new_for == [deid.new_uid(str(v).encode()).decode() for v in old_for]


def test_private_attributes_go_except_the_safe_list() -> None:
    path = get_testdata_file("MR-SIEMENS-DICOM-WithOverlays.dcm")
    if path is None:
        pytest.skip("pydicom-data is not installed")
    original = dcmread(path)
    assert any(e.tag.is_private for e in original)
    result = deidentify_file(path, DeidPolicy(salt="private"))
    kept = [e for e in result if e.tag.is_private]
    creators = {e.value for e in kept if 0x10 <= e.tag.element <= 0xFF}
    assert creators <= {c.decode() for c, _, _ in SAFE_PRIVATE}
    for element in kept:
        if element.tag.element > 0xFF:
            block = element.tag.element >> 8
            creator = result[element.tag.group, block].value
            key = (creator.encode(), element.tag.group, element.tag.element & 0xFF)
            assert key in SAFE_PRIVATE


def test_dates_shift_by_one_offset_and_keep_intervals(demo_study: Path) -> None:
    deid = Deidentifier(DeidPolicy(frozenset({"dates"}), salt="dates"))
    dates = {}
    for path in sorted(demo_study.rglob("IM*"))[:400]:
        out, facts = deid.deidentify(path.read_bytes())
        ds = dcmread(io.BytesIO(out), stop_before_pixels=True)
        dates[facts.modality] = ds.StudyDate
    import datetime as dt

    def day(text: str) -> dt.date:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))

    shift = day(dates["CT"]) - day(demo.CT_STUDY_DATE)
    assert shift.days == deid.date_shift_days and shift.days <= -365
    assert day(dates["MR"]) - day(demo.MR_STUDY_DATE) == shift


def test_clean_descriptors_blank_the_patients_own_identifiers() -> None:
    ds = table_dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "PID-778899"
    ds.StudyDescription = "CT of jane doe, PID-778899, follow-up"
    out, _ = Deidentifier(DeidPolicy(frozenset({"descriptions"}), salt="c")).deidentify(
        _encode(ds, ExplicitVRLittleEndian)
    )
    result = dcmread(io.BytesIO(out))
    assert result.StudyDescription == "CT of XXXX XXX, XXXXXXXXXX, follow-up"


def test_dcmdump_reads_the_output(tmp_path: Path) -> None:
    if shutil.which("dcmdump") is None:
        pytest.skip("DCMTK is not installed")
    for name in ("CT_small.dcm", "rtstruct.dcm", "JPEG2000.dcm", "MR_small_implicit.dcm"):
        path = get_testdata_file(name)
        assert path is not None
        out, _ = Deidentifier(DeidPolicy(salt="dump")).deidentify(Path(path).read_bytes())
        target = tmp_path / name
        target.write_bytes(out)
        run = subprocess.run(["dcmdump", "-E", str(target)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert "E:" not in run.stderr and "W:" not in run.stderr, run.stderr
