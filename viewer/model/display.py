"""The evented state of one image viewport (no Qt): stack, slice, VOI, invert, rotation/flip.

Views subscribe to :attr:`ViewState.changed`; the model never calls a view. Each emission names
what changed so a view redraws only that:

``"stack"``      a new stack (everything else was reset with it)
``"phase"``      another phase of the same run (time point, echo, b-value...): the slice at
                 the same position, window, invert, rotation and zoom kept
``"index"``      the slice shown
``"voi"``        the window (a VOI range, PS3.3 C.11.2.1.2)
``"invert"``     grey scale inverted on top of what the file asks for
``"transform"``  rotation or flip (:mod:`viewer.model.orientation`); the view keeps its zoom
                 and the image point at its centre
``"reset"``      back to how the stack first appeared (the view also refits zoom and pan)
"""

from __future__ import annotations

from collections.abc import Sequence

from viewer.dicom.catalog.geometry import pixel_to_patient
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.pixels.frames import DecodedFrame
from viewer.model.cross_reference import nearest_slice
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
    """What one viewport shows. Slice indices are 0-based in stack order.

    :attr:`stacks` are the stacks of the series shown (PS3.3 C.7.3.1 series split by
    viewer.dicom.catalog.stack); :attr:`stack_number` is the one shown. The stacks of one run
    (``Stack.group``) are its phases: :meth:`set_phase` and :meth:`step_phase` move between
    them keeping the slice position.
    """

    def __init__(self) -> None:
        self.changed = Signal()
        self.stack: Stack | None = None
        self.stacks: list[Stack] = []
        self.stack_number = 0
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
        #: Who the series shown is of (PatientInfo.key: ID and name), "" when unknown.
        self.patient = ""

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
        patient: str = "",
    ) -> None:
        """Show ``stack`` (a series of that one stack); VOI, invert and rotation are reset (the
        first frame's window applies)."""
        self.stacks = [stack] if stack is not None else []
        self.stack_number = 0
        self._show(stack, index, frame_of_reference, modality, series_uid, patient)

    def set_series(
        self,
        stacks: Sequence[Stack],
        stack_number: int = 0,
        index: int | None = None,
        frame_of_reference: str = "",
        modality: str = "",
        series_uid: str = "",
        patient: str = "",
    ) -> None:
        """Show stack ``stack_number`` of a series' ``stacks`` (reset as :meth:`set_stack`)."""
        self.stacks = list(stacks)
        if not self.stacks:
            self.set_stack(None, index, frame_of_reference, modality, series_uid, patient)
            return
        self.stack_number = min(max(stack_number, 0), len(self.stacks) - 1)
        shown = self.stacks[self.stack_number]
        self._show(shown, index, frame_of_reference, modality, series_uid, patient)

    def _show(
        self,
        stack: Stack | None,
        index: int | None,
        frame_of_reference: str,
        modality: str,
        series_uid: str,
        patient: str = "",
    ) -> None:
        self.stack = stack
        self.voi = None
        self.invert = False
        self.screen_matrix = IDENTITY
        self.frame_of_reference = frame_of_reference
        self.modality = modality
        self.series_uid = series_uid
        self.patient = patient
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

    # --- phases ----------------------------------------------------------------------------
    def phase_numbers(self) -> list[int]:
        """Numbers (in :attr:`stacks`) of the shown stack's run, in phase order."""
        if self.stack is None or not self.stacks:
            return []
        group = self.stack.group
        members = [n for n, stack in enumerate(self.stacks) if stack.group == group]
        return sorted(members, key=lambda n: self.stacks[n].phase)

    @property
    def phase_count(self) -> int:
        return len(self.phase_numbers())

    @property
    def phase(self) -> int:
        """The shown stack's 0-based position among its run's phases."""
        numbers = self.phase_numbers()
        return numbers.index(self.stack_number) if self.stack_number in numbers else 0

    def set_phase(self, phase: int) -> None:
        """Show phase ``phase`` (0-based, clamped) of the shown run at the slice nearest the
        one shown now (by Image Position (Patient) along the normal; the same index when the
        stacks have no positions). Window, invert and rotation stay; emits "phase"."""
        numbers = self.phase_numbers()
        if not numbers:
            return
        number = numbers[min(max(phase, 0), len(numbers) - 1)]
        if number == self.stack_number:
            return
        target = self.stacks[number]
        self.index = self._matching_index(target)
        self.stack_number = number
        self.stack = target
        self.changed.emit("phase")

    def refresh_series(self, stacks: Sequence[Stack], stack_number: int | None = None) -> None:
        """The series shown, again, with more of its instances (a retrieve filling it in; a
        partial series may split into several stacks until its gaps fill): stack
        ``stack_number`` (default: the same number), the slice nearest the one shown (by
        position), window, invert and rotation kept; emits "phase" (the view keeps its
        window and zoom)."""
        if not stacks:
            return
        self.stacks = list(stacks)
        wanted = self.stack_number if stack_number is None else stack_number
        number = min(max(wanted, 0), len(self.stacks) - 1)
        target = self.stacks[number]
        self.index = self._matching_index(target) if self.stack is not None else 0
        self.stack_number = number
        self.stack = target
        self.changed.emit("phase")

    def step_phase(self, delta: int, wrap: bool = False) -> None:
        """The previous/next phase; ``wrap`` goes round from the last to the first."""
        count = self.phase_count
        if count < 2:
            return
        phase = self.phase + delta
        self.set_phase(phase % count if wrap else phase)

    def _matching_index(self, target: Stack) -> int:
        current = self.stack
        last = max(target.frames - 1, 0)
        if (
            current is not None
            and current.positions is not None
            and current.orientation is not None
            and target.positions is not None
            and target.orientation is not None
        ):
            nearest = nearest_slice(
                target.positions,
                target.orientation,
                current.positions[self.index],
                current.orientation,
                tolerance_mm=float("inf"),
            )
            if nearest is not None:
                return nearest
        return min(self.index, last)

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
