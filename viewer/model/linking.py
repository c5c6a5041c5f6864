"""How two viewports scroll together (no Qt): by shared Frame of Reference, or by position.

Stacks sharing a Frame of Reference (PS3.3 C.7.4.1.1.1) are in the same patient millimetres:
the other viewport goes to the slice nearest the active one's (``"frame"`` link, no offset).
Two studies of one patient (a prior and the current exam) almost never share one: their
positions are in different millimetres. Parallel stacks of the same patient are then linked
*by position with an offset* (``"position"`` link), as Weasis does: the offset between two
Frames of Reference is captured from the slices shown when the link is first made or when
synchronised scrolling is turned on again, so a reader turns it off, aligns the two by hand
and turns it on. Scrolling one then moves the other by the same millimetres.

The offset is kept per pair of Frames of Reference (as a vector along the slice normal, so
either viewport may lead); :func:`link_text` says on screen which kind of link holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.dicom.catalog.geometry import slice_normal
from viewer.model.cross_reference import PARALLEL_COSINE, nearest_slice
from viewer.model.display import ViewState

FRAME = "frame"
POSITION = "position"


@dataclass(frozen=True)
class Link:
    """How ``target`` follows ``source``: ``kind`` FRAME or POSITION; ``offset_mm`` is how
    far the target's slice lies along its own normal from the source's (POSITION only)."""

    kind: str
    offset_mm: float = 0.0


def has_geometry(state: ViewState) -> bool:
    """The shown stack has a position for every slice and an orientation."""
    stack = state.stack
    return (
        stack is not None
        and stack.positions is not None
        and stack.orientation is not None
        and all(p is not None for p in stack.positions)
    )


def _normal(state: ViewState) -> np.ndarray:
    assert state.stack is not None and state.stack.orientation is not None
    return slice_normal(state.stack.orientation)


def _position(state: ViewState) -> np.ndarray:
    assert state.stack is not None and state.stack.positions is not None
    return np.asarray(state.stack.positions[state.index], dtype=float)


def parallel(source: ViewState, target: ViewState) -> bool:
    return abs(float(np.dot(_normal(source), _normal(target)))) >= PARALLEL_COSINE


class ScrollLinks:
    """The offsets between Frames of Reference met in this session, and the links they give."""

    def __init__(self) -> None:
        #: (source FoR, target FoR) -> patient mm to add to a source point to reach the
        #: target's matching point (along the target's normal). Kept one way; read both.
        self._offsets: dict[tuple[str, str], np.ndarray] = {}

    def kind(self, source: ViewState, target: ViewState) -> str | None:
        """FRAME, POSITION or None (not linkable: no geometry, other patient, not parallel)."""
        if not has_geometry(source) or not has_geometry(target):
            return None
        reference = source.frame_of_reference
        if reference and reference == target.frame_of_reference:
            return FRAME
        if not source.patient or source.patient != target.patient:
            return None
        if not reference or not target.frame_of_reference:
            return None  # a series without a Frame of Reference has no offset to keep
        return POSITION if parallel(source, target) else None

    def _vector(self, source: ViewState, target: ViewState) -> np.ndarray | None:
        pair = (source.frame_of_reference, target.frame_of_reference)
        if pair in self._offsets:
            return self._offsets[pair]
        back = self._offsets.get((pair[1], pair[0]))
        return None if back is None else -back

    def capture(self, source: ViewState, target: ViewState) -> None:
        """Keep the offset that makes the slices shown now match (position links only)."""
        if self.kind(source, target) != POSITION:
            return
        normal = _normal(target)
        along = float(np.dot(_position(target) - _position(source), normal))
        self._offsets.pop((target.frame_of_reference, source.frame_of_reference), None)
        self._offsets[(source.frame_of_reference, target.frame_of_reference)] = along * normal

    def link(self, source: ViewState, target: ViewState) -> Link | None:
        """How ``target`` follows ``source`` now; a first position link captures its offset."""
        kind = self.kind(source, target)
        if kind != POSITION:
            return None if kind is None else Link(FRAME)
        vector = self._vector(source, target)
        if vector is None:
            self.capture(source, target)
            vector = self._vector(source, target)
            assert vector is not None
        return Link(POSITION, float(np.dot(vector, _normal(target))))

    def set_offset(self, source: ViewState, target: ViewState, offset_mm: float) -> None:
        """Set the offset of ``target`` from ``source`` (mm along the target's normal)."""
        if self.kind(source, target) == POSITION:
            self._offsets.pop((target.frame_of_reference, source.frame_of_reference), None)
            pair = (source.frame_of_reference, target.frame_of_reference)
            self._offsets[pair] = offset_mm * _normal(target)

    def follow(self, source: ViewState, target: ViewState) -> int | None:
        """The slice ``target`` should show for ``source``'s slice (None: leave it)."""
        link = self.link(source, target)
        if link is None:
            return None
        assert source.stack is not None and target.stack is not None
        point = _position(source)
        if link.kind == POSITION:
            point = point + link.offset_mm * _normal(target)
        return nearest_slice(
            target.stack.positions,  # type: ignore[arg-type]
            target.stack.orientation,  # type: ignore[arg-type]
            (float(point[0]), float(point[1]), float(point[2])),
            source.stack.orientation,  # type: ignore[arg-type]
        )


def link_text(link: Link | None) -> list[str]:
    """Corner text (short lines: a corner has half a viewport) for a viewport linked by
    position; nothing for a shared Frame of Reference, which needs no saying."""
    if link is None or link.kind != POSITION:
        return []
    return ["Linked by position", f"offset {link.offset_mm:+.1f} mm", "(no shared Frame of Ref.)"]


def link_sentence(link: Link | None) -> str:
    """The same in one sentence (the status bar)."""
    if link is None or link.kind != POSITION:
        return ""
    return (
        f"linked by position, offset {link.offset_mm:+.1f} mm (no shared Frame of Reference; "
        "to align by hand, turn Synchronise scrolling off, scroll one, turn it on)"
    )


def voi_followers(source: ViewState, others: list[ViewState]) -> list[ViewState]:
    """Viewports that take ``source``'s window when window/level is linked: same modality
    (a CT window means nothing on an MR), greyscale shown (a window is set)."""
    if source.voi is None or not source.modality:
        return []
    return [
        s
        for s in others
        if s is not source and s.stack is not None and s.modality == source.modality
    ]
