"""Edit: a click selects the annotation under it; a drag moves it, or one of its points when
the drag starts on a handle. The whole drag is one undo step."""

from __future__ import annotations

from viewer.model.tools.base import (
    BaseTool,
    Changes,
    EditShape,
    Point,
    Pointer,
    SelectShape,
    ToolContext,
)
from viewer.model.tools.registry import ToolSpec

NAME = "edit"


class EditTool(BaseTool):
    def __init__(self) -> None:
        self._hit: tuple[str, int] | None = None
        self._start: Point | None = None

    def press(self, pointer: Pointer, context: ToolContext) -> Changes:
        self._hit = context.hit(pointer.view)
        self._start = pointer.image
        return (SelectShape(self._hit[0] if self._hit is not None else ""),)

    def _edit(self, pointer: Pointer, done: bool) -> Changes:
        if self._hit is None or self._start is None or pointer.image is None:
            return ()
        return (EditShape(self._hit[0], self._hit[1], self._start, pointer.image, done),)

    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        return self._edit(pointer, done=False)

    def release(self, pointer: Pointer, context: ToolContext) -> Changes:
        return self._edit(pointer, done=True)


SPEC = ToolSpec(
    NAME, "Select and move annotations", EditTool, help="Select, move, drag handles", mouse=False
)
