"""Annotations: what the user drew on one image, in that image's pixel coordinates (no Qt).

Points are continuous image coordinates (column, row) with the top left corner of the top left
pixel at (0, 0) and pixel (0, 0) spanning [0, 1): the convention of the SR's SCOORD (PS3.3
C.18.6.1.1) and of a presentation state's PIXEL annotation units (C.10.5.1.1), so points go to
DICOM unchanged. An annotation belongs to one frame of one image (:class:`ImageRef`); an image
in a Frame of Reference (PS3.3 C.7.4.1) is found again by its SOP Instance UID and frame.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.dicom.catalog.records import InstanceRecord

Point = tuple[float, float]

LENGTH = "length"
ANGLE = "angle"
ELLIPSE = "ellipse"
RECTANGLE = "rectangle"
POLYGON = "polygon"
FREEHAND = "freehand"
COBB = "cobb"
BIDIRECTIONAL = "bidirectional"
POINT = "point"
ARROW = "arrow"
TEXT = "text"

#: Kinds and how many points each has (None: any number, at least 3).
POINT_COUNTS: dict[str, int | None] = {
    LENGTH: 2,
    ANGLE: 3,
    ELLIPSE: 2,  # two opposite corners of the bounding box
    RECTANGLE: 2,  # two opposite corners
    POLYGON: None,
    FREEHAND: None,
    COBB: 4,  # two lines: (a0, a1), (b0, b1)
    BIDIRECTIONAL: 4,  # long axis (l0, l1), then the short axis (s0, s1) across it
    POINT: 1,
    ARROW: 2,  # tail, head
    TEXT: 1,
}
#: Kinds that are annotations, not measurements: their label is their text (GSPS, not SR).
ANNOTATIONS = frozenset({ARROW, TEXT})
#: Kinds whose statistics come from the pixels they enclose.
REGIONS = frozenset({ELLIPSE, RECTANGLE, POLYGON, FREEHAND})
#: Kinds drawn as separate straight segments, two points each (not one polyline).
SEGMENTS = frozenset({COBB, BIDIRECTIONAL})


@dataclass(frozen=True, slots=True)
class ImageRef:
    """The frame an annotation is drawn on: its file and 0-based frame (how the viewer finds
    the pixels) and, once read, the UIDs that DICOM references it by."""

    path: str
    frame: int = 0
    sop_instance_uid: str = ""
    sop_class_uid: str = ""
    series_uid: str = ""
    study_uid: str = ""
    frame_of_reference_uid: str = ""

    @property
    def key(self) -> tuple[str, int]:
        """What identifies the frame in this session."""
        return (self.path, self.frame)

    @classmethod
    def of_record(cls, record: InstanceRecord, frame_of_reference: str) -> ImageRef:
        """The first frame of an indexed instance, with the UIDs its record holds."""
        return cls(
            record.path,
            0,
            record.sop_instance_uid,
            record.sop_class_uid,
            record.series_uid,
            record.study_uid,
            frame_of_reference,
        )


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Annotation:
    """One measurement or annotation. Frozen: an edit is a new value with the same ``id``."""

    kind: str
    points: tuple[Point, ...]
    image: ImageRef
    text: str = ""
    visible: bool = True
    id: str = field(default_factory=new_id)
    #: Where the user put the label (its top left corner, image coordinates); None: placed
    #: by the view beside the shape.
    label: Point | None = None

    def moved(self, dx: float, dy: float) -> Annotation:
        label = (self.label[0] + dx, self.label[1] + dy) if self.label is not None else None
        points = tuple((x + dx, y + dy) for x, y in self.points)
        return replace(self, points=points, label=label)

    def with_point(self, index: int, point: Point) -> Annotation:
        if self.kind == BIDIRECTIONAL and len(self.points) == 4:
            return replace(self, points=bidirectional_with_point(self.points, index, point))
        points = list(self.points)
        points[index] = point
        return replace(self, points=tuple(points))

    @property
    def complete(self) -> bool:
        count = POINT_COUNTS.get(self.kind)
        return len(self.points) >= 3 if count is None else len(self.points) == count


#: The handle index of an annotation's label (-1 is its body, 0.. its points).
LABEL_HANDLE = -2


def edited(
    annotation: Annotation, handle: int, dx: float, dy: float, label_from: Point | None = None
) -> Annotation:
    """``annotation`` after a drag by (dx, dy) of one of its points, its body (-1) or its label
    (:data:`LABEL_HANDLE`: from its own place, else from ``label_from``, where the view put
    it)."""
    if handle == LABEL_HANDLE:
        base = annotation.label or label_from
        if base is None:
            return annotation
        return replace(annotation, label=(base[0] + dx, base[1] + dy))
    if handle < 0:
        return annotation.moved(dx, dy)
    x, y = annotation.points[handle]
    return annotation.with_point(handle, (x + dx, y + dy))


def ellipse_axes(points: tuple[Point, ...]) -> tuple[float, float, float, float]:
    """(centre x, centre y, radius x, radius y) of the ellipse in a bounding box."""
    (x0, y0), (x1, y1) = points[0], points[1]
    return ((x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2)


def box(points: tuple[Point, ...]) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of two corners."""
    (x0, y0), (x1, y1) = points[0], points[1]
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def outline(annotation: Annotation, segments: int = 64) -> tuple[Point, ...]:
    """The closed outline of a region annotation as a polygon (ellipses: ``segments`` points)."""
    import math

    if annotation.kind == ELLIPSE:
        cx, cy, rx, ry = ellipse_axes(annotation.points)
        return tuple(
            (cx + rx * math.cos(2 * math.pi * k / segments),
             cy + ry * math.sin(2 * math.pi * k / segments))
            for k in range(segments)
        )  # fmt: skip
    if annotation.kind == RECTANGLE:
        left, top, right, bottom = box(annotation.points)
        return ((left, top), (right, top), (right, bottom), (left, bottom))
    return annotation.points


def bidirectional_axes(long_axis: tuple[Point, Point], short: float = 0.5) -> tuple[Point, ...]:
    """A bidirectional measurement from its long axis: the short axis crosses it at its middle,
    at right angles (in image pixels), ``short`` times as long."""
    (x0, y0), (x1, y1) = long_axis
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = (x1 - x0) * short / 2, (y1 - y0) * short / 2
    return ((x0, y0), (x1, y1), (mx + dy, my - dx), (mx - dy, my + dx))


def bidirectional_with_point(
    points: tuple[Point, ...], index: int, point: Point
) -> tuple[Point, ...]:
    """Move one end of a bidirectional measurement, keeping the axes at right angles (RECIST):
    a long-axis end turns and stretches the long axis, the short axis keeps its lengths on
    either side and where along the long axis it crosses; a short-axis end slides along the
    short axis's line (the crossing stays)."""
    import math

    (l0x, l0y), (l1x, l1y), (s0x, s0y), (s1x, s1y) = points
    ux, uy = l1x - l0x, l1y - l0y
    length = math.hypot(ux, uy) or 1.0
    ux, uy = ux / length, uy / length
    nx, ny = uy, -ux  # the short axis's direction (s0 side)
    # Crossing: the short axis's line meets the long axis at fraction t.
    t = ((s0x - l0x) * ux + (s0y - l0y) * uy) / length
    a = (s0x - l0x) * nx + (s0y - l0y) * ny  # s0's distance from the long axis
    b = -((s1x - l0x) * nx + (s1y - l0y) * ny)  # s1's, on the other side
    if index in (0, 1):
        ends = [(l0x, l0y), (l1x, l1y)]
        ends[index] = point
        (l0x, l0y), (l1x, l1y) = ends
        ux, uy = l1x - l0x, l1y - l0y
        length = math.hypot(ux, uy) or 1.0
        ux, uy = ux / length, uy / length
        nx, ny = uy, -ux
    else:
        cx, cy = l0x + ux * t * length, l0y + uy * t * length
        distance = (point[0] - cx) * nx + (point[1] - cy) * ny
        if index == 2:
            a = max(distance, 0.0)
        else:
            b = max(-distance, 0.0)
    cx, cy = l0x + ux * t * length, l0y + uy * t * length
    return (
        (l0x, l0y),
        (l1x, l1y),
        (cx + nx * a, cy + ny * a),
        (cx - nx * b, cy - ny * b),
    )
