"""Draws a viewport's annotations (viewer.model.annotations) over its image; finds the one
under the pointer. Drawing only: the shapes, their numbers and their edits live in the model.

Shapes are built in view coordinates from the image points through the viewport's pixel ->
view transform (so rotation and flips carry them), with cosmetic pens; labels and handles keep
their screen size (``ItemIgnoresTransformations``). :meth:`AnnotationLayer.show` replaces what
is drawn; the viewport calls it when the frame, the store, the zoom or the transform changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem

from viewer.model.annotations import shapes
from viewer.model.annotations.shapes import Annotation, Point

COLOUR = "#ffd75e"
SELECTED_COLOUR = "#4fd1ff"
DRAFT_COLOUR = "#9df59d"
#: Handles: squares this many screen pixels wide; a press this close grabs one.
HANDLE_PX = 7.0
GRAB_PX = 6.0
#: Arrow head length in screen pixels; a point probe's cross half-size.
ARROW_HEAD_PX = 12.0
CROSS_PX = 6.0
#: Labels sit this many screen pixels beside their shape; farther away, a leader line joins them.
LABEL_OFFSET_PX = 10.0
#: The handle index :meth:`AnnotationLayer.hit` answers for a label (drag it to move it).
LABEL_HANDLE = shapes.LABEL_HANDLE
#: Labels keep this many screen pixels inside the view's edges.
EDGE_PX = 3.0
Z_VALUE = 20


@dataclass(frozen=True)
class Drawn:
    """One annotation to draw: its value, its label lines, and how it looks."""

    annotation: Annotation
    lines: tuple[str, ...]
    selected: bool = False
    draft: bool = False


class LabelItem(QGraphicsItem):
    """Text lines on a dark box, constant screen size."""

    def __init__(self, lines: Sequence[str], colour: str) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.lines = list(lines)
        self.colour = QColor(colour)
        self.font = QFont()
        self.font.setPointSizeF(9.0)
        metrics = QFontMetricsF(self.font)
        self._line_height = metrics.height()
        width = max((metrics.horizontalAdvance(line) for line in self.lines), default=0.0)
        self._rect = QRectF(0, 0, width + 8, self._line_height * len(self.lines) + 4)
        self.setZValue(Z_VALUE + 1)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, _option: object, _widget: object = None) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(self._rect, 3, 3)
        painter.setFont(self.font)
        painter.setPen(self.colour)
        for number, line in enumerate(self.lines):
            painter.drawText(QPointF(4, 2 + self._line_height * (number + 0.8)), line)


class AnnotationLayer:
    """The annotation items of one ViewBox."""

    def __init__(self, view_box: pg.ViewBox, to_view: Callable[[Point], QPointF]) -> None:
        self.view_box = view_box
        self.to_view = to_view
        self._items: list[QGraphicsItem] = []
        self._shown: list[Drawn] = []
        #: Outline (view coordinates) and handles of each drawn annotation, for hit tests.
        self._outlines: dict[
            str, tuple[list[QPointF], list[tuple[QPointF, QPointF]], list[QPointF]]
        ] = {}
        self._requests: list[_LabelRequest] = []
        #: Where each label went, for the shape box, lines and view it was placed for: a label
        #: whose shape did not change keeps its place (stable while another is dragged).
        self._place_cache: dict[str, tuple[Any, QRectF]] = {}
        #: Each label's rectangle in scene (screen) coordinates, for hit tests.
        self._label_rects: dict[str, QRectF] = {}
        #: Each label's top left corner in view coordinates (a label drag starts from it).
        self.label_at: dict[str, QPointF] = {}

    # --- drawing ---------------------------------------------------------------------------
    def show(self, drawn: Sequence[Drawn]) -> None:
        self.clear()
        self._shown = list(drawn)
        if not self._shown:
            return
        per_screen = self._view_per_screen()
        for item in drawn:
            if item.annotation.visible or item.draft:
                self._draw(item, per_screen)
        self._place_labels()

    def redraw(self) -> None:
        """Draw the same again (zoom or transform changed)."""
        self.show(self._shown)

    def clear(self) -> None:
        for item in self._items:
            self.view_box.removeItem(item)
        self._items.clear()
        self._outlines.clear()
        self._requests.clear()
        self._label_rects.clear()
        self.label_at.clear()

    @property
    def drawn(self) -> bool:
        """Something is drawn (a zoom must redraw it)."""
        return bool(self._items)

    @property
    def labels(self) -> list[list[str]]:
        """The label lines drawn (tests read them)."""
        return [item.lines for item in self._items if isinstance(item, LabelItem)]

    def _view_per_screen(self) -> float:
        """View units per screen pixel, from the range and the box's size (not pyqtgraph's
        viewPixelSize: its cache, filled in the middle of a range change, stays stale)."""
        width = self.view_box.width()
        size = self.view_box.viewRect().width() / width if width > 0 else 0.0
        return size if size > 0 else 1.0

    def _add(self, item: QGraphicsItem) -> None:
        item.setZValue(max(item.zValue(), Z_VALUE))
        self.view_box.addItem(item, ignoreBounds=True)
        self._items.append(item)

    def _draw(self, drawn: Drawn, per_screen: float) -> None:
        annotation = drawn.annotation
        colour = DRAFT_COLOUR if drawn.draft else SELECTED_COLOUR if drawn.selected else COLOUR
        points = [self.to_view(p) for p in annotation.points]
        path = QPainterPath()
        kind = annotation.kind
        closed = kind in shapes.REGIONS
        outline = [self.to_view(p) for p in shapes.outline(annotation)] if closed else points
        if kind in shapes.SEGMENTS:
            for a, b in zip(points[0::2], points[1::2], strict=False):
                path.moveTo(a)
                path.lineTo(b)
        elif kind in (shapes.LENGTH, shapes.ARROW, shapes.ANGLE) and len(points) >= 2:
            path.moveTo(points[0])
            for point in points[1:]:
                path.lineTo(point)
            if kind == shapes.ARROW:
                _arrow_head(path, points[0], points[1], ARROW_HEAD_PX * per_screen)
        elif closed and len(outline) >= 2:
            path.moveTo(outline[0])
            for point in outline[1:]:
                path.lineTo(point)
            path.closeSubpath()
        elif kind == shapes.POINT and points:
            size = CROSS_PX * per_screen
            centre = points[0]
            path.moveTo(centre - QPointF(size, 0))
            path.lineTo(centre + QPointF(size, 0))
            path.moveTo(centre - QPointF(0, size))
            path.lineTo(centre + QPointF(0, size))
        if not path.isEmpty():
            item = QGraphicsPathItem(path)
            pen = QPen(QColor(colour), 2 if drawn.selected else 1.5)
            pen.setCosmetic(True)
            item.setPen(pen)
            self._add(item)
        lines = list(drawn.lines)
        if kind == shapes.TEXT:
            lines = [annotation.text or "(text)"]
        elif kind == shapes.ARROW:
            lines = [annotation.text] if annotation.text else []
        if lines and points:
            # What the label sits beside: the shape, an arrow's tail, a text's own point.
            near = points[:1] if kind in shapes.ANNOTATIONS else outline
            user = self.to_view(annotation.label) if annotation.label is not None else None
            self._requests.append(
                _LabelRequest(annotation.id, lines, colour, near, user, kind == shapes.TEXT)
            )
        handles = points if kind not in (shapes.TEXT, shapes.FREEHAND) else []
        if drawn.selected:
            for point in handles:
                self._add(_handle(point, per_screen, colour))
        if kind in shapes.SEGMENTS:
            segments = list(zip(points[0::2], points[1::2], strict=False))
        else:
            ends = outline[1:] + outline[:1] if closed else outline[1:]
            segments = list(zip(outline[: len(ends)], ends, strict=True))
        self._outlines[annotation.id] = (outline, segments, handles)

    # --- labels ---------------------------------------------------------------------------
    def _place_labels(self) -> None:
        """Put every label inside the view, beside its shape, clear of the labels placed
        before it (and of other shapes where it can); a label placed away from its shape, or
        where the user dragged it, gets a leader line to the shape."""
        if not self._requests:
            return
        box = self.view_box
        bounds = box.sceneBoundingRect().adjusted(EDGE_PX, EDGE_PX, -EDGE_PX, -EDGE_PX)
        shapes_at = {
            r.annotation_id: _bounding(box.mapViewToScene(p) for p in r.near)
            for r in self._requests
        }
        placed: list[QRectF] = []
        labels = {r.annotation_id: LabelItem(r.lines, r.colour) for r in self._requests}
        keys = {
            r.annotation_id: (_box(shapes_at[r.annotation_id]), tuple(r.lines), _box(bounds))
            for r in self._requests
        }
        cache = self._place_cache

        def rank(request: _LabelRequest) -> int:
            """Labels that stay where they are (texts, moved labels) first, then those whose
            shape did not change (they keep their place while another is dragged), then the
            others around them."""
            if request.user is not None or request.fixed:
                return 0
            cached = cache.get(request.annotation_id)
            return 1 if cached is not None and cached[0] == keys[request.annotation_id] else 2

        for request in sorted(self._requests, key=rank):
            label = labels[request.annotation_id]
            size = label.boundingRect().size()
            shape = shapes_at[request.annotation_id]
            cached = cache.get(request.annotation_id)
            if request.user is not None or request.fixed:
                at = box.mapViewToScene(
                    request.user if request.user is not None else request.near[0]
                )
                rect = _inside(QRectF(at, size), bounds)
            elif (
                cached is not None
                and cached[0] == keys[request.annotation_id]
                and not any(_overlap(_box(cached[1]), _box(other)) for other in placed)
            ):
                rect = cached[1]
            else:
                others = [r for i, r in shapes_at.items() if i != request.annotation_id]
                rect = _best_place(shape, size, bounds, placed, others)
            cache[request.annotation_id] = (keys[request.annotation_id], rect)
            placed.append(rect)
            self._label_rects[request.annotation_id] = rect
            top_left = box.mapSceneToView(rect.topLeft())
            self.label_at[request.annotation_id] = top_left
            label.setPos(top_left)
            self._add(label)
            away = _gap(rect, shape) > 2 * LABEL_OFFSET_PX
            if not request.fixed and (away or request.user is not None):
                self._leader(request, rect, label.colour)
        for stale in set(cache) - set(keys):
            del cache[stale]

    def _leader(self, request: _LabelRequest, rect: QRectF, colour: QColor) -> None:
        """A dashed line from the label's nearest edge to the shape's nearest point."""
        box = self.view_box
        centre = rect.center()
        scene_points = [box.mapViewToScene(p) for p in request.near]
        target = min(scene_points, key=lambda p: _distance(p, centre))
        start = QPointF(
            min(max(target.x(), rect.left()), rect.right()),
            min(max(target.y(), rect.top()), rect.bottom()),
        )
        if _distance(start, target) < 2:
            return
        path = QPainterPath(box.mapSceneToView(start))
        path.lineTo(box.mapSceneToView(target))
        item = QGraphicsPathItem(path)
        pen = QPen(colour, 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        item.setPen(pen)
        self._add(item)

    @property
    def label_rects(self) -> dict[str, QRectF]:
        """Each label's rectangle on screen (scene coordinates; tests read them)."""
        return dict(self._label_rects)

    # --- hit tests ------------------------------------------------------------------------
    def hit(self, view: Point) -> tuple[str, int] | None:
        """(annotation id, handle index, -1 for its body or :data:`LABEL_HANDLE` for its
        label) under the view point, the topmost first."""
        per_screen = self._view_per_screen()
        point = QPointF(*view)
        scene = self.view_box.mapViewToScene(point)
        for annotation_id, rect in reversed(self._label_rects.items()):
            if rect.contains(scene):
                return (annotation_id, LABEL_HANDLE)
        grab = GRAB_PX * per_screen
        for annotation_id, (outline, segments, handles) in reversed(self._outlines.items()):
            for index, handle in enumerate(handles):
                if _distance(point, handle) <= grab:
                    return (annotation_id, index)
            if len(outline) == 1 and _distance(point, outline[0]) <= grab * 2:
                return (annotation_id, -1)
            if any(_segment_distance(point, a, b) <= grab for a, b in segments):
                return (annotation_id, -1)
        return None


@dataclass(frozen=True)
class _LabelRequest:
    """A label to place: its lines, what it sits beside (view points), where the user put it
    (view, or None), and whether it stays at its point (a text annotation)."""

    annotation_id: str
    lines: list[str]
    colour: str
    near: list[QPointF]
    user: QPointF | None
    fixed: bool


def _bounding(points: Iterable[QPointF]) -> QRectF:
    xs, ys = zip(*((p.x(), p.y()) for p in points), strict=True)
    return QRectF(QPointF(min(xs), min(ys)), QPointF(max(xs), max(ys)))


def _inside(rect: QRectF, bounds: QRectF) -> QRectF:
    """``rect`` moved (not resized) to lie inside ``bounds`` as far as it can."""
    x = min(max(rect.left(), bounds.left()), max(bounds.left(), bounds.right() - rect.width()))
    y = min(max(rect.top(), bounds.top()), max(bounds.top(), bounds.bottom() - rect.height()))
    return QRectF(QPointF(x, y), rect.size())


#: A rectangle as (left, top, right, bottom): placement scores thousands of them per frame,
#: in plain floats.
Box = tuple[float, float, float, float]


def _box(rect: QRectF) -> Box:
    return (rect.left(), rect.top(), rect.right(), rect.bottom())


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


def _gap(rect: QRectF, shape: QRectF) -> float:
    """Screen pixels between a label and its shape's box (0 when they touch or overlap)."""
    dx = max(shape.left() - rect.right(), rect.left() - shape.right(), 0.0)
    dy = max(shape.top() - rect.bottom(), rect.top() - shape.bottom(), 0.0)
    return math.hypot(dx, dy)


def _candidates(shape: QRectF, width: float, height: float) -> Iterator[QPointF]:
    """Top left corners to try, nearest first: right of the shape, left, below, above, then
    farther up and down on either side."""
    gap = LABEL_OFFSET_PX
    right, left = shape.right() + gap, shape.left() - gap - width
    middle = shape.center().y() - height / 2
    centre_x = shape.center().x() - width / 2
    yield QPointF(right, middle)
    yield QPointF(right, shape.top())
    yield QPointF(right, shape.bottom() - height)
    yield QPointF(left, middle)
    yield QPointF(left, shape.top())
    yield QPointF(left, shape.bottom() - height)
    yield QPointF(centre_x, shape.bottom() + gap)
    yield QPointF(centre_x, shape.top() - gap - height)
    step = height / 2 + 4
    for ring in range(1, 12):
        for x in (right, left, centre_x):
            yield QPointF(x, middle - ring * step)
            yield QPointF(x, middle + ring * step)


def _best_place(
    shape: QRectF, size: Any, bounds: QRectF, placed: list[QRectF], others: list[QRectF]
) -> QRectF:
    """The candidate that leaves the view least, overlaps placed labels least, then other
    shapes, then its own, then is nearest; moved inside the view."""
    width, height = size.width(), size.height()
    area = width * height or 1.0
    view = _box(bounds)
    own = _box(shape)
    labels = [_box(r) for r in placed]
    obstacles = [_box(r) for r in others]
    best: tuple[float, float, float] | None = None
    for corner in _candidates(shape, width, height):
        x, y = corner.x(), corner.y()
        outside = area - _overlap((x, y, x + width, y + height), view)
        x = min(max(x, view[0]), max(view[0], view[2] - width))
        y = min(max(y, view[1]), max(view[1], view[3] - height))
        moved = (x, y, x + width, y + height)
        dx = max(own[0] - moved[2], moved[0] - own[2], 0.0)
        dy = max(own[1] - moved[3], moved[1] - own[3], 0.0)
        score = (
            outside / area * 20
            + sum(_overlap(moved, other) for other in labels) / area * 100
            + sum(_overlap(moved, other) for other in obstacles) / area * 3
            + _overlap(moved, own) / area * 2  # on its own shape: only where nothing else
            + math.hypot(dx, dy) / 200
        )
        if best is None or score < best[0]:
            best = (score, x, y)
            if score < 1e-3 + LABEL_OFFSET_PX / 200:
                break
    assert best is not None
    return QRectF(best[1], best[2], width, height)


def _handle(point: QPointF, per_screen: float, colour: str) -> QGraphicsRectItem:
    half = HANDLE_PX / 2
    item = QGraphicsRectItem(QRectF(-half, -half, HANDLE_PX, HANDLE_PX))
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
    item.setPos(point)
    item.setPen(QPen(QColor(colour), 1))
    item.setBrush(QBrush(QColor(0, 0, 0, 160)))
    item.setZValue(Z_VALUE + 2)
    return item


def _arrow_head(path: QPainterPath, tail: QPointF, head: QPointF, size: float) -> None:
    angle = math.atan2(head.y() - tail.y(), head.x() - tail.x())
    for turn in (math.radians(150), math.radians(-150)):
        path.moveTo(head)
        path.lineTo(head + QPointF(size * math.cos(angle + turn), size * math.sin(angle + turn)))


def _distance(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())


def _segment_distance(p: QPointF, a: QPointF, b: QPointF) -> float:
    dx, dy = b.x() - a.x(), b.y() - a.y()
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return _distance(p, a)
    t = max(0.0, min(1.0, ((p.x() - a.x()) * dx + (p.y() - a.y()) * dy) / length2))
    return _distance(p, QPointF(a.x() + t * dx, a.y() + t * dy))
