"""Issue 13 item 12: reasons a user understands, never a programmer's exception text.

A fixed-seed fuzz (the mutations of tests/robustness/test_fuzz.py: flipped bits, cuts, length
fields, VRs and tags changed at element boundaries, elements deleted or repeated) of real files
(pydicom's CT, implicit MR, big-endian MR, RLE, JPEG 2000, JPEG, deflated, multi-frame dose, an
enhanced multi-frame) goes through the real indexer (``index_paths`` on a folder of mutants),
pydicom's header path and the decoder (``decode_frame`` and the volume fill's ``fill_frame``).
No reason may carry an exception class name, a traceback, or messages such as "'NoneType'
object has no attribute": :func:`viewer.dicom.reasons.is_internal` says which. Then the
mapping itself: pydicom's "With tag (gggg,eeee) got exception" names the attribute, a value
that does not fit its VR is not quoted (it may be a name), and the detail is in the log.

``READABLE_FUZZ_MUTANTS`` changes the count (default 3000), ``FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement

from tests.robustness.test_fuzz import SEED, mutant
from tests.robustness.test_fuzz import seeds as seeds  # the same seed files (a fixture)
from viewer.dicom import reasons
from viewer.dicom.catalog.records import Skipped
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.scan import read_instance_pydicom
from viewer.dicom.pixels.decode import DecodeError, read_frame
from viewer.dicom.pixels.decode_pool import decode_frame, fill_frame

MUTANTS = int(os.environ.get("READABLE_FUZZ_MUTANTS", "3000"))
BATCH = 500


def test_no_reason_from_fuzzed_files_reads_like_an_exception(seeds, tmp_path):
    described: dict[str, str] = {}
    given: list[tuple[str, str, str]] = []  # (where, file, reason)
    for start in range(0, MUTANTS, BATCH):
        folder = tmp_path / f"batch{start}"
        folder.mkdir()
        for index in range(start, min(MUTANTS, start + BATCH)):
            data, description = mutant(seeds, index)
            path = folder / f"m{index:05d}.dcm"
            path.write_bytes(data)
            described[str(path)] = description
        catalog = index_paths([folder], workers=0)
        given += [("index", s.path, s.reason) for s in catalog.skipped]
        for path in sorted(folder.iterdir()):
            item = read_instance_pydicom(str(path))
            if isinstance(item, Skipped):
                given.append(("pydicom header", item.path, item.reason))
        for series in catalog.all_series():
            for instance in series.instances:
                outcome = decode_frame(instance.path, 0)
                if isinstance(outcome, str):
                    given.append(("decode", instance.path, outcome))
                rows, columns = instance.rows or 1, instance.columns or 1
                if rows * columns <= 4096 * 4096:
                    filled = fill_frame(np.zeros((rows, columns), np.int16), 0, instance.path, 0)
                    if filled.error:
                        given.append(("volume fill", instance.path, filled.error))
        for path in folder.iterdir():
            path.unlink()
    assert len(given) > MUTANTS // 4  # the mutants do reach the fault boundaries
    internal = [
        f"{where}: {described.get(path, path)}: {reason}"
        for where, path, reason in given
        if reasons.is_internal(reason) or "\n" in reason
    ]
    shown = "\n".join(internal[:12])
    assert not internal, f"{len(internal)} of {len(given)} reasons (seed {SEED}):\n{shown}"


# ---------------------------------------------------------------------------------------------
# The mapping, case by case


def bad_value_file(tmp_path: Path, tag: int, vr: str, value: bytes) -> Path:
    """CT_small with one element's raw value replaced (written as is, read back by pydicom)."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds._dict[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True, True, False)
    path = tmp_path / "bad.dcm"
    ds.save_as(path)
    return path


@pytest.mark.parametrize(
    ("text", "internal"),
    [
        ("TypeError: A UID must be created from a string", True),
        ("'NoneType' object has no attribute 'encode'", True),
        ('Traceback (most recent call last):\n  File "x.py", line 3, in f', True),
        ("With BytesLengthException inside", True),
        ("impossible image: Columns is 0", False),
        ("pixel data truncated: Pixel Data claims 8.0 KiB but the file holds 6.5 KiB", False),
        ("not a usable DICOM instance (no Series Instance UID)", False),
    ],
)
def test_is_internal(text, internal):
    assert reasons.is_internal(text) is internal


def test_a_value_that_does_not_fit_its_vr_names_the_attribute_not_the_value(tmp_path):
    path = bad_value_file(tmp_path, 0x00100010, "US", b"Doe")  # a name read as US: 3 bytes
    ds = pydicom.dcmread(path)
    with pytest.raises(Exception) as raised:
        _ = ds.PatientName
    reason = reasons.explain(raised.value)
    assert reason == (
        "PatientName (0010,0010) has a value that cannot be read (its length does not fit VR US)"
    )
    assert "Doe" not in reason


def test_pydicoms_with_tag_wrapper_names_the_attribute():
    from pydicom.tag import Tag, tag_in_exception

    with pytest.raises(Exception) as raised, tag_in_exception(Tag(0x0020000D)):
        raise TypeError("A UID must be created from a string")
    assert "Traceback" in str(raised.value)  # what pydicom puts in the message
    assert reasons.explain(raised.value) == (
        "StudyInstanceUID (0020,000D) has a value that cannot be read (not text where a UID"
        " belongs)"
    )
    with pytest.raises(Exception) as private, tag_in_exception(Tag(0x00291010)):
        raise ValueError("bad")
    assert reasons.explain(private.value) == (
        "private attribute (0029,1010) has a value that cannot be read"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TypeError("A UID must be created from a string"), "a UID value is not text"),
        (AttributeError("'NoneType' object has no attribute 'encode'"), reasons.GENERIC),
        (
            ValueError("invalid literal for int() with base 10: 'x1'"),
            "a value that should be a number is not ('x1')",
        ),
        (
            EOFError("No tag to read at file position CEC"),
            "the data set ends unexpectedly (nothing to read at byte 3308)",
        ),
        (
            UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
            "text that is not valid in its declared character set",
        ),
        (MemoryError(), "not enough memory"),
        (
            NotImplementedError("Unknown Value Representation 'ZZ' in tag (0002,0010)"),
            "TransferSyntaxUID (0002,0010) has an unknown VR 'ZZ'",
        ),
        (KeyError("x"), reasons.GENERIC),
        (ValueError("Columns must be positive"), "Columns must be positive"),  # already plain
    ],
)
def test_explain(error, expected):
    assert reasons.explain(error) == expected


def test_the_detail_goes_to_the_log_at_debug_level(caplog):
    with caplog.at_level(logging.DEBUG, logger="viewer.dicom.reasons"):
        reasons.explain(AttributeError("'NoneType' object has no attribute 'encode'"), "a.dcm")
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    assert "a.dcm" in record.getMessage() and "AttributeError" in record.getMessage()


def test_header_and_decoder_reasons_of_a_bad_value(tmp_path):
    """Through the real readers: a Pixel Representation that is no number."""
    path = bad_value_file(tmp_path, 0x00280103, "US", b"\x07\x00")
    with pytest.raises(DecodeError) as raised:
        read_frame(str(path))
    assert not reasons.is_internal(raised.value.reason), raised.value.reason
    item = read_instance_pydicom(str(bad_value_file(tmp_path, 0x0020000D, "UI", b"\xff\xfe")))
    reason = item.reason if isinstance(item, Skipped) else ""
    assert not reasons.is_internal(reason), reason


def test_a_decoders_failed_list_keeps_the_plain_parts():
    text = (
        "Unable to decode as exceptions were raised by all available plugins:\n"
        "  gdcm: 'NoneType' object has no attribute 'encode'\n"
        "  pylibjpeg: Error decoding the J2K data: failed to decode image"
    )
    assert reasons.explain(RuntimeError(text)) == (
        "the decoders failed (corrupt data?): gdcm: cannot decode this data; "
        "pylibjpeg: Error decoding the J2K data: failed to decode image"
    )
