"""The evented state of one image viewport (no Qt): stack, slice, VOI, invert.

Views subscribe to :attr:`ViewState.changed`; the model never calls a view. Each emission names
what changed (``"stack"``, ``"index"``, ``"voi"``, ``"invert"``) so a view redraws only that.
"""

from __future__ import annotations

from viewer.dicom.stack import Stack
from viewer.model.signal import Signal
from viewer.model.window_level import Voi


class ViewState:
    """What one viewport shows. Slice indices are 0-based in stack order."""

    def __init__(self) -> None:
        self.changed = Signal()
        self.stack: Stack | None = None
        self.index = 0
        self.voi: Voi | None = None
        self.invert = False

    @property
    def frame_count(self) -> int:
        return self.stack.frames if self.stack is not None else 0

    def set_stack(self, stack: Stack | None, index: int | None = None) -> None:
        """Show ``stack``; the VOI is cleared so the first frame's default window applies."""
        self.stack = stack
        self.voi = None
        self.invert = False
        count = self.frame_count
        self.index = min(max(index if index is not None else count // 2, 0), max(count - 1, 0))
        self.changed.emit("stack")

    def set_index(self, index: int) -> None:
        clamped = min(max(index, 0), max(self.frame_count - 1, 0))
        if clamped != self.index:
            self.index = clamped
            self.changed.emit("index")

    def step(self, delta: int) -> None:
        self.set_index(self.index + delta)

    def set_voi(self, voi: Voi) -> None:
        if voi != self.voi:
            self.voi = voi
            self.changed.emit("voi")

    def set_invert(self, invert: bool) -> None:
        if invert != self.invert:
            self.invert = invert
            self.changed.emit("invert")
