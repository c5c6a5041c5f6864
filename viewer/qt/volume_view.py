"""The 3D view: volume rendering and MIP/MinIP of a stack, drawn by VTK in a worker thread.

The engine (viewer.model.volume3d.engine) lives on one render thread with its own offscreen
OpenGL context (EGL on Linux), so a slow CPU frame never blocks the GUI thread and the same
path works on a desktop, under Xvfb and with Qt's offscreen platform (``screenshot --layout 3d``,
the tests). Each request carries the whole scene and camera; only the newest waits (older
unstarted ones are dropped), and the picture comes back as an RGB array through a queued signal.

Mapper: the Rendering setting (Preferences > General) decides as for the 2D views: OpenGL (a
hardware GPU under Automatic) -> VTK's GPU ray caster; software -> VTK's CPU fixed-point ray
caster; MIP and MinIP are projected on the CPU (viewer.model.volume3d.projection). Level of
detail: the first frame of a large volume comes from its coarse copy (every second voxel),
then the full-resolution frame follows; while a mouse button is down (or a clip-box slider is
held) frames are coarse (the coarse copy, 2 x 2 pixels a ray); on release a full-quality frame
follows. ``painted`` says when the first full-quality frame is on screen.

A click (no drag) picks the point under the mouse: the first voxel along the ray at least
:data:`~viewer.model.volume3d.engine.PICK_OPACITY` opaque (composite), or the ray's brightest
(MIP) or darkest (MinIP) voxel; ``picked`` carries it in LPS, and the MPR moves its crosshair
there. The Box button shows six sliders that bound the volume along R-L, A-P and I-S.

Mouse: left drag rotates, Shift + left or middle drag pans, right drag or wheel zooms. Keys:
A/P/L/R/S/I standard views (with Shift: P/L/R/S/I; plain A..I as listed on the buttons), Home
or 0 resets. The volume is the MPR's when the 3D view is its fourth quadrant (one copy).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom import limits, reasons
from viewer.dicom.catalog.stack import Stack
from viewer.model.mpr import MprVolume
from viewer.model.volume3d.engine import vtk_problem
from viewer.model.volume3d.scene import (
    PRESETS_BY_NAME,
    BlendMode,
    Camera,
    Decimation,
    Scene,
    StandardView,
    Vec3,
    VrPreset,
    decimated,
    decimation,
    default_preset,
    edited,
    patient_bounds,
    preset_from_voi,
    presets_for,
    standard_camera,
)
from viewer.model.window_level import Voi
from viewer.qt.gpu import current_rendering
from viewer.qt.volume_loader import VolumeLoader

log = logging.getLogger(__name__)

#: Degrees of rotation per screen pixel of drag.
DEGREES_PER_PIXEL = 0.4
#: Zoom factor per wheel notch (120 units).
WHEEL_ZOOM = 1.15
#: The render size never exceeds this many pixels a side (the picture is scaled up instead).
MAX_RENDER_PIXELS = 1024
BLEND_CHOICES = (BlendMode.COMPOSITE, BlendMode.MIP, BlendMode.MINIP)
#: The preset box's last entry: a ramp over the current window (the editor's start).
FROM_WINDOW = "From window"
#: Preset editor: pixels of vertical drag that move the transfer function by its own span...
EDIT_PIXELS_FOR_SPAN = 300.0
#: ... and the factor one pixel of horizontal drag widens it by.
EDIT_SCALE_PER_PIXEL = 1.005
#: A press that moves less than this (Manhattan, px) before its release is a click.
CLICK_SLOP_PX = 4
#: Clip-box sliders: steps from one side of the volume to the other.
CLIP_STEPS = 200
#: The clip-box panel's rows: label, LPS axis, tooltip.
CLIP_AXES = (("R–L", 0, "right to left"), ("A–P", 1, "anterior to posterior"),
             ("I–S", 2, "inferior to superior"))  # fmt: skip


class PresetStore(Protocol):
    """Where saved 3D presets live (viewer.qt.settings.ViewerSettings)."""

    def vr_presets(self) -> tuple[VrPreset, ...]: ...

    def set_vr_presets(self, presets: Sequence[VrPreset]) -> None: ...


HINT_3D = (
    "Left: rotate · Shift+left/middle: pan · right/wheel: zoom · A P L R S I: views · 0: reset"
)


# --- the render thread ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RenderRequest:
    request_id: int
    scene: Scene
    camera: Camera
    size: tuple[int, int]
    interactive: bool


@dataclass(frozen=True, slots=True)
class Rendered:
    request: RenderRequest
    image: np.ndarray  # (height, width, 3) uint8
    milliseconds: float
    final: bool = True  # full quality (not a drag's frame, not the coarse first frame)


class RenderBridge(QObject):
    ready = Signal(str)  # the engine is up: mapper and OpenGL renderer, in words
    done = Signal(object)  # Rendered
    failed = Signal(str)


class RenderWorker:
    """One thread that owns a VolumeEngine; only the newest request is drawn."""

    def __init__(
        self,
        voxels: np.ndarray,
        affine: np.ndarray,
        rescale: tuple[float, float],
        gpu: bool,
    ) -> None:
        self.bridge = RenderBridge()
        self.gpu = gpu
        self._args = (voxels, affine, rescale, gpu)
        self._pending: RenderRequest | None = None
        self._wake = threading.Condition()
        self._stopped = False
        self.description = ""
        self._thread = threading.Thread(target=self._run, name="vr-render", daemon=True)
        self._thread.start()

    def submit(self, request: RenderRequest) -> None:
        with self._wake:
            self._pending = request
            self._wake.notify()

    def _has_pending(self) -> bool:
        with self._wake:
            return self._pending is not None or self._stopped

    def _next(self) -> RenderRequest | None:
        with self._wake:
            while self._pending is None and not self._stopped:
                self._wake.wait()
            request, self._pending = self._pending, None
            return None if self._stopped else request

    def _run(self) -> None:
        from viewer.model.volume3d.engine import VolumeEngine

        voxels, affine, rescale, gpu = self._args
        # The MIP's kernels load (or compile in a helper process) beside the first frame.
        threading.Thread(target=_warm_kernels, args=(voxels.dtype,), daemon=True).start()
        try:
            engine = VolumeEngine(voxels, affine, rescale, gpu=gpu)
            engine.render(preview=True, flat=True)  # makes the context (no gradient pass)
            self.description = f"{engine.mapper_name} on {engine.renderer_name()}"
        except Exception as error:  # a readable reason, never a dead thread
            log.exception("starting the 3D engine failed")
            self.bridge.failed.emit(f"3D cannot start: {reasons.explain(error)}")
            return
        self.bridge.ready.emit(self.description)
        try:
            while (request := self._next()) is not None:
                try:
                    if engine.size != request.size:
                        engine.resize(request.size)
                    engine.set_scene(request.scene)
                    engine.set_camera(request.camera)
                    engine.set_interactive(request.interactive)
                    for image, elapsed, final in self._frames(engine, request):
                        if not self._stopped:
                            self.bridge.done.emit(Rendered(request, image, elapsed, final))
                except Exception as error:
                    log.exception("3D render failed")
                    self.bridge.failed.emit(f"3D render failed: {reasons.explain(error)}")
                    continue
        finally:
            engine.close()

    def _frames(
        self, engine: Any, request: RenderRequest
    ) -> Iterator[tuple[np.ndarray, float, bool]]:
        """The pictures for ``request``: (RGB, milliseconds, full quality). At rest, while
        the full volume has not been drawn yet: the coarse copy unshaded (no gradient pass)
        when it has never been drawn, the coarse copy shaded, then the full volume; each
        later step only while no newer request waits."""
        composite = request.scene.blend_mode is BlendMode.COMPOSITE
        steps: list[tuple[bool, bool]] = []  # (preview, flat)
        if not request.interactive and composite and engine.has_preview and not engine.full_ready:
            if not engine.coarse_ready:
                steps.append((True, True))
            steps.append((True, False))
        steps.append((False, False))
        for index, (preview, flat) in enumerate(steps):
            if index and self._has_pending():
                return
            start = time.perf_counter()
            image = engine.render(preview=preview, flat=flat)
            elapsed = (time.perf_counter() - start) * 1000
            yield image, elapsed, not request.interactive and not engine.preview

    def shutdown(self) -> None:
        with self._wake:
            self._stopped = True
            self._pending = None
            self._wake.notify_all()
        self._thread.join(10)


def _warm_kernels(dtype: np.dtype[Any]) -> None:
    from viewer.model import mpr

    try:
        mpr.warm_up(dtype)
    except Exception:  # the MIP then compiles on first use
        log.exception("warming the 3D projection kernels failed")


# --- the canvas -------------------------------------------------------------------------------
class Canvas(QWidget):
    """Shows the newest rendered picture; mouse drags become camera changes."""

    dragged = Signal(str, float, float)  # "rotate" | "pan" | "zoom" | "edit", dx, dy (px)
    released = Signal()
    clicked = Signal(float, float)  # a left click without a drag, in render pixels
    wheeled = Signal(float)  # notches (positive: away from the user)
    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(120, 120))
        self.setMouseTracking(False)
        self.image: QImage | None = None
        self._buffer: np.ndarray | None = None
        self.pixels: np.ndarray | None = None
        self.message = ""
        self._last: QPointF | None = None
        self._pressed: QPointF | None = None
        self._gesture = ""

    def show_pixels(self, pixels: np.ndarray) -> None:
        self.pixels = pixels  # (height, width, 3) RGB, as rendered
        height, width, _ = pixels.shape
        # 0xffRRGGBB words (Format_RGB32): the raster engine's own format, painted without a
        # conversion (packed RGB888 is converted on every paint).
        rgb = pixels.astype(np.uint32)
        words = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2] | np.uint32(0xFF000000)
        self._buffer = np.ascontiguousarray(words)  # QImage reads this memory
        self.image = QImage(self._buffer.data, width, height, 4 * width, QImage.Format.Format_RGB32)
        self.update()

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRectF(self.rect()), self.image)
        if self.message:
            painter.setPen(Qt.GlobalColor.white)
            painter.drawText(
                self.rect().adjusted(12, 12, -12, -12),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.message,
            )
        painter.end()

    def render_size(self) -> tuple[int, int]:
        ratio = self.devicePixelRatioF()
        width, height = max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio))
        scale = min(1.0, MAX_RENDER_PIXELS / max(width, height))
        return (max(1, round(width * scale)), max(1, round(height * scale)))

    def mousePressEvent(self, event: Any) -> None:
        button, shift = event.button(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if button == Qt.MouseButton.LeftButton and control:
            self._gesture = "edit"  # the preset editor: move/widen the transfer function
        elif button == Qt.MouseButton.LeftButton:
            self._gesture = "pan" if shift else "rotate"
        elif button == Qt.MouseButton.MiddleButton:
            self._gesture = "pan"
        elif button == Qt.MouseButton.RightButton:
            self._gesture = "zoom"
        else:
            return
        self._last = self._pressed = event.position()
        event.accept()

    def mouseMoveEvent(self, event: Any) -> None:
        if self._last is None:
            return
        here = event.position()
        if self._pressed is not None:  # a click until it moves more than a few pixels
            moved = here - self._pressed
            if abs(moved.x()) + abs(moved.y()) < CLICK_SLOP_PX:
                return
            self._pressed = None
        dx, dy = here.x() - self._last.x(), here.y() - self._last.y()
        self._last = here
        self.dragged.emit(self._gesture, dx, dy)

    def mouseReleaseEvent(self, event: Any) -> None:
        if self._last is None:
            return
        self._last = None
        pressed, self._pressed = self._pressed, None
        if pressed is not None:
            if self._gesture == "rotate":
                width, height = self.render_size()
                self.clicked.emit(
                    pressed.x() * width / max(self.width(), 1),
                    pressed.y() * height / max(self.height(), 1),
                )
            return
        self.released.emit()

    def wheelEvent(self, event: Any) -> None:
        self.wheeled.emit(event.angleDelta().y() / 120.0)
        event.accept()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.resized.emit()


# --- the view ---------------------------------------------------------------------------------
class VolumeView3D(QWidget):
    """A 3D view of one volume. Give it the MPR's loaded volume (``set_volume``) or a stack
    to load (``start``); call :meth:`shutdown` before the window goes away."""

    status = Signal(str)
    painted = Signal()  # the first full-quality frame is on screen
    failed = Signal(str)
    frame_timed = Signal(float, bool)  # milliseconds, interactive
    picked = Signal(object)  # an LPS point (numpy (3,)) a click in 3D points at

    def __init__(
        self,
        stack: Stack | None = None,
        voi: Voi | None = None,
        modality: str = "",
        parent: QWidget | None = None,
        compact: bool = False,
        store: PresetStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.stack = stack
        self.store = store
        self.modality = modality
        self.voi = voi
        self.volume: MprVolume | None = None
        self.worker: RenderWorker | None = None
        self.loader: Any = None
        self.presets = presets_for(modality) + self._saved_presets()
        self.base_preset = default_preset(modality)  # the preset the editor starts from
        self.edit_shift, self.edit_scale = 0.0, 1.0
        self.scene = Scene(self.base_preset, voi)
        self._render_args: tuple[Any, ...] | None = None
        self.camera: Camera | None = None
        self.bounds: np.ndarray | None = None
        self.view_name = StandardView.ANTERIOR
        self.decimation = Decimation((1, 1, 1))
        self.dragging = False
        self.was_painted = False
        self.last_ms: dict[bool, float] = {}
        self._latest = 0
        self.shown_id = 0  # the request whose picture is on screen
        self.shown_interactive = False  # the picture on screen is not full quality
        self.refining = False
        self.first_frame_ms = 0.0  # from start (or set_volume) to the first picture
        self.final_frame_ms = 0.0  # ... and to the first full-quality one
        self._started = 0.0
        self.canvas = Canvas(self)
        self._make_layout(compact)
        self.canvas.dragged.connect(self._on_drag)
        self.canvas.released.connect(self._on_release)
        self.canvas.wheeled.connect(self._on_wheel)
        self.canvas.resized.connect(self._request)
        self.canvas.clicked.connect(self._on_click)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        problem = vtk_problem()
        if problem:
            self.problem = problem
            self.canvas.message = problem
            self.readout.setText("3D unavailable")
        else:
            self.problem = ""
            self.canvas.message = "Loading volume…"

    def _make_layout(self, compact: bool) -> None:
        controls = QHBoxLayout()
        controls.setContentsMargins(2, 2, 2, 2)
        # In a quadrant the combo boxes get a row of their own and may shrink to fit it.
        combos = QHBoxLayout() if compact else controls
        combos.setContentsMargins(2, 2, 2, 0)
        self.preset_box = QComboBox()
        for preset in self.presets:
            self.preset_box.addItem(preset.name)
        self.preset_box.addItem(FROM_WINDOW)
        self.preset_box.setToolTip(
            "Volume rendering preset (transfer function over modality values)"
        )
        self.blend_box = QComboBox()
        for mode in BLEND_CHOICES:
            self.blend_box.addItem(mode.value)
        self.blend_box.setToolTip("Composite (shaded volume rendering), MIP or MinIP")
        for box in (self.preset_box, self.blend_box):
            if compact:
                box.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                )
                box.setMinimumContentsLength(4)
                box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combos.addWidget(box, 2 if box is self.preset_box else 1)
        self.view_buttons: dict[StandardView, QPushButton] = {}
        for view in StandardView:
            button = QPushButton(view.value)
            button.setToolTip(f"Look from {view.name.lower()} ({view.value})")
            button.setMaximumWidth(28)
            button.clicked.connect(lambda _=False, v=view: self.show_standard(v))
            controls.addWidget(button)
            self.view_buttons[view] = button
        self.reset_button = QPushButton("Reset")
        self.reset_button.clicked.connect(self.reset)
        controls.addWidget(self.reset_button)
        self.box_button = QPushButton("Box")
        self.box_button.setCheckable(True)
        self.box_button.setToolTip("Clipping box: six sliders that bound the volume")
        self.box_button.toggled.connect(self._on_box_button)
        controls.addWidget(self.box_button)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip(
            "Save the preset as edited (Ctrl+drag: up/down moves it over the values, "
            "left/right narrows/widens it) in the settings"
        )
        self.save_button.clicked.connect(self._ask_preset_name)
        controls.addWidget(self.save_button)
        self.readout = QLabel("")
        # Its text changes every frame (the time): it must never resize the canvas.
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        controls.addWidget(self.readout, 1)
        self.preset_box.currentIndexChanged.connect(self._on_preset_box)
        self.blend_box.currentIndexChanged.connect(self._on_blend_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        if compact:
            top = QWidget()
            top.setLayout(combos)
            top.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            layout.addWidget(top)
            for button in (*self.view_buttons.values(), self.reset_button, self.box_button,
                           self.save_button):  # fmt: skip
                button.setMaximumWidth(max(button.maximumWidth(), 24))
                button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        bar = QWidget()
        bar.setLayout(controls)
        if compact:  # in a quadrant the buttons may be cut off rather than widen the grid
            bar.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        layout.addWidget(bar)
        self.clip_panel = self._make_clip_panel()
        layout.addWidget(self.clip_panel)
        layout.addWidget(self.canvas, 1)
        if not compact:
            hint = QLabel(HINT_3D)
            hint.setMargin(4)
            layout.addWidget(hint)

    def _make_clip_panel(self) -> QWidget:
        """Six sliders (low and high along R-L, A-P and I-S), hidden until Box is pressed."""
        panel = QWidget()
        grid = QGridLayout(panel)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setVerticalSpacing(0)
        self.clip_sliders: dict[tuple[int, int], QSlider] = {}
        for row, (label, axis, tip) in enumerate(CLIP_AXES):
            grid.addWidget(QLabel(label), row, 0)
            for side in (0, 1):
                slider = QSlider(Qt.Orientation.Horizontal)
                slider.setRange(0, CLIP_STEPS)
                slider.setValue(side * CLIP_STEPS)
                slider.setToolTip(f"Clipping box, {'low' if side == 0 else 'high'} end, {tip}")
                slider.valueChanged.connect(lambda _v, a=axis, e=side: self._on_clip_slider(a, e))
                slider.sliderPressed.connect(self._on_slider_pressed)
                slider.sliderReleased.connect(self._on_release)
                grid.addWidget(slider, row, 1 + side)
                self.clip_sliders[(axis, side)] = slider
        reset = QPushButton("Whole")
        reset.setToolTip("Clipping box: the whole volume")
        reset.clicked.connect(self.reset_clip_box)
        grid.addWidget(reset, 0, 3, len(CLIP_AXES), 1)
        panel.setVisible(False)
        return panel

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Load the stack (not needed after :meth:`set_volume`); the view fills when ready."""
        if self.problem or self.stack is None:
            if self.problem:
                self.failed.emit(self.problem)
            return
        self._started = time.perf_counter()
        self.loader = VolumeLoader(self.stack, warm_kernels=False)
        self.loader.bridge.loaded.connect(
            lambda loaded: self.set_volume(loaded.volume, loaded.default_voi)
        )
        self.loader.bridge.failed.connect(self._on_failed)
        self.loader.bridge.progress.connect(
            lambda done, total: self.readout.setText(f"Loading volume… {done}/{total}")
        )
        self.loader.start()

    def set_volume(self, volume: MprVolume, voi: Voi | None = None) -> None:
        """Show ``volume`` (the MPR's: shared, not copied unless it must be downsampled)."""
        if self.problem:
            return
        if not self._started:
            self._started = time.perf_counter()
        self.volume = volume
        if self.voi is None:
            self.voi = voi or _spread_voi(volume)
        self.scene = replace(self.scene, voi=self.voi)
        budget = max(0, limits.memory_budget() - volume.voxels.nbytes)
        self.decimation = decimation(volume.shape, volume.voxels.itemsize, budget)
        voxels, affine = decimated(volume.voxels, volume.affine, self.decimation)
        if self.decimation.notice:
            log.warning("%s", self.decimation.notice)
            self.status.emit(self.decimation.notice)
        self.bounds = patient_bounds(affine, voxels.shape)
        self.camera = self._standard_camera(self.view_name)
        self._render_args = (voxels, affine, (volume.rescale_slope, volume.rescale_intercept))
        self._start_worker(current_rendering().opengl)
        self.canvas.message = ""
        self._request()

    def _start_worker(self, gpu: bool) -> None:
        assert self._render_args is not None
        voxels, affine, rescale = self._render_args
        self.worker = RenderWorker(voxels, affine, rescale, gpu)
        self.worker.bridge.ready.connect(self._on_ready)
        self.worker.bridge.done.connect(self._on_rendered)
        self.worker.bridge.failed.connect(self._on_failed)

    def set_rendering(self, opengl: bool) -> None:
        """The Rendering setting changed: the GPU ray caster (OpenGL) or the CPU one."""
        if self.worker is None or self.worker.gpu == opengl:
            return
        self.worker.shutdown()
        self._start_worker(opengl)
        self._request()

    def shutdown(self) -> None:
        if self.loader is not None:
            self.loader.cancel()
            self.loader.wait(30)
        if self.worker is not None:
            self.worker.shutdown()
            self.worker = None

    # --- state -> engine ------------------------------------------------------------------
    def _standard_camera(self, view: StandardView) -> Camera:
        assert self.bounds is not None
        width, height = self.canvas.render_size()
        return standard_camera(view, self.bounds, width / max(height, 1))

    def _request(self) -> None:
        if self.worker is None or self.camera is None:
            return
        self._latest += 1
        self.worker.submit(
            RenderRequest(
                self._latest, self.scene, self.camera, self.canvas.render_size(), self.dragging
            )
        )

    def _on_ready(self, description: str) -> None:
        self.description = description
        log.info("3D engine: %s", description)
        self._show_readout()

    def _show_readout(self) -> None:
        volume = self.volume
        if volume is None:
            return
        text = f"{volume.shape[2]} × {volume.shape[1]} × {volume.shape[0]}"
        if not self.decimation.identity:
            text += " (downsampled)"
        full = self.last_ms.get(False)
        if full is not None:
            text += f" · {full:.0f} ms"
        if self.refining:
            text += " · full resolution follows…"
        self.readout.setText(text)
        self.readout.setToolTip(getattr(self, "description", ""))

    def _on_rendered(self, result: Rendered) -> None:
        if result.request.request_id != self._latest:
            return  # stale
        since = (time.perf_counter() - self._started) * 1000
        if not self.first_frame_ms:
            self.first_frame_ms = since
            log.info("3D first frame %.0f ms after start", since)
        self.canvas.show_pixels(result.image)
        self.shown_id, self.shown_interactive = result.request.request_id, not result.final
        # A coarse frame at rest (the first frame's preview): the full one is being drawn.
        self.refining = not result.final and not result.request.interactive
        self.last_ms[not result.final] = result.milliseconds
        self._show_readout()
        self.frame_timed.emit(result.milliseconds, not result.final)
        if result.final and not self.was_painted:
            self.was_painted = True
            self.final_frame_ms = since
            log.info("3D first full-quality frame %.0f ms after start", since)
            self.painted.emit()

    def _on_failed(self, reason: str) -> None:
        self.canvas.message = reason
        self.canvas.update()
        self.readout.setText("3D failed")
        self.status.emit(reason)
        self.failed.emit(reason)

    # --- user actions ---------------------------------------------------------------------
    def configure(self, view: str = "A", preset: str = "", blend: str = "") -> None:
        """Standard view letter, preset name and blend mode name (empty: keep), e.g. from
        ``screenshot --layout 3d --view L --preset 'CT Bone' --blend mip``."""
        names = [p.name for p in self.presets]
        if preset:
            chosen = PRESETS_BY_NAME[preset]
            if preset not in names:
                self.presets = (*self.presets, chosen)
                self.preset_box.addItem(preset)
            self.preset_box.setCurrentIndex([p.name for p in self.presets].index(preset))
        if blend:
            mode = {
                "composite": BlendMode.COMPOSITE,
                "mip": BlendMode.MIP,
                "minip": BlendMode.MINIP,
            }
            self.blend_box.setCurrentIndex(BLEND_CHOICES.index(mode[blend.lower()]))
        self.view_name = StandardView(view)
        if self.bounds is not None:
            self.show_standard(self.view_name)

    def set_preset(self, preset: VrPreset) -> None:
        self.base_preset = preset
        self.edit_shift, self.edit_scale = 0.0, 1.0
        self.scene = replace(self.scene, preset=preset, blend=None)
        self.blend_box.blockSignals(True)
        self.blend_box.setCurrentIndex(BLEND_CHOICES.index(preset.blend))
        self.blend_box.blockSignals(False)
        self._request()

    def set_blend(self, mode: BlendMode) -> None:
        self.scene = replace(self.scene, blend=mode)
        self._request()

    def set_voi(self, voi: Voi | None) -> None:
        """The window MIP/MinIP (and relative presets) follow, e.g. the MPR's."""
        if voi is None:
            return
        self.voi = voi
        self.scene = replace(self.scene, voi=voi)
        self._request()

    def set_crosshair(self, point: Any) -> None:
        shown = None if point is None else (float(point[0]), float(point[1]), float(point[2]))
        self.scene = replace(self.scene, crosshair=shown)
        self._request()

    def set_clip_planes(self, planes: tuple[tuple[Vec3, Vec3], ...]) -> None:
        """Cut the volume: keep the side each (point, normal) plane's normal points into."""
        self.scene = replace(self.scene, clip_planes=planes)
        self._request()

    def set_clip_box(self, box: Any) -> None:
        self.scene = replace(self.scene, clip_box=box)
        self._request()

    def _on_box_button(self, on: bool) -> None:
        self.clip_panel.setVisible(on)

    def _on_slider_pressed(self) -> None:
        self.dragging = True  # coarse frames while a slider is held

    def _on_clip_slider(self, axis: int, side: int) -> None:
        low, high = self.clip_sliders[(axis, 0)], self.clip_sliders[(axis, 1)]
        if low.value() > high.value():  # the ends never cross: the other one gives way
            other = high if side == 0 else low
            other.blockSignals(True)
            other.setValue(low.value() if side == 0 else high.value())
            other.blockSignals(False)
        self.set_clip_box(self.clip_fractions_box())

    def clip_fractions_box(self) -> tuple[Vec3, Vec3] | None:
        """The LPS box the sliders say (None: the whole volume)."""
        if self.bounds is None:
            return None
        values = {key: slider.value() / CLIP_STEPS for key, slider in self.clip_sliders.items()}
        if all(values[(a, 0)] == 0 and values[(a, 1)] == 1 for a in range(3)):
            return None
        low, high = self.bounds
        box = [[float(low[a] + values[(a, side)] * (high[a] - low[a])) for a in range(3)]
               for side in (0, 1)]  # fmt: skip
        return ((box[0][0], box[0][1], box[0][2]), (box[1][0], box[1][1], box[1][2]))

    def set_clip_fractions(self, axis: int, low: float, high: float) -> None:
        """Put the clipping box's ends along LPS ``axis`` at fractions of the volume."""
        for side, value in ((0, low), (1, high)):
            self.clip_sliders[(axis, side)].setValue(round(value * CLIP_STEPS))

    def reset_clip_box(self) -> None:
        for (_axis, side), slider in self.clip_sliders.items():
            slider.blockSignals(True)
            slider.setValue(side * CLIP_STEPS)
            slider.blockSignals(False)
        self.set_clip_box(None)

    def point_at(self, x: float, y: float) -> np.ndarray | None:
        """The LPS point under render pixel (x, y) (see :meth:`VolumeEngine.pick`)."""
        from viewer.model.volume3d import projection
        from viewer.model.volume3d.engine import PICK_OPACITY

        if self._render_args is None or self.camera is None:
            return None
        voxels, affine, (slope, intercept) = self._render_args
        return projection.pick(
            voxels,
            affine,
            self.camera,
            self.canvas.render_size(),
            (x, y),
            self.scene.blend_mode,
            self.scene.transfer().in_stored(slope, intercept),
            projection.clip_planes(self.scene),
            PICK_OPACITY,
        )

    def _on_click(self, x: float, y: float) -> None:
        point = self.point_at(x, y)
        if point is None:
            self.status.emit("3D: nothing shown under the mouse")
            return
        self.picked.emit(point)

    def show_standard(self, view: StandardView) -> None:
        if self.bounds is None:
            return
        self.view_name = view
        self.camera = self._standard_camera(view)
        self._request()

    def reset(self) -> None:
        self.show_standard(StandardView.ANTERIOR)

    def _on_preset_box(self, index: int) -> None:
        if 0 <= index < len(self.presets):
            self.set_preset(self.presets[index])
        elif self.preset_box.itemText(index) == FROM_WINDOW and self.voi is not None:
            self.set_preset(preset_from_voi(self.voi))

    # --- the preset editor -----------------------------------------------------------------
    def _saved_presets(self) -> tuple[VrPreset, ...]:
        if self.store is None:
            return ()
        wanted = "CT" if self.modality.upper() == "CT" else "MR"
        return tuple(p for p in self.store.vr_presets() if p.modality in (wanted, ""))

    def edit_transfer(self, shift: float, scale: float) -> None:
        """Move the preset's transfer function by ``shift`` (modality units) and scale it
        about its middle by ``scale`` (the editor's Ctrl+drag), from the chosen preset."""
        self.edit_shift, self.edit_scale = shift, scale
        base = self.base_preset
        transfer = edited(base.transfer_for(self.voi), shift, scale)
        preset = replace(base, name=f"{base.name} (edited)", transfer=transfer, relative=False)
        self.scene = replace(self.scene, preset=preset)
        self._request()

    def save_preset(self, name: str) -> VrPreset:
        """Keep the preset shown now under ``name``: in the box and in the settings."""
        wanted = "CT" if self.modality.upper() == "CT" else "MR"
        preset = replace(self.scene.preset, name=name, modality=wanted)
        kept = [p for p in self.presets if p.name != name]
        self.presets = (*kept, preset)
        if self.store is not None:
            saved = [p for p in self.store.vr_presets() if p.name != name]
            self.store.set_vr_presets([*saved, preset])
        self.preset_box.blockSignals(True)
        self.preset_box.clear()
        for each in self.presets:
            self.preset_box.addItem(each.name)
        self.preset_box.addItem(FROM_WINDOW)
        self.preset_box.setCurrentIndex(len(self.presets) - 1)
        self.preset_box.blockSignals(False)
        self.base_preset = preset
        self.edit_shift, self.edit_scale = 0.0, 1.0
        self.status.emit(f"3D preset {name!r} saved")
        return preset

    def _ask_preset_name(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self, "Save 3D preset", "Name:")
        if ok and name.strip():
            self.save_preset(name.strip())

    def _on_blend_box(self, index: int) -> None:
        if 0 <= index < len(BLEND_CHOICES):
            self.set_blend(BLEND_CHOICES[index])

    def _on_drag(self, gesture: str, dx: float, dy: float) -> None:
        if self.camera is None:
            return
        self.dragging = True
        width, height = self.canvas.width(), max(self.canvas.height(), 1)
        mm_per_pixel = self.camera.height_mm / height
        if gesture == "rotate":
            self.camera = self.camera.rotated(dx * DEGREES_PER_PIXEL, -dy * DEGREES_PER_PIXEL)
        elif gesture == "pan":
            self.camera = self.camera.panned(dx * mm_per_pixel, -dy * mm_per_pixel)
        elif gesture == "zoom":
            self.camera = self.camera.zoomed(WHEEL_ZOOM ** (-dy / 20.0))
        elif gesture == "edit":
            shown = self.base_preset.transfer_for(self.voi).visible_range() or (0.0, 1.0)
            span = max(shown[1] - shown[0], 1.0)
            self.edit_transfer(
                self.edit_shift - dy * span / EDIT_PIXELS_FOR_SPAN,
                self.edit_scale * EDIT_SCALE_PER_PIXEL**dx,
            )
            return
        del width
        self._request()

    def _on_release(self) -> None:
        self.dragging = False
        self._request()  # the full-quality frame

    def _on_wheel(self, notches: float) -> None:
        if self.camera is not None:
            self.camera = self.camera.zoomed(WHEEL_ZOOM**notches)
            self._request()

    def _owns_key(self, event: Any) -> bool:
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        letters = {view.value for view in StandardView}
        return plain and (
            event.text().upper() in letters or event.key() in (Qt.Key.Key_Home, Qt.Key.Key_0)
        )

    def event(self, event: Any) -> bool:
        # The window's shortcuts (R reset, I invert, 0 auto window, ...) are the 2D views';
        # here these keys pick standard views.
        if event.type() == QEvent.Type.ShortcutOverride and self._owns_key(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: Any) -> None:
        text = event.text().upper()
        for view in StandardView:
            if text == view.value:
                self.show_standard(view)
                return
        if event.key() in (Qt.Key.Key_Home, Qt.Key.Key_0):
            self.reset()
            return
        super().keyPressEvent(event)


def _spread_voi(volume: MprVolume) -> Voi:
    low, high = (volume.modality(v) for v in volume.stored_range)
    return Voi(min(low, high), max(low, high, min(low, high) + 1))
