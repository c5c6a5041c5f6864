"""Rotate plane: dragging a crosshair line's handle turns that plane about the point (MPR)."""

from __future__ import annotations

import math

from viewer.model.tools.base import (
    BaseTool,
    Changes,
    Point,
    Pointer,
    RotatePlane,
    ToolContext,
)
from viewer.model.tools.registry import ToolSpec

NAME = "rotate_plane"


def _angle(position: Point, centre: Point) -> float:
    return math.atan2(position[1] - centre[1], position[0] - centre[0])


class RotatePlaneTool(BaseTool):
    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        if context.anchor is None:
            return ()
        turn = _angle(pointer.view, context.anchor) - _angle(pointer.last_view, context.anchor)
        turn = (turn + math.pi) % (2 * math.pi) - math.pi
        return (RotatePlane(turn),) if abs(turn) > 1e-6 else ()


SPEC = ToolSpec(NAME, "Rotate plane", RotatePlaneTool, mouse=False)
