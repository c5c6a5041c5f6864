"""Window/level: a drag moves the window (PS3.3 C.11.2.1.2), in the user's speed and direction.

Horizontal changes the width, vertical the level (:mod:`viewer.model.window_level`, Weasis and
3D Slicer's convention); the speed scales with the image's value range.
"""

from __future__ import annotations

from viewer.model.tools.base import BaseTool, Changes, Pointer, SetVoi, ToolContext
from viewer.model.tools.registry import ToolSpec

NAME = "window_level"


class WindowLevelTool(BaseTool):
    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        if context.voi is None or context.wl_drag is None:
            return ()
        dx, dy = pointer.screen_delta
        return (SetVoi(context.wl_drag.apply(context.voi, dx, dy, context.value_range)),)


SPEC = ToolSpec(NAME, "Window/level", WindowLevelTool, help="Window/level")
