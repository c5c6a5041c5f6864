"""An :class:`~viewer.dicom.catalog.records.InstanceRecord` as compact JSON, and back, so a study
reopens from its rows without reading a header.

Only fields that differ from their defaults are written; the identifying ones (path, SOP
Instance, series and study UIDs) live in their own columns and are given back on decoding.
Tuples come back as tuples, per-frame geometry (:class:`~viewer.dicom.catalog.records.FrameInfo`)
as FrameInfo. A field this version does not know (written by a newer viewer) is ignored.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from viewer.dicom.catalog.records import FrameInfo, InstanceRecord

#: Written in columns of their own, not in the JSON.
_COLUMN_FIELDS = frozenset({"path", "sop_instance_uid", "series_uid", "study_uid"})
_RECORD_FIELDS = {f.name: f for f in dataclasses.fields(InstanceRecord)}
_FRAME_FIELDS = {f.name: f for f in dataclasses.fields(FrameInfo)}
_DECODED_FIELDS = frozenset(_RECORD_FIELDS) - _COLUMN_FIELDS


def encode_record(record: InstanceRecord) -> str:
    """The record's fields (less the column ones) that differ from their defaults, as JSON."""
    values: dict[str, Any] = {}
    for name, spec in _RECORD_FIELDS.items():
        value = getattr(record, name)
        if name in _COLUMN_FIELDS or value == spec.default:
            continue
        if name == "frame_info":
            value = [_changed(frame, _FRAME_FIELDS) for frame in value]
        values[name] = value
    return json.dumps(values, separators=(",", ":"))


def decode_record(
    text: str, path: str, sop_instance_uid: str, series_uid: str, study_uid: str
) -> InstanceRecord:
    """The record :func:`encode_record` wrote, with its identifying fields given back."""
    values = json.loads(text)
    fields: dict[str, Any] = {
        name: _tuples(value) if type(value) is list else value
        for name, value in values.items()
        if name in _DECODED_FIELDS
    }
    frames = fields.get("frame_info")
    if frames is not None:
        fields["frame_info"] = tuple(
            FrameInfo(**{k: _tuples(v) for k, v in frame.items() if k in _FRAME_FIELDS})
            for frame in frames
        )
    return InstanceRecord(
        path=path,
        sop_instance_uid=sop_instance_uid,
        series_uid=series_uid,
        study_uid=study_uid,
        **fields,
    )


def _changed(value: Any, specs: dict[str, dataclasses.Field[Any]]) -> dict[str, Any]:
    return {
        name: getattr(value, name)
        for name, spec in specs.items()
        if getattr(value, name) != spec.default
    }


def _tuples(value: Any) -> Any:
    """JSON arrays back into the tuples the frozen records hold (nested ones too)."""
    if type(value) is list:
        return tuple([_tuples(item) if type(item) is list else item for item in value])
    return value
