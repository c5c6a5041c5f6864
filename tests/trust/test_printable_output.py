"""Issue 13 item 12: human output cannot be turned against the terminal or the reader.

Swept: every C0 control, DEL, a C1 control and the bidirectional overrides in a patient's
name, a description and a file name, through ``inspect`` (text on stdout, reports on stderr;
JSON keeps the exact value, escaped by JSON itself); a folder of many non-DICOM files prints a
few lines and a count, while ``--json`` lists every file; a Patient's Name read as UN (over
long for PN, PS3.5 6.2.2) is shown as text, not as a bytes repr.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from viewer.cli.skipped import SHOWN
from viewer.core.printable import printable

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\x9b", "\u202e", "\u2066"]
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _inspect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "viewer", "inspect", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_printable_escapes_each_control(control: str) -> None:
    shown = printable(f"a{control}b")
    assert not RAW.search(shown) and shown.startswith("a\\") and shown.endswith("b")


def test_inspect_shows_controls_escaped(tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: the bidi controls too
    hostile = "".join(c for c in CONTROLS if c not in "\\^=")
    ds.PatientName = f"Evil\x1b]2;pwned\x07^Name{hostile}"
    ds.SeriesDescription = "desc\r\x1b[2Jcleared"
    name = "scan\x1b[31m.dcm"
    ds.save_as(tmp_path / name)
    (tmp_path / "junk\x1b[5m\x07.dcm").write_bytes(b"not dicom at all")
    done = _inspect(str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert not RAW.search(done.stdout), done.stdout
    assert not RAW.search(done.stderr.replace("\n", "")), done.stderr
    assert "\\x1b]2;pwned\\x07" in done.stdout and "\\x1b[5m\\x07" in done.stderr
    report = json.loads(_inspect(str(tmp_path), "--json").stdout)
    assert "\x1b]2;pwned\x07" in report["patients"][0]["name"]  # JSON keeps the value


def test_many_skipped_files_are_summarised(tmp_path: Path) -> None:
    for k in range(60):
        (tmp_path / f"note{k:03}.txt").write_text("not DICOM")
    for k in range(5):
        (tmp_path / f"empty{k}.dcm").write_bytes(b"")
    done = _inspect(str(tmp_path))
    lines = done.stderr.splitlines()
    assert len(lines) == SHOWN + 1, lines
    assert "skipped 55 more" in lines[-1] and "not a DICOM file" in lines[-1], lines[-1]
    assert done.stdout.count("\n") <= SHOWN + 3
    report = json.loads(_inspect(str(tmp_path), "--json").stdout)
    assert len(report["skipped"]) == 65


def test_a_name_read_as_un_is_text(tmp_path: Path) -> None:
    source = Path(str(get_testdata_file("CT_small.dcm", download=False))).read_bytes()
    at = source.index(struct.pack("<HH", 0x0010, 0x0010) + b"PN")
    length = struct.unpack_from("<H", source, at + 6)[0]
    value = b"Doe^Jane" + b"x" * 70_000  # too long for PN's 16-bit length: written as UN
    element = struct.pack("<HH", 0x0010, 0x0010) + b"UN\0\0" + struct.pack("<L", len(value))
    (tmp_path / "un.dcm").write_bytes(source[:at] + element + value + source[at + 8 + length :])
    report = json.loads(_inspect(str(tmp_path), "--json").stdout)
    name = report["patients"][0]["name"]
    assert name.startswith("Doe, Janex") and not name.startswith("b'"), name[:40]
