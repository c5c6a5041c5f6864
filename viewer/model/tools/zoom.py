"""Zoom: a drag up enlarges about where it started; a wheel notch zooms at the pointer.

A drag zooms in proportion to how far it goes, about 2x per 200 screen pixels (Weasis and OHIF
feel alike), times the user's speed (Preferences > Mouse), and never past
:data:`MIN_ZOOM`..:data:`MAX_ZOOM` screen pixels per image pixel when the view says how far
it is zoomed (``ToolContext.zoom``).
"""

from __future__ import annotations

from viewer.model.tools.base import BaseTool, Changes, Pointer, ToolContext, ZoomBy
from viewer.model.tools.registry import ToolSpec

NAME = "zoom"
#: Zoom factor per wheel notch (Ctrl+wheel) and per Ctrl +/- key.
ZOOM_STEP = 1.25
#: A zoom drag enlarges this much per screen pixel upwards: 2x per 200 px.
ZOOM_PER_DRAG_PIXEL = 2.0 ** (1.0 / 200.0)
#: Zoom bounds, in screen pixels per image pixel.
MIN_ZOOM, MAX_ZOOM = 0.05, 40.0


def bounded(factor: float, zoom: float | None) -> float:
    """``factor`` cut so that ``zoom * factor`` stays within MIN_ZOOM..MAX_ZOOM (a view
    already outside only moves back towards them); unchanged when ``zoom`` is unknown."""
    if zoom is None or zoom <= 0:
        return factor
    low, high = min(MIN_ZOOM, zoom), max(MAX_ZOOM, zoom)
    return min(max(zoom * factor, low), high) / zoom


class ZoomTool(BaseTool):
    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        dy = pointer.screen_delta[1]
        factor = bounded(ZOOM_PER_DRAG_PIXEL ** (-dy * context.zoom_speed), context.zoom)
        return (ZoomBy(factor, pointer.start_view),)

    def wheel(self, pointer: Pointer, notches: float, context: ToolContext) -> Changes:
        return (ZoomBy(bounded(ZOOM_STEP**notches, context.zoom), pointer.view),)


SPEC = ToolSpec(NAME, "Zoom", ZoomTool, help="Zoom (up enlarges, about 2x per 200 px)")
