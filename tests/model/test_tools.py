"""The model's tools with plain numbers: gestures in, changes out (no Qt, no view)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.model.interaction import Interaction, WindowLevelDrag
from viewer.model.tools import registry
from viewer.model.tools.base import (
    MovePoint,
    PanBy,
    Pointer,
    RotatePlane,
    SetVoi,
    ShowRegion,
    StepSlices,
    ToolContext,
    ZoomBy,
)
from viewer.model.tools.pan import PanTool
from viewer.model.tools.region_window import RegionWindowTool
from viewer.model.tools.rotate_plane import RotatePlaneTool
from viewer.model.tools.scroll import SCROLL_DRAG_PIXELS, ScrollTool
from viewer.model.tools.window_level import WindowLevelTool
from viewer.model.tools.zoom import MAX_ZOOM, MIN_ZOOM, ZOOM_PER_DRAG_PIXEL, ZOOM_STEP, ZoomTool
from viewer.model.window_level import Voi


def move(dx: float = 0.0, dy: float = 0.0, at: tuple[float, float] = (10.0, 20.0)) -> Pointer:
    """A drag step by (dx, dy) screen pixels, 1 view unit per screen pixel."""
    last = (at[0] - dx, at[1] - dy)
    return Pointer(at, last, (0.0, 0.0), (dx, dy))


CT = ToolContext(Voi.from_center_width(40, 400), 4096.0, WindowLevelDrag())


@pytest.mark.parametrize("dx, dy", [(30, 0), (0, 30), (-12, 7), (0, 0)])
def test_window_level_drag_is_the_interaction_maths(dx: float, dy: float) -> None:
    (change,) = WindowLevelTool().drag(move(dx, dy), CT)
    assert change == SetVoi(WindowLevelDrag().apply(CT.voi, dx, dy, 4096.0))  # type: ignore[arg-type]
    if dx > 0:
        assert isinstance(change, SetVoi) and change.voi.width > 400


def test_window_level_without_a_window_does_nothing() -> None:
    assert WindowLevelTool().drag(move(5, 5), ToolContext(wl_drag=WindowLevelDrag())) == ()


def test_pan_follows_the_pointer() -> None:
    assert PanTool().drag(move(4, -3), CT) == (PanBy(-4, 3),)


def test_zoom_drag_up_enlarges_about_the_start_and_wheel_at_the_pointer() -> None:
    pointer = Pointer((5.0, 5.0), (5.0, 15.0), (1.0, 2.0), (0.0, -10.0))
    assert ZoomTool().drag(pointer, CT) == (ZoomBy(ZOOM_PER_DRAG_PIXEL**10, (1.0, 2.0)),)
    assert ZoomTool().wheel(pointer, 2.0, CT) == (ZoomBy(ZOOM_STEP**2, (5.0, 5.0)),)


@pytest.mark.parametrize("zoom", [0.01, 0.05, 0.3, 1.0, 3.5, 39.0, 40.0, 80.0])
@pytest.mark.parametrize("dy", [-400.0, -150.0, -1.0, 0.0, 1.0, 200.0, 5000.0])
@pytest.mark.parametrize("speed", [0.25, 1.0, 4.0])
def test_zoom_drag_is_proportional_and_bounded(zoom: float, dy: float, speed: float) -> None:
    pointer = Pointer((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, dy))
    context = ToolContext(zoom=zoom, zoom_speed=speed)
    (change,) = ZoomTool().drag(pointer, context)
    assert isinstance(change, ZoomBy)
    wanted = zoom * 2 ** (-dy * speed / 200)
    after = zoom * change.factor
    low, high = min(MIN_ZOOM, zoom), max(MAX_ZOOM, zoom)
    assert after == pytest.approx(min(max(wanted, low), high))
    assert low - 1e-12 <= after <= high + 1e-12  # never further out than it was


def test_scroll_drag_counts_whole_slices_and_keeps_the_rest() -> None:
    tool = ScrollTool()
    steps = [tool.drag(move(dy=SCROLL_DRAG_PIXELS * 0.75), CT) for _ in range(8)]
    assert sum(c.steps for changes in steps for c in changes if isinstance(c, StepSlices)) == 6
    assert tool.wheel(move(), 1.0, CT) == (StepSlices(-1),)  # away from you: previous
    assert tool.wheel(move(), -1.0, CT) == (StepSlices(1),)


def test_region_window_spans_the_values_under_the_rectangle() -> None:
    values = np.array([[-100.0, 0.0], [50.0, 300.0]])
    context = ToolContext(CT.voi, 1.0, None, region_values=lambda start, end: values)
    pointer = Pointer((8.0, 8.0), (7.0, 7.0), (2.0, 3.0))
    assert RegionWindowTool().drag(pointer, context) == (ShowRegion((2.0, 3.0), (8.0, 8.0), True),)
    hidden, window = RegionWindowTool().release(pointer, context)
    assert hidden == ShowRegion((2.0, 3.0), (8.0, 8.0), False)
    assert window == SetVoi(Voi(-100.0, 300.0), "Region window")


def test_crosshair_and_rotate_plane() -> None:
    crosshair = registry.make_tool("crosshair")
    assert crosshair is not None
    pointer = Pointer((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), patient=(1.0, 2.0, 3.0))
    assert crosshair.press(pointer, CT) == ()
    assert crosshair.release(pointer, CT) == (MovePoint((1.0, 2.0, 3.0)),)
    # a quarter turn about the anchor, from +x to +y (y down): clockwise on screen
    turn = Pointer((0.0, 10.0), (10.0, 0.0), (10.0, 0.0))
    (change,) = RotatePlaneTool().drag(turn, ToolContext(anchor=(0.0, 0.0)))
    assert change == RotatePlane(pytest.approx(math.pi / 2))


# --- adding a tool: one module (here: this class) + one registration ------------------------
class BrightestTool:
    """A made-up tool: any drag sets the window to [0, 1]."""

    def press(self, pointer: Pointer, context: ToolContext) -> tuple[()]:
        return ()

    def drag(self, pointer: Pointer, context: ToolContext) -> tuple[SetVoi]:
        return (SetVoi(Voi(0.0, 1.0)),)

    def release(self, pointer: Pointer, context: ToolContext) -> tuple[()]:
        return ()

    def wheel(self, pointer: Pointer, notches: float, context: ToolContext) -> tuple[()]:
        return ()

    def key(self, key: str, context: ToolContext) -> tuple[()]:
        return ()


def test_a_registered_tool_can_be_mapped_to_a_button() -> None:
    registry.register(registry.ToolSpec("brightest", "Brightest", BrightestTool, help="Bright"))
    try:
        assert registry.mouse_tools()["brightest"] == "Brightest"
        interaction = Interaction(mouse={"left": "brightest"})
        tool = registry.make_tool(interaction.action("left"))
        assert tool is not None and tool.drag(move(1, 1), CT) == (SetVoi(Voi(0.0, 1.0)),)
    finally:
        registry.unregister("brightest")
    assert "brightest" not in registry.mouse_tools()


def test_builtin_tools_keep_their_stored_names() -> None:
    """Settings store these names (mouse/left ...): they must not change."""
    assert list(registry.mouse_tools()) == [
        "window_level", "pan", "zoom", "scroll",
        # The measurement tools (issue 17) may be given to a button too.
        "length", "angle", "ellipse_roi", "rectangle_roi", "probe", "arrow", "text",
        "cobb", "bidirectional", "polygon_roi", "freehand_roi",
    ]  # fmt: skip


def test_draw_tools_answer_shapes_in_image_coordinates() -> None:
    """A length drag: the shape follows the pointer and is kept on release; an angle's first
    drag is unfinished and its next click closes it."""
    from viewer.model.tools.base import DrawShape

    length = registry.make_tool("length")
    assert length is not None
    context = ToolContext()
    a = Pointer((0, 0), (0, 0), (0, 0), image=(1.0, 2.0))
    b = Pointer((5, 5), (0, 0), (0, 0), image=(11.0, 2.0))
    length.press(a, context)
    assert length.drag(b, context) == (DrawShape("length", ((1.0, 2.0), (11.0, 2.0))),)
    assert length.release(b, context) == (DrawShape("length", ((1.0, 2.0), (11.0, 2.0)), True),)
    angle = registry.make_tool("angle")
    assert angle is not None
    angle.press(a, context)
    (first,) = angle.release(b, context)
    assert isinstance(first, DrawShape) and not first.finished
    closing = registry.make_tool("angle")
    assert closing is not None
    pending = ToolContext(pending=first.points)
    c = Pointer((9, 9), (9, 9), (9, 9), image=(11.0, 12.0))
    closing.press(c, pending)
    (shape,) = closing.release(c, pending)
    assert isinstance(shape, DrawShape) and shape.points == ((1.0, 2.0), (11.0, 2.0), (11.0, 12.0))
