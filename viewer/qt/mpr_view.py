"""The MPR layout: axial, coronal and sagittal views of one volume with linked crosshairs.

The volume is loaded once (viewer.dicom.pixels.volume.load_volume, in a worker thread) and shared by
the three views; the shared state is a viewer.model.mpr.MprState that the views subscribe to.
Reformats run in one worker thread: each view keeps only its newest request (older unstarted
ones are dropped, stale results ignored); results come back through a QObject owned by the GUI
thread. While the crosshair is dragged or tilted, oblique slabs are sampled as coarser
previews; the full-quality frame follows on release.

Mouse: left click/drag moves the crosshair point; left drag on a crosshair handle (the small
circles) tilts the other two planes about the point; Shift + left drag sets window/level
(shared by the three views); wheel moves the view's plane; middle drag pans; right drag and
Ctrl + wheel zoom. Keys: Up/Down/Page Up/Page Down move the plane (Shift: 10 steps), I inverts,
3-9 CT presets, F fits, R resets (orthogonal planes, window, zoom).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom.catalog.stack import Stack
from viewer.model import mpr
from viewer.model.interaction import Interaction
from viewer.model.mpr import CutLine, MprState, MprVolume, Plane, SlabMode, View
from viewer.model.orientation import direction_letters, edge_letters
from viewer.model.tools.base import (
    Change,
    MovePoint,
    RotatePlane,
    SetVoi,
    StepSlices,
    ToolContext,
    Vec3,
)
from viewer.model.tools.crosshair import NAME as CROSSHAIR
from viewer.model.tools.pan import NAME as PAN
from viewer.model.tools.rotate_plane import NAME as ROTATE_PLANE
from viewer.model.tools.window_level import NAME as WINDOW_LEVEL
from viewer.model.tools.zoom import NAME as ZOOM
from viewer.model.volume3d.engine import vtk_problem
from viewer.model.window_level import Voi
from viewer.qt.gpu import current_rendering, set_view_rendering
from viewer.qt.mpr_annotations import MprAnnotations
from viewer.qt.overlay import OverlayLayer
from viewer.qt.tool_adapter import Press, ToolAdapter, ToolViewBox
from viewer.qt.volume_loader import LoadedVolume, VolumeLoader
from viewer.qt.volume_view import PresetStore, VolumeView3D

log = logging.getLogger(__name__)


def _same_point(point: tuple[float, float]) -> tuple[float, float]:
    return point


#: Each view's colour: its frame, and its line in the other two views (3D Slicer's colours).
VIEW_COLOURS = {View.AXIAL: "#ff5a5a", View.CORONAL: "#5ad25a", View.SAGITTAL: "#f0cc3c"}
#: Rotation handles sit this fraction of the visible view's smaller side from the point.
HANDLE_FRACTION = 0.3
#: A left press this close (screen pixels) to a handle grabs it.
HANDLE_GRAB_PX = 12
SLAB_CHOICES: tuple[tuple[str, SlabMode | None], ...] = (
    ("Thin", None),
    ("MIP", SlabMode.MIP),
    ("MinIP", SlabMode.MINIP),
    ("Mean", SlabMode.MEAN),
)
#: Height of the notes under the 3D view in the fourth quadrant.
INFO_STRIP_PX = 96
#: The 3D quadrant's cut: (text, None or (MPR view, side of its plane kept: +1 along its
#: normal)). Axial normals point to the head, coronal ones back, sagittal ones to the right.
CLIP_CHOICES: tuple[tuple[str, tuple[View, float] | None], ...] = (
    ("3D: whole", None),
    ("3D: above axial", (View.AXIAL, 1.0)),
    ("3D: below axial", (View.AXIAL, -1.0)),
    ("3D: behind coronal", (View.CORONAL, 1.0)),
    ("3D: in front of coronal", (View.CORONAL, -1.0)),
    ("3D: right of sagittal", (View.SAGITTAL, 1.0)),
    ("3D: left of sagittal", (View.SAGITTAL, -1.0)),
)
HINT = (
    "Left: crosshair · drag ○: tilt · Shift+left: W/L · wheel: plane · middle: pan · "
    "right: zoom · R: reset"
)


# --- background work -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReformatRequest:
    """One view's image wanted; per view, the highest ``request_id`` wins."""

    view: View
    request_id: int
    plane: Plane
    slab_mode: SlabMode | None
    slab_mm: float
    preview: bool


@dataclass(frozen=True, slots=True)
class Reformatted:
    """A worker's answer: the image in stored values, the plane it covers, full quality or not."""

    request: ReformatRequest
    plane: Plane
    image: np.ndarray
    final: bool = True


def reformat_for(volume: MprVolume, request: ReformatRequest) -> Reformatted:
    """Compute one request (worker thread): a thin plane or a slab, full or preview."""
    if request.slab_mode is None or request.slab_mm <= 0:
        return Reformatted(request, request.plane, mpr.reformat(volume, request.plane))
    sampled = mpr.preview_plane(volume, request.plane) if request.preview else request.plane
    image = mpr.slab(volume, request.plane, request.slab_mm, request.slab_mode, request.preview)
    return Reformatted(request, sampled, image, final=sampled is request.plane)


class ReformatBridge(QObject):
    """Carries results from the worker thread to the GUI thread (queued signals)."""

    done = Signal(object)  # Reformatted
    failed = Signal(object, str)  # ReformatRequest, reason


class ReformatWorker:
    """One thread computing reformats; only the newest request of each view is kept."""

    def __init__(self, volume: MprVolume) -> None:
        self.bridge = ReformatBridge()
        self._volume = volume
        self._pending: dict[View, ReformatRequest] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="mpr-reformat", daemon=True)
        self._thread.start()

    def submit(self, request: ReformatRequest) -> None:
        with self._wake:
            self._pending.pop(request.view, None)  # replaced: the view goes to the back
            self._pending[request.view] = request
            self._wake.notify()

    def _next(self) -> ReformatRequest | None:
        with self._wake:
            while not self._pending and not self._stopped:
                self._wake.wait()
            if self._stopped:
                return None
            view = next(iter(self._pending))
            return self._pending.pop(view)

    def _run(self) -> None:
        while (request := self._next()) is not None:
            try:
                result = reformat_for(self._volume, request)
            except Exception as error:  # the worker must never die silently
                log.exception("reformat failed")
                self.bridge.failed.emit(request, f"{type(error).__name__}: {error}")
                continue
            if not self._stopped:
                self.bridge.done.emit(result)

    def shutdown(self) -> None:
        with self._wake:
            self._stopped = True
            self._pending.clear()
            self._wake.notify_all()
        self._thread.join(10)


# --- one view --------------------------------------------------------------------------------
class PlaneView(pg.GraphicsView):
    """One MPR view: the image placed in mm, the other planes' lines, handles, overlays."""

    painted = Signal()
    activated = Signal()  # a key was pressed here: this view's plane is the one keys move

    def __init__(self, view: View, parent: QWidget | None = None) -> None:
        super().__init__(parent, useOpenGL=False, background="k")  # see MprView.set_rendering
        self.view = view
        self.view_box = ToolViewBox()
        self.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.lines: dict[View, pg.InfiniteLine] = {}
        for other in View:
            if other is not view:
                pen = pg.mkPen(VIEW_COLOURS[other], width=1)
                line = pg.InfiniteLine(pos=(0, 0), angle=0, pen=pen, movable=False)
                line.setZValue(5)
                line.hide()
                self.view_box.addItem(line, ignoreBounds=True)
                self.lines[other] = line
        self.handles = pg.ScatterPlotItem(size=11, pxMode=True, brush=None)
        self.handles.setZValue(6)
        self.view_box.addItem(self.handles, ignoreBounds=True)
        self.overlay = OverlayLayer(self)
        self.has_image = False
        self.final = False  # the image shown is full quality (not a preview)
        self.was_painted = False
        self._cut: list[CutLine] = []
        self.setStyleSheet(f"border: 2px solid {VIEW_COLOURS[view]};")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view_box.sigRangeChanged.connect(lambda *_: self._on_range_changed())

    def _on_range_changed(self) -> None:
        self._place_handles()
        self.update_scale_bar()

    def update_scale_bar(self) -> None:
        """The scale bar follows the zoom (the view's coordinates are millimetres)."""
        mm_per_pixel = self.view_box.viewPixelSize()[0]
        pixels_per_mm = 1.0 / mm_per_pixel if mm_per_pixel > 0 else None
        if pixels_per_mm != self.overlay.pixels_per_mm:
            self.overlay.pixels_per_mm = pixels_per_mm
            self.overlay.update()

    def show_image(self, image: np.ndarray, rect: QRectF, final: bool) -> None:
        first = not self.has_image
        self.image_item.setImage(image, levels=(0, 255), autoLevels=False)
        self.image_item.setRect(rect)
        self.has_image, self.final = True, final
        if first:
            self.fit()

    def fit(self) -> None:
        if self.has_image:
            self.view_box.autoRange(items=[self.image_item], padding=0.02)

    def set_cut_lines(self, lines: list[CutLine]) -> None:
        self._cut = lines
        for cut in lines:
            line = self.lines[cut.view]
            line.setPos(QPointF(*cut.point))
            line.setAngle(math.degrees(math.atan2(cut.direction[1], cut.direction[0])))
            line.show()
        self._place_handles()

    def handle_positions(self) -> list[QPointF]:
        """Both ends of each line's handle pair, in view coordinates."""
        (left, right), (top, bottom) = self.view_box.viewRange()
        reach = HANDLE_FRACTION * min(abs(right - left), abs(bottom - top))
        return [
            QPointF(
                cut.point[0] + sign * reach * cut.direction[0],
                cut.point[1] + sign * reach * cut.direction[1],
            )
            for cut in self._cut
            for sign in (-1.0, 1.0)
        ]

    def _place_handles(self) -> None:
        spots = []
        for cut, position in zip(
            (c for c in self._cut for _ in (0, 1)), self.handle_positions(), strict=True
        ):
            spots.append(
                {
                    "pos": (position.x(), position.y()),
                    "pen": pg.mkPen(VIEW_COLOURS[cut.view], width=2),
                }
            )
        self.handles.setData(spots)

    def near_handle(self, position: QPointF) -> bool:
        """True when view position ``position`` is within HANDLE_GRAB_PX of a handle."""
        here = self.view_box.mapViewToDevice(position)
        for handle in self.handle_positions():
            there = self.view_box.mapViewToDevice(handle)
            if math.hypot(here.x() - there.x(), here.y() - there.y()) <= HANDLE_GRAB_PX:
                return True
        return False

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        if hasattr(self, "overlay"):  # GraphicsView.__init__ resizes before it exists
            self.overlay.setGeometry(0, 0, self.width(), self.height())

    def keyPressEvent(self, ev: Any) -> None:
        self.activated.emit()
        ev.ignore()  # handled by the MPR view (the parent)

    def paintEvent(self, ev: Any) -> None:
        super().paintEvent(ev)
        if self.has_image and self.final and not self.was_painted:
            self.was_painted = True
            self.painted.emit()


# --- the three views --------------------------------------------------------------------------
class MprView(QWidget):
    """Axial, coronal and sagittal views of ``stack`` with linked crosshairs and slabs.

    Call :meth:`start` to load the volume and :meth:`shutdown` before the window goes away.
    ``voi`` is the window to start with (else the file's); ``modality`` picks the presets.
    """

    status = Signal(str)
    painted = Signal()  # every view has painted a full-quality image once
    failed = Signal(str)
    voi_changed = Signal(object)  # Voi, so a window can share it with its other views
    #: The user's W/L drag speed/direction and presets (Preferences; the window sets it).
    interaction = Interaction()
    #: Where the 3D quadrant keeps saved presets (the window sets it).
    preset_store: PresetStore | None = None

    def __init__(
        self,
        stack: Stack,
        voi: Voi | None = None,
        modality: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.stack = stack
        self.modality = modality
        self.state: MprState | None = None
        self.worker: ReformatWorker | None = None
        self._initial_voi = voi
        self._value_range = 1.0
        self._latest: dict[View, int] = dict.fromkeys(View, 0)
        self._shown: dict[View, Reformatted] = {}
        self._requested: dict[View, Plane] = {}
        self._dragging = False
        self._active = View.AXIAL
        self._announced = False
        #: Patient, study and series lines for the corners (the window sets them, as for the
        #: 2D viewport: "name", "id", "birth", "study", "date", "series").
        self.patient_text: dict[str, str] = {}
        self.volume_3d: VolumeView3D | None = None
        self.views = {view: PlaneView(view, self) for view in View}
        self.set_rendering(current_rendering().opengl)
        self._make_layout()
        self.loader = VolumeLoader(stack)
        self.loader.bridge.loaded.connect(self._on_loaded)
        self.loader.bridge.failed.connect(self._on_failed)
        self.loader.bridge.progress.connect(self._on_progress)
        for view, widget in self.views.items():
            self._connect_view(view, widget)
        #: The toolbar's measurement tools on the planes (lengths in mm in the plane).
        self.measure = MprAnnotations(self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # --- construction ---------------------------------------------------------------------
    def _make_layout(self) -> None:
        controls = QHBoxLayout()
        self.slab_box = QComboBox()
        for text, _mode in SLAB_CHOICES:
            self.slab_box.addItem(text)
        self.slab_box.setToolTip("Thick slab: maximum, minimum or mean over the thickness")
        self.thickness_box = QDoubleSpinBox()
        self.thickness_box.setRange(0.5, 300.0)
        self.thickness_box.setDecimals(1)
        self.thickness_box.setValue(10.0)
        self.thickness_box.setSuffix(" mm")
        self.thickness_box.setToolTip("Slab thickness")
        self.reset_button = QPushButton("Orthogonal")
        self.reset_button.setToolTip("Reset the planes to axial, coronal and sagittal")
        self.invert_box = QCheckBox("Invert")
        self.readout = QLabel("Loading volume…")
        # Its text follows the pointer: its length must not re-lay the views out (they would
        # move under a drag).
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (QLabel("Slab"), self.slab_box, self.thickness_box, self.reset_button):
            controls.addWidget(widget)
        controls.addWidget(self.invert_box)
        controls.addWidget(self.readout, 1)
        self.slab_box.currentIndexChanged.connect(self._on_slab_controls)
        self.thickness_box.valueChanged.connect(self._on_slab_controls)
        self.reset_button.clicked.connect(self.reset_planes)
        self.invert_box.toggled.connect(self._on_invert_box)
        grid = QGridLayout()
        grid.setSpacing(2)
        grid.addWidget(self.views[View.AXIAL], 0, 0)
        grid.addWidget(self.views[View.SAGITTAL], 0, 1)
        grid.addWidget(self.views[View.CORONAL], 1, 0)
        self.info = QLabel(HINT)
        self.info.setWordWrap(True)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info.setMargin(8)
        # The fourth quadrant: the 3D view of the same volume (once loaded), then the notes.
        self.fourth = QWidget()
        self.fourth_layout = QVBoxLayout(self.fourth)
        self.fourth_layout.setContentsMargins(0, 0, 0, 0)
        self.fourth_layout.addWidget(self.info)
        grid.addWidget(self.fourth, 1, 1)
        self.clip_box = QComboBox()
        for text, _plane in CLIP_CHOICES:
            self.clip_box.addItem(text)
        self.clip_box.setToolTip("Cut the 3D view at an MPR plane (it follows the crosshair)")
        self.clip_box.currentIndexChanged.connect(lambda _i: self._update_3d_clip())
        controls.insertWidget(controls.count() - 1, self.clip_box)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)

    def _connect_view(self, view: View, widget: PlaneView) -> None:
        box = widget.view_box
        box.tools = ToolAdapter(
            box,
            partial(self._tool_for, view),
            partial(self._tool_context, view),
            partial(self._apply, view),
            to_image=_same_point,  # the drawing tools' points: the view's mm (MprAnnotations)
            to_patient=partial(self._patient_at, view),
        )
        box.tools.on_gesture = partial(self._on_gesture, view)
        widget.scene().sigMouseMoved.connect(lambda position, v=view: self._on_hover(v, position))
        widget.painted.connect(self._on_view_painted)
        widget.activated.connect(lambda v=view: setattr(self, "_active", v))

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Load the volume in the background; the views fill when it is ready."""
        self.loader.start()

    def set_rendering(self, opengl: bool) -> None:
        """Draw the three views through OpenGL viewports or in software (raster); the 3D
        view's GPU or CPU ray caster."""
        for widget in self.views.values():
            set_view_rendering(widget, opengl, self.status.emit)
        quadrant = getattr(self, "volume_3d", None)  # set_rendering runs before it exists
        if quadrant is not None:
            quadrant.set_rendering(opengl)

    # --- the 3D quadrant --------------------------------------------------------------------
    def _add_3d(self, volume: MprVolume, voi: Voi | None) -> None:
        """The 3D view of this very volume (one copy) in the fourth quadrant, or why not."""
        problem = vtk_problem()
        if problem:
            self.info.setText(self.info.text() + "\n\n" + problem)
            self.clip_box.setEnabled(False)
            return
        view = VolumeView3D(voi=voi, modality=self.modality, parent=self, compact=True,
                            store=self.preset_store)  # fmt: skip
        view.status.connect(self.status.emit)
        self.fourth_layout.insertWidget(0, view, 1)
        # Below the 3D view, what is shown stays readable in a strip (all of it as a tooltip).
        self.info.setToolTip(self.info.text())
        self.info.setMaximumHeight(INFO_STRIP_PX)
        self.volume_3d = view
        view.set_volume(volume)
        if self.state is not None:
            view.set_crosshair(self.state.point)

    def _update_3d_clip(self) -> None:
        view, state = self.volume_3d, self.state
        if view is None or state is None:
            return
        which = CLIP_CHOICES[self.clip_box.currentIndex()][1]
        if which is None:
            view.set_clip_planes(())
            return
        plane, sign = which
        normal = sign * np.asarray(state.normal(plane), float)
        point = (float(state.point[0]), float(state.point[1]), float(state.point[2]))
        direction = (float(normal[0]), float(normal[1]), float(normal[2]))
        view.set_clip_planes(((point, direction),))

    def shutdown(self) -> None:
        """Stop the loader and the reformat worker (call before the window closes)."""
        self.loader.cancel()
        self.loader.wait(30)
        if self.worker is not None:
            self.worker.shutdown()
        if self.volume_3d is not None:
            self.volume_3d.shutdown()

    @property
    def ready(self) -> bool:
        return self.state is not None

    def _on_progress(self, done: int, total: int) -> None:
        self.readout.setText(f"Loading volume… {done}/{total}")

    def _on_failed(self, reason: str) -> None:
        self.readout.setText(reason)
        self.status.emit(reason)
        self.failed.emit(reason)

    def _on_loaded(self, loaded: LoadedVolume) -> None:
        volume = loaded.volume
        self._value_range = max(loaded.value_range, 1.0)
        voi = self._initial_voi or loaded.default_voi or self._spread_voi(volume)
        self._initial_voi = voi
        self.state = MprState(volume, voi)
        self.worker = ReformatWorker(volume)
        self.worker.bridge.done.connect(self._on_reformatted)
        self.worker.bridge.failed.connect(self._on_reformat_failed)
        self.state.changed.connect(self._on_state_changed)
        self.readout.setText(f"{volume.shape[2]} × {volume.shape[1]} × {volume.shape[0]} voxels")
        self.info.setText(self.series_info(volume))
        self._add_3d(volume, voi)
        if volume.warnings:  # each says "MPR: ..." already
            self.status.emit("; ".join(volume.warnings))
        self._request_all()
        self._update_lines()
        self._update_overlays()

    def series_info(self, volume: MprVolume) -> str:
        """The fourth quadrant: what is shown (patient, series, the volume's grid), the
        volume's warnings, then the mouse and keys."""
        info = self.patient_text
        stack = self.stack
        lines = [
            " · ".join(v for v in (info.get("name", ""), info.get("id", "")) if v),
            " · ".join(v for v in (info.get("study", ""), info.get("date", "")) if v),
            info.get("series", ""),
            stack.title,
            f"{volume.shape[2]} × {volume.shape[1]} × {volume.shape[0]} voxels"
            + (
                " of {:.2g} × {:.2g} × {:.2g} mm".format(*stack.spacing)
                if stack.spacing is not None
                else ""
            ),
            *(warning.removeprefix("MPR: ") for warning in volume.warnings),
        ]
        return "\n".join([*(line for line in lines if line), "", HINT])

    def _spread_voi(self, volume: MprVolume) -> Voi:
        low = volume.modality(volume.stored_range[0])
        return Voi(low, low + self._value_range)

    # --- state -> views -------------------------------------------------------------------
    def _on_state_changed(self, what: str) -> None:
        if what in ("point", "axes") and self.volume_3d is not None and self.state is not None:
            self.volume_3d.set_crosshair(self.state.point)
            self._update_3d_clip()
        if what == "voi" and self.volume_3d is not None and self.state is not None:
            self.volume_3d.set_voi(self.state.voi)
        if what in ("point", "axes", "slab"):
            self._request_all(changed_only=what != "slab")
            self._update_lines()
        elif what in ("voi", "invert"):
            for view in View:
                self._redraw(view)
            if what == "voi" and self.state is not None:
                self.voi_changed.emit(self.state.voi)
        self._update_overlays()

    def _request_all(self, changed_only: bool = False) -> None:
        for view in View:
            self._request(view, changed_only)

    def _request(self, view: View, changed_only: bool = False) -> None:
        state, worker = self.state, self.worker
        if state is None or worker is None:
            return
        plane = state.plane(view)
        if changed_only and self._requested.get(view) == plane and not self._needs_final(view):
            return
        self._requested[view] = plane
        self._latest[view] += 1
        request = ReformatRequest(
            view, self._latest[view], plane, state.slab_mode, state.slab_mm, self._dragging
        )
        worker.submit(request)

    def _needs_final(self, view: View) -> bool:
        shown = self._shown.get(view)
        return not self._dragging and shown is not None and not shown.final

    def _on_reformatted(self, result: Reformatted) -> None:
        view = result.request.view
        if result.request.request_id != self._latest[view]:
            return  # stale: a newer request for this view is on its way
        self._shown[view] = result
        self._redraw(view)

    def _on_reformat_failed(self, request: ReformatRequest, reason: str) -> None:
        if request.request_id == self._latest[request.view]:
            self.status.emit(f"MPR {request.view.value}: {reason}")

    def _redraw(self, view: View) -> None:
        state, shown = self.state, self._shown.get(view)
        if state is None or shown is None or state.voi is None:
            return
        volume = state.volume
        image = mpr.to_display(
            shown.image,
            state.voi,
            volume.rescale_slope,
            volume.rescale_intercept,
            state.displays_inverted,
        )
        rect = self.image_rect(view)
        assert rect is not None
        self.views[view].show_image(image, rect, final=shown.final)
        self.measure.refresh(view)

    def image_rect(self, view: View) -> QRectF | None:
        """Where the plane's reformatted image lies in the view (mm); None: none shown."""
        state, shown = self.state, self._shown.get(view)
        if state is None or shown is None:
            return None
        plane = shown.plane
        x, y = state.to_view(view, plane.origin)  # the centre of pixel (0, 0)
        width, height = plane.pixel_mm
        return QRectF(x - width / 2, y - height / 2, plane.size[0] * width, plane.size[1] * height)

    def _update_lines(self) -> None:
        if self.state is None:
            return
        for view, widget in self.views.items():
            widget.set_cut_lines(self.state.cut_lines(view))

    def _update_overlays(self) -> None:
        state = self.state
        if state is None:
            return
        for view, widget in self.views.items():
            right, down = state.axes[view]
            widget.overlay.letters = edge_letters(tuple(right), tuple(down))
            widget.overlay.corners = self._corner_text(view, state.tilted(view))
            widget.update_scale_bar()
            widget.overlay.update()

    def _corner_text(self, view: View, oblique: bool) -> dict[str, list[str]]:
        state = self.state
        assert state is not None
        name = view.value.capitalize() + (" (oblique)" if oblique else "")
        normal = state.normal(view)
        depth = float(state.point @ normal)  # signed distance along the normal from LPS 0
        side = direction_letters(tuple(normal if depth >= 0 else -normal)) or "d"
        slab = (
            "Thin" if state.slab_mode is None else f"{state.slab_mode.value} {state.slab_mm:g} mm"
        )
        info = self.patient_text
        corners = {
            "tl": [name, f"{side} {abs(depth):.1f} mm"],
            "tr": [
                " · ".join(v for v in (info.get("name", ""), info.get("id", "")) if v),
                " · ".join(v for v in (info.get("study", ""), info.get("date", "")) if v),
                info.get("series", ""),
            ],
            "bl": [slab],
        }
        if state.voi is not None:
            corners["br"] = [f"W: {state.voi.width:.0f} L: {state.voi.center:.0f}"]
        return {corner: [line for line in lines if line] for corner, lines in corners.items()}

    @property
    def unit(self) -> str:
        """The modality values' unit: HU for CT (PS3.3 C.11.1.1.2), none said otherwise."""
        return " HU" if self.modality == "CT" else ""

    def _on_view_painted(self) -> None:
        if not self._announced and all(w.was_painted for w in self.views.values()):
            self._announced = True
            self.painted.emit()

    # --- interaction (viewer.model.tools through viewer.qt.tool_adapter) -------------------
    def _tool_for(self, view: View, press: Press) -> str:
        """Left: the crosshair (a line's handle: rotate that plane; Shift: window/level);
        middle: pan; right: zoom. With a measurement tool chosen on the toolbar the left
        button draws it (or edits the annotation it is pressed on)."""
        self._active = view
        chosen = self.measure.tool_for(view, press)
        if chosen is not None:
            return chosen
        if press.button == "left":
            if press.shift:
                return WINDOW_LEVEL
            near = not press.click and self.views[view].near_handle(QPointF(*press.view))
            return ROTATE_PLANE if near else CROSSHAIR
        return {"middle": PAN, "right": ZOOM}.get(press.button, "")

    def _tool_context(self, view: View) -> ToolContext:
        state = self.state
        if state is None:
            return ToolContext()
        anchor = state.to_view(view, state.point)
        return ToolContext(
            state.voi,
            self._value_range,
            self.interaction.wl_drag,
            anchor=anchor,
            zoom_speed=self.interaction.zoom_speed,
            **self.measure.context(view),
        )

    def _patient_at(self, view: View, point: tuple[float, float]) -> Vec3 | None:
        if self.state is None:
            return None
        x, y, z = self.state.from_view(view, *point)
        return (float(x), float(y), float(z))

    def _apply(self, view: View, change: Change) -> None:
        state = self.state
        if state is None or self.measure.apply(view, change, self.status.emit):
            return
        if isinstance(change, SetVoi):
            state.set_voi(change.voi)
        elif isinstance(change, MovePoint):
            state.set_point(np.asarray(change.patient, dtype=float))
        elif isinstance(change, RotatePlane):
            state.rotate(view, change.radians)
        elif isinstance(change, StepSlices):
            self._active = view
            state.move(view, change.steps)

    def _on_gesture(self, view: View, tool: str) -> None:
        """A drag starts (``tool``) or ends (""): while the crosshair or a plane moves the
        reformats are previews; the full-quality frames follow the end."""
        if tool:
            self._active = view
            self._dragging = tool in (CROSSHAIR, ROTATE_PLANE)
            return
        self._dragging = False
        self._request_all(changed_only=True)

    def _on_hover(self, view: View, position: QPointF) -> None:
        state, shown = self.state, self._shown.get(view)
        widget = self.views[view]
        if (
            state is None
            or shown is None
            or not widget.view_box.sceneBoundingRect().contains(position)
        ):
            return
        self._active = view
        here = widget.view_box.mapSceneToView(position)
        point = state.from_view(view, here.x(), here.y())
        column, row, _ = shown.plane.pixel_of(point)
        text = "{}: x {:.1f}  y {:.1f}  z {:.1f} mm".format(view.value, *point)
        c, r = round(column), round(row)
        if (
            0 <= r < shown.image.shape[0]
            and 0 <= c < shown.image.shape[1]
            and (state.volume.contains(point))
        ):
            value = state.volume.modality(float(shown.image[r, c]))
            kind = "" if state.slab_mode is None else f" ({state.slab_mode.value})"
            text += f"  value {value:.6g}{self.unit}{kind}"
        self.readout.setText(text)
        self.status.emit(text)

    # --- controls and keys ----------------------------------------------------------------
    def _on_slab_controls(self, *_args: Any) -> None:
        if self.state is not None:
            mode = SLAB_CHOICES[self.slab_box.currentIndex()][1]
            self.state.set_slab(mode, self.thickness_box.value())

    def _on_invert_box(self, checked: bool) -> None:
        if self.state is not None:
            self.state.set_invert(checked)

    def set_voi(self, voi: Voi | None) -> None:
        """Show ``voi`` in all three views (a window's presets reach MPR through this)."""
        if self.state is not None and voi is not None:
            self.state.set_voi(voi)

    def reset_planes(self) -> None:
        if self.state is not None:
            self.state.reset()

    def reset(self) -> None:
        """Orthogonal planes, the initial window, not inverted, fitted views."""
        if self.state is None:
            return
        self.state.reset()
        self.invert_box.setChecked(False)
        self.state.set_voi(self._initial_voi)
        for widget in self.views.values():
            widget.fit()

    def keyPressEvent(self, event: Any) -> None:
        state = self.state
        key = event.key()
        if state is None:
            super().keyPressEvent(event)
            return
        step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        moves = {Qt.Key.Key_Up: -step, Qt.Key.Key_PageUp: -step}
        moves |= {Qt.Key.Key_Down: step, Qt.Key.Key_PageDown: step}
        number = key - Qt.Key.Key_0
        preset = self.interaction.preset(self.modality, number) if self.modality else None
        if key in moves:
            state.move(self._active, moves[key])
        elif key == Qt.Key.Key_I:
            self.invert_box.setChecked(not self.invert_box.isChecked())
        elif key == Qt.Key.Key_F:
            for widget in self.views.values():
                widget.fit()
        elif key in (Qt.Key.Key_R, Qt.Key.Key_Space):
            self.reset()
        elif preset is not None:
            state.set_voi(preset.voi)
            self.status.emit(f"{preset.label()}")
        else:
            super().keyPressEvent(event)
            return
        event.accept()
