"""What a tool is: pointer gestures in, state changes out (no Qt).

A view turns each mouse gesture into calls on one :class:`Tool` (``press``, ``drag`` for every
move, ``release``; ``wheel``; ``key``), each with a :class:`Pointer` (where the pointer is in
view, image and patient coordinates) and a :class:`ToolContext` (what the tool may read of the
view). A tool answers the :data:`Change` s it wants; the view applies them (its state emits the
events its widgets redraw on). Tools never touch a view, so the same tool drives the 2D
viewports and the MPR views (viewer.qt.tool_adapter is the one Qt side), and a test can drive
a tool with plain numbers.

Coordinates: *view* is the view's scene in millimetres (y down, like the screen), *image* the
continuous (column, row) of the shown pixels (pixel (0, 0) spans [0, 1)), *patient* LPS
millimetres (PS3.3 C.7.6.2.1.1), None where the image has no position in the patient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from numpy.typing import NDArray

from viewer.model.window_level import Voi

Point = tuple[float, float]
Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Pointer:
    """The pointer at one event of a gesture."""

    view: Point
    #: Where the previous event of this gesture was (at the first: where the button went down).
    last_view: Point
    #: Where the button went down.
    start_view: Point
    #: Screen pixels moved since the previous event (dy > 0: down).
    screen_delta: Point = (0.0, 0.0)
    image: Point | None = None
    patient: Vec3 | None = None
    shift: bool = False
    control: bool = False


def _no_values(_start: Point, _end: Point) -> NDArray[Any] | None:
    return None


def _no_hit(_view: Point) -> tuple[str, int] | None:
    return None


@dataclass(frozen=True)
class ToolContext:
    """What a tool may read of the view it acts on."""

    #: The window a window/level gesture starts from; None where W/L does not apply (colour,
    #: palette, nothing shown).
    voi: Voi | None = None
    #: The spread of the image's modality values (W/L drag speed scales with it).
    value_range: float = 1.0
    #: The user's W/L drag speed and directions (viewer.model.interaction.WindowLevelDrag).
    wl_drag: Any = None
    #: Modality values of the image under the view rectangle between two view points (None:
    #: no greyscale pixels there).
    region_values: Callable[[Point, Point], NDArray[Any] | None] = field(default=_no_values)
    #: The crosshair's point in view coordinates (MPR), else None.
    anchor: Point | None = None
    #: How far the view is zoomed (screen pixels per image pixel), None where unknown.
    zoom: float | None = None
    #: The user's zoom drag speed, a factor on 2x per 200 px (Preferences > Mouse).
    zoom_speed: float = 1.0
    #: The annotation under a view point: (its id, the handle's index or -1 for its body),
    #: else None.
    hit: Callable[[Point], tuple[str, int] | None] = field(default=_no_hit)
    #: Image points of a shape drawn in more than one gesture and not finished (an angle's
    #: first arm), else empty.
    pending: tuple[Point, ...] = ()


# --- changes ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SetVoi:
    """Show this window; ``name`` says where it came from ("" for a drag)."""

    voi: Voi
    name: str = ""


@dataclass(frozen=True, slots=True)
class PanBy:
    """Move the visible area by (dx, dy) view units (the image moves the other way)."""

    dx: float
    dy: float


@dataclass(frozen=True, slots=True)
class ZoomBy:
    """Enlarge ``factor`` times about ``centre`` (view coordinates)."""

    factor: float
    centre: Point | None = None


@dataclass(frozen=True, slots=True)
class StepSlices:
    """Go ``steps`` slices on (negative: back)."""

    steps: int


@dataclass(frozen=True, slots=True)
class MovePoint:
    """Put the crosshair's point (the planes' intersection) at ``patient`` (LPS mm)."""

    patient: Vec3


@dataclass(frozen=True, slots=True)
class RotatePlane:
    """Turn the view's plane ``radians`` about the crosshair's point (clockwise on screen)."""

    radians: float


@dataclass(frozen=True, slots=True)
class ShowRegion:
    """Show (or hide) the rectangle a region gesture spans, in view coordinates."""

    start: Point
    end: Point
    visible: bool


@dataclass(frozen=True, slots=True)
class DrawShape:
    """Show the shape being drawn (image coordinates, viewer.model.annotations.shapes);
    ``done``: the gesture ended, keep it (``finished`` False: it needs another gesture)."""

    kind: str
    points: tuple[Point, ...]
    done: bool = False
    finished: bool = True


@dataclass(frozen=True, slots=True)
class EditShape:
    """Move annotation ``annotation_id`` (``handle`` -1) or one of its points by the image
    offset from ``start`` to ``end``; ``done``: the gesture ended (one undo step)."""

    annotation_id: str
    handle: int
    start: Point
    end: Point
    done: bool = False


@dataclass(frozen=True, slots=True)
class SelectShape:
    """Select annotation ``annotation_id`` ("" selects none)."""

    annotation_id: str


Change = (
    SetVoi | PanBy | ZoomBy | StepSlices | MovePoint | RotatePlane | ShowRegion
    | DrawShape | EditShape | SelectShape
)  # fmt: skip
Changes = Sequence[Change]


class Tool(Protocol):
    """One gesture's tool; a new one is made for every gesture (it may keep state in it)."""

    def press(self, pointer: Pointer, context: ToolContext) -> Changes: ...

    def drag(self, pointer: Pointer, context: ToolContext) -> Changes: ...

    def release(self, pointer: Pointer, context: ToolContext) -> Changes: ...

    def wheel(self, pointer: Pointer, notches: float, context: ToolContext) -> Changes: ...

    def key(self, key: str, context: ToolContext) -> Changes: ...


class BaseTool:
    """A tool that does nothing; real tools override the gestures they use."""

    def press(self, pointer: Pointer, context: ToolContext) -> Changes:
        return ()

    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        return ()

    def release(self, pointer: Pointer, context: ToolContext) -> Changes:
        return ()

    def wheel(self, pointer: Pointer, notches: float, context: ToolContext) -> Changes:
        return ()

    def key(self, key: str, context: ToolContext) -> Changes:
        return ()
