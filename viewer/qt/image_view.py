"""The image viewport: one pyqtgraph ViewBox showing the current frame of a ViewState.

Pixels reach Qt as a ready 8-bit (or RGB) image made by viewer.model.presentation, so a W/L
change is one cheap numpy pass and pyqtgraph's own level handling stays out of the way
(``levels=(0, 255)`` is passed on every setImage so nothing resets the user's window).
The image is placed in millimetres (setRect with Pixel Spacing), so the aspect is right.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

from viewer.dicom.decode import DecodedFrame
from viewer.model.display import ViewState
from viewer.model.orientation import edge_letters
from viewer.model.presentation import (
    default_voi,
    modality_value,
    present,
    value_range,
)
from viewer.model.window_level import Voi, drag, drag_sensitivity
from viewer.qt.tasks import FrameLoader, FrameRequest

OVERLAY_FONT = QFont("DejaVu Sans", 10)
PREFETCH_RADIUS = 3


class SliceViewBox(pg.ViewBox):
    """A ViewBox whose wheel scrolls slices and whose left drag does window/level."""

    wheel_steps = Signal(int)
    wl_drag = Signal(float, float, bool)  # dx, dy, finished
    hovered = Signal(object)  # QPointF in view coordinates, or None

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        steps = -int(np.sign(delta)) if delta else 0
        if steps:
            self.wheel_steps.emit(steps)
        ev.accept()

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        """Left: window/level. Middle: pan and right: zoom (pyqtgraph's own PanMode)."""
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            self.wl_drag.emit(float(delta.x()), float(delta.y()), bool(ev.isFinish()))
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()  # no context menu: right drag zooms
            return
        super().mouseClickEvent(ev)


class ImageViewport(pg.GraphicsView):
    """Shows a ViewState: slice scrolling, W/L drag, zoom/pan, corner text, orientation."""

    status = Signal(str)
    frame_shown = Signal()

    def __init__(self, state: ViewState, loader: FrameLoader, parent: QWidget | None = None):
        super().__init__(parent, background="k")
        self.state = state
        self.loader = loader
        self.view_box = SliceViewBox(lockAspect=True, enableMenu=False)
        self.view_box.invertY(True)
        self.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.frame: DecodedFrame | None = None
        self.patient_text: dict[str, str] = {}
        self._pending: FrameRequest | None = None
        self._drag_voi: Voi | None = None
        self._corners = {name: self._make_label(name) for name in ("tl", "tr", "bl", "br")}
        self._letters = {name: self._make_letter() for name in ("left", "right", "top", "bottom")}
        self.view_box.wheel_steps.connect(self.state.step)
        self.view_box.wl_drag.connect(self._on_wl_drag)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        loader.bridge.loaded.connect(self._on_loaded)
        loader.bridge.failed.connect(self._on_failed)
        state.changed.connect(self._on_state_changed)

    # --- overlays -------------------------------------------------------------------------
    def _make_label(self, corner: str) -> QLabel:
        label = QLabel(self)
        label.setFont(OVERLAY_FONT)
        label.setStyleSheet("color: #e8e8e8; background: transparent;")
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        align = Qt.AlignmentFlag.AlignTop if corner[0] == "t" else Qt.AlignmentFlag.AlignBottom
        align |= Qt.AlignmentFlag.AlignLeft if corner[1] == "l" else Qt.AlignmentFlag.AlignRight
        label.setAlignment(align)
        return label

    def _make_letter(self) -> QLabel:
        label = QLabel(self)
        font = QFont(OVERLAY_FONT)
        font.setPointSize(12)
        font.setBold(True)
        label.setFont(font)
        label.setStyleSheet("color: #ffd75e; background: transparent;")
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        return label

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        self._place_overlays()

    def _place_overlays(self) -> None:
        if not hasattr(self, "_letters"):
            return  # GraphicsView.__init__ resizes before the overlays exist
        width, height, margin = self.width(), self.height(), 6
        box_w, box_h = width // 2 - margin, height // 2 - margin
        for name, label in self._corners.items():
            x = margin if name[1] == "l" else width // 2
            y = margin if name[0] == "t" else height // 2
            label.setGeometry(x, y, box_w, box_h)
        for name, label in self._letters.items():
            label.adjustSize()
            lw, lh = label.width(), label.height()
            position = {
                "left": (margin, (height - lh) // 2),
                "right": (width - lw - margin, (height - lh) // 2),
                "top": ((width - lw) // 2, margin),
                "bottom": ((width - lw) // 2, height - lh - margin),
            }[name]
            label.move(*position)

    def _update_overlays(self) -> None:
        stack, frame = self.state.stack, self.frame
        info = self.patient_text
        voi = self.state.voi
        top_left = [info.get("name", ""), info.get("id", ""), info.get("birth", "")]
        top_right = [info.get("study", ""), info.get("date", ""), info.get("series", "")]
        bottom_left = []
        if stack is not None:
            bottom_left.append(f"Im: {self.state.index + 1}/{stack.frames}")
            location = _slice_location(stack, self.state.index)
            if location:
                bottom_left.append(location)
            if stack.slice_thickness:
                bottom_left.append(f"Thk: {stack.slice_thickness:.3g} mm")
        bottom_right = []
        if voi is not None and frame is not None and not frame.is_color:
            bottom_right.append(f"W: {voi.width:.0f} L: {voi.center:.0f}")
        if frame is not None and frame.transform.is_lossy:
            bottom_right.append("LOSSY")
        for name, lines in (
            ("tl", top_left),
            ("tr", top_right),
            ("bl", bottom_left),
            ("br", bottom_right),
        ):
            self._corners[name].setText("\n".join(line for line in lines if line))
        letters = (
            edge_letters(stack.orientation[:3], stack.orientation[3:])
            if stack is not None and stack.orientation is not None
            else {}
        )
        for name, label in self._letters.items():
            label.setText(letters.get(name, ""))
        self._place_overlays()

    # --- state -> view ------------------------------------------------------------------
    def _on_state_changed(self, what: str) -> None:
        if what in ("stack", "index"):
            self._request_current()
        if what == "stack":
            self.frame = None
            self.image_item.clear()
        if what in ("voi", "invert"):
            self._redraw()
        self._update_overlays()

    def _request_current(self) -> None:
        stack = self.state.stack
        if stack is None or stack.frames == 0:
            return
        path, frame = stack.sources[self.state.index]
        self._pending = self.loader.request(path, frame)
        lo = max(0, self.state.index - PREFETCH_RADIUS)
        hi = min(stack.frames, self.state.index + PREFETCH_RADIUS + 1)
        self.loader.prefetch([stack.sources[i] for i in range(lo, hi)])

    def _on_loaded(self, request: FrameRequest, decoded: DecodedFrame) -> None:
        if self._pending is None or request.request_id != self._pending.request_id:
            return  # stale: a newer frame was asked for
        first = self.frame is None
        self.frame = decoded
        if self.state.voi is None and not decoded.is_color:
            self.state.voi = default_voi(decoded)
        self._redraw()
        if first:
            self._fit()
        self._update_overlays()
        self.frame_shown.emit()

    def _on_failed(self, request: FrameRequest, reason: str) -> None:
        if self._pending is not None and request.request_id == self._pending.request_id:
            self.status.emit(f"Cannot show frame {request.frame + 1} of {request.path}: {reason}")

    def _redraw(self) -> None:
        frame = self.frame
        if frame is None:
            return
        image = present(frame, self.state.voi, self.state.invert)
        self.image_item.setImage(image, levels=(0, 255), autoLevels=False)
        rows, columns = image.shape[:2]
        row_mm, col_mm = _pixel_size(self.state)
        self.image_item.setRect(QRectF(0, 0, columns * col_mm, rows * row_mm))

    def _fit(self) -> None:
        self.view_box.autoRange(padding=0.02)

    def reset_view(self) -> None:
        self._fit()

    # --- interaction ----------------------------------------------------------------------
    def _on_wl_drag(self, dx: float, dy: float, finished: bool) -> None:
        frame, voi = self.frame, self.state.voi
        if frame is None or voi is None or frame.is_color:
            return
        sensitivity = drag_sensitivity(value_range(frame))
        self.state.set_voi(drag(voi, dx, dy, sensitivity))
        self.status.emit(f"W {self.state.voi.width:.0f}  L {self.state.voi.center:.0f}")  # type: ignore[union-attr]

    def _on_mouse_moved(self, position: QPointF) -> None:
        frame = self.frame
        if frame is None or not self.view_box.sceneBoundingRect().contains(position):
            return
        point = self.view_box.mapSceneToView(position)
        row_mm, col_mm = _pixel_size(self.state)
        column, row = int(point.x() // col_mm), int(point.y() // row_mm)
        rows, columns = frame.stored.shape[:2]
        if not (0 <= row < rows and 0 <= column < columns):
            return
        stored = frame.stored[row, column]
        if frame.is_color:
            self.status.emit(f"x {column}  y {row}  RGB {tuple(int(v) for v in stored)}")
            return
        value = modality_value(frame, float(stored))
        text = f"x {column}  y {row}  stored {stored}  value {value:.6g}"
        patient = _patient_point(self.state, column, row)
        if patient is not None:
            text += "  ({:.1f}, {:.1f}, {:.1f}) mm".format(*patient)
        self.status.emit(text)


def _pixel_size(state: ViewState) -> tuple[float, float]:
    """(row spacing, column spacing) in mm for display; 1:1 without Pixel Spacing."""
    stack = state.stack
    if stack is None or stack.pixel_spacing is None:
        return (1.0, 1.0)
    return stack.pixel_spacing


def _slice_location(stack: Any, index: int) -> str:
    if stack.positions is None or stack.orientation is None:
        return ""
    from viewer.dicom.geometry import slice_normal

    distance = float(np.dot(stack.positions[index], slice_normal(stack.orientation)))
    return f"Loc: {distance:.2f} mm"


def _patient_point(state: ViewState, column: int, row: int) -> tuple[float, float, float] | None:
    stack = state.stack
    if stack is None or stack.positions is None or stack.orientation is None:
        return None
    position = np.asarray(stack.positions[state.index], dtype=float)
    row_mm, col_mm = _pixel_size(state)
    along_row = np.asarray(stack.orientation[:3]) * col_mm * column
    down_column = np.asarray(stack.orientation[3:]) * row_mm * row
    point = position + along_row + down_column
    return (float(point[0]), float(point[1]), float(point[2]))
