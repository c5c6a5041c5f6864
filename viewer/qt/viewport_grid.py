"""Viewport layouts (1x1, 1x2, 2x1, 2x2), the active viewport, and linking between them.

Every viewport has its own ViewState and shares the FrameLoader. The active one (outlined when
more than one shows) receives keys, menu commands and series chosen in the tree. Linking
(viewer.model.linking, viewer.model.cross_reference): synchronised scrolling moves parallel
stacks sharing a Frame of Reference (PS3.3 C.7.4.1) to the slice nearest the active one, and
parallel stacks of the same patient without one (a prior study) by position with an offset
captured when the link is made or scrolling is synchronised again (corner text says so); the
other views draw a reference line where the active slice cuts them (shared Frame of Reference
only); "Link window/level" copies the active window to viewports of the same modality. All
viewports draw the same way, OpenGL or raster (:meth:`ViewportGrid.set_rendering`,
viewer.qt.gpu).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from viewer.model.annotations.store import AnnotationStore
from viewer.model.cross_reference import reference_segment
from viewer.model.display import ViewState
from viewer.model.interaction import Interaction
from viewer.model.linking import (
    FRAME,
    POSITION,
    ScrollLinks,
    link_sentence,
    link_text,
    voi_followers,
)
from viewer.qt.gpu import current_rendering
from viewer.qt.image_view import ImageViewport
from viewer.qt.tasks import FrameLoader

LAYOUTS: dict[str, tuple[int, int]] = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1), "2x2": (2, 2)}


class ViewportGrid(QWidget):
    """Up to four ImageViewports in a grid; one is active."""

    status = Signal(str)
    active_changed = Signal(object)  # ImageViewport
    series_dropped = Signal(str, int)  # a series (UID, stack) dropped on the now active one
    active_shows = Signal()  # the active viewport shows another series, stack or phase

    def __init__(self, loader: FrameLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.viewports: list[ImageViewport] = []
        self.sync_scrolling = True
        self.links = ScrollLinks()  # offsets between Frames of Reference (model side)
        self.link_voi = False  # "Link window/level": the active window goes to the same modality
        self.reference_lines = True
        self.text_visible = True
        self.interaction = Interaction()  # the user's mouse mapping, W/L drag, presets
        self.annotations = AnnotationStore()  # the session's measurements, for every viewport
        self.active_tool = ""  # the left button's tool from the toolbar ("": the mapping's)
        self.opengl = current_rendering().opengl  # draw through OpenGL viewports
        self.rows, self.columns = 1, 1
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.active = self._add_viewport()
        self._grid.addWidget(self.active, 0, 0)

    # --- layout -----------------------------------------------------------------------------
    def _add_viewport(self) -> ImageViewport:
        opengl = self.opengl and current_rendering().opengl  # unless OpenGL failed meanwhile
        viewport = ImageViewport(ViewState(), self.loader, self, opengl=opengl)
        viewport.status.connect(self.status)
        viewport.activated.connect(lambda: self.set_active(viewport))
        viewport.series_dropped.connect(self.series_dropped)
        viewport.view_changed.connect(lambda: self._on_view_changed(viewport))
        viewport.state.changed.connect(lambda what: self._on_state_changed(viewport, what))
        viewport.set_text_visible(self.text_visible)
        viewport.set_interaction(self.interaction)
        viewport.set_annotations(self.annotations)
        viewport.set_active_tool(self.active_tool)
        self.viewports.append(viewport)
        return viewport

    @property
    def annotations_visible(self) -> bool:
        return self.active.annotations_visible

    def set_annotations_visible(self, visible: bool) -> None:
        for viewport in self.viewports:
            viewport.annotations_visible = visible
            viewport.refresh_annotations()

    def set_active_tool(self, name: str) -> None:
        """Give the left button to tool ``name`` in every viewport ("" gives it back)."""
        self.active_tool = name
        for viewport in self.viewports:
            viewport.set_active_tool(name)

    def set_layout(self, name: str) -> None:
        """Show ``name`` ("1x1", "1x2", "2x1", "2x2") viewports; the others keep their state."""
        rows, columns = LAYOUTS[name]
        count = rows * columns
        while len(self.viewports) < count:
            self._add_viewport()
        if self.viewports.index(self.active) >= count:
            self._bring_into_view(self.active)  # going to 1x1 keeps the active one's series
        active = self.active
        for viewport in self.viewports:
            self._grid.removeWidget(viewport)
        for number, viewport in enumerate(self.viewports[:count]):
            self._grid.addWidget(viewport, number // columns, number % columns)
            viewport.show()
        # Hidden last: hiding the viewport with the focus hands the focus (and so the active
        # place) to whichever viewport Qt picks next.
        for viewport in self.viewports[count:]:
            viewport.hide()
        self.set_active(active)
        for line in range(2):  # equal shares, whatever the images' size hints say
            self._grid.setRowStretch(line, 1 if line < rows else 0)
            self._grid.setColumnStretch(line, 1 if line < columns else 0)
        self.rows, self.columns = rows, columns
        for viewport in self.viewports:
            viewport.set_drop_hint(count > 1)
        self._show_outlines()
        self.update_reference_lines()
        self.update_link_text()

    def put_first(self, viewport: ImageViewport) -> None:
        """``viewport`` to the first place (top left) of the layout shown."""
        if self.viewports.index(viewport) != 0:
            self._bring_into_view(viewport)
            self.set_layout(self.layout_name)

    def _bring_into_view(self, viewport: ImageViewport) -> None:
        """Swap ``viewport`` into the first place, so a smaller layout keeps what it shows."""
        place = self.viewports.index(viewport)
        self.viewports[0], self.viewports[place] = self.viewports[place], self.viewports[0]

    @property
    def layout_name(self) -> str:
        return f"{self.rows}x{self.columns}"

    def visible_viewports(self) -> list[ImageViewport]:
        return self.viewports[: self.rows * self.columns]

    def set_active(self, viewport: ImageViewport) -> None:
        if viewport is self.active:
            return
        self.active = viewport
        self._show_outlines()
        self.update_reference_lines()
        self.update_link_text()
        self.active_changed.emit(viewport)

    def next_viewport(self) -> None:
        shown = self.visible_viewports()
        following = shown[(shown.index(self.active) + 1) % len(shown)]
        self.set_active(following)
        following.setFocus()

    def _show_outlines(self) -> None:
        several = len(self.visible_viewports()) > 1
        for viewport in self.viewports:
            viewport.set_active_outline(several and viewport is self.active)

    def set_text_visible(self, visible: bool) -> None:
        self.text_visible = visible
        for viewport in self.viewports:
            viewport.set_text_visible(visible)

    def set_interaction(self, interaction: Interaction) -> None:
        """Mouse mapping, W/L drag and presets for every viewport, now and added later."""
        self.interaction = interaction
        for viewport in self.viewports:
            viewport.set_interaction(interaction)

    def set_rendering(self, opengl: bool) -> None:
        """OpenGL or raster (software) drawing for every viewport, now and added later."""
        self.opengl = opengl
        for viewport in self.viewports:
            viewport.set_rendering(opengl)

    def toggle_text(self) -> None:
        self.set_text_visible(not self.text_visible)

    def set_sync_scrolling(self, enabled: bool) -> None:
        """On again after aligning by hand: the offsets of position links are what is shown
        now (as Weasis); stacks sharing a Frame of Reference snap to the active slice."""
        self.sync_scrolling = enabled
        if enabled:
            for viewport in self.visible_viewports():
                if viewport is not self.active:
                    self.links.capture(self.active.state, viewport.state)
            self._sync_from(self.active)
            followers = self._linked(self.active, (POSITION,))
            if followers:
                link = self.links.link(self.active.state, followers[0].state)
                self.status.emit(f"Synchronised scrolling on: {link_sentence(link)}")
        self.update_link_text()

    def set_link_voi(self, enabled: bool) -> None:
        self.link_voi = enabled
        if enabled:
            self._copy_voi_from(self.active)

    def set_link_offset(self, viewport: ImageViewport, offset_mm: float) -> None:
        """``viewport``'s position link to the active one at ``offset_mm`` (along its normal)."""
        self.links.set_offset(self.active.state, viewport.state, offset_mm)
        self._sync_from(self.active)
        self.update_link_text()

    def set_reference_lines(self, enabled: bool) -> None:
        self.reference_lines = enabled
        self.update_reference_lines()

    def shutdown(self) -> None:
        for viewport in self.viewports:
            viewport.shutdown()

    # --- linking ----------------------------------------------------------------------------
    def _on_state_changed(self, viewport: ImageViewport, what: str) -> None:
        if what == "voi" and viewport is self.active and self.link_voi:
            self._copy_voi_from(viewport)
        if what not in ("index", "stack", "phase"):
            return
        if viewport is self.active and what != "index":
            self.active_shows.emit()
        if viewport is self.active and self.sync_scrolling and not viewport.cine.playing:
            self._sync_from(viewport)
        self.update_reference_lines()
        if what != "index" or viewport is self.active:
            self.update_link_text()

    def _copy_voi_from(self, source: ImageViewport) -> None:
        others = [v.state for v in self.visible_viewports() if v is not source]
        voi = source.state.voi
        for state in voi_followers(source.state, others):
            if voi is not None:
                state.set_voi(voi)

    def _on_view_changed(self, viewport: ImageViewport) -> None:
        if viewport is not self.active and self.reference_lines:
            self._draw_reference_line(viewport)

    def _linked(
        self, source: ImageViewport, kinds: tuple[str, ...] = (FRAME,)
    ) -> list[ImageViewport]:
        """Other visible viewports linked to ``source`` by one of ``kinds`` (FRAME: sharing
        its Frame of Reference; POSITION: same patient, parallel, by offset)."""
        return [
            viewport
            for viewport in self.visible_viewports()
            if viewport is not source and self.links.kind(source.state, viewport.state) in kinds
        ]

    def _sync_from(self, source: ImageViewport) -> None:
        for viewport in self._linked(source, (FRAME, POSITION)):
            index = self.links.follow(source.state, viewport.state)
            if index is not None:
                viewport.state.set_index(index)

    def update_link_text(self) -> None:
        """Each viewport linked by position (to the active one, or the active one to the
        first such) says so, with its offset."""
        active = self.active
        position_linked = self._linked(active, (POSITION,)) if self.sync_scrolling else []
        for viewport in self.viewports:
            if viewport in position_linked:
                lines = link_text(self.links.link(active.state, viewport.state))
            elif viewport is active and position_linked:
                lines = link_text(self.links.link(position_linked[0].state, active.state))
            else:
                lines = []
            viewport.set_link_text(lines)

    def update_reference_lines(self) -> None:
        for viewport in self.viewports:
            if viewport is self.active or not self.reference_lines:
                viewport.set_reference_line(None)
            else:
                self._draw_reference_line(viewport)

    def _draw_reference_line(self, viewport: ImageViewport) -> None:
        source = self.active
        if viewport not in self._linked(source):
            viewport.set_reference_line(None)
            return
        active, other = source.state, viewport.state
        assert active.stack is not None and other.stack is not None
        segment = reference_segment(
            active.stack.positions[active.index],  # type: ignore[index]
            active.stack.orientation,  # type: ignore[arg-type]
            other.stack.positions[other.index],  # type: ignore[index]
            other.stack.orientation,  # type: ignore[arg-type]
            viewport.pixel_size(),
            (other.stack.rows, other.stack.columns),
        )
        viewport.set_reference_line(segment)

    # --- commands on the active viewport -----------------------------------------------------
    def on_active(self, method: str, *args: object) -> Callable[[], None]:
        """A zero-argument handler calling ``method`` of whichever viewport is active then."""
        return lambda: getattr(self.active, method)(*args)
