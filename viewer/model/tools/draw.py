"""Drawing tools: a drag (or a click) draws a measurement or an annotation.

Length, arrow, ellipse and rectangle span from where the button went down to where it comes
up; a point probe and a text label are a click. An angle is two gestures: the first drag
draws one arm from its end to the vertex, the next click (or drag) places the other arm's end.
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


class DrawTool(BaseTool):
    """Draws one shape of ``kind``."""

    kind = shapes.LENGTH

    def __init__(self) -> None:
        self._start: Point | None = None
        self._pending: tuple[Point, ...] = ()

    def press(self, pointer: Pointer, context: ToolContext) -> Changes:
        self._start = pointer.image
        if self.kind == shapes.ANGLE and len(context.pending) == 2:
            self._pending = context.pending
        return (SelectShape(""),)

    def _shape(self, pointer: Pointer, done: bool) -> Changes:
        start, end = self._start, pointer.image
        if start is None or end is None:
            return ()
        if self.kind in (shapes.POINT, shapes.TEXT):
            return (DrawShape(self.kind, (end,), done),) if done else ()
        if self.kind == shapes.ANGLE:
            if self._pending:
                return (DrawShape(self.kind, (*self._pending, end), done),)
            return (DrawShape(self.kind, (start, end), done, finished=False),)
        return (DrawShape(self.kind, (start, end), done),)

    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        return self._shape(pointer, done=False)

    def release(self, pointer: Pointer, context: ToolContext) -> Changes:
        return self._shape(pointer, done=True)


def _tool(kind: str) -> type[DrawTool]:
    return type(f"Draw{kind.capitalize()}Tool", (DrawTool,), {"kind": kind})


LengthTool = _tool(shapes.LENGTH)
AngleTool = _tool(shapes.ANGLE)
EllipseTool = _tool(shapes.ELLIPSE)
RectangleTool = _tool(shapes.RECTANGLE)
ProbeTool = _tool(shapes.POINT)
ArrowTool = _tool(shapes.ARROW)
TextTool = _tool(shapes.TEXT)

LENGTH = "length"
ANGLE = "angle"
ELLIPSE = "ellipse_roi"
RECTANGLE = "rectangle_roi"
PROBE = "probe"
ARROW = "arrow"
TEXT = "text"

SPECS = (
    ToolSpec(LENGTH, "Length", LengthTool, help="Measure a length"),
    ToolSpec(ANGLE, "Angle", AngleTool, help="Draw one arm to the vertex, then click the other"),
    ToolSpec(ELLIPSE, "Ellipse ROI", EllipseTool, help="Ellipse ROI with statistics"),
    ToolSpec(RECTANGLE, "Rectangle ROI", RectangleTool, help="Rectangle ROI with statistics"),
    ToolSpec(PROBE, "Point probe", ProbeTool, help="The value under a click"),
    ToolSpec(ARROW, "Arrow", ArrowTool, help="Draw an arrow (tail to head)"),
    ToolSpec(TEXT, "Text", TextTool, help="Place a text label"),
)
