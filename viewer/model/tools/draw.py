"""Drawing tools: a drag (or a click) draws a measurement or an annotation.

Length, arrow, ellipse and rectangle span from where the button went down to where it comes
up; a point probe and a text label are a click. An angle is two gestures: the first drag
draws one arm from its end to the vertex, the next click (or drag) places the other arm's end.
A Cobb angle is two drags, one line along each endplate. A bidirectional measurement is one
drag along the long axis; its short axis crosses it at right angles (drag its handles). A
polygon is a click per vertex, closed by a click on its first vertex or a double click; a
freehand ROI is traced in one drag and closed when the button comes up.
Points are image coordinates (:mod:`viewer.model.annotations.shapes`); the view keeps the shape
(:class:`~viewer.model.tools.base.DrawShape`) in the session's annotation store.
"""

from __future__ import annotations

from viewer.model.annotations import shapes
from viewer.model.tools.base import (
    BaseTool,
    Changes,
    DrawShape,
    Point,
    Pointer,
    SelectShape,
    ToolContext,
)
from viewer.model.tools.registry import ToolSpec

#: A click this many screen pixels from a polygon's first (or last) vertex closes it.
CLOSE_PX = 8.0
#: A freehand trace keeps a point once the pointer is this many screen pixels from the last.
TRACE_PX = 2.0


def _near(a: Point, b: Point, screen_px: float, context: ToolContext) -> bool:
    zoom = context.zoom or 1.0  # screen pixels per image pixel
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 * zoom <= screen_px


class DrawTool(BaseTool):
    """Draws one shape of ``kind``."""

    kind = shapes.LENGTH

    def __init__(self) -> None:
        self._start: Point | None = None
        self._pending: tuple[Point, ...] = ()

        self._trace: list[Point] = []

    def press(self, pointer: Pointer, context: ToolContext) -> Changes:
        self._start = pointer.image
        two_gestures = self.kind in (shapes.ANGLE, shapes.COBB) and len(context.pending) == 2
        if two_gestures or self.kind == shapes.POLYGON:
            self._pending = context.pending
        if self.kind == shapes.FREEHAND and pointer.image is not None:
            self._trace = [pointer.image]
        return (SelectShape(""),)

    def _shape(self, pointer: Pointer, context: ToolContext, done: bool) -> Changes:
        start, end = self._start, pointer.image
        if start is None or end is None:
            return ()
        kind = self.kind
        if kind in (shapes.POINT, shapes.TEXT):
            return (DrawShape(kind, (end,), done),) if done else ()
        if kind in (shapes.ANGLE, shapes.COBB):
            if self._pending:
                tail = (end,) if kind == shapes.ANGLE else (start, end)
                return (DrawShape(kind, (*self._pending, *tail), done),)
            return (DrawShape(kind, (start, end), done, finished=False),)
        if kind == shapes.BIDIRECTIONAL:
            return (DrawShape(kind, shapes.bidirectional_axes((start, end)), done),)
        if kind == shapes.POLYGON:
            return self._polygon(end, context, done)
        if kind == shapes.FREEHAND:
            if not self._trace or not _near(self._trace[-1], end, TRACE_PX, context):
                self._trace.append(end)
            points = tuple(self._trace)
            if done and len(points) < 3:
                return (DrawShape(kind, (), done),)
            return (DrawShape(kind, points, done),)
        return (DrawShape(kind, (start, end), done),)

    def _polygon(self, end: Point, context: ToolContext, done: bool) -> Changes:
        pending = self._pending
        closing = len(pending) >= 3 and (
            _near(pending[0], end, CLOSE_PX, context) or _near(pending[-1], end, CLOSE_PX, context)
        )
        if closing:
            return (DrawShape(shapes.POLYGON, pending, done),) if done else ()
        return (DrawShape(shapes.POLYGON, (*pending, end), done, finished=False),)

    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        return self._shape(pointer, context, done=False)

    def release(self, pointer: Pointer, context: ToolContext) -> Changes:
        return self._shape(pointer, context, done=True)


def _tool(kind: str) -> type[DrawTool]:
    return type(f"Draw{kind.capitalize()}Tool", (DrawTool,), {"kind": kind})


LengthTool = _tool(shapes.LENGTH)
AngleTool = _tool(shapes.ANGLE)
EllipseTool = _tool(shapes.ELLIPSE)
RectangleTool = _tool(shapes.RECTANGLE)
ProbeTool = _tool(shapes.POINT)
ArrowTool = _tool(shapes.ARROW)
TextTool = _tool(shapes.TEXT)
CobbTool = _tool(shapes.COBB)
BidirectionalTool = _tool(shapes.BIDIRECTIONAL)
PolygonTool = _tool(shapes.POLYGON)
FreehandTool = _tool(shapes.FREEHAND)

LENGTH = "length"
ANGLE = "angle"
ELLIPSE = "ellipse_roi"
RECTANGLE = "rectangle_roi"
PROBE = "probe"
ARROW = "arrow"
TEXT = "text"
COBB = "cobb"
BIDIRECTIONAL = "bidirectional"
POLYGON = "polygon_roi"
FREEHAND = "freehand_roi"

SPECS = (
    ToolSpec(LENGTH, "Length", LengthTool, help="Measure a length"),
    ToolSpec(ANGLE, "Angle", AngleTool, help="Draw one arm to the vertex, then click the other"),
    ToolSpec(ELLIPSE, "Ellipse ROI", EllipseTool, help="Ellipse ROI with statistics"),
    ToolSpec(RECTANGLE, "Rectangle ROI", RectangleTool, help="Rectangle ROI with statistics"),
    ToolSpec(PROBE, "Point probe", ProbeTool, help="The value under a click"),
    ToolSpec(ARROW, "Arrow", ArrowTool, help="Draw an arrow (tail to head)"),
    ToolSpec(TEXT, "Text", TextTool, help="Place a text label"),
    ToolSpec(COBB, "Cobb angle", CobbTool, help="Drag along one endplate, then the other"),
    ToolSpec(
        BIDIRECTIONAL,
        "Bidirectional",
        BidirectionalTool,
        help="Drag the long axis; the short axis crosses it at right angles (RECIST)",
    ),
    ToolSpec(
        POLYGON,
        "Polygon ROI",
        PolygonTool,
        help="Click each vertex; click the first again or double-click to close",
    ),
    ToolSpec(FREEHAND, "Freehand ROI", FreehandTool, help="Trace the outline in one drag"),
)
