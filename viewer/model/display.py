"""The evented state of one image viewport (no Qt): stack, slice, VOI, invert, rotation/flip.

Views subscribe to :attr:`ViewState.changed`; the model never calls a view. Each emission names
what changed so a view redraws only that:

``"stack"``      a new stack (everything else was reset with it)
``"index"``      the slice shown
``"voi"``        the window (a VOI range, PS3.3 C.11.2.1.2)
``"invert"``     grey scale inverted on top of what the file asks for
``"transform"``  rotation or flip (:mod:`viewer.model.orientation`); the view keeps its zoom
                 and the image point at its centre
``"reset"``      back to how the stack first appeared (the view also refits zoom and pan)
"""

from __future__ import annotations

from viewer.dicom.catalog.geometry import pixel_to_patient
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.pixels.frames import DecodedFrame
from viewer.model.orientation import (
    FLIP_HORIZONTAL,
    FLIP_VERTICAL,
    IDENTITY,
    ROTATE_CLOCKWISE,
    ROTATE_COUNTERCLOCKWISE,
    ScreenMatrix,
    compose,
)
from viewer.model.presentation import initial_voi
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
        self.screen_matrix: ScreenMatrix = IDENTITY
        #: Frame of Reference UID of the series shown (PS3.3 C.7.4.1), "" when unknown.
        self.frame_of_reference = ""
        #: Modality of the series shown (selects the window presets), "" when unknown.
        self.modality = ""
        #: Series Instance UID of the series shown, "" when unknown.
        self.series_uid = ""

    @property
    def frame_count(self) -> int:
        return self.stack.frames if self.stack is not None else 0

    def set_stack(
        self,
        stack: Stack | None,
        index: int | None = None,
        frame_of_reference: str = "",
        modality: str = "",
        series_uid: str = "",
    ) -> None:
        """Show ``stack``; VOI, invert and rotation are reset (the first frame's window applies)."""
        self.stack = stack
        self.voi = None
        self.invert = False
        self.screen_matrix = IDENTITY
        self.frame_of_reference = frame_of_reference
        self.modality = modality
        self.series_uid = series_uid
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

    def use_initial_window(self, frame: DecodedFrame) -> bool:
        """Open the window ``frame`` starts with (its file's first window, else one over its
        values: PS3.3 C.11.2.1.2) and emit "voi"; False (nothing emitted) where none applies
        (colour, palette, or a VOI LUT table: ``voi`` stays None)."""
        voi = initial_voi(frame)
        if voi is None or voi == self.voi:
            return False
        self.set_voi(voi)
        return True

    def patient_point(
        self, column: float, row: float, pixel_spacing: tuple[float, float]
    ) -> tuple[float, float, float] | None:
        """LPS mm of (``column``, ``row``) on the slice shown, pixel centres at whole numbers
        (None without a position and orientation)."""
        stack = self.stack
        if stack is None or stack.positions is None or stack.orientation is None:
            return None
        position = stack.positions[self.index]
        return pixel_to_patient(position, stack.orientation, pixel_spacing, column, row)

    def set_invert(self, invert: bool) -> None:
        if invert != self.invert:
            self.invert = invert
            self.changed.emit("invert")

    def toggle_invert(self) -> None:
        self.set_invert(not self.invert)

    def set_screen_matrix(self, matrix: ScreenMatrix) -> None:
        if matrix != self.screen_matrix:
            self.screen_matrix = matrix
            self.changed.emit("transform")

    def rotate(self, clockwise: bool = True) -> None:
        """Turn the view a quarter turn (about the centre of the view, zoom unchanged)."""
        turn = ROTATE_CLOCKWISE if clockwise else ROTATE_COUNTERCLOCKWISE
        self.set_screen_matrix(compose(turn, self.screen_matrix))

    def flip(self, horizontal: bool = True) -> None:
        """Mirror the view left-right (``horizontal``) or top-bottom, as it is on screen (about
        the centre of the view, zoom unchanged)."""
        mirror = FLIP_HORIZONTAL if horizontal else FLIP_VERTICAL
        self.set_screen_matrix(compose(mirror, self.screen_matrix))

    def reset(self) -> None:
        """Default window, no invert, no rotation or flip; the view refits zoom and pan."""
        self.voi = None
        self.invert = False
        self.screen_matrix = IDENTITY
        self.changed.emit("reset")
