"""Slice stacks: a series split into geometrically consistent, ordered runs of frames.

A series is first cut into frames (one per single-frame file, one per frame of a multi-frame
file), then grouped into stacks by what must be equal inside one volume: localizer or not,
enhanced Stack ID, orientation (within geometry.ORIENTATION_TOLERANCE), matrix size and pixel
spacing. Where positions repeat inside a group, it is split into phases by the key that makes
every phase's positions unique with the fewest phases (temporal position, trigger time, echo,
b-value, acquisition; that order breaks ties). Each stack is ordered by position along the
slice normal (geometry module); Instance Number orders only frames without a position. A
classic multi-frame image without per-frame positions (a cine loop) is one stack in its stored
frame order; one with a Grid Frame Offset Vector (RT Dose) is placed like single-frame slices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from viewer.dicom.catalog import geometry
from viewer.dicom.catalog.frame_ref import FrameRef
from viewer.dicom.catalog.records import FrameInfo, InstanceRecord, Orientation, Vec3

#: (name, value) pairs that may split repeated positions into phases; a value is a number,
#: a tuple (Dimension Index Values) or None.
PhaseKeys = tuple[tuple[str, float | int | tuple[int, ...] | None], ...]

#: Image Orientation (Patient) of an axial grid, the only one absolute frame offsets allow.
AXIAL: Orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True, slots=True)
class Slice:
    """One displayable frame and what places and groups it (``path``: its instance's URI, a
    local path for files; see :mod:`viewer.dicom.catalog.frame_ref`)."""

    path: str
    frame: int
    rows: int
    columns: int
    instance_number: int | None
    position: Vec3 | None
    orientation: Orientation | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    localizer: bool
    stack_id: str = ""
    phase_keys: PhaseKeys = ()


@dataclass(frozen=True)
class Stack:
    """An ordered run of frames that belong in one volume (or one cine loop).

    ``sources``: where each frame is, in stack order (a :class:`FrameRef`, which unpacks as
    ``(uri, frame)``; the URI is a local path for files). ``spacing``/``origin``/``direction``
    are None when the frames have no usable position and orientation. ``positions`` keeps
    every slice's true Image Position (Patient), in order.
    """

    sources: tuple[FrameRef, ...]
    rows: int
    columns: int
    pixel_spacing: tuple[float, float] | None = None
    orientation: Orientation | None = None
    spacing: Vec3 | None = None
    origin: Vec3 | None = None
    direction: tuple[Vec3, Vec3, Vec3] | None = None
    positions: tuple[Vec3, ...] | None = None
    warnings: tuple[str, ...] = ()
    label: str = ""
    frame_time_ms: float | None = None
    localizer: bool = False
    slice_thickness: float | None = None
    instance_numbers: tuple[int | None, ...] = field(default=(), repr=False)
    #: The run of the series this stack belongs to (0-based, in series order); the stacks of
    #: one run are the phases of one volume (same positions, one per time point, echo...).
    group: int = 0
    #: This stack's phase in its run (0-based) and how many phases the run has.
    phase: int = 0
    phases: int = 1
    #: What sets the stack apart in its series, for people ("phase 2 of 4, 12.5 s", "echo 2
    #: (2 of 2)", "stack 2 of 3, sagittal"); "" when the series is this one stack.
    title: str = ""
    #: The phase as people say it ("phase 2 of 4, 12.5 s"); "" for a run of one phase.
    phase_text: str = ""
    #: The key that split the run into phases ("trigger time", "echo time", ...; see
    #: :func:`_split_phases`) and this phase's value of it; "" / None for a run of one phase.
    phase_key: str = ""
    phase_value: float | int | tuple[int, ...] | None = None

    @property
    def frames(self) -> int:
        return len(self.sources)

    @property
    def has_volume_geometry(self) -> bool:
        return self.spacing is not None and self.frames > 1

    def affine(self) -> np.ndarray | None:
        """4x4 index (column, row, frame) -> LPS mm, or None without geometry."""
        if self.spacing is None or self.origin is None or self.direction is None:
            return None
        return geometry.affine_matrix(self.spacing, self.origin, self.direction)


def slices_of(record: InstanceRecord) -> list[Slice]:
    """The displayable frames of one instance (none for objects without pixel data)."""
    if not record.has_pixels:
        return []
    localizer = "LOCALIZER" in (value.upper() for value in record.image_type)
    keys = _phase_keys(record)
    if record.frame_info is not None:
        return [
            Slice(
                record.path,
                index,
                record.rows,
                record.columns,
                record.instance_number,
                info.position,
                _valid(info.orientation or record.orientation),
                info.pixel_spacing or record.pixel_spacing,
                info.slice_thickness or record.slice_thickness,
                localizer,
                info.stack_id,
                _frame_phase_keys(info, keys),
            )
            for index, info in enumerate(record.frame_info)
        ]
    positions = _classic_positions(record)
    return [
        Slice(
            record.path,
            index,
            record.rows,
            record.columns,
            record.instance_number,
            positions[index],
            _valid(record.orientation),
            record.pixel_spacing,
            record.slice_thickness,
            localizer,
            phase_keys=keys,
        )
        for index in range(record.frames)
    ]


def _classic_positions(record: InstanceRecord) -> list[Vec3 | None]:
    """Per-frame positions of a single-frame or classic multi-frame image, None where unknown.

    A multi-frame image has them only through a Grid Frame Offset Vector (RT Dose, PS3.3
    C.8.8.3.2): offsets along the normal from Image Position (Patient) when the first is 0,
    else (axial grids only) the frames' z coordinates.
    """
    if record.frames == 1:
        return [record.position]
    orientation = _valid(record.orientation)
    offsets = record.frame_offsets
    if record.position is None or orientation is None or offsets is None:
        return [None] * record.frames
    origin = np.asarray(record.position, dtype=float)
    if offsets[0] == 0:
        normal = geometry.slice_normal(orientation)
        return [_as_vec3(origin + offset * normal) for offset in offsets]
    if geometry.same_orientation(orientation, AXIAL):
        return [(float(origin[0]), float(origin[1]), float(offset)) for offset in offsets]
    return [None] * record.frames


def _as_vec3(values: np.ndarray) -> Vec3:
    return (float(values[0]), float(values[1]), float(values[2]))


def _valid(orientation: Orientation | None) -> Orientation | None:
    return orientation if geometry.is_valid_orientation(orientation) else None


def _frame_phase_keys(info: FrameInfo, keys: PhaseKeys) -> PhaseKeys:
    """An enhanced frame's phase keys: Frame Content and MR functional groups first, then the
    file's, then the Dimension Index Values without one of their dimensions each (PS3.3
    C.7.6.17): dropping the in-stack dimension leaves the phase, whatever the dimensions are.
    """
    div = info.dimension_index
    return (
        ("temporal position", info.temporal_position),
        ("trigger delay", info.trigger_delay),
        ("echo time", info.echo_time),
        ("b-value", info.b_value),
        *keys,
        *(("dimension index", div[:j] + div[j + 1 :]) for j in range(len(div))),
    )


def _phase_label(name: str, value: object) -> str:
    if isinstance(value, tuple):
        return f"{name} {'/'.join(str(v) for v in value)}"
    return f"{name} {value}"


def _phase_keys(record: InstanceRecord) -> PhaseKeys:
    return (
        ("temporal position", record.temporal_position),
        ("trigger time", record.trigger_time),
        ("echo", record.echo_number),
        ("b-value", record.diffusion_b_value),
        ("acquisition", record.acquisition_number),
    )


def build_stacks(records: Sequence[InstanceRecord]) -> list[Stack]:
    """Split a series' instances into ordered stacks (see the module docstring)."""
    runs: list[list[Stack]] = []
    loose: list[Slice] = []
    for record in records:
        slices = slices_of(record)
        if not slices:
            continue
        if record.frames > 1 and record.frame_info is None and slices[0].position is None:
            runs.append([_cine_stack(record, slices)])
        else:
            loose.extend(slices)
    # Enhanced Stack IDs in their natural order, whatever order the frames are stored in.
    for group in sorted(_group_slices(loose), key=lambda g: _stack_id_key(g[0].stack_id)):
        runs.append(_stacks_from_group(group))
    # Localizers last, larger first; the phases of one group stay together, in phase order.
    runs.sort(key=lambda run: (run[0].localizer, -max(stack.frames for stack in run)))
    return [
        replace(stack, group=number, title=_title(stack, number, len(runs)))
        for number, run in enumerate(runs)
        for stack in run
    ]


def _title(stack: Stack, group: int, groups: int) -> str:
    """What a person needs to tell the stacks of a series apart: the run (when there are
    several: its number, plane or "localizer") and the phase (when the run has several)."""
    parts = []
    if groups > 1:
        kind = "localizer" if stack.localizer else plane_name(stack.orientation)
        parts.append(f"stack {group + 1} of {groups}" + (f", {kind}" if kind else ""))
    if stack.phases > 1 and stack.phase_text:
        parts.append(stack.phase_text)
    return ", ".join(parts)


def plane_name(orientation: Orientation | None) -> str:
    """ "axial", "coronal", "sagittal" by the slice normal's main axis (PS3.3 C.7.6.2.1.1: x
    to the patient's left, y to the back, z to the head); "oblique" when no axis dominates;
    "" without an orientation."""
    if orientation is None:
        return ""
    normal = np.abs(geometry.slice_normal(orientation))
    axis = int(np.argmax(normal))
    if normal[axis] < OBLIQUE_BELOW:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


#: A slice normal whose largest component (of a unit vector) is below this is "oblique".
OBLIQUE_BELOW = 0.8


def phase_text(name: str, value: object, number: int, count: int, time_ms: float | None) -> str:
    """A phase as people say it: "phase 2 of 4, 12.5 s", "phase 1 of 3, trigger time 0 ms",
    "echo 2 (2 of 2)", "b-value 1000 (2 of 2)". ``number`` is 1-based; ``time_ms`` a trigger
    time shared by the phase's frames, if any (Trigger Time, PS3.3 C.7.6.18.1)."""
    of = f"({number} of {count})"
    if name in ("trigger time", "trigger delay") and isinstance(value, int | float):
        return f"phase {number} of {count}, trigger time {_number(value)} ms"
    if name in ("temporal position", "dimension index"):
        when = "" if time_ms is None else f", {_duration(time_ms)}"
        return f"phase {number} of {count}{when}"
    if name == "echo time" and isinstance(value, int | float):
        return f"echo time {_number(value)} ms {of}"
    if name in ("echo", "b-value", "acquisition") and isinstance(value, int | float):
        return f"{name} {_number(value)} {of}"
    return f"{_phase_label(name, value)} {of}"


def _number(value: float) -> str:
    return f"{value:g}"


def _duration(ms: float) -> str:
    return f"{ms / 1000:g} s" if abs(ms) >= 1000 else f"{ms:g} ms"


def _stack_id_key(stack_id: str) -> tuple[int, int, str]:
    stripped = stack_id.strip()
    return (0, int(stripped), "") if stripped.isdigit() else (1, 0, stripped)


def _cine_stack(record: InstanceRecord, slices: list[Slice]) -> Stack:
    return Stack(
        sources=tuple(FrameRef(s.path, s.frame) for s in slices),
        rows=record.rows,
        columns=record.columns,
        pixel_spacing=record.pixel_spacing,
        orientation=_valid(record.orientation),
        frame_time_ms=record.frame_time_ms,
        localizer=any(s.localizer for s in slices),
        slice_thickness=record.slice_thickness,
        instance_numbers=tuple(record.instance_number for _ in slices),
    )


def _group_slices(slices: Sequence[Slice]) -> list[list[Slice]]:
    """Group by localizer, Stack ID, matrix, pixel spacing and (tolerant) orientation."""
    groups: list[tuple[tuple[object, ...], Orientation | None, list[Slice]]] = []
    for item in slices:
        key = (
            item.localizer,
            item.stack_id,
            item.rows,
            item.columns,
            _rounded(item.pixel_spacing),
            item.position is None or item.orientation is None,
        )
        for group_key, group_orientation, members in groups:
            if group_key == key and _orientation_matches(group_orientation, item.orientation):
                members.append(item)
                break
        else:
            groups.append((key, item.orientation, [item]))
    return [members for _, _, members in groups]


def _rounded(spacing: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if spacing is None else (round(spacing[0], 4), round(spacing[1], 4))


def _orientation_matches(a: Orientation | None, b: Orientation | None) -> bool:
    if a is None or b is None:
        return a is b
    return geometry.same_orientation(a, b)


def _stacks_from_group(group: list[Slice]) -> list[Stack]:
    if any(s.position is None or s.orientation is None for s in group):
        return [_unpositioned_stack(group)]
    phases = _split_phases(group)
    prefix = f"stack {group[0].stack_id}" if group[0].stack_id else ""
    if len(phases) == 1:
        return [_positioned_stack(group, prefix, ())]
    note = f"{len(phases)} phases by {phases[0][0]}"
    count = len(phases)
    return [
        replace(
            _positioned_stack(members, _joined(prefix, _phase_label(name, value)), (note,)),
            phase=number,
            phases=count,
            phase_key=name,
            phase_value=value,  # type: ignore[arg-type]
            phase_text=phase_text(name, value, number + 1, count, _shared_time(members)),
        )
        for number, (name, value, members) in enumerate(phases)
    ]


def _shared_time(members: Sequence[Slice]) -> float | None:
    """The trigger time (or delay) all of a phase's frames share, else None."""
    times = {
        value
        for item in members
        for name, value in item.phase_keys
        if name in ("trigger time", "trigger delay") and isinstance(value, int | float)
    }
    return float(next(iter(times))) if len(times) == 1 else None


def _joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def _split_phases(group: list[Slice]) -> list[tuple[str, object, list[Slice]]]:
    """Phases (key name, key value, slices) when positions repeat; one phase otherwise."""
    if _unique_positions(group):
        return [("", None, group)]
    best: tuple[str, dict[object, list[Slice]]] | None = None
    for index in range(len(group[0].phase_keys)):
        split = _split_by_key(group, index)
        valid = len(split) > 1 and all(_unique_positions(members) for members in split.values())
        # Fewest phases wins (key order breaks ties): a key that is unique per image (a
        # per-slice trigger time, say) also makes positions unique, one slice per "phase".
        if valid and (best is None or len(split) < len(best[1])):
            best = (group[0].phase_keys[index][0], split)
    if best is None:
        return [("", None, group)]
    name, split = best
    ordered = sorted(split.items(), key=lambda kv: _sortable(kv[0]))
    return [(name, value, members) for value, members in ordered]


def _split_by_key(group: list[Slice], index: int) -> dict[object, list[Slice]]:
    split: dict[object, list[Slice]] = {}
    for item in group:
        value = item.phase_keys[index][1] if index < len(item.phase_keys) else None
        split.setdefault(value, []).append(item)
    return split


def _sortable(value: object) -> tuple[int, tuple[float, ...]]:
    if isinstance(value, int | float):
        return (0, (float(value),))
    if isinstance(value, tuple):
        return (1, tuple(float(v) for v in value))
    return (2, ())


def _unique_positions(group: Sequence[Slice]) -> bool:
    orientation = group[0].orientation
    assert orientation is not None
    distances = geometry.positions_along_normal([s.position for s in group], orientation)  # type: ignore[misc]
    rounded = np.round(distances / geometry.POSITION_TOLERANCE_MM)
    return len(set(rounded.tolist())) == len(group)


def _positioned_stack(group: list[Slice], label: str, notes: tuple[str, ...]) -> Stack:
    first = group[0]
    assert first.orientation is not None
    positions = [s.position for s in group]
    distances = geometry.positions_along_normal(positions, first.orientation)  # type: ignore[arg-type]
    order = geometry.ascending_order(distances, [_instance_key(s) for s in group])
    ordered = [group[i] for i in order]
    ordered_positions = tuple(s.position for s in ordered)
    spacing = first.pixel_spacing or (1.0, 1.0)
    geo = geometry.stack_geometry(
        ordered_positions,  # type: ignore[arg-type]
        first.orientation,
        spacing,
        first.slice_thickness,
        [s.slice_thickness for s in ordered],
    )
    missing_spacing = () if first.pixel_spacing else ("no Pixel Spacing; 1 mm assumed",)
    return _stack_of(
        ordered,
        spacing=geo.spacing,
        origin=geo.origin,
        direction=geo.direction,
        positions=ordered_positions,
        warnings=(*notes, *missing_spacing, *geo.warnings),
        label=label,
    )


def _stack_of(ordered: list[Slice], **geometry_fields: Any) -> Stack:
    """A Stack of slices already in order; geometry fields as keywords."""
    first = ordered[0]
    return Stack(
        sources=tuple(FrameRef(s.path, s.frame) for s in ordered),
        rows=first.rows,
        columns=first.columns,
        pixel_spacing=first.pixel_spacing,
        orientation=first.orientation,
        localizer=first.localizer,
        slice_thickness=first.slice_thickness,
        instance_numbers=tuple(s.instance_number for s in ordered),
        **geometry_fields,
    )


def _instance_key(item: Slice) -> int:
    return item.instance_number if item.instance_number is not None else 1 << 30


def _unpositioned_stack(group: list[Slice]) -> Stack:
    """Frames without geometry: Instance Number order, then file order."""
    key: Callable[[tuple[int, Slice]], tuple[int, int]] = lambda pair: (  # noqa: E731
        _instance_key(pair[1]),
        pair[0],
    )
    return _stack_of([s for _, s in sorted(enumerate(group), key=key)])
