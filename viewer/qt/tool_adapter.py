"""The one Qt side of the model's tools: pyqtgraph mouse events -> a tool -> changes.

Every image view (the 2D viewports, the MPR views) forwards its ViewBox's drag, click and
wheel events here. The adapter asks the view which tool a gesture uses (:attr:`bind`), makes
a fresh one (viewer.model.tools.registry), feeds it :class:`~viewer.model.tools.base.Pointer` s
and applies what it answers: pan and zoom on the ViewBox itself, everything else through the
view's :attr:`apply`. A tool never sees Qt.

Gesture order: ``press`` once at the start of a drag (where the button went down), then
``drag`` for every move (the first included), then ``release`` after the last move. A click
without a drag is ``press`` then ``release``. The wheel goes to :attr:`wheel_tool`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt

from viewer.model.tools.base import (
    Change,
    Changes,
    PanBy,
    Point,
    Pointer,
    Tool,
    ToolContext,
    Vec3,
    ZoomBy,
)
from viewer.model.tools.registry import make_tool
from viewer.model.tools.scroll import NAME as SCROLL
from viewer.model.tools.zoom import NAME as ZOOM

MOUSE_BUTTON_NAMES = {
    Qt.MouseButton.LeftButton: "left",
    Qt.MouseButton.MiddleButton: "middle",
    Qt.MouseButton.RightButton: "right",
}


@dataclass(frozen=True, slots=True)
class Press:
    """What a view needs to pick a gesture's tool."""

    button: str  # "left", "middle", "right" ("" for others)
    view: Point  # where the button went down, view coordinates
    shift: bool
    control: bool
    click: bool  # a click without a drag


def _point(point: QPointF) -> Point:
    return (float(point.x()), float(point.y()))


def _no_patient(_view: Point) -> Vec3 | None:
    return None


def _no_image(_view: Point) -> Point | None:
    return None


class ToolAdapter:
    """Drives the model's tools from one ViewBox's mouse events."""

    def __init__(
        self,
        view_box: pg.ViewBox,
        bind: Callable[[Press], str],
        context: Callable[[], ToolContext],
        apply: Callable[[Change], None],
        to_image: Callable[[Point], Point | None] = _no_image,
        to_patient: Callable[[Point], Vec3 | None] = _no_patient,
    ) -> None:
        self.view_box = view_box
        self.bind = bind
        self.context = context
        self.apply = apply
        self.to_image = to_image
        self.to_patient = to_patient
        #: Called with the tool's name when a drag starts, and with "" when it ends.
        self.on_gesture: Callable[[str], None] = lambda _name: None
        self._tool: Tool | None = None

    # --- events from the ViewBox ------------------------------------------------------------
    def drag_event(self, ev: Any) -> None:
        ev.accept()
        if ev.isStart():
            press = self._press(ev, ev.buttonDownPos(ev.button()), click=False)
            name = self.bind(press)
            self._tool = make_tool(name)
            self.on_gesture(name)
            if self._tool is not None:
                start = self._pointer(ev, ev.buttonDownPos(ev.button()), first=True)
                self._run(self._tool.press(start, self.context()))
        tool = self._tool
        if tool is not None:
            pointer = self._pointer(ev, ev.pos())
            self._run(tool.drag(pointer, self.context()))
            if ev.isFinish():
                self._run(tool.release(pointer, self.context()))
        if ev.isFinish():
            self._tool = None
            self.on_gesture("")

    def click_event(self, ev: Any) -> None:
        ev.accept()  # no context menu and no pyqtgraph click actions
        tool = make_tool(self.bind(self._press(ev, ev.pos(), click=True)))
        if tool is None:
            return
        pointer = self._pointer(ev, ev.pos(), first=True)
        self._run(tool.press(pointer, self.context()))
        self._run(tool.release(pointer, self.context()))

    def wheel_event(self, ev: Any) -> None:
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        ev.accept()
        if not delta:
            return
        control = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        tool = make_tool(ZOOM if control else SCROLL)
        if tool is not None:
            view = _point(self.view_box.mapToView(ev.pos()))
            pointer = Pointer(view, view, view, control=control)
            self._run(tool.wheel(pointer, delta / 120.0, self.context()))

    def drag_step(self, name: str, screen_delta: Point) -> None:
        """One drag step of tool ``name`` by ``screen_delta`` screen pixels at the view's
        centre, as one mouse move of a drag would be (benchmarks and tests drive it)."""
        tool = make_tool(name)
        if tool is not None:
            centre = _point(self.view_box.viewRect().center())
            pointer = Pointer(centre, centre, centre, screen_delta, self.to_image(centre))
            self._run(tool.drag(pointer, self.context()))

    # --- helpers -----------------------------------------------------------------------------
    def _press(self, ev: Any, position: QPointF, click: bool) -> Press:
        modifiers = ev.modifiers()
        return Press(
            MOUSE_BUTTON_NAMES.get(ev.button(), ""),
            _point(self.view_box.mapToView(position)),
            bool(modifiers & Qt.KeyboardModifier.ShiftModifier),
            bool(modifiers & Qt.KeyboardModifier.ControlModifier),
            click,
        )

    def _pointer(self, ev: Any, position: QPointF, first: bool = False) -> Pointer:
        view = _point(self.view_box.mapToView(position))
        if first:
            last, start, delta = view, view, (0.0, 0.0)
        else:
            last = _point(self.view_box.mapToView(ev.lastPos()))
            start = _point(self.view_box.mapToView(ev.buttonDownPos(ev.button())))
            moved = ev.screenPos() - ev.lastScreenPos()
            delta = (float(moved.x()), float(moved.y()))
        modifiers = ev.modifiers()
        return Pointer(
            view,
            last,
            start,
            delta,
            self.to_image(view),
            self.to_patient(view),
            bool(modifiers & Qt.KeyboardModifier.ShiftModifier),
            bool(modifiers & Qt.KeyboardModifier.ControlModifier),
        )

    def _run(self, changes: Changes) -> None:
        for change in changes:
            if isinstance(change, PanBy):
                self.view_box.translateBy(t=(change.dx, change.dy))
                self.view_box.sigRangeChangedManually.emit(self.view_box.state["mouseEnabled"])
            elif isinstance(change, ZoomBy):
                centre = QPointF(*change.centre) if change.centre is not None else None
                inverse = 1.0 / change.factor
                self.view_box.scaleBy((inverse, inverse), center=centre)
                self.view_box.sigRangeChangedManually.emit(self.view_box.state["mouseEnabled"])
            else:
                self.apply(change)


class ToolViewBox(pg.ViewBox):
    """A ViewBox (aspect locked, y down, no menu) whose mouse gestures go to :attr:`tools`."""

    def __init__(self) -> None:
        super().__init__(lockAspect=True, enableMenu=False, invertY=True)
        self.tools: ToolAdapter | None = None

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        if self.tools is not None:
            self.tools.wheel_event(ev)
        else:
            ev.ignore()

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if self.tools is not None:
            self.tools.drag_event(ev)
        else:
            ev.ignore()

    def mouseClickEvent(self, ev: Any) -> None:
        if self.tools is not None:
            self.tools.click_event(ev)
        else:
            ev.accept()  # no context menu and no pyqtgraph click actions

    def keyPressEvent(self, ev: Any) -> None:
        ev.ignore()  # keys are the view's actions, not pyqtgraph's zoom history
