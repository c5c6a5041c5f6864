"""Crosshair: a click or drag puts the planes' common point under the pointer (MPR).

The point follows every move of a drag and lands where the button comes up; a click (press
then release, no move) puts it there.
"""

from __future__ import annotations

from viewer.model.tools.base import BaseTool, Changes, MovePoint, Pointer, ToolContext
from viewer.model.tools.registry import ToolSpec

NAME = "crosshair"


class CrosshairTool(BaseTool):
    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        return (MovePoint(pointer.patient),) if pointer.patient is not None else ()

    def release(self, pointer: Pointer, context: ToolContext) -> Changes:
        return self.drag(pointer, context)


SPEC = ToolSpec(NAME, "Crosshair", CrosshairTool, mouse=False)
