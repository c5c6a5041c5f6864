"""Scroll: slices follow a vertical drag (down: next) or the wheel (towards you: next)."""

from __future__ import annotations

import math

from viewer.model.tools.base import BaseTool, Changes, Pointer, StepSlices, ToolContext
from viewer.model.tools.registry import ToolSpec

NAME = "scroll"
#: A scroll drag moves one slice per this many screen pixels (down: next slice).
SCROLL_DRAG_PIXELS = 6.0


class ScrollTool(BaseTool):
    def __init__(self) -> None:
        self._rest = 0.0  # drag not yet worth a slice

    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        self._rest += pointer.screen_delta[1]
        steps = int(self._rest / SCROLL_DRAG_PIXELS)
        if not steps:
            return ()
        self._rest -= steps * SCROLL_DRAG_PIXELS
        return (StepSlices(steps),)

    def wheel(self, pointer: Pointer, notches: float, context: ToolContext) -> Changes:
        return (StepSlices(-int(math.copysign(1, notches))),) if notches else ()


SPEC = ToolSpec(NAME, "Scroll slices", ScrollTool, help="Scroll slices (down: next)")
