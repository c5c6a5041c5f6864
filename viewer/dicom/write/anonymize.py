"""De-identification of Part 10 files: PS3.15 Annex E, Basic Application Level Confidentiality
Profile with the options of :mod:`viewer.dicom.write.deid_table`.

The file is rewritten element by element from its bytes (explicit or implicit VR little
endian, PS3.5 7.1; encapsulated syntaxes keep an explicit VR little endian data set, PS3.5 A.4):
each attribute of Table E.1-1 gets its action wherever it occurs (nested sequences included),
everything else is copied byte for byte (pixel data too), so a file costs one read, one walk
and one write. Other encodings (deflated, big endian) are first re-encoded by pydicom as
explicit VR little endian. Sequences and items are written with undefined lengths (PS3.5 7.5),
so a changed value never needs a length above it rewritten.

* UIDs (U): ``2.25.<UUID>`` (PS3.5 B.2) from SHA-256 of the salt and the old UID: the same
  UID maps to the same new one across the files of one export (references inside sequences,
  Frame of Reference, SR and presentation-state references included) and across runs with
  the same salt. Without a salt a random one is drawn per export.
* Patient ID and Name become a pseudonym from the salt and the original Patient ID
  (``ANON-XXXXXXXX``), so files of one patient stay together.
* Dates (option ``dates``): shifted by one whole number of days per export (from the salt),
  so intervals are kept; Longitudinal Temporal Information Modified is ``MODIFIED``.
* Private attributes are removed except :data:`SAFE_PRIVATE` (a subset of PS3.15 Table
  E.3.10-1: acquisition parameters researchers need, no identifiers); curves (50xx) and
  overlays (60xx) are removed whole.
* Patient Identity Removed = YES, De-identification Method and its Code Sequence (CID 7050)
  name the profile and options used.

No Qt.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import re
import secrets
import struct
import uuid
from dataclasses import dataclass, field

from viewer.dicom.write import deid_table

UNDEFINED = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
MAX_DEPTH = 24

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_SHORT_VRS = frozenset(
    {
        b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO",
        b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
    }
)  # fmt: skip
_TEXT_VRS = frozenset({b"LO", b"SH", b"ST", b"LT", b"UT", b"UC", b"PN", b"CS", b"AE"})

PATIENT_NAME = 0x00100010
PATIENT_ID = 0x00100020
SOP_INSTANCE_UID = 0x00080018
CONTENT_SEQUENCE = 0x0040A730
MODALITY = 0x00080060
BURNED_IN_ANNOTATION = 0x00280301
SERIES_INSTANCE_UID = 0x0020000E
SOP_CLASS_UID = 0x00080016
SPECIFIC_CHARACTER_SET = 0x00080005
PATIENT_IDENTITY_REMOVED = 0x00120062
DEIDENTIFICATION_METHOD = 0x00120063
DEIDENTIFICATION_METHOD_CODES = 0x00120064
LONGITUDINAL_MODIFIED = 0x00280303

#: Values whose occurrences are blanked out of cleaned descriptors (Clean Descriptors Option).
_IDENTIFYING = frozenset(
    {
        0x00100010,  # Patient's Name
        0x00100020,  # Patient ID
        0x00101000,  # Other Patient IDs
        0x00101001,  # Other Patient Names
        0x00100030,  # Patient's Birth Date
        0x00080050,  # Accession Number
        0x00080080,  # Institution Name
        0x00080090,  # Referring Physician's Name
        0x00081050,  # Performing Physician's Name
        0x00081060,  # Name of Physician(s) Reading Study
        0x00081070,  # Operators' Name
        0x00101060,  # Patient's Mother's Birth Name
    }
)

#: Private attributes kept (PS3.15 E.3.10, Table E.3.10-1: safe private attributes):
#: (private creator, group, element offset in the creator's block).
SAFE_PRIVATE: frozenset[tuple[bytes, int, int]] = frozenset(
    {
        (b"SIEMENS MR HEADER", 0x0019, 0x0A),  # NumberOfImagesInMosaic
        (b"SIEMENS MR HEADER", 0x0019, 0x0B),  # SliceMeasurementDuration
        (b"SIEMENS MR HEADER", 0x0019, 0x0C),  # B_value
        (b"SIEMENS MR HEADER", 0x0019, 0x0D),  # DiffusionDirectionality
        (b"SIEMENS MR HEADER", 0x0019, 0x0E),  # DiffusionGradientDirection
        (b"SIEMENS MR HEADER", 0x0019, 0x27),  # B_matrix
        (b"SIEMENS MR HEADER", 0x0019, 0x29),  # MosaicRefAcqTimes (slice timing)
        (b"GEMS_PARM_01", 0x0043, 0x39),  # slop_int_6..9 (b-value)
        (b"GEMS_ACQU_01", 0x0019, 0xBB),  # diffusion direction
        (b"GEMS_ACQU_01", 0x0019, 0xBC),
        (b"GEMS_ACQU_01", 0x0019, 0xBD),
        (b"Philips Imaging DD 001", 0x2001, 0x03),  # Diffusion B-Factor
        (b"Philips MR Imaging DD 001", 0x2005, 0xB0),  # diffusion direction RL
        (b"Philips MR Imaging DD 001", 0x2005, 0xB1),  # diffusion direction AP
        (b"Philips MR Imaging DD 001", 0x2005, 0xB2),  # diffusion direction FH
    }
)
_SAFE_CREATORS = frozenset((creator, group) for creator, group, _ in SAFE_PRIVATE)

#: Z may be "a zero length value, or a non-zero length value that may be a dummy value" (PS3.15
#: E.1.1): these get the dummy, as the DICOMDIR's STUDY record needs them (Type 1, PS3.3 F.5).
Z_AS_DUMMY: dict[int, bytes] = {
    0x00080020: b"19000101",  # Study Date
    0x00080030: b"000000",  # Study Time
    0x00200010: b"ANON",  # Study ID
}
_DUMMY_TEXT = b"ANONYMIZED"
_DUMMY_BY_VR: dict[bytes, bytes] = {
    b"DA": b"19000101",
    b"TM": b"000000.00 ",
    b"DT": b"19000101000000",
    b"AS": b"000Y",
    b"DS": b"0 ",
    b"IS": b"0 ",
    b"UI": b"",  # replaced through the UID map
    b"PN": b"ANONYMOUS ",
    b"US": b"\0\0",
    b"SS": b"\0\0",
    b"UL": b"\0\0\0\0",
    b"SL": b"\0\0\0\0",
    b"FL": b"\0\0\0\0",
    b"FD": b"\0" * 8,
    b"AT": b"\0\0\0\0",
    b"SH": b"ANONYMIZED",
    b"CS": b"ANONYMIZED",
    b"AE": b"ANONYMIZED",
}


class DeidError(Exception):
    """This file cannot be de-identified; the message says why (one line)."""


@dataclass(frozen=True, slots=True)
class DeidPolicy:
    """What to keep (``--keep`` names of :data:`deid_table.KEEP_OPTIONS`) and the salt."""

    keep: frozenset[str] = frozenset()
    salt: str = field(default_factory=lambda: secrets.token_hex(16))

    def __post_init__(self) -> None:
        unknown = self.keep - set(deid_table.KEEP_OPTIONS)
        if unknown:
            raise ValueError(f"unknown --keep option(s): {', '.join(sorted(unknown))}")


@dataclass(slots=True)
class FileFacts:
    """What the walk learnt about the original file (for warnings and the caller)."""

    sop_instance_uid: str = ""
    series_uid: str = ""
    sop_class_uid: str = ""
    modality: str = ""
    burned_in: str | None = None


class Deidentifier:
    """Rewrites Part 10 files under one policy; holds the UID map of one export."""

    def __init__(self, policy: DeidPolicy) -> None:
        self.policy = policy
        self._salt = policy.salt.encode("utf-8")
        self.actions = deid_table.profile_actions(policy.keep)
        self._uids: dict[bytes, bytes] = {}
        self.date_shift_days = self._date_shift()

    # ---------------------------------------------------------------- mappings
    def new_uid(self, old: bytes) -> bytes:
        """``2.25.<UUID>`` for ``old`` (PS3.5 B.2): same salt and UID, same result."""
        new = self._uids.get(old)
        if new is None:
            digest = hashlib.sha256(self._salt + b"\0uid\0" + old).digest()
            value = uuid.UUID(bytes=digest[:16], version=5).int
            new = self._uids[old] = f"2.25.{value}".encode("ascii")
        return new

    def pseudonym(self, patient_id: bytes) -> bytes:
        digest = hashlib.sha256(self._salt + b"\0patient\0" + patient_id).hexdigest()
        return b"ANON-" + digest[:8].upper().encode("ascii")

    def _date_shift(self) -> int:
        digest = hashlib.sha256(self._salt + b"\0dates").digest()
        return -(365 + int.from_bytes(digest[:4], "little") % 3650)

    # ---------------------------------------------------------------- files
    def deidentify(self, data: bytes) -> tuple[bytes, FileFacts]:
        """The de-identified Part 10 bytes of ``data`` and what it said about itself."""
        try:
            meta_end, syntax = _read_meta(data)
        except DeidError:
            syntax = ""  # no preamble or meta: pydicom reads what it can
        if not _walkable(syntax):
            data = _reencode_explicit_little(data)
            meta_end, syntax = _read_meta(data)
        explicit = syntax != IMPLICIT_VR_LITTLE_ENDIAN
        walk = _Walk(self, memoryview(data), explicit)
        body = walk.dataset(meta_end, len(data), depth=0)
        walk.finish()
        facts = walk.facts
        if not facts.sop_instance_uid:
            raise DeidError("no SOP Instance UID")
        meta = _file_meta(
            walk.sop_class_uid, self.new_uid(facts.sop_instance_uid.encode("ascii")), syntax
        )
        return meta + b"".join(body), facts

    def method_codes(self) -> list[tuple[str, str]]:
        """De-identification Method Code Sequence entries (CID 7050, PS3.16)."""
        codes = [deid_table.BASIC_PROFILE_CODE]
        codes += [deid_table.KEEP_OPTIONS[name] for name in sorted(self.policy.keep)]
        codes.append(deid_table.SAFE_PRIVATE_CODE)
        return codes

    def method_elements(self) -> dict[int, bytes]:
        """The top-level attributes the profile adds (PS3.15 E.1.1), by tag; the code
        sequence's value is written by the walk."""
        method = "DICOM PS3.15 E.1 Basic Profile" + (" with options" if self.policy.keep else "")
        return {
            PATIENT_IDENTITY_REMOVED: b"YES ",
            DEIDENTIFICATION_METHOD: _pad(method.encode("ascii")),
            DEIDENTIFICATION_METHOD_CODES: b"",
            LONGITUDINAL_MODIFIED: b"MODIFIED" if "dates" in self.policy.keep else b"REMOVED ",
        }


Chunks = list[bytes]


class _Walk:
    """One file's walk: element stream in, list of byte chunks out."""

    def __init__(self, deid: Deidentifier, data: memoryview, explicit: bool) -> None:
        self.deid = deid
        self.data = data
        self.explicit = explicit
        self.facts = FileFacts()
        self.sop_class_uid = b""
        self.identifiers: list[bytes] = []
        self.cleaned: list[tuple[list[bytes], int, int, bytes, bytes]] = []
        self.patient_id = b""
        self.pseudonyms: list[tuple[Chunks, int, int, bytes]] = []
        self._until = 0
        self._added = deid.method_elements()

    # ---------------------------------------------------------------- parsing
    def _header(self, pos: int, end: int) -> tuple[int, bytes, int, int]:
        """(tag, VR, value length, header length) of the element at ``pos``."""
        data = self.data
        if pos + 8 > end:
            raise DeidError(f"truncated element at byte {pos}")
        group, element = struct.unpack_from("<HH", data, pos)
        tag = (group << 16) | element
        if group == 0xFFFE:
            return tag, b"", struct.unpack_from("<L", data, pos + 4)[0], 8
        if not self.explicit:
            return (
                tag,
                deid_table.vr_of(tag).encode(),
                struct.unpack_from("<L", data, pos + 4)[0],
                8,
            )
        vr = bytes(data[pos + 4 : pos + 6])
        if vr in _LONG_VRS:
            if pos + 12 > end:
                raise DeidError(f"truncated element at byte {pos}")
            return tag, vr, struct.unpack_from("<L", data, pos + 8)[0], 12
        if vr in _SHORT_VRS:
            return tag, vr, struct.unpack_from("<H", data, pos + 6)[0], 8
        raise DeidError(f"unknown VR {vr!r} in ({group:04X},{element:04X})")

    def dataset(self, pos: int, end: int, depth: int) -> Chunks:
        """Walk elements from ``pos`` to ``end`` (or an item delimiter); return the chunks.

        ``self._until`` is left where the walk stopped (after the delimiter, if any).
        """
        out: Chunks = []
        creators: dict[tuple[int, int], bytes] = {}
        pending = sorted(self._added.items()) if depth == 0 else []
        while pos < end:
            tag, vr, length, head = self._header(pos, end)
            if tag == ITEM_DELIMITER:
                pos += 8
                break
            while pending and pending[0][0] <= tag:
                added_tag, value = pending.pop(0)
                self._emit_added(out, added_tag, value)
                if added_tag == tag:
                    tag = -1  # replaced by ours
            start = pos + head
            if length == UNDEFINED:
                if vr == b"UN" or (not self.explicit and vr not in (b"SQ", b"OB", b"OW")):
                    vr = b"SQ"
                if vr == b"SQ":
                    value_end, items = self._sequence_items(start, None, depth)
                else:
                    value_end, items = _encapsulated_end(self.data, start, end), None
            else:
                value_end = start + length
                if value_end > end:
                    raise DeidError(f"value of ({tag >> 16:04X},{tag & 0xFFFF:04X}) overruns")
                items = None
                if vr == b"SQ":
                    value_end, items = self._sequence_items(start, value_end, depth)
            pos = value_end
            if tag < 0:
                continue
            self._element(out, tag, vr, start, value_end, items, creators, depth)
        else:
            if depth == 0:
                for added_tag, value in pending:
                    self._emit_added(out, added_tag, value)
        self._until = pos
        return out

    def _sequence_items(self, pos: int, end: int | None, depth: int) -> tuple[int, list[Chunks]]:
        """Walk a sequence's items; return where the sequence ends and each item's chunks."""
        if depth >= MAX_DEPTH:
            raise DeidError("sequences nested too deep")
        items: list[Chunks] = []
        limit = len(self.data) if end is None else end
        while pos < limit:
            tag, _, length, _ = self._header(pos, limit)
            if tag == SEQUENCE_DELIMITER:
                return pos + 8, items
            if tag != ITEM:
                raise DeidError(f"expected an item at byte {pos}")
            start = pos + 8
            item_end = limit if length == UNDEFINED else start + length
            if item_end > limit:
                raise DeidError(f"item at byte {pos} overruns its sequence")
            items.append(self.dataset(start, item_end, depth + 1))
            pos = self._until
        if end is None:
            raise DeidError("sequence without delimiter")
        return pos, items

    # ---------------------------------------------------------------- actions
    def _element(
        self,
        out: list[bytes],
        tag: int,
        vr: bytes,
        start: int,
        end: int,
        items: list[Chunks] | None,
        creators: dict[tuple[int, int], bytes],
        depth: int,
    ) -> None:
        group = tag >> 16
        element = tag & 0xFFFF
        value = self.data[start:end]
        if depth == 0:
            self._note_facts(tag, value)
        if tag in _IDENTIFYING and vr != b"SQ":
            self.identifiers.extend(_identifying_parts(bytes(value)))
        if group & 1:
            self._private(out, tag, vr, value, items, creators, depth)
            return
        if element == 0 or group in (0x0002, 0xFFFC) or (group & 0xFF00) in (0x5000, 0x6000):
            return  # group lengths, stray meta, padding, curves and overlays
        action = self.deid.actions.get(tag)
        if tag in (PATIENT_ID, PATIENT_NAME):
            if tag == PATIENT_ID and depth == 0:
                self.patient_id = bytes(value).rstrip(b" \0")
            out.append(b"")  # the pseudonym, filled in by finish()
            self.pseudonyms.append((out, len(out) - 1, tag, vr))
            return
        if vr == b"UN" and action not in (None, "K"):
            return  # an identifying attribute we cannot parse: removed
        if action is None or action == "K":
            self._keep(out, tag, vr, start, end, items, depth)
        elif action in ("X", "X/D"):
            return
        elif action in ("Z", "X/Z", "X/Z/D") and tag in Z_AS_DUMMY:
            self._emit(out, tag, vr, Z_AS_DUMMY[tag])
        elif action in ("Z", "X/Z", "X/Z/D"):
            self._emit(out, tag, vr, b"") if vr != b"SQ" else self._emit_sequence(out, tag, [])
        elif action in ("D", "Z/D"):
            self._dummy(out, tag, vr, start, end, items, depth)
        elif action == "U":
            self._emit(out, tag, vr, self._uids(value))
        elif action == "X/Z/U*":
            self._keep(out, tag, vr, start, end, items, depth)
        elif action == "S":
            self._emit(out, tag, vr, self._shifted(vr, bytes(value)))
        elif action == "C":
            self._emit_cleaned(out, tag, vr, bytes(value))
        else:
            raise DeidError(f"no rule for action {action}")

    def _note_facts(self, tag: int, value: memoryview) -> None:
        text = bytes(value).rstrip(b"\0 ").decode("ascii", "replace")
        if tag == SOP_INSTANCE_UID:
            self.facts.sop_instance_uid = text
        elif tag == SOP_CLASS_UID:
            self.facts.sop_class_uid = text
            self.sop_class_uid = text.encode("ascii")
        elif tag == SERIES_INSTANCE_UID:
            self.facts.series_uid = text
        elif tag == MODALITY:
            self.facts.modality = text
        elif tag == BURNED_IN_ANNOTATION:
            self.facts.burned_in = text

    def _private(
        self,
        out: list[bytes],
        tag: int,
        vr: bytes,
        value: memoryview,
        items: list[Chunks] | None,
        creators: dict[tuple[int, int], bytes],
        depth: int,
    ) -> None:
        group, element = tag >> 16, tag & 0xFFFF
        if 0x0010 <= element <= 0x00FF:
            creator = bytes(value).rstrip(b" \0")
            creators[(group, element)] = creator
            if (creator, group) in _SAFE_CREATORS:
                self._emit(out, tag, vr, bytes(value))
            return
        creator = creators.get((group, element >> 8), b"")
        if (creator, group, element & 0xFF) in SAFE_PRIVATE and items is None:
            self._emit(out, tag, vr, bytes(value))

    def _keep(
        self,
        out: list[bytes],
        tag: int,
        vr: bytes,
        start: int,
        end: int,
        items: list[Chunks] | None,
        depth: int,
    ) -> None:
        if items is None:
            head = 12 if self.explicit and vr in _LONG_VRS else 8
            out.append(bytes(self.data[start - head : end]))
            return
        self._emit_sequence(out, tag, items)

    def _dummy(
        self,
        out: list[bytes],
        tag: int,
        vr: bytes,
        start: int,
        end: int,
        items: list[Chunks] | None,
        depth: int,
    ) -> None:
        if vr == b"SQ":
            if tag == CONTENT_SEQUENCE:  # SR content: its items go through the table
                self._keep(out, tag, vr, start, end, items, depth)
            else:
                self._emit_sequence(out, tag, [])
            return
        if vr == b"UI":
            self._emit(out, tag, vr, self._uids(self.data[start:end]))
            return
        self._emit(out, tag, vr, _DUMMY_BY_VR.get(vr, _DUMMY_TEXT if vr in _TEXT_VRS else b""))

    def _uids(self, value: memoryview | bytes) -> bytes:
        parts = [part.rstrip(b"\0 ") for part in bytes(value).split(b"\\")]
        return _pad(b"\\".join(self.deid.new_uid(p) if p else b"" for p in parts), b"\0")

    def _shifted(self, vr: bytes, value: bytes) -> bytes:
        shift = datetime.timedelta(days=self.deid.date_shift_days)
        shifted = []
        for part in value.rstrip(b" \0").split(b"\\"):
            text = part.strip().decode("ascii", "replace")
            if len(text) >= 8 and text[:8].isdigit():
                try:
                    day = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8])) + shift
                    text = day.strftime("%Y%m%d") + text[8:]
                except ValueError:
                    text = _DUMMY_BY_VR[b"DA"].decode()
            elif text:
                text = ""
            shifted.append(text.encode("ascii"))
        return _pad(b"\\".join(shifted))

    # ---------------------------------------------------------------- writing
    def _emit(self, out: list[bytes], tag: int, vr: bytes, value: bytes) -> None:
        out.append(_encode(tag, vr, _pad(value, b"\0" if vr == b"UI" else b" "), self.explicit))

    def _emit_cleaned(self, out: list[bytes], tag: int, vr: bytes, value: bytes) -> None:
        out.append(b"")  # filled in by finish(), once every identifier of the file is known
        self.cleaned.append((out, len(out) - 1, tag, vr, value))

    def _emit_sequence(self, out: list[bytes], tag: int, items: list[list[bytes]]) -> None:
        out.append(_sequence_header(tag, self.explicit))
        for item in items:
            out.append(_ITEM_START)
            out.extend(item)
            out.append(_ITEM_END)
        out.append(_SEQUENCE_END)

    def _emit_added(self, out: list[bytes], tag: int, value: bytes) -> None:
        if tag == DEIDENTIFICATION_METHOD_CODES:
            items = [
                [
                    _encode(0x00080100, b"SH", _pad(code.encode()), self.explicit),
                    _encode(0x00080102, b"SH", b"DCM ", self.explicit),
                    _encode(0x00080104, b"LO", _pad(meaning.encode()), self.explicit),
                ]
                for code, meaning in self.deid.method_codes()
            ]
            self._emit_sequence(out, tag, items)
        else:
            vr = b"CS" if tag != DEIDENTIFICATION_METHOD else b"LO"
            out.append(_encode(tag, vr, value, self.explicit))

    def finish(self) -> None:
        """Fill in pseudonyms and cleaned descriptors, now that the whole file was seen."""
        pseudonym = self.deid.pseudonym(self.patient_id)
        for out, index, tag, vr in self.pseudonyms:
            value = pseudonym if tag == PATIENT_ID else pseudonym.replace(b"-", b"^", 1)
            out[index] = _encode(tag, vr, _pad(value), self.explicit)
        words = sorted({w for w in self.identifiers if len(w) >= 2}, key=len, reverse=True)
        pattern = (
            re.compile(b"|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
        )
        for out, index, tag, vr, value in self.cleaned:
            text = value.rstrip(b" \0")
            if pattern is not None:
                text = pattern.sub(lambda m: b"X" * len(m.group(0)), text)
            out[index] = _encode(tag, vr, _pad(text), self.explicit)


@functools.cache
def _dictionary_vr(tag: int) -> bytes:
    return deid_table.vr_of(tag).encode("ascii")


_ITEM_START = struct.pack("<HHL", 0xFFFE, 0xE000, UNDEFINED)
_ITEM_END = struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
_SEQUENCE_END = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)


def _sequence_header(tag: int, explicit: bool) -> bytes:
    if explicit:
        return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, b"SQ", 0, UNDEFINED)
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, UNDEFINED)


def _encode(tag: int, vr: bytes, value: bytes, explicit: bool) -> bytes:
    group, element = tag >> 16, tag & 0xFFFF
    if not explicit:
        return struct.pack("<HHL", group, element, len(value)) + value
    if vr in _LONG_VRS:
        return struct.pack("<HH2sHL", group, element, vr, 0, len(value)) + value
    if len(value) > 0xFFFF:
        raise DeidError(f"value of ({group:04X},{element:04X}) too long for {vr.decode()}")
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def _pad(value: bytes, pad: bytes = b" ") -> bytes:
    return value + pad if len(value) % 2 else value


def _identifying_parts(value: bytes) -> list[bytes]:
    """A value and its components (PN groups ``^``, multiple values ``\\``)."""
    text = value.rstrip(b" \0")
    parts = [text]
    for piece in re.split(rb"[\\^=]", text):
        piece = piece.strip()
        if len(piece) >= 2:
            parts.append(piece)
    return [p for p in parts if p]


def _encapsulated_end(data: memoryview, pos: int, end: int) -> int:
    """Where undefined-length encapsulated pixel data ends (after its delimiter, PS3.5 A.4)."""
    while pos + 8 <= end:
        group, element, length = struct.unpack_from("<HHL", data, pos)
        tag = (group << 16) | element
        if tag == SEQUENCE_DELIMITER:
            return pos + 8
        if tag != ITEM or length == UNDEFINED:
            raise DeidError(f"bad encapsulated pixel data at byte {pos}")
        pos += 8 + length
    raise DeidError("encapsulated pixel data without delimiter")


def _walkable(syntax: str) -> bool:
    """Little endian, not deflated: native explicit/implicit or encapsulated (PS3.5 A.4)."""
    from pydicom.uid import UID

    if syntax in (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN):
        return True
    uid = UID(syntax)
    return bool(syntax) and uid.is_transfer_syntax and uid.is_compressed and not uid.is_deflated


def _read_meta(data: bytes) -> tuple[int, str]:
    """End of the File Meta Information (PS3.10 7.1) and the transfer syntax."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise DeidError("not a DICOM Part 10 file (no preamble)")
    pos = 132
    syntax = ""
    while pos + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            break
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            length = struct.unpack_from("<L", data, pos + 8)[0]
            head = 12
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            head = 8
        if element == 0x0010:
            syntax = data[pos + head : pos + head + length].rstrip(b"\0 ").decode("ascii")
        pos += head + length
    if not syntax:
        raise DeidError("no transfer syntax in the file meta information")
    return pos, syntax


def _reencode_explicit_little(data: bytes) -> bytes:
    """Deflated or big-endian files, re-encoded by pydicom as explicit VR little endian
    (big-endian pixel words are swapped through the decoded array)."""
    from pydicom import dcmread
    from pydicom.filewriter import dcmwrite
    from pydicom.uid import ExplicitVRLittleEndian

    try:
        ds = dcmread(io.BytesIO(data), force=True)
        syntax = ds.file_meta.get("TransferSyntaxUID")
        if syntax is not None and syntax.is_compressed and not syntax.is_deflated:
            raise DeidError(f"cannot rewrite transfer syntax {syntax}")
        if ds.original_encoding[1] is False and "PixelData" in ds:
            pixels = ds.pixel_array
            ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
        ds.ensure_file_meta()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.preamble = b"\0" * 128
        buffer = io.BytesIO()
        dcmwrite(
            buffer,
            ds,
            implicit_vr=False,
            little_endian=True,
            force_encoding=True,
        )
    except DeidError:
        raise
    except Exception as error:
        raise DeidError(f"cannot re-encode as explicit VR little endian: {error}") from None
    return buffer.getvalue()


def _file_meta(sop_class_uid: bytes, sop_instance_uid: bytes, syntax: str) -> bytes:
    """Preamble, ``DICM`` and File Meta Information (PS3.10 7.1) for the rewritten file."""
    from viewer import __version__

    elements = [
        _encode(0x00020001, b"OB", b"\0\1", True),
        _encode(0x00020002, b"UI", _pad(sop_class_uid, b"\0"), True),
        _encode(0x00020003, b"UI", _pad(sop_instance_uid, b"\0"), True),
        _encode(0x00020010, b"UI", _pad(syntax.encode("ascii"), b"\0"), True),
        _encode(0x00020012, b"UI", _pad(IMPLEMENTATION_CLASS_UID.encode(), b"\0"), True),
        _encode(0x00020013, b"SH", _pad(f"DICOMVIEWER{__version__}"[:16].encode()), True),
    ]
    body = b"".join(elements)
    length = struct.pack("<HH2sHL", 0x0002, 0x0000, b"UL", 4, len(body))
    return b"\0" * 128 + b"DICM" + length + body


#: Implementation Class UID of files this viewer writes (PS3.7 D.3.3.2): a fixed 2.25 UUID.
IMPLEMENTATION_CLASS_UID = f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'dicom-viewer').int}"
