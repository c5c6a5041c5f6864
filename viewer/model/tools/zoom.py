"""Zoom: a drag up enlarges about where it started; a wheel notch zooms at the pointer."""

from __future__ import annotations

from viewer.model.tools.base import BaseTool, Changes, Pointer, ToolContext, ZoomBy
from viewer.model.tools.registry import ToolSpec

NAME = "zoom"
#: Zoom factor per wheel notch (Ctrl+wheel) and per Ctrl +/- key.
ZOOM_STEP = 1.25
#: A zoom drag enlarges this much per screen pixel upwards (pyqtgraph's right-drag rate).
ZOOM_PER_DRAG_PIXEL = 1.02


class ZoomTool(BaseTool):
    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        dy = pointer.screen_delta[1]
        return (ZoomBy(ZOOM_PER_DRAG_PIXEL ** (-dy), pointer.start_view),)

    def wheel(self, pointer: Pointer, notches: float, context: ToolContext) -> Changes:
        return (ZoomBy(ZOOM_STEP**notches, pointer.view),)


SPEC = ToolSpec(NAME, "Zoom", ZoomTool, help="Zoom (up enlarges)")
