"""The tag browser's rows, read as the worker reads them: real files, private creators,
per-frame functional groups of the frame shown, and the filter."""

from __future__ import annotations

from pathlib import Path

from pydicom.data import get_testdata_file
from PySide6.QtGui import QStandardItemModel

from tests.factories import enhanced_frames, write_enhanced
from viewer.qt.tag_browser import TagFilter, TagRow, _append, read_tag_tree


def find(rows: tuple[TagRow, ...], tag: str) -> TagRow:
    return next(row for row in rows if row.tag == tag)


def test_known_tags_and_private_creators_of_a_real_ct() -> None:
    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    tree = read_tag_tree(str(path), 0)
    assert tree.error == ""
    assert find(tree.rows, "(0002,0010)").value == "1.2.840.10008.1.2.1"  # file meta first
    name = find(tree.rows, "(0010,0010)")
    assert (name.keyword, name.vr, name.vm, name.value) == (
        "PatientName",
        "PN",
        "1",
        "CompressedSamples^CT1",
    )
    spacing = find(tree.rows, "(0028,0030)")
    assert spacing.vm == "2" and spacing.value == "0.661468\\0.661468"
    private = find(tree.rows, "(0009,1001)")
    assert private.keyword == "Full fidelity [GEMS_IDEN_01]"  # dictionary name, creator
    assert find(tree.rows, "(0009,0010)").keyword == "Private Creator"


def test_enhanced_file_shows_the_current_frames_functional_groups(tmp_path: Path) -> None:
    truth = write_enhanced(tmp_path / "enhanced.dcm", enhanced_frames(slices=4), shuffle=False)
    tree = read_tag_tree(truth.path, 2)
    per_frame = find(tree.rows, "(5200,9230)")
    assert per_frame.value == "4 item(s)"
    item, note = per_frame.children
    assert (item.tag, item.keyword) == ("Item 3", "this frame")
    assert note.value == "3 other frame(s) not shown"
    plane = next(row for row in item.children if row.keyword == "PlanePositionSequence")
    position = plane.children[0].children[0]
    assert position.keyword == "ImagePositionPatient"
    z = float(position.value.split("\\")[2])
    assert z == truth.frames[2].position[2]  # the third stored frame's position


def test_unreadable_file_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    tree = read_tag_tree(str(junk), 0)
    assert tree.rows == () or tree.error


def test_filter_matches_tag_numbers_keywords_and_values(qtbot) -> None:  # type: ignore[no-untyped-def]
    path = get_testdata_file("CT_small.dcm")
    model = QStandardItemModel()
    for row in read_tag_tree(str(path), 0).rows:
        _append(model.invisibleRootItem(), row)
    proxy = TagFilter()
    proxy.setSourceModel(model)
    for text in ("00100010", "(0010,0010)", "patientname", "compressedsamples^ct1"):
        proxy.set_text(text)
        assert proxy.rowCount() == 1, text
        assert proxy.index(0, 0).data() == "(0010,0010)"
    proxy.set_text("")
    assert proxy.rowCount() == model.rowCount()
    proxy.set_text("gems_iden_01")  # private tags are found by their creator
    assert proxy.rowCount() > 3


def test_a_textual_value_read_as_un_shows_as_text(tmp_path: Path) -> None:
    """Over 64 KiB a PN or LO value is written as UN (PS3.5 6.2.2): its dictionary VR is
    textual, so the browser shows the text, not "<N bytes>" (issue 13 item 12)."""
    import struct

    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    source = Path(str(path)).read_bytes()
    at = source.index(struct.pack("<HH", 0x0010, 0x0010) + b"PN")
    length = struct.unpack_from("<H", source, at + 6)[0]
    value = b"Doe^Jane" + b"x" * 70_000
    element = struct.pack("<HH", 0x0010, 0x0010) + b"UN\0\0" + struct.pack("<L", len(value))
    target = tmp_path / "un.dcm"
    target.write_bytes(source[:at] + element + value + source[at + 8 + length :])
    row = find(read_tag_tree(str(target), 0).rows, "(0010,0010)")
    assert row.vr == "UN"
    assert row.value.startswith("Doe^Janexxx") and row.value.endswith("…"), row.value[:40]
    private = find(read_tag_tree(str(target), 0).rows, "(0009,1001)")
    assert not private.value.startswith("<")  # other values unchanged
