"""The image viewport: one pyqtgraph ViewBox showing the current frame of a ViewState.

Pixels reach Qt as a ready 8-bit (or RGB) image made by viewer.model.presentation, so a W/L
change is one cheap numpy pass and pyqtgraph's own level handling stays out of the way
(``levels=(0, 255)`` on every setImage). Frames bigger than :data:`REDUCE_ABOVE_PIXELS` are cut
to what the screen shows and averaged down to about screen resolution first
(:func:`viewer.model.presentation.reduce_for_display`), so a W/L step on a 3000x3000
radiograph costs what a screen-sized image costs.

Geometry: an image pixel (column x, row y) goes to view coordinates through one QTransform:
scaled to millimetres (Pixel Spacing, PS3.3 10.7.1.3, or Pixel Aspect Ratio, C.7.6.3.1.7),
then turned and mirrored by the state's screen matrix (viewer.model.orientation). The view's
y axis points down, like the screen.

Mouse (defaults; each button's drag is remappable in Preferences, see
viewer.model.interaction): left drag window/level (Weasis/Slicer direction), middle drag pan,
right drag zoom; Ctrl+left drag a rectangle = window from that region, wheel slices,
Ctrl+wheel zoom at cursor.
Keys are QActions built from viewer.qt.help_keys (the table the help page shows).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsLineItem,
    QGraphicsRectItem,
    QGraphicsView,
    QLabel,
    QWidget,
)

from viewer.dicom.catalog.geometry import slice_normal
from viewer.dicom.io.zips import shown_path
from viewer.dicom.pixels.frames import DecodedFrame
from viewer.model.annotations import shapes
from viewer.model.annotations.calibration import PIXEL_SPACING as SPACING_CALIBRATION
from viewer.model.annotations.calibration import UNCALIBRATED, Calibration
from viewer.model.annotations.measure import Measurement, measure
from viewer.model.annotations.shapes import Annotation, ImageRef
from viewer.model.annotations.store import AnnotationStore, DragEdit
from viewer.model.display import ViewState
from viewer.model.interaction import Interaction
from viewer.model.orientation import edge_letters, is_mirrored, letters_vector
from viewer.model.presentation import (
    DisplayFacts,
    Region,
    auto_voi,
    default_voi,
    file_voi,
    file_voi_lut,
    modality_value,
    modality_values,
    present,
    read_display_facts,
    reduce_for_display,
    value_range,
    voi_lut_range,
)
from viewer.model.tools import edit, region_window
from viewer.model.tools.base import (
    Change,
    DrawShape,
    EditShape,
    MovePoint,
    Point,
    SelectShape,
    SetVoi,
    ShowRegion,
    StepSlices,
    ToolContext,
    Vec3,
)
from viewer.model.window_level import Voi
from viewer.qt.annotation_layer import AnnotationLayer, Drawn
from viewer.qt.cine_player import CinePlayer
from viewer.qt.failed_frame import FailedFrameNotice, failed_frame_message, placeholder_pixels
from viewer.qt.gpu import set_view_rendering
from viewer.qt.latest_call import LatestCall
from viewer.qt.overlay import OverlayLayer
from viewer.qt.overlay_planes import OverlayPlanes
from viewer.qt.phase_bar import PhaseBar
from viewer.qt.study_tree import read_payload
from viewer.qt.tasks import FrameLoader, FrameRequest
from viewer.qt.tool_adapter import Press, ToolAdapter, ToolViewBox

ACTIVE_OUTLINE = "#3d8ee8"
#: Frames with more pixels than this are reduced to what the screen shows before W/L.
REDUCE_ABOVE_PIXELS = 1_048_576
#: The reduced region reaches this share of the visible size past each edge (so panning a
#: little does not redo the reduction).
REGION_MARGIN = 0.25
#: Slices decoded ahead in the scrolling direction, and behind it.
PREFETCH_AHEAD, PREFETCH_BEHIND = 8, 2
#: The W/L readout stays this long after a drag ends (ms).
READOUT_MS = 1200


class DisplayImageItem(pg.ImageItem):
    """An ImageItem for ready 8-bit images (levels 0..255, no LUT), which it hands Qt as an
    RGB32 QImage, the format Qt's raster engine draws scaled fastest (measured at 512x512
    drawn at 880x880: 1.2 ms, against 5-7 ms for pyqtgraph's Grayscale8/Indexed8).

    Greyscale becomes RGB32 in numpy on the GUI thread (0.1 ms at 512x512): Qt's own
    Grayscale8 conversion splits the work over its thread pool and waits for it, which took
    1-3 ms of a W/L step whenever the two cores were busy. Colour (RGB888) takes Qt's
    direct, single-thread conversion.
    """

    def render(self) -> None:
        image = self.image
        if not _is_ready_8bit(image, self.levels, self.lut):
            super().render()
            return
        rows, columns = image.shape[:2]
        if image.ndim == 2:
            #: The pixels the QImage wraps: kept alive (and unchanged) as long as it is.
            self._rgb32 = _grey_to_rgb32(image)
            self.qimage = QImage(
                self._rgb32.data, columns, rows, columns * 4, QImage.Format.Format_RGB32
            )
        else:
            image = np.ascontiguousarray(image)
            kind = QImage.Format.Format_RGB888
            wrapped = QImage(image.data, columns, rows, image.strides[0], kind)
            self.qimage = wrapped.convertToFormat(QImage.Format.Format_RGB32)  # a copy
        self._renderRequired = False
        self._unrenderable = False


def _grey_to_rgb32(grey: np.ndarray) -> np.ndarray:
    """uint8 (rows, columns) -> uint32 0xFFgggggg per pixel (QImage Format_RGB32)."""
    rgb32 = np.empty(grey.shape, dtype=np.uint32)  # C order, whatever the input's strides
    np.multiply(grey, np.uint32(0x010101), out=rgb32, dtype=np.uint32)
    rgb32 |= np.uint32(0xFF000000)
    return rgb32


def _is_ready_8bit(image: Any, levels: Any, lut: Any) -> bool:
    if image is None or image.dtype != np.uint8 or lut is not None or image.size == 0:
        return False
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        return False
    return levels is None or np.asarray(levels, dtype=float).ravel().tolist() == [0.0, 255.0]


class SliceViewBox(ToolViewBox):
    """The viewport's ViewBox: gestures go to the model's tools (the viewport sets
    :attr:`tools`); :attr:`rubber_band` shows a region-window rectangle."""

    def __init__(self) -> None:
        super().__init__()
        self.rubber_band = QGraphicsRectItem()
        pen = QPen(QColor("#ffd75e"), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.rubber_band.setPen(pen)
        self.rubber_band.setZValue(10)
        self.rubber_band.hide()
        self.addItem(self.rubber_band, ignoreBounds=True)

    def zoom(self, factor: float, centre: QPointF | None = None) -> None:
        """Enlarge the image ``factor`` times about ``centre`` (view coordinates)."""
        self.scaleBy((1.0 / factor, 1.0 / factor), center=centre)


class ImageViewport(pg.GraphicsView):
    """Shows a ViewState: slices, W/L, zoom/pan, rotation/flip, overlays, cine."""

    #: Mouse mapping, W/L drag speed/direction and presets (Preferences; see set_interaction).
    interaction = Interaction()

    status = Signal(str)
    frame_shown = Signal()
    activated = Signal()
    series_dropped = Signal(str, int)  # Series Instance UID and stack dragged from the tree
    view_changed = Signal()  # zoom, pan or geometry changed (reference lines follow)

    def __init__(
        self,
        state: ViewState,
        loader: FrameLoader,
        parent: QWidget | None = None,
        opengl: bool = False,
    ):
        """``opengl``: draw through an OpenGL viewport (see :meth:`set_rendering`)."""
        super().__init__(parent, useOpenGL=False, background="k")
        self.state = state
        self.loader = loader
        self.view_box = SliceViewBox()
        self.view_box.disableAutoRange()
        self.view_box.tools = ToolAdapter(
            self.view_box, self._tool_for, self._tool_context, self._apply, self._image_point,
            self._patient_of_view,
        )  # fmt: skip
        self.setCentralItem(self.view_box)
        self.image_item = DisplayImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.reference_line = self._make_reference_line()
        self.frame: DecodedFrame | None = None
        self.patient_text: dict[str, str] = {}
        self.facts = DisplayFacts()
        self.overlay = OverlayLayer(self)
        self.overlay_planes = OverlayPlanes(self.view_box, self)  # 60xx overlays (key O)
        self.overlay_planes.status.connect(self.status)
        #: Why the current slice is not shown (it could not be decoded), else None.
        self.failure: str | None = None
        self._placeholder_shown = False  # after a failure, until a frame is shown
        self.failure_notice = FailedFrameNotice(self)
        self.cine = CinePlayer(state, self._prefetch_indices, self, self._prefetch_phases)
        self.phase_bar = PhaseBar(state, self)
        self.drop_hint = self._make_drop_hint()
        #: Where the pointer last was over the image (scene coordinates), None once it left:
        #: the value readout follows the slice under it without the mouse moving.
        self._pointer: QPointF | None = None
        self._facts_reader = LatestCall(self)
        self._wanted: tuple[str, int] | None = None
        self._prefetched: set[tuple[str, int]] = set()
        self._last_step = 1
        self._region: Region | None = None
        self._source: tuple[DecodedFrame, Region, DecodedFrame] | None = None
        self._range_of: tuple[DecodedFrame, float] | None = None
        self._pixel_to_view = QTransform()
        self._readout_timer = QTimer(self)
        self._readout_timer.setSingleShot(True)
        self._readout_timer.timeout.connect(self._hide_readout)
        #: The session's measurements and annotations (the grid shares one store).
        self.annotations = AnnotationStore()
        self.annotation_layer = AnnotationLayer(self.view_box, self._image_to_view)
        #: The left button's tool chosen on the toolbar (a drawing tool, "edit"), else "".
        self.active_tool = ""
        #: False hides every annotation (key Shift+H).
        self.annotations_visible = True
        self._draft: Annotation | None = None  # the shape being drawn
        #: A shape drawn in more than one gesture, waiting for the next: an angle's or a Cobb
        #: angle's first arm, a polygon's vertices so far.
        self._pending: tuple[Point, ...] = ()
        #: The question a text label or an arrow asks for its words, while it is open.
        self.text_dialog: Any = None
        self._drag = DragEdit()  # an edit drag: live moves, then one undo step
        self._measured: dict[str, tuple[Annotation, object, Measurement]] = {}
        self.annotations.changed.connect(self._on_annotations_changed)
        self._annotation_redraw = QTimer(self)
        self._annotation_redraw.setSingleShot(True)
        self._annotation_redraw.setInterval(0)
        self._annotation_redraw.timeout.connect(self.annotation_layer.redraw)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self._paint_cheaply()
        self._connect()
        self.set_rendering(opengl)

    def set_rendering(self, opengl: bool) -> None:
        """Draw through an OpenGL viewport (QOpenGLWidget) or in software (raster); the image
        looks the same. A viewport whose OpenGL cannot start goes back to raster and says so
        on :attr:`status` (viewer.qt.gpu)."""
        set_view_rendering(self, opengl, self.status.emit)

    def _paint_cheaply(self) -> None:
        """The view paints every pixel itself (black background, image), so Qt need not clear
        behind it or cache a background pixmap: measured 3.5 -> 1.3 ms per empty 900x900
        repaint."""
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def _make_reference_line(self) -> QGraphicsLineItem:
        line = QGraphicsLineItem()
        pen = QPen(QColor("#4fd1ff"), 1)
        pen.setCosmetic(True)
        line.setPen(pen)
        line.setZValue(5)
        line.hide()
        self.view_box.addItem(line, ignoreBounds=True)
        return line

    def _connect(self) -> None:
        self.view_box.sigRangeChanged.connect(self._on_range_changed)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.loader.bridge.loaded.connect(self._on_loaded)
        self.loader.bridge.failed.connect(self._on_failed)
        self._facts_reader.result.connect(self._on_facts)
        self.cine.changed.connect(self._update_overlays)
        self.state.changed.connect(self._on_state_changed)

    def shutdown(self) -> None:
        """Stop the cine timer and the header worker (before the window goes away)."""
        self.cine.stop()
        self._facts_reader.shutdown()
        self.overlay_planes.shutdown()

    # --- state -> view ------------------------------------------------------------------
    def _on_state_changed(self, what: str) -> None:
        if what in ("stack", "index", "phase"):
            self._pending, self._draft = (), None
        if what == "stack":
            self._show_new_stack()
        elif what in ("index", "phase"):
            self._request_current()
        elif what in ("voi", "invert"):
            self._redraw()
        elif what == "transform":
            self._turn_keeping_view()
        elif what == "reset":
            self._reset_display()
        self._update_overlays()
        self.refresh_annotations()

    def _show_new_stack(self) -> None:
        self.cine.use_stack_rate()
        self.frame = None
        self._source = None
        self._region = None
        self._prefetched.clear()
        self.facts = DisplayFacts()
        self.image_item.clear()
        self._clear_failure()
        self._placeholder_shown = False
        self.overlay_planes.clear()
        self.reference_line.hide()
        stack = self.state.stack
        if stack is not None and stack.frames:
            self._facts_reader.submit(read_display_facts, stack.sources[0][0])
        self._request_current()

    def _reset_display(self) -> None:
        self._place_image(redraw=False)
        if self.frame is None or not self.state.use_initial_window(self.frame):
            self._redraw()  # (else the "voi" event redrew)
        self.fit()

    def _on_facts(self, facts: object) -> None:
        if not isinstance(facts, DisplayFacts) or facts == self.facts:
            return
        placed = (self.facts.pixel_aspect_ratio, self.facts.patient_orientation)
        self.facts = facts
        self._measured.clear()  # the calibration may have changed
        if placed != (facts.pixel_aspect_ratio, facts.patient_orientation):
            self._place_image()  # (a calibration alone leaves the zoom and pan alone)
            if self.frame is not None:
                self.fit()
        self._update_overlays()
        self.refresh_annotations()

    def _request_current(self) -> None:
        stack = self.state.stack
        if stack is None or stack.frames == 0:
            return
        self._clear_failure()  # another slice: its own answer will tell
        self._wanted = stack.sources[self.state.index]
        self.loader.request(*self._wanted)
        if not self.cine.playing:
            self._prefetch_around()

    def _prefetch_around(self) -> None:
        index, step = self.state.index, self._last_step
        offsets = [step * k for k in range(1, PREFETCH_AHEAD + 1)]
        offsets += [-step * k for k in range(1, PREFETCH_BEHIND + 1)]
        self._prefetch_indices([index + offset for offset in offsets])

    def _prefetch_indices(self, indices: list[int]) -> None:
        stack = self.state.stack
        if stack is None:
            return
        keys = [stack.sources[i] for i in indices if 0 <= i < stack.frames]
        fresh = [key for key in keys if key not in self._prefetched]
        if len(self._prefetched) > 8192:
            self._prefetched.clear()
        self._prefetched.update(fresh)
        if fresh:
            self.loader.prefetch(fresh)

    def _on_loaded(self, request: FrameRequest, decoded: DecodedFrame) -> None:
        if (request.path, request.frame) != self._wanted or decoded is self.frame:
            return  # another viewport's frame, or one this viewport no longer wants
        first = self.frame is None and not self._placeholder_shown  # else placed and fitted
        self.frame = decoded
        self._clear_failure()
        self._placeholder_shown = False
        if first:
            self._place_image(redraw=False)
        if self.state.voi is not None or not self.state.use_initial_window(decoded):
            self._redraw()  # (else the "voi" event redrew)
        self.overlay_planes.show_frame(request.path, request.frame, decoded.stored.shape[:2])
        if first:
            self.fit()
        if self.cine.playing:
            self.cine.frame_shown()
        self._update_overlays()
        self._refresh_readout()
        self.refresh_annotations()
        self.frame_shown.emit()

    def _on_failed(self, request: FrameRequest, reason: str) -> None:
        """The slice wanted could not be decoded: a dark placeholder of the stack's matrix
        and a notice replace the previous slice's pixels (never left under this slice's
        number), and no pixel values are read from it."""
        if (request.path, request.frame) != self._wanted:
            return
        first = self.frame is None and not self._placeholder_shown
        self.frame = None
        self._source = None
        self.failure = failed_frame_message(self.state.index + 1, request.path, reason)
        if first:
            self._place_image()
            self.fit()
        self._show_placeholder()
        planes_visible = self.overlay_planes.visible  # the last slice's 60xx overlays go too
        self.overlay_planes.clear()
        self.overlay_planes.set_visible(planes_visible)
        self.failure_notice.show_message(self.failure)
        reason = reason.removeprefix(f"{request.path}: ")  # the loader names the file first
        where = shown_path(request.path)  # a zip member as study.zip!/member
        self.status.emit(f"Cannot show frame {request.frame + 1} of {where}: {reason}")
        self._update_overlays()
        self._refresh_readout()

    def _show_placeholder(self) -> None:
        """A uniform dark frame covering the whole image rectangle (no stored pixels)."""
        rows, columns = self._frame_shape()
        self._placeholder_shown = True
        self.image_item.setImage(placeholder_pixels(), levels=(0, 255), autoLevels=False)
        self.image_item.setTransform(QTransform(columns, 0, 0, rows, 0, 0) * self._pixel_to_view)

    def _clear_failure(self) -> None:
        self.failure = None
        self.failure_notice.hide()

    # --- geometry -------------------------------------------------------------------------
    def pixel_size(self) -> tuple[float, float]:
        """(row, column) spacing in mm for display: Pixel Spacing, else Pixel Aspect Ratio
        (PS3.3 C.7.6.3.1.7, vertical:horizontal), else square."""
        stack = self.state.stack
        if stack is not None and stack.pixel_spacing is not None:
            return stack.pixel_spacing
        if self.facts.pixel_aspect_ratio is not None:
            vertical, horizontal = self.facts.pixel_aspect_ratio
            return (vertical / horizontal, 1.0)
        return (1.0, 1.0)

    def _frame_shape(self) -> tuple[int, int]:
        if self.frame is not None:
            return self.frame.stored.shape[0], self.frame.stored.shape[1]
        stack = self.state.stack
        return (stack.rows, stack.columns) if stack is not None else (1, 1)

    def _place_image(self, redraw: bool = True) -> None:
        """Recompute the pixel -> view transform from spacing, rotation and flips."""
        rows, columns = self._frame_shape()
        row_mm, col_mm = self.pixel_size()
        m00, m01, m10, m11 = self.state.screen_matrix
        a, b, c, d = m00 * col_mm, m01 * row_mm, m10 * col_mm, m11 * row_mm
        xs = [a * x + b * y for x, y in ((0, 0), (columns, 0), (0, rows), (columns, rows))]
        ys = [c * x + d * y for x, y in ((0, 0), (columns, 0), (0, rows), (columns, rows))]
        self._pixel_to_view = QTransform(a, c, b, d, -min(xs), -min(ys))
        self.overlay_planes.set_transform(self._pixel_to_view)
        self._region = None
        if redraw:
            self._redraw()

    def _turn_keeping_view(self) -> None:
        """Rotation or flip: the image turns about the view centre, the zoom stays (only a new
        stack, Reset and Fit fit the image to the viewport)."""
        if self.frame is None:
            self._place_image()
            self.fit()
            return
        centre = self.view_box.viewRect().center()
        pixel = self.view_to_pixel(centre)
        self._place_image()
        moved = self.pixel_to_view(pixel) - centre
        self.view_box.translateBy(t=(moved.x(), moved.y()))
        self.view_changed.emit()  # the image moved under the view even if the range did not

    def image_bounds(self) -> QRectF:
        """The whole frame's rectangle in view coordinates."""
        rows, columns = self._frame_shape()
        return self._pixel_to_view.mapRect(QRectF(0, 0, columns, rows))

    def view_to_pixel(self, point: QPointF) -> QPointF:
        """View coordinates -> continuous (column, row); pixel (0, 0) spans [0, 1)."""
        inverse, _ = self._pixel_to_view.inverted()
        return inverse.map(point)

    def pixel_to_view(self, point: QPointF) -> QPointF:
        return self._pixel_to_view.map(point)

    def zoom_factor(self) -> float:
        """Screen pixels per stored pixel (along a row)."""
        view_per_screen = self.view_box.viewPixelSize()[0]
        return self.pixel_size()[1] / view_per_screen if view_per_screen > 0 else 1.0

    def fit(self) -> None:
        """The whole image fills the viewport."""
        if self.frame is not None or self.state.stack is not None:
            self.view_box.setRange(rect=self.image_bounds(), padding=0.02)

    def zoom(self, factor: float) -> None:
        """Enlarge ``factor`` times about the centre of the viewport."""
        self.view_box.zoom(factor)

    def actual_size(self) -> None:
        """One stored pixel per screen pixel."""
        self.zoom(1.0 / self.zoom_factor())

    def _on_range_changed(self, *_args: Any) -> None:
        if self.frame is not None and self._wanted_region() != self._region:
            self._redraw()
        self._update_overlays()
        if hasattr(self, "annotation_layer") and self.annotation_layer.drawn:
            # After the range change has settled: mapping inside pyqtgraph's range signal
            # (viewPixelSize) disturbs the zoom being set.
            self._annotation_redraw.start()
        self.view_changed.emit()

    # --- drawing -------------------------------------------------------------------------
    def _wanted_region(self) -> Region:
        """The part of the frame worth converting: all of a small frame; of a big one what the
        screen shows (plus a margin), at about screen resolution."""
        rows, columns = self._frame_shape()
        if rows * columns <= REDUCE_ABOVE_PIXELS:
            return Region(0, 0, rows, columns)
        row_mm, col_mm = self.pixel_size()
        view_per_screen = self.view_box.viewPixelSize()[0]
        stride = max(1, int(view_per_screen / max(row_mm, col_mm)))
        if self._region is not None and self._region.stride == stride:
            shown = self._visible_pixels(0.0)
            if _contains(self._region, shown):
                return self._region
        top, left, bottom, right = self._visible_pixels(REGION_MARGIN)
        grain = stride * 16
        top, left = top // grain * grain, left // grain * grain
        bottom = min(rows, -(-bottom // grain) * grain)
        right = min(columns, -(-right // grain) * grain)
        return Region(top, left, max(bottom, top + stride), max(right, left + stride), stride)

    def _visible_pixels(self, margin: float) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) stored pixels on screen, grown by ``margin``, clipped."""
        rows, columns = self._frame_shape()
        rect = self.view_box.viewRect()
        grown = rect.adjusted(
            -rect.width() * margin, -rect.height() * margin,
            rect.width() * margin, rect.height() * margin,
        )  # fmt: skip
        inverse, _ = self._pixel_to_view.inverted()
        pixels = inverse.mapRect(grown)
        top = min(max((math.floor(pixels.top())), 0), rows - 1)
        left = min(max((math.floor(pixels.left())), 0), columns - 1)
        bottom = min(max((math.ceil(pixels.bottom())), top + 1), rows)
        right = min(max((math.ceil(pixels.right())), left + 1), columns)
        return top, left, bottom, right

    def _display_source(self) -> tuple[DecodedFrame, Region]:
        frame = self.frame
        assert frame is not None
        region = self._wanted_region()
        self._region = region
        cached = self._source
        if cached is not None and cached[0] is frame and cached[1] == region:
            return cached[2], region
        rows, columns = self._frame_shape()
        if region == Region(0, 0, rows, columns):
            source = frame
        else:
            source = reduce_for_display(frame, region)
        self._source = (frame, region, source)
        return source, region

    def _redraw(self) -> None:
        if self.frame is None:
            if self._placeholder_shown:
                self._show_placeholder()  # turned or re-placed: the placeholder follows
            return
        source, region = self._display_source()
        image = present(source, self.state.voi, self.state.invert)
        self.image_item.setImage(image, levels=(0, 255), autoLevels=False)
        stride = region.stride
        placement = QTransform(stride, 0, 0, stride, region.left, region.top)
        self.image_item.setTransform(placement * self._pixel_to_view)

    # --- overlays ------------------------------------------------------------------------
    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        if hasattr(self, "overlay"):  # GraphicsView.__init__ resizes before it exists
            self.overlay.setGeometry(self.rect())
        if hasattr(self, "drop_hint"):
            self.phase_bar.place()
            self.drop_hint.setGeometry(self.rect())

    def _make_drop_hint(self) -> QLabel:
        """ "Drop a series here", centred in an empty viewport of a layout of several."""
        hint = QLabel("Drop a series here", self)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setStyleSheet("color: #8a8f98; font-size: 15px; background: transparent;")
        hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        hint.hide()
        self._hint_wanted = False
        return hint

    def set_drop_hint(self, wanted: bool) -> None:
        """Say "Drop a series here" while this viewport is empty (``wanted``: the layout
        shows several viewports)."""
        self._hint_wanted = wanted
        self._show_hint()

    def _show_hint(self) -> None:
        self.drop_hint.setVisible(self._hint_wanted and self.state.stack is None)
        self.drop_hint.setGeometry(self.rect())

    def set_text_visible(self, visible: bool) -> None:
        self.overlay.show_text = visible
        self.overlay.update()

    def _update_overlays(self) -> None:
        if not hasattr(self, "overlay"):
            return
        self._show_hint()
        self.phase_bar.refresh()
        overlay = self.overlay
        overlay.corners = self._corner_text()
        overlay.letters = self._edge_letters()
        calibrated = self.state.stack is not None and self.state.stack.pixel_spacing is not None
        overlay.pixels_per_mm = self.zoom_factor() / self.pixel_size()[1] if calibrated else None
        overlay.update()

    def _corner_text(self) -> dict[str, list[str]]:
        info, stack, frame = self.patient_text, self.state.stack, self.frame
        top_left = [info.get("name", ""), info.get("id", ""), info.get("birth", "")]
        top_right = [info.get("study", ""), info.get("date", ""), info.get("series", "")]
        if stack is not None and len(self.state.stacks) > 1 and stack.title:
            top_right.append(stack.title)
        bottom_left: list[str] = []
        if stack is not None:
            bottom_left.append(f"Im: {self.state.index + 1}/{stack.frames}")
            phases = self.state.phase_count
            if phases > 1:
                bottom_left.append(f"Phase {self.state.phase + 1}/{phases}")
            bottom_left.append(_slice_location(stack, self.state.index))
            if stack.slice_thickness:
                bottom_left.append(f"Thk: {stack.slice_thickness:.3g} mm")
        bottom_left.append(self._cine_text())
        image = self.current_image()
        if image is not None and image.key in self.annotations.key_images:
            bottom_left.append("KEY IMAGE")
        if stack is not None and self.failure is not None:
            bottom_left.insert(0, "NOT DECODED")
        placed = frame is not None or self._placeholder_shown
        bottom_right = [f"Zoom: {self.zoom_factor():.2f}" if placed else ""]
        bottom_right.append(self._transform_text())
        voi = self.state.voi
        if voi is not None and frame is not None and not frame.is_color:
            bottom_right.append(f"W: {voi.width:.0f} L: {voi.center:.0f}")
        elif frame is not None and (table := file_voi_lut(frame)) is not None:
            bottom_right.append(f"VOI LUT {table.explanation}")
        if self.state.invert:
            bottom_right.append("Inverted")
        if frame is not None and frame.transform.is_lossy:
            bottom_right.append("LOSSY")
        corners = {"tl": top_left, "tr": top_right, "bl": bottom_left, "br": bottom_right}
        return {
            name: [line.strip() for line in lines if line.strip()]
            for name, lines in corners.items()
        }

    def _cine_text(self) -> str:
        if not self.cine.playing:
            return ""
        achieved = self.cine.meter.rate()
        over = " over phases" if self.cine.over_phases else ""
        return f"Cine{over} {self.cine.rate_fps:.0f} fps ({achieved:.1f} shown)"

    def _transform_text(self) -> str:
        matrix = self.state.screen_matrix
        if matrix == (1, 0, 0, 1):
            return ""
        return "Rotated/flipped" if is_mirrored(matrix) else "Rotated"

    def _edge_letters(self) -> dict[str, str]:
        stack = self.state.stack
        row: Any = None
        column: Any = None
        if stack is not None and stack.orientation is not None:
            row, column = stack.orientation[:3], stack.orientation[3:]
        elif self.facts.patient_orientation is not None:
            row = letters_vector(self.facts.patient_orientation[0])
            column = letters_vector(self.facts.patient_orientation[1])
        if row is None or column is None:
            return {}
        return edge_letters(row, column, self.state.screen_matrix)

    def show_readout(self, text: str) -> None:
        """A large transient readout at the top centre (the live W/L while dragging)."""
        self.overlay.readout = text
        self.overlay.update()
        self._readout_timer.start(READOUT_MS)

    def _hide_readout(self) -> None:
        self.overlay.readout = ""
        self.overlay.update()

    def set_reference_line(self, segment: tuple[tuple[float, float], ...] | None) -> None:
        """Draw where another view's slice cuts this image; (column, row) pixel centres."""
        if segment is None:
            self.reference_line.hide()
            return
        (c0, r0), (c1, r1) = segment
        start = self.pixel_to_view(QPointF(c0 + 0.5, r0 + 0.5))
        end = self.pixel_to_view(QPointF(c1 + 0.5, r1 + 0.5))
        self.reference_line.setLine(start.x(), start.y(), end.x(), end.y())
        self.reference_line.show()

    def set_active_outline(self, shown: bool) -> None:
        colour = ACTIVE_OUTLINE if shown else "transparent"
        self.setStyleSheet(f"ImageViewport {{ border: 2px solid {colour}; }}")

    # --- commands (keys, menus, toolbar) ---------------------------------------------------
    def step(self, delta: int) -> None:
        self._last_step = 1 if delta >= 0 else -1
        self.state.step(delta)

    def first_slice(self) -> None:
        self.state.set_index(0)

    def last_slice(self) -> None:
        self.state.set_index(self.state.frame_count - 1)

    def _grey_frame(self) -> DecodedFrame | None:
        frame = self.frame
        if frame is None or frame.is_color or frame.is_palette:
            self.status.emit("Window/level applies to greyscale images only")
            return None
        return frame

    def auto_window(self) -> None:
        frame = self._grey_frame()
        if frame is not None:
            self._set_window(auto_voi(frame), "Auto window")

    def file_window(self, number: int) -> None:
        frame = self._grey_frame()
        if frame is None:
            return
        voi = file_voi(frame, number)
        if voi is None:
            self.status.emit(f"This image has no window {number} in its header")
            return
        explanation = frame.transform.windows[number - 1].explanation
        self._set_window(voi, f"File window {number} {explanation}".strip())

    def preset(self, key: int) -> None:
        frame = self._grey_frame()
        if frame is None:
            return
        preset = self.interaction.preset(self.state.modality, key)
        if preset is None:
            modality = self.state.modality or "this modality"
            self.status.emit(f"No window preset {key} for {modality}")
            return
        self._set_window(preset.voi, preset.name)

    def _set_window(self, voi: Voi, name: str) -> None:
        self.state.set_voi(voi)
        text = f"{name}: W {voi.width:.0f} L {voi.center:.0f}"
        self.show_readout(text)
        self.status.emit(text)

    def toggle_invert(self) -> None:
        self.state.toggle_invert()

    def reset(self) -> None:
        self.state.reset()

    def toggle_cine(self) -> None:
        if self.state.frame_count < 2:
            self.status.emit("Cine needs more than one frame")
            return
        self.cine.toggle()

    def toggle_phase_cine(self) -> None:
        """Play the phases (time points) at the slice shown, or stop."""
        if self.state.phase_count < 2:
            self.status.emit("This series has one phase: cine over phases needs several")
            return
        self.cine.toggle(over_phases=True)

    def step_phase(self, delta: int) -> None:
        if self.state.phase_count < 2:
            self.status.emit("This series has one phase")
            return
        self.state.step_phase(delta)

    def _prefetch_phases(self, phases: list[int]) -> None:
        """Decode ahead the slice shown in ``phases`` (cine over time)."""
        state = self.state
        numbers = state.phase_numbers()
        wanted = []
        for phase in phases:
            if 0 <= phase < len(numbers):
                stack = state.stacks[numbers[phase]]
                if state.index < stack.frames:
                    wanted.append(stack.sources[state.index])
        fresh = [key for key in wanted if key not in self._prefetched]
        self._prefetched.update(fresh)
        if fresh:
            self.loader.prefetch(fresh)

    def render_view(self, overlays: bool = True) -> QImage:
        """The viewport as an image, with or without text, letters and lines."""
        overlay_shown = self.overlay.isVisible()
        line_shown = self.reference_line.isVisible()
        planes_shown = self.overlay_planes.visible
        if not overlays:
            self.overlay.setVisible(False)
            self.reference_line.setVisible(False)
            self.overlay_planes.set_visible(False)
            self.annotation_layer.clear()
        try:
            return self.grab().toImage()
        finally:
            self.overlay.setVisible(overlay_shown)
            self.reference_line.setVisible(line_shown)
            self.overlay_planes.set_visible(planes_shown)
            if not overlays:
                self.annotation_layer.redraw()

    # --- mouse -----------------------------------------------------------------------------
    def set_interaction(self, interaction: Interaction) -> None:
        """Apply the user's mouse mapping, W/L drag speed/direction and presets (live)."""
        self.interaction = interaction

    def leaveEvent(self, ev: Any) -> None:
        self._pointer = None
        super().leaveEvent(ev)

    def _refresh_readout(self) -> None:
        """The slice changed under a still pointer: say its value and position now."""
        if self._pointer is not None and not self.cine.playing:
            self._on_mouse_moved(self._pointer)

    def mousePressEvent(self, ev: Any) -> None:
        self.activated.emit()
        super().mousePressEvent(ev)

    def focusInEvent(self, ev: Any) -> None:
        self.activated.emit()
        super().focusInEvent(ev)

    # --- tools (viewer.model.tools through viewer.qt.tool_adapter) --------------------------
    def _tool_for(self, press: Press) -> str:
        """The tool a gesture uses: Ctrl+left drags a W/L rectangle; with a toolbar tool
        chosen, left on an annotation edits it (else draws); else the button's tool in the
        user's mouse mapping."""
        if press.button == "left" and press.control:
            return region_window.NAME
        if press.button == "left" and self.active_tool:
            if self._pending:
                return self.active_tool
            if self.annotation_layer.hit(press.view) is not None:
                return edit.NAME
            return self.active_tool
        return self.interaction.action(press.button)

    def _tool_context(self) -> ToolContext:
        frame = self.frame
        wl_drag, zoom, speed = (
            self.interaction.wl_drag,
            self.zoom_factor(),
            self.interaction.zoom_speed,
        )
        hit, pending = self.annotation_layer.hit, self._pending
        if frame is None or frame.is_color or frame.is_palette:
            return ToolContext(
                wl_drag=wl_drag, zoom=zoom, zoom_speed=speed, hit=hit, pending=pending
            )
        table = file_voi_lut(frame)
        voi = self.state.voi or (voi_lut_range(table) if table else default_voi(frame))
        return ToolContext(
            voi,
            self._value_range(frame),
            wl_drag,
            self._region_values,
            zoom=zoom,
            zoom_speed=speed,
            hit=hit,
            pending=pending,
        )

    # --- annotations (viewer.model.annotations; drawn by viewer.qt.annotation_layer) ------
    def set_annotations(self, store: AnnotationStore) -> None:
        """Use ``store`` (the session's, shared by every viewport)."""
        self.annotations.changed.disconnect(self._on_annotations_changed)
        self.annotations = store
        store.changed.connect(self._on_annotations_changed)
        self.refresh_annotations()

    def set_active_tool(self, name: str) -> None:
        """The left button's tool from the toolbar ("" gives it back to the mouse mapping)."""
        self.active_tool = name
        self._pending, self._draft = (), None
        self.refresh_annotations()

    def calibration(self) -> Calibration:
        """What a pixel of this stack measures (the header's facts, else the index's Pixel
        Spacing, else pixels)."""
        calibration = self.facts.calibration
        stack = self.state.stack
        if calibration.kind == UNCALIBRATED and stack is not None and stack.pixel_spacing:
            return Calibration(SPACING_CALIBRATION, stack.pixel_spacing, "")
        return calibration

    def current_image(self) -> ImageRef | None:
        stack = self.state.stack
        if stack is None or not stack.frames:
            return None
        path, frame = stack.sources[self.state.index]
        return ImageRef(
            path,
            frame,
            series_uid=self.state.series_uid,
            frame_of_reference_uid=self.state.frame_of_reference,
        )

    def measurement(self, annotation: Annotation) -> Measurement:
        """The numbers of ``annotation`` on the frame shown (cached per value and frame)."""
        cached = self._measured.get(annotation.id)
        if cached is not None and cached[0] == annotation and cached[1] is self.frame:
            return cached[2]
        result = measure(annotation, self.calibration(), self.frame, self.state.modality)
        if len(self._measured) > 1000:
            self._measured.clear()
        self._measured[annotation.id] = (annotation, self.frame, result)
        self.annotations.labels[annotation.id] = tuple(result.lines)
        return result

    def shown_annotations(self) -> list[Annotation]:
        image = self.current_image()
        return self.annotations.on_frame(image.key) if image is not None else []

    def refresh_annotations(self) -> None:
        if not hasattr(self, "annotation_layer"):
            return
        if not self.annotations_visible:
            self.annotation_layer.show([])
            return
        selected = self.annotations.selected
        drawn = [
            Drawn(a, tuple(self.measurement(a).lines), selected=a.id == selected)
            for a in self.shown_annotations()
        ]
        if self._draft is not None:
            lines = tuple(self.measurement(self._draft).lines) if self._draft.complete else ()
            drawn.append(Drawn(self._draft, lines, draft=True))
        self.annotation_layer.show(drawn)

    def _on_annotations_changed(self, _ids: tuple[str, ...]) -> None:
        self.refresh_annotations()
        self._update_overlays()

    def toggle_key_image(self) -> None:
        """Flag the frame shown as a key image (saved as a Key Object Selection), or not."""
        image = self.current_image()
        if image is None:
            return
        flagged = self.annotations.toggle_key_image(image)
        self.status.emit("Key image" if flagged else "No longer a key image")

    def delete_selected(self) -> None:
        if self.annotations.selected:
            self.annotations.remove(self.annotations.selected)
            self.status.emit("Annotation deleted (Ctrl+Z undoes)")

    def _image_to_view(self, point: Point) -> QPointF:
        return self.pixel_to_view(QPointF(*point))

    def _apply_draw(self, change: DrawShape) -> None:
        image = self.current_image()
        if image is None:
            return
        draft_id = self._draft.id if self._draft is not None else shapes.new_id()
        draft = Annotation(change.kind, change.points, image, id=draft_id)
        if not change.done:
            self._draft = draft
            self.refresh_annotations()
            return
        self._draft = None
        if not change.finished:
            if _spread(change.points) > 0 or change.kind == shapes.POLYGON:
                self._pending, self._draft = change.points, draft
        elif change.kind in (shapes.POINT, shapes.TEXT) or _spread(change.points) > 0:
            self._pending = ()
            if change.kind in shapes.ANNOTATIONS:
                self._ask_text(draft)
                return
            self.annotations.selected = draft.id
            self.annotations.add(draft)
            self.status.emit(" ".join(self.measurement(draft).lines))
        self.refresh_annotations()

    def _ask_text(self, draft: Annotation) -> None:
        """A text label asks for its words, an arrow for its optional text (non-modal: the GUI
        keeps running); an arrow is kept when the question is cancelled, a text without words
        is not."""
        from PySide6.QtWidgets import QInputDialog

        arrow = draft.kind == shapes.ARROW
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Arrow" if arrow else "Text label")
        dialog.setLabelText("Text (optional):" if arrow else "Text:")
        self.text_dialog = dialog
        if arrow:
            self._draft = draft  # shown until the question is answered
            self.refresh_annotations()

        def answered(text: str) -> None:
            self.text_dialog = None
            self._draft = None
            if text.strip() or arrow:
                self.annotations.selected = draft.id
                self.annotations.add(dataclasses.replace(draft, text=text.strip()))
            self.refresh_annotations()

        dialog.textValueSelected.connect(answered)
        dialog.rejected.connect(lambda: answered("") if self.text_dialog is dialog else None)
        dialog.open()

    def _apply_edit(self, change: EditShape) -> None:
        delta = (change.end[0] - change.start[0], change.end[1] - change.start[1])
        edited = self._drag.apply(
            self.annotations, change.annotation_id, change.handle, delta, change.done,
            self._label_pixel,
        )  # fmt: skip
        if edited is not None and change.done:
            self.status.emit(" ".join(self.measurement(edited).lines))

    def _label_pixel(self, annotation_id: str) -> Point | None:
        """Where the layer put a label, in image coordinates."""
        at = self.annotation_layer.label_at.get(annotation_id)
        if at is None:
            return None
        pixel = self.view_to_pixel(at)
        return (pixel.x(), pixel.y())

    def _apply(self, change: Change) -> None:
        if isinstance(change, SetVoi):
            if change.name:
                self._set_window(change.voi, change.name)
            else:
                self.state.set_voi(change.voi)
                self.show_readout(f"W {change.voi.width:.0f}  L {change.voi.center:.0f}")
        elif isinstance(change, StepSlices):
            self.activated.emit()
            self.step(change.steps)
        elif isinstance(change, ShowRegion):
            rect = QRectF(QPointF(*change.start), QPointF(*change.end)).normalized()
            self.view_box.rubber_band.setRect(rect)
            self.view_box.rubber_band.setVisible(change.visible)
        elif isinstance(change, MovePoint):
            pass  # a 2D viewport has no crosshair point (yet)
        elif isinstance(change, DrawShape):
            self._apply_draw(change)
        elif isinstance(change, EditShape):
            self._apply_edit(change)
        elif isinstance(change, SelectShape) and change.annotation_id != self.annotations.selected:
            self.annotations.selected = change.annotation_id
            self.refresh_annotations()

    def _image_point(self, view: Point) -> Point:
        pixel = self.view_to_pixel(QPointF(*view))
        return (float(pixel.x()), float(pixel.y()))

    def _patient_of_view(self, view: Point) -> Vec3 | None:
        column, row = self._image_point(view)
        return self.state.patient_point(column - 0.5, row - 0.5, self.pixel_size())

    def _value_range(self, frame: DecodedFrame) -> float:
        """The frame's value spread (drag sensitivity), computed once per frame."""
        if self._range_of is None or self._range_of[0] is not frame:
            self._range_of = (frame, value_range(frame))
        return self._range_of[1]

    def _region_values(self, start: Point, end: Point) -> np.ndarray | None:
        """Modality values of the stored pixels under the view rectangle start-end."""
        frame = self.frame
        if frame is None or frame.is_color or frame.is_palette:
            return None
        pixels = self.view_to_pixel_rect(QRectF(QPointF(*start), QPointF(*end)).normalized())
        if pixels is None:
            return None
        top, left, bottom, right = pixels
        return np.asarray(modality_values(frame.stored[top:bottom, left:right], frame.transform))

    def view_to_pixel_rect(self, rect: QRectF) -> tuple[int, int, int, int] | None:
        """(top, left, bottom, right) stored pixels under a view rectangle, or None if empty."""
        rows, columns = self._frame_shape()
        inverse, _ = self._pixel_to_view.inverted()
        pixels = inverse.mapRect(rect)
        top, left = max(0, int(pixels.top())), max(0, int(pixels.left()))
        bottom = min(rows, (math.ceil(pixels.bottom())))
        right = min(columns, (math.ceil(pixels.right())))
        return (top, left, bottom, right) if bottom > top and right > left else None

    def _on_mouse_moved(self, position: QPointF) -> None:
        self._pointer = position
        if self.frame is None and self.failure is None:
            return
        if not self.view_box.sceneBoundingRect().contains(position):
            return
        pixel = self.view_to_pixel(self.view_box.mapSceneToView(position))
        column, row = math.floor(pixel.x()), math.floor(pixel.y())
        rows, columns = self._frame_shape()
        if 0 <= row < rows and 0 <= column < columns:
            self.status.emit(self.cursor_text(column, row))

    def cursor_text(self, column: int, row: int) -> str:
        """Column/row, stored value, modality value and patient x/y/z of one pixel (no value
        on a slice that could not be decoded)."""
        frame = self.frame
        if frame is None:
            text = f"x {column}  y {row}  no value: image {self.state.index + 1} not decoded"
            patient = self.state.patient_point(column, row, self.pixel_size())
            if patient is not None:
                text += "  ({:.1f}, {:.1f}, {:.1f}) mm".format(*patient)
            return text
        stored = frame.stored[row, column]
        if frame.is_color:
            return f"x {column}  y {row}  RGB {tuple(int(v) for v in stored)}"
        value = modality_value(frame, float(stored))
        unit = (
            " HU"
            if self.state.modality == "CT" and frame.transform.rescale_type in ("", "HU")
            else ""
        )
        text = f"x {column}  y {row}  stored {stored}  value {value:.6g}{unit}"
        patient = self.state.patient_point(column, row, self.pixel_size())
        if patient is not None:
            text += "  ({:.1f}, {:.1f}, {:.1f}) mm".format(*patient)
        return text

    # --- drag a series in from the study tree ----------------------------------------------
    # The payload (viewer.qt.study_tree.SERIES_MIME) names the series and stack dragged, so
    # only the viewport it is released on changes, whatever row is current in the tree.
    def dragEnterEvent(self, event: Any) -> None:
        if read_payload(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()  # files and folders: the main window opens them

    def dragMoveEvent(self, event: Any) -> None:
        if read_payload(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: Any) -> None:
        payload = read_payload(event.mimeData())
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.activated.emit()
        self.series_dropped.emit(*payload)
        self.setFocus()


def _contains(region: Region, shown: tuple[int, int, int, int]) -> bool:
    top, left, bottom, right = shown
    return (
        region.top <= top
        and region.left <= left
        and region.bottom >= bottom
        and region.right >= right
    )


def _spread(points: tuple[Point, ...]) -> float:
    """How far apart the points are (0: a click, nothing drawn)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return max(max(xs) - min(xs), max(ys) - min(ys)) if points else 0.0


def _slice_location(stack: Any, index: int) -> str:
    """Position of the slice along its normal (what Slice Location, 0020,1041, means)."""
    if stack.positions is None or stack.orientation is None:
        return ""
    distance = float(np.dot(stack.positions[index], slice_normal(stack.orientation)))
    return f"Loc: {distance:.2f} mm"
