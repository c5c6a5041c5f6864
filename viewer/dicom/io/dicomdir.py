"""Read a DICOMDIR (PS3.3 F.3 Basic Directory IOD): a preview of its tree and its files.

The Directory Record Sequence (0004,1220) is read with the lean walker
(:mod:`viewer.dicom.io.header_parser`; pydicom when it is unsure). Records are linked by byte
offsets (PS3.3 F.3.2.1): Offset of the Next Directory Record (0004,1400) chains siblings and
Offset of Referenced Lower-Level Directory Entity (0004,1420) points at the first child. The
patient > study > series > instance tree of the records gives a :class:`DirectoryPreview`
(counts per series) before any referenced file is opened. Directories whose offsets are all
zero are nested by record order instead; offsets that form a cycle make the DICOMDIR unusable.

CDs need forgiving file matching (PS3.10 8.5, PS3.12 Annex F: ISO 9660 names): Referenced
File ID components are matched case-insensitively, with or without a trailing ``;1`` version,
and a value written with backslashes inside one component is split too. A reference that is
missing or would leave the DICOMDIR's folder is reported and ignored.

Nested media indexes: a record whose Referenced File ID names a further directory file (Media
Storage SOP Class 1.2.840.10008.1.3.10), as Philips media write STUDY records referencing
``S21570/DIRFILE`` and then SERIES records referencing ``S21570/S2010/DIRFILE`` with no
PATIENT record at the root, is followed: the nested records join the tree below the record
that references them. Each nested file is read once, at most :data:`MAX_NESTING` deep; a
reference back to a DICOMDIR that contains it (a cycle) and one that leaves the media root
are reported, not followed.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from viewer.dicom import decoding_stack, reasons
from viewer.dicom.catalog import records
from viewer.dicom.catalog.person_name import format_person_name
from viewer.dicom.catalog.records import PatientInfo, SeriesInfo, Skipped, StudyInfo
from viewer.dicom.io import bounded
from viewer.dicom.io import header_parser as hp
from viewer.dicom.io.fast_header import Header

DICOMDIR_NAME = "DICOMDIR"
#: Media Storage Directory Storage SOP Class (PS3.4 Annex F).
DICOMDIR_SOP_CLASS = records.DICOMDIR_SOP_CLASS
#: A directory with more records than this is refused (a bound, not a limit of real media).
MAX_RECORDS = 2_000_000
#: Nested DICOMDIRs deeper than this are not followed.
MAX_NESTING = 8

ROOT_FIRST_OFFSET = 0x00041200
RECORD_SEQUENCE = 0x00041220
NEXT_OFFSET = 0x00041400
IN_USE = 0x00041410
LOWER_OFFSET = 0x00041420
RECORD_TYPE = 0x00041430
FILE_ID = 0x00041500
REFERENCED_SOP_CLASS = 0x00041510
REFERENCED_SOP_INSTANCE = 0x00041511

#: VRs of the record attributes read here (PS3.3 F.5, PS3.6).
RECORD_VRS: dict[int, bytes] = {
    0x00041200: b"UL",
    0x00041400: b"UL",
    0x00041410: b"US",
    0x00041420: b"UL",
    0x00041430: b"CS",
    0x00041500: b"CS",
    0x00041510: b"UI",
    0x00041511: b"UI",
    0x00080005: b"CS",
    0x00080020: b"DA",
    0x00080030: b"TM",
    0x00080050: b"SH",
    0x00080060: b"CS",
    0x00081030: b"LO",
    0x0008103E: b"LO",
    0x00100010: b"PN",
    0x00100020: b"LO",
    0x00100030: b"DA",
    0x00100040: b"CS",
    0x00180015: b"CS",
    0x0020000D: b"UI",
    0x0020000E: b"UI",
    0x00200010: b"SH",
    0x00200011: b"IS",
    0x00200013: b"IS",
    0x00280008: b"IS",
}
#: Record types that group others (PS3.3 F.5); every other type describes one instance.
GROUPING_TYPES = ("PATIENT", "STUDY", "SERIES")
#: Record types that are neither a grouping level nor an instance (PS3.3 F.5).
OTHER_TYPES = frozenset({"TOPIC", "VISIT", "STUDY COMPONENT", "HANGING PROTOCOL", "PALETTE"})


class DirectoryError(Exception):
    """The DICOMDIR cannot be used; the message says why, for people ("records form a cycle")."""


class RecordValues(Protocol):
    """The decoded attributes of one directory record, however it was read."""

    def text(self, tag: int) -> str: ...

    def strings(self, tag: int) -> list[str]: ...

    def integer(self, tag: int) -> int | None: ...

    def person_name(self, tag: int) -> str: ...


@dataclass(slots=True)
class DirectoryRecord:
    """One Directory Record (PS3.3 F.3.2.2) and where its links point."""

    offset: int
    kind: str
    next_offset: int
    lower_offset: int
    values: RecordValues
    file_id: list[str] = field(default_factory=list)
    children: list[DirectoryRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PreviewSeries:
    """One series as the DICOMDIR describes it, before its files are read."""

    patient: PatientInfo
    study: StudyInfo
    series: SeriesInfo
    instances: int
    frames: int
    sop_classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DirectoryPreview:
    """The tree a DICOMDIR promises: shown at once, then checked against the files."""

    path: str
    series: tuple[PreviewSeries, ...]
    #: Nested DICOMDIRs read as part of this index (they are the index, not skipped files).
    nested: tuple[str, ...] = ()

    @property
    def instance_count(self) -> int:
        return sum(entry.instances for entry in self.series)


@dataclass(slots=True)
class DicomdirReading:
    """What opening one DICOMDIR (and any it nests) gives: preview, files and problems."""

    path: str
    previews: list[DirectoryPreview] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[Skipped] = field(default_factory=list)
    missing: int = 0
    unusable: str = ""
    opened: set[str] = field(default_factory=set)
    nested: list[str] = field(default_factory=list)
    #: Nested DICOMDIRs not followed (unusable, too deep, a cycle): their files may be missed.
    unfollowed: int = 0


def is_dicomdir_path(path: str) -> bool:
    """The file is named DICOMDIR (any case, optional ``;1``)."""
    name = os.path.basename(path).upper()
    return name.split(";")[0].rstrip(".") == DICOMDIR_NAME


def is_dicomdir_file(path: str) -> bool:
    """The file's meta says Media Storage Directory Storage, whatever it is named.

    Only the File Meta Information (group 0002) is read, so this is cheap; anything unreadable
    is simply not a DICOMDIR.
    """
    try:
        with open(path, "rb") as handle:
            _, meta, _ = hp.open_part10(handle)
    except (OSError, hp.Unusual, ValueError):
        return False
    value = meta.get(0x00020002, (b"", b""))[1]
    return value.rstrip(b"\x00 ") == DICOMDIR_SOP_CLASS.encode()


def referenced_files(path: str) -> tuple[list[str] | None, list[Skipped]]:
    """Absolute paths of the files a DICOMDIR references, in record order, and problems.

    Returns ``None`` for the files when the DICOMDIR cannot be used at all, so the caller can
    scan its folder instead.
    """
    reading = open_dicomdir(path)
    if reading.unusable:
        return None, [*reading.problems, Skipped(path, reading.unusable)]
    return reading.files, reading.problems


def open_dicomdir(path: str) -> DicomdirReading:
    """Read a DICOMDIR and those it nests: previews, existing referenced files, problems."""
    reading = DicomdirReading(os.path.abspath(path))
    for item in dicomdir_items(reading):
        if isinstance(item, DirectoryPreview):
            reading.previews.append(item)
        elif isinstance(item, Skipped):
            reading.problems.append(item)
        else:
            reading.files.append(item)
    return reading


def dicomdir_items(reading: DicomdirReading) -> Iterator[DirectoryPreview | Skipped | str]:
    """A DICOMDIR's preview first (before any referenced image is looked for), then problems
    and existing files in record order.

    Nested DICOMDIRs (a record whose Referenced File ID names a further directory file, as
    Philips media write ``S21570/DIRFILE`` from a STUDY record) are read before the preview:
    their records join the tree under the record that references them, so one preview covers
    the whole media and names the nested files it read (:attr:`DirectoryPreview.nested`).
    ``reading`` (made with the DICOMDIR's path) collects ``unusable``, ``missing``,
    ``unfollowed`` and the DICOMDIRs ``opened`` as the items go by; read them once the items
    are consumed.
    """
    real = os.path.realpath(reading.path)
    reading.opened.add(real)
    media = _Media(os.path.dirname(reading.path))
    try:
        entries = _Nesting(reading, media).collect(reading.path, (), (real,))
    except DirectoryError as error:
        reading.unusable = f"DICOMDIR unusable ({error})"
        return
    chains = [entry.chain for entry in entries if isinstance(entry, _Entry)]
    yield DirectoryPreview(reading.path, tuple(preview_series(chains)), tuple(reading.nested))
    found = 0
    for entry in entries:
        if isinstance(entry, Skipped):
            yield entry
            continue
        resolved = media.resolve(reading, entry.folder, entry.chain[-1].file_id)
        found += isinstance(resolved, str)
        yield resolved
    if not found:
        reading.unusable = "DICOMDIR unusable (references no readable files)"


@dataclass(frozen=True, slots=True)
class _Entry:
    """An instance record with its ancestors (nested DICOMDIRs' included) and the folder of
    the DICOMDIR that holds the record."""

    chain: tuple[DirectoryRecord, ...]
    folder: str


#: Names media creators give nested directory files (Philips: DIRFILE).
DIRECTORY_FILE_NAMES = frozenset({DICOMDIR_NAME, "DIRFILE"})


@dataclass(slots=True)
class _Nesting:
    """Reads one DICOMDIR's records and those of the DICOMDIRs it nests, in record order."""

    reading: DicomdirReading
    media: _Media

    def collect(
        self, path: str, context: tuple[DirectoryRecord, ...], ancestry: tuple[str, ...]
    ) -> list[_Entry | Skipped]:
        """The instance entries of one DICOMDIR, nested DICOMDIRs read in place.

        ``context``: the records above the one that referenced this DICOMDIR; ``ancestry``:
        the real paths of the DICOMDIRs that contain this one (a reference back is a cycle).
        Raises DirectoryError when this DICOMDIR's records cannot be used.
        """
        folder = os.path.dirname(path)
        entries: list[_Entry | Skipped] = []
        for chain in instance_records(read_records(path)):
            full = (*context, *chain)
            leaf = chain[-1]
            if not _may_name_directory(leaf):
                entries.append(_Entry(full, folder))
                continue
            resolved = self.media.resolve(self.reading, folder, leaf.file_id, avoid=ancestry)
            if isinstance(resolved, Skipped):
                entries.append(resolved)
            elif not is_dicomdir_file(resolved):
                entries.append(_Entry(full, folder))  # an instance after all (resolved again)
            else:
                above = full if leaf.kind in GROUPING_TYPES else full[:-1]
                entries.extend(self.nested(resolved, above, ancestry))
        return entries

    def nested(
        self, path: str, context: tuple[DirectoryRecord, ...], ancestry: tuple[str, ...]
    ) -> list[_Entry | Skipped]:
        """A DICOMDIR referenced by a DICOMDIR: read once, at most MAX_NESTING deep, no cycles."""
        reading = self.reading
        real = os.path.realpath(path)
        if real in ancestry:  # nothing is lost: the DICOMDIR is being read already
            return [
                Skipped(path, "nested DICOMDIR refers back to one that contains it (not followed)")
            ]
        if real in reading.opened:
            return []  # referenced twice: read once
        reading.opened.add(real)  # a walk of the folder leaves it alone, followed or not
        if len(ancestry) > MAX_NESTING:
            reading.unfollowed += 1
            return [
                Skipped(path, f"nested DICOMDIR more than {MAX_NESTING} levels deep (not followed)")
            ]
        try:
            entries = self.collect(path, context, (*ancestry, real))
        except DirectoryError as error:
            reading.unfollowed += 1
            return [Skipped(path, f"nested DICOMDIR unusable: {error}")]
        reading.nested.append(path)
        return entries


def _may_name_directory(record: DirectoryRecord) -> bool:
    """The record may reference a directory file: a PATIENT/STUDY/SERIES record with a File
    ID (they describe no instance), a file named DICOMDIR or DIRFILE, or the SOP Class says so."""
    return (
        record.kind in GROUPING_TYPES
        or fold_name(record.file_id[-1]) in DIRECTORY_FILE_NAMES
        or record.values.text(REFERENCED_SOP_CLASS) == DICOMDIR_SOP_CLASS
    )


class _Media:
    """Where Referenced File IDs lead on one media: File IDs are relative to the File-set's
    root (PS3.10 8.5), the root DICOMDIR's folder; a nested DICOMDIR's IDs may instead be
    relative to its own folder (a File-set copied into a folder). Nothing leaves the root."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._resolvers: dict[str, CaseInsensitiveResolver] = {}

    def _resolver(self, folder: str) -> CaseInsensitiveResolver:
        resolver = self._resolvers.get(folder)
        if resolver is None:
            resolver = self._resolvers[folder] = CaseInsensitiveResolver(folder)
        return resolver

    def resolve(
        self,
        reading: DicomdirReading,
        folder: str,
        file_id: list[str],
        avoid: tuple[str, ...] = (),
    ) -> str | Skipped:
        """The referenced file's path, or why it cannot be used (PS3.10 8.5 File IDs).

        ``avoid``: real paths a nested DICOMDIR's reference should not lead back to when the
        other reading of its File ID (root or own folder) leads to a further file.
        """
        bases = [self.root] if folder == self.root else [self.root, folder]
        found: list[str] = []
        for base in bases:
            resolver = self._resolver(base)
            resolved = resolver.resolve(file_id)
            if resolved is None:
                continue
            if not resolver.inside(resolved):
                shown = os.path.join(base, *file_id)
                return Skipped(shown, "DICOMDIR reference points outside its folder")
            found.append(resolved)
        if found:
            fresh = [path for path in found if os.path.realpath(path) not in avoid]
            return (fresh or found)[0]
        reading.missing += 1
        root_has = file_id[:-1] and self._resolver(self.root).has_folder(file_id[0])
        shown = os.path.join(self.root if root_has or folder == self.root else folder, *file_id)
        return Skipped(shown, "referenced by DICOMDIR but missing")


# --- reading the records ---------------------------------------------------------------------


def read_records(path: str) -> list[DirectoryRecord]:
    """The Directory Record Sequence's records in stored order (fast walker, else pydicom)."""
    try:
        return _read_records_fast(path)
    except hp.Unusual:
        return _read_records_pydicom(path)
    except OSError as error:
        raise DirectoryError(f"unreadable: {error.strerror or error}") from error
    except ValueError as error:
        raise DirectoryError(f"unreadable: {reasons.explain(error, path)}") from error


def _read_records_fast(path: str) -> list[DirectoryRecord]:
    from viewer.dicom.io.fast_header import TRANSFER_SYNTAX

    with open(path, "rb") as handle:
        source, meta, pos = hp.open_part10(handle)
        syntax = Header(meta, {}, "", True).meta_text(TRANSFER_SYNTAX)
        explicit, little = hp.encoding_of(syntax)
        try:
            top, items = _directory_items(source, pos, explicit, little)
        except struct.error as error:
            raise hp.Unusual(f"truncated: {error}") from error
    charset = top.get(0x00080005)
    links = _LINKS[little]
    records = []
    for offset, elements in items:
        if charset is not None and 0x00080005 not in elements:
            elements[0x00080005] = charset
        values = Header({}, elements, syntax, little, RECORD_VRS)
        records.append(_linked_record(offset, elements, values, links))
    return records


#: UL and US values in each byte order (PS3.5 7.3).
_LINKS = {
    True: (struct.Struct("<L"), struct.Struct("<H")),
    False: (struct.Struct(">L"), struct.Struct(">H")),
}


def _linked_record(
    offset: int,
    elements: hp.Elements,
    values: RecordValues,
    links: tuple[struct.Struct, struct.Struct],
) -> DirectoryRecord:
    """A record's type and links decoded straight from the bytes (the 10,000-record path)."""
    ul, us = links
    in_use = elements.get(IN_USE)
    if in_use is not None and len(in_use[1]) == 2 and us.unpack(in_use[1])[0] == 0:
        return DirectoryRecord(offset, "INACTIVE", 0, 0, values)
    kind = elements.get(RECORD_TYPE, (b"", b""))[1]
    return DirectoryRecord(
        offset=offset,
        kind=kind.decode("latin-1").strip(" \x00").upper(),
        next_offset=_ul(elements, NEXT_OFFSET, ul),
        lower_offset=_ul(elements, LOWER_OFFSET, ul),
        values=values,
        file_id=_raw_file_id(elements, values),
    )


def _raw_file_id(elements: hp.Elements, values: RecordValues) -> list[str]:
    """Referenced File ID components straight from ASCII bytes (else through ``values``)."""
    element = elements.get(FILE_ID)
    if element is None:
        return []
    raw = element[1]
    if not raw.isascii():
        return file_id_components(values.strings(FILE_ID))
    text = raw.decode("ascii").rstrip(" \x00").replace("/", "\\")
    return [part.strip() for part in text.split("\\") if part.strip()]


def _ul(elements: hp.Elements, tag: int, ul: struct.Struct) -> int:
    element = elements.get(tag)
    return ul.unpack(element[1])[0] if element is not None and len(element[1]) == 4 else 0


def _directory_items(
    source: hp.Source, pos: int, explicit: bool, little: bool
) -> tuple[hp.Elements, list[tuple[int, hp.Elements]]]:
    """Top-level elements before the record sequence, and the sequence's items."""
    top, items = hp.read_sequence_items(source, pos, explicit, little, RECORD_SEQUENCE)
    if len(items) > MAX_RECORDS:
        raise DirectoryError("too many records")
    return top, items


def _record(offset: int, values: RecordValues) -> DirectoryRecord:
    if values.integer(IN_USE) == 0:
        return DirectoryRecord(offset, "INACTIVE", 0, 0, values)
    return DirectoryRecord(
        offset=offset,
        kind=values.text(RECORD_TYPE).upper(),
        next_offset=values.integer(NEXT_OFFSET) or 0,
        lower_offset=values.integer(LOWER_OFFSET) or 0,
        values=values,
        file_id=file_id_components(values.strings(FILE_ID)),
    )


def _read_records_pydicom(path: str) -> list[DirectoryRecord]:
    decoding_stack.load()
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = bounded.bounded(pydicom.dcmread, path, force=True)
            items = list(dataset.get("DirectoryRecordSequence", []))
    except Exception as error:  # fault boundary: a broken DICOMDIR falls back to a folder scan
        raise DirectoryError(f"unreadable: {reasons.explain(error, path)}") from error
    if len(items) > MAX_RECORDS:
        raise DirectoryError("too many records")
    return [_record(int(getattr(item, "seq_item_tell", 0)), DatasetValues(item)) for item in items]


class DatasetValues:
    """:class:`RecordValues` over a pydicom Dataset (the slow, general path)."""

    def __init__(self, dataset: object) -> None:
        self._dataset = dataset

    def _value(self, tag: int) -> object:
        try:
            element = self._dataset.get(tag)  # type: ignore[attr-defined]
            return None if element is None else element.value
        except Exception:  # an undecodable value costs the attribute
            return None

    def text(self, tag: int) -> str:
        value = self._value(tag)
        if value is None:
            return ""
        if isinstance(value, bytes):
            return value.decode("latin-1", "replace").strip(" \x00")
        if isinstance(value, str):
            return value.strip(" \x00")
        return "\\".join(str(item) for item in value).strip()  # type: ignore[attr-defined]

    def strings(self, tag: int) -> list[str]:
        value = self._value(tag)
        if value is None or value == "":
            return []
        if isinstance(value, str | bytes):
            return [value.decode("latin-1") if isinstance(value, bytes) else value]
        return [str(item) for item in value]  # type: ignore[attr-defined]

    def integer(self, tag: int) -> int | None:
        value = self._value(tag)
        try:
            return round(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None

    def person_name(self, tag: int) -> str:
        try:
            return format_person_name(self._value(tag))
        except Exception:
            return "(unreadable name)"


# --- the record tree -------------------------------------------------------------------------


def instance_records(records: list[DirectoryRecord]) -> Iterator[tuple[DirectoryRecord, ...]]:
    """Each instance record with its ancestors: (patient, study, series, ..., instance).

    Raises DirectoryError when there are no records or their offsets form a cycle.
    """
    if not records:
        raise DirectoryError("no directory records")
    if any(record.lower_offset for record in records):
        roots = _link_by_offsets(records)
    else:
        roots = _nest_by_order(records)
    yield from _leaves(roots, ())


def _link_by_offsets(records: list[DirectoryRecord]) -> list[DirectoryRecord]:
    """Children from lower-level offsets and sibling chains; roots are nobody's child."""
    by_offset = {record.offset: record for record in records}
    claimed: set[int] = set()
    for record in records:
        seen: set[int] = set()
        offset = record.lower_offset
        while offset:
            child = by_offset.get(offset)
            if child is None:
                raise DirectoryError("record offsets point nowhere")
            if offset in seen or offset in claimed or child is record:
                raise DirectoryError("records form a cycle")
            seen.add(offset)
            record.children.append(child)
            offset = child.next_offset
        claimed |= seen
    roots = [record for record in records if record.offset not in claimed]
    if not roots:
        raise DirectoryError("records form a cycle")
    return roots


def _nest_by_order(records: list[DirectoryRecord]) -> list[DirectoryRecord]:
    """Without offsets: each record belongs to the last record of the level above it."""
    roots: list[DirectoryRecord] = []
    open_levels: list[tuple[int, DirectoryRecord]] = []  # levels may start below PATIENT
    for record in records:
        level = GROUPING_TYPES.index(record.kind) if record.kind in GROUPING_TYPES else 3
        while open_levels and open_levels[-1][0] >= level:
            open_levels.pop()
        parent = open_levels[-1][1] if open_levels else None
        (parent.children if parent else roots).append(record)
        if level < 3:
            open_levels.append((level, record))
    return roots


def _leaves(
    records: Iterable[DirectoryRecord], ancestors: tuple[DirectoryRecord, ...]
) -> Iterator[tuple[DirectoryRecord, ...]]:
    for record in records:
        if record.kind == "INACTIVE":
            continue
        chain = (*ancestors, record)
        if record.file_id:  # a grouping record's File ID can only name a nested DICOMDIR
            yield chain
        if len(chain) < 64:  # offsets already proved acyclic; this bounds odd nesting
            yield from _leaves(record.children, chain)


def preview_series(chains: Iterable[tuple[DirectoryRecord, ...]]) -> Iterator[PreviewSeries]:
    """Instances grouped by their series record: counts and the series' identity."""
    groups: dict[int, list[tuple[DirectoryRecord, ...]]] = {}
    for chain in chains:
        series = next((record for record in chain if record.kind == "SERIES"), None)
        # By identity: records of nested DICOMDIRs share offsets with the root's.
        groups.setdefault(id(series) if series else -1, []).append(chain)
    for members in groups.values():
        yield _preview_entry(members)


def _level(chain: tuple[DirectoryRecord, ...], kind: str) -> MergedValues | None:
    """The chain's records of one level (several where a nested DICOMDIR repeats it)."""
    found = [record.values for record in chain if record.kind == kind]
    return MergedValues(found) if found else None


class MergedValues:
    """:class:`RecordValues` of one level over several records: the first that has a value
    (a STUDY record of the root, then the STUDY record of the DICOMDIR it references)."""

    def __init__(self, values: list[RecordValues]) -> None:
        self._values = values

    def text(self, tag: int) -> str:
        return next((text for v in self._values if (text := v.text(tag))), "")

    def strings(self, tag: int) -> list[str]:
        return next((found for v in self._values if (found := v.strings(tag))), [])

    def integer(self, tag: int) -> int | None:
        return next((n for v in self._values if (n := v.integer(tag)) is not None), None)

    def person_name(self, tag: int) -> str:
        return next((name for v in self._values if (name := v.person_name(tag))), "")


def _preview_entry(members: list[tuple[DirectoryRecord, ...]]) -> PreviewSeries:
    chain = members[0]
    patient, study, series = (_level(chain, kind) for kind in GROUPING_TYPES)
    frames = sum(max(1, leaf[-1].values.integer(0x00280008) or 1) for leaf in members)
    classes = {leaf[-1].values.text(REFERENCED_SOP_CLASS) for leaf in members}
    return PreviewSeries(
        patient=_patient(patient),
        study=_study(study),
        series=_series(series),
        instances=len(members),
        frames=frames,
        sop_classes=tuple(sorted(uid for uid in classes if uid)),
    )


def _patient(values: RecordValues | None) -> PatientInfo:
    """PATIENT record keys (PS3.3 F.5.1)."""
    if values is None:
        return PatientInfo(patient_id="", name="")
    return PatientInfo(
        patient_id=values.text(0x00100020),
        name=values.person_name(0x00100010),
        birth_date=values.text(0x00100030),
        sex=values.text(0x00100040),
    )


def _study(values: RecordValues | None) -> StudyInfo:
    """STUDY record keys (PS3.3 F.5.2)."""
    if values is None:
        return StudyInfo(uid="")
    return StudyInfo(
        uid=values.text(0x0020000D) or values.text(REFERENCED_SOP_INSTANCE),
        date=values.text(0x00080020),
        time=values.text(0x00080030),
        description=values.text(0x00081030),
        accession_number=values.text(0x00080050),
        study_id=values.text(0x00200010),
    )


def _series(values: RecordValues | None) -> SeriesInfo:
    """SERIES record keys (PS3.3 F.5.3)."""
    if values is None:
        return SeriesInfo(uid="")
    return SeriesInfo(
        uid=values.text(0x0020000E),
        number=values.integer(0x00200011),
        modality=values.text(0x00080060),
        description=values.text(0x0008103E),
        body_part=values.text(0x00180015),
    )


# --- file IDs on media ---------------------------------------------------------------------


def file_id_components(values: Iterable[str]) -> list[str]:
    """Referenced File ID components (PS3.10 8.5), also split at stray ``\\`` or ``/``."""
    parts: list[str] = []
    for value in values:
        parts.extend(piece for piece in value.replace("\\", "/").split("/") if piece.strip())
    return [part.strip() for part in parts]


class CaseInsensitiveResolver:
    """Find ``a/b/c`` under a root matching each component ignoring case and ``;1``.

    Each folder is listed once (``os.scandir``: names and types without a stat per file), so
    resolving 10,000 references costs a few folder listings. What resolves through a symbolic
    link is checked to stay inside the root.
    """

    def __init__(self, root: str) -> None:
        self._root = root
        self._real_root = os.path.realpath(root)
        self._listings: dict[str, dict[str, tuple[str, bool, bool]]] = {}
        self._through_links: set[str] = set()
        self._linked_folders: set[str] = set()
        self._folders: dict[tuple[str, ...], str | None] = {}

    def resolve(self, components: list[str]) -> str | None:
        """The existing file, or None; a path with ``..`` is returned as is (it escapes)."""
        if not components:
            return None
        if any(part in ("..", ".") for part in components):
            return os.path.join(self._root, *components)
        folder = self._folder(tuple(fold_name(part) for part in components[:-1]))
        if folder is None:
            return None
        match = self._listing(folder).get(fold_name(components[-1]))
        if match is None or not match[1]:
            return None
        path = f"{folder}/{match[0]}"
        if match[2] or folder in self._linked_folders:
            self._through_links.add(path)
        return path

    def _folder(self, folded: tuple[str, ...]) -> str | None:
        """The folder for case-folded components (each folder found once, then cached)."""
        if folded in self._folders:
            return self._folders[folded]
        found: str | None = None
        parent = self._folder(folded[:-1]) if folded else self._root
        if parent is not None and folded:
            match = self._listing(parent).get(folded[-1])
            if match is not None and match[1] is False:
                found = f"{parent}/{match[0]}"
                if match[2] or parent in self._linked_folders:
                    self._linked_folders.add(found)
        elif not folded:
            found = self._root
        self._folders[folded] = found
        return found

    def has_folder(self, name: str) -> bool:
        """The root holds a folder of this name (matched as :meth:`resolve` matches)."""
        return self._folder((fold_name(name),)) is not None

    def inside(self, path: str) -> bool:
        """``path`` (from :meth:`resolve`) stays within the root, links followed."""
        parts = path.split(os.sep)
        if ".." in parts or "." in parts:
            return False
        if path not in self._through_links:
            return True  # found by listing folders below the root, no link on the way
        real = os.path.realpath(path)
        return os.path.commonpath([real, self._real_root]) == self._real_root

    def _listing(self, folder: str) -> dict[str, tuple[str, bool, bool]]:
        listing = self._listings.get(folder)
        if listing is None:
            listing = {}
            try:
                with os.scandir(folder) as entries:
                    for entry in sorted(entries, key=lambda item: item.name):
                        kind = _entry_kind(entry)
                        if kind is not None:
                            listing[fold_name(entry.name)] = (entry.name, kind, entry.is_symlink())
            except OSError:
                pass
            self._listings[folder] = listing
        return listing


def _entry_kind(entry: os.DirEntry[str]) -> bool | None:
    """True for a regular file, False for a folder, None for anything else (links followed)."""
    try:
        if entry.is_file():
            return True
        return False if entry.is_dir() else None
    except OSError:
        return None


def fold_name(name: str) -> str:
    """An ISO 9660 name compared as CDs need: upper case, without ``;version`` or end dot."""
    return name.split(";")[0].rstrip(".").upper()
