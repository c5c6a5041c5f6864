"""Pan: the image follows the pointer."""

from __future__ import annotations

from viewer.model.tools.base import BaseTool, Changes, PanBy, Pointer, ToolContext
from viewer.model.tools.registry import ToolSpec

NAME = "pan"


class PanTool(BaseTool):
    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        (x0, y0), (x1, y1) = pointer.last_view, pointer.view
        return (PanBy(x0 - x1, y0 - y1),)


SPEC = ToolSpec(NAME, "Pan", PanTool, help="Pan")
