"""Measurements in the MPR views (issue 17): the toolbar's measurement tools draw on a plane.

Points are the view's own coordinates: millimetres right and down in the plane (see
:meth:`viewer.model.mpr.MprState.to_view`), so a length is in mm in the plane whatever the
plane's tilt. An annotation belongs to the plane it was drawn on (the view, its axes and its
depth, rounded to 0.01 mm): it shows while that plane is shown. ROI statistics are of the
reformatted plane's modality values (its pixels, the plane's pixel size). These annotations
live with the MPR view for the session: they are not in the 2D views' store, the SR or the
study database (their images are reformats, not instances).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF

from viewer.dicom.pixels.frames import DecodedFrame, PixelTransform
from viewer.model.annotations import shapes
from viewer.model.annotations.calibration import PIXEL_SPACING, Calibration
from viewer.model.annotations.measure import Measurement, measure
from viewer.model.annotations.shapes import Annotation, ImageRef, Point
from viewer.model.annotations.store import AnnotationStore, DragEdit
from viewer.model.mpr import View
from viewer.model.tools import edit
from viewer.model.tools.base import Change, DrawShape, EditShape, SelectShape
from viewer.qt.annotation_layer import AnnotationLayer, Drawn
from viewer.qt.tool_adapter import Press

#: What every MPR label says about its calibration.
IN_PLANE = "in plane"


def _view_point(point: Point) -> QPointF:
    return QPointF(*point)


class MprAnnotations:
    """The annotations of one MPR view's three planes: drawing, editing, labels."""

    def __init__(self, mpr: Any) -> None:
        self.mpr = mpr
        self.store = AnnotationStore()
        self.tool = ""  # the toolbar's measurement tool ("": the MPR's own mouse tools)
        self.layers = {
            view: AnnotationLayer(widget.view_box, _view_point)
            for view, widget in mpr.views.items()
        }
        self._pending: dict[View, tuple[Point, ...]] = dict.fromkeys(View, ())
        self._draft: dict[View, Annotation | None] = dict.fromkeys(View, None)
        self._drag = DragEdit()
        self.store.changed.connect(lambda _ids: self.refresh())
        for view, widget in mpr.views.items():
            widget.view_box.sigRangeChanged.connect(lambda *_a, v=view: self.refresh(v))

    # --- planes ----------------------------------------------------------------------------
    def image(self, view: View) -> ImageRef | None:
        """The plane ``view`` shows now, as the frame its annotations belong to."""
        state = self.mpr.state
        if state is None:
            return None
        right, down = state.axes[view]
        depth = float((state.point - state.reference) @ state.normal(view))
        axes = ",".join(f"{v:.4f}" for v in (*right, *down))
        return ImageRef(f"mpr:{view.value}:{axes}:{depth:.2f}", 0)

    def _pixels(self, view: View) -> tuple[DecodedFrame, QRectF, tuple[float, float]] | None:
        """The plane's reformatted modality values, its rectangle in the view and its pixel
        size (mm along right, along down)."""
        shown = self.mpr._shown.get(view)
        rect = self.mpr.image_rect(view)
        if shown is None or rect is None:
            return None
        volume = self.mpr.state.volume
        transform = PixelTransform(
            pixel_representation=1 if np.issubdtype(shown.image.dtype, np.signedinteger) else 0,
            rescale_slope=float(volume.rescale_slope),
            rescale_intercept=float(volume.rescale_intercept),
        )
        return DecodedFrame(shown.image, transform), rect, shown.plane.pixel_mm

    def measurement(self, annotation: Annotation, view: View) -> Measurement:
        """Its numbers: lengths in mm in the plane, ROI statistics of the plane's pixels."""
        pixels = self._pixels(view)
        if pixels is None:
            calibration = Calibration(PIXEL_SPACING, (1.0, 1.0), IN_PLANE)
            return measure(annotation, calibration, None, self.mpr.modality)
        frame, rect, (width, height) = pixels
        points = tuple(
            ((x - rect.left()) / width, (y - rect.top()) / height) for x, y in annotation.points
        )
        in_pixels = replace(annotation, points=points)
        calibration = Calibration(PIXEL_SPACING, (height, width), IN_PLANE)
        return measure(in_pixels, calibration, frame, self.mpr.modality)

    def refresh(self, only: View | None = None) -> None:
        for view, layer in self.layers.items():
            if only is not None and view is not only:
                continue
            image = self.image(view)
            if image is None:
                layer.show([])
                continue
            selected = self.store.selected
            drawn = [
                Drawn(a, tuple(self.measurement(a, view).lines), selected=a.id == selected)
                for a in self.store.on_frame(image.key)
                if a.visible
            ]
            draft = self._draft[view]
            if draft is not None:
                lines = tuple(self.measurement(draft, view).lines) if draft.complete else ()
                drawn.append(Drawn(draft, lines, draft=True))
            layer.show(drawn)

    # --- tools -----------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        self.tool = name
        self._pending = dict.fromkeys(View, ())
        self._draft = dict.fromkeys(View, None)
        self.refresh()

    def tool_for(self, view: View, press: Press) -> str | None:
        """The tool a left press uses with a measurement tool chosen (None: not ours)."""
        if press.button != "left" or press.shift or not self.tool:
            return None
        if self._pending[view]:
            return self.tool
        if self.layers[view].hit(press.view) is not None:
            return edit.NAME
        return self.tool

    def context(self, view: View) -> dict[str, Any]:
        """What the drawing and edit tools read: hits, a pending shape, screen px per mm."""
        box = self.mpr.views[view].view_box
        width = box.viewRect().width()
        zoom = box.width() / width if width > 0 else None
        return {"hit": self.layers[view].hit, "pending": self._pending[view], "zoom": zoom}

    def apply(self, view: View, change: Change, status: Callable[[str], None]) -> bool:
        """Apply a drawing or editing change made in ``view``; False: not such a change."""
        if isinstance(change, DrawShape):
            self._draw(view, change, status)
        elif isinstance(change, EditShape):
            self._edit(view, change, status)
        elif isinstance(change, SelectShape):
            if change.annotation_id != self.store.selected:
                self.store.selected = change.annotation_id
                self.refresh()
        else:
            return False
        return True

    def _draw(self, view: View, change: DrawShape, status: Callable[[str], None]) -> None:
        image = self.image(view)
        if image is None:
            return
        current = self._draft[view]
        draft = Annotation(
            change.kind, change.points, image, id=current.id if current else shapes.new_id()
        )
        if not change.done:
            self._draft[view] = draft
            self.refresh(view)
            return
        self._draft[view] = None
        spread = _spread(change.points)
        if not change.finished:
            if spread > 0 or change.kind == shapes.POLYGON:
                self._pending[view], self._draft[view] = change.points, draft
        elif change.kind in (shapes.POINT, shapes.TEXT, shapes.ARROW) or spread > 0:
            self._pending[view] = ()
            if change.kind == shapes.TEXT:
                draft = replace(draft, text="(text)")
            self.store.selected = draft.id
            self.store.add(draft)
            status(" ".join(self.measurement(draft, view).lines))
        self.refresh(view)

    def _edit(self, view: View, change: EditShape, status: Callable[[str], None]) -> None:
        delta = (change.end[0] - change.start[0], change.end[1] - change.start[1])

        def label_at(annotation_id: str) -> Point | None:
            at = self.layers[view].label_at.get(annotation_id)  # view mm: the points' units
            return (at.x(), at.y()) if at is not None else None

        edited = self._drag.apply(
            self.store, change.annotation_id, change.handle, delta, change.done, label_at
        )
        if edited is not None and change.done:
            status(" ".join(self.measurement(edited, view).lines))

    def delete_selected(self) -> bool:
        if self.store.selected and self.store.selected in self.store:
            self.store.remove(self.store.selected)
            return True
        return False


def _spread(points: tuple[Point, ...]) -> float:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return max(max(xs) - min(xs), max(ys) - min(ys)) if points else 0.0
