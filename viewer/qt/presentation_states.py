"""The presentation states found in the opened studies, and which one each image shows.

After indexing, every softcopy presentation state among the opened files is read in a worker
(:func:`viewer.model.annotations.dicom_objects.read_report`, the ``report`` verb's reader).
Each image shows at most one of them: by default the newest (Presentation Creation Date and
Time) that references it. View > Presentation state lists the states of the image the active
viewport shows, and "None"; choosing one shows its graphics and texts on every image it
references (and its window, flip and rotation on the image shown), "None" takes them off
the shown series.
The graphics go into the grid's annotation store with :meth:`AnnotationStore.load` and leave
it with :meth:`AnnotationStore.unload` (neither is an undo step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from viewer.dicom.io import bounded
from viewer.model.annotations.dicom_objects import Report
from viewer.model.annotations.shapes import Annotation, ImageRef
from viewer.model.documents import PR_PREFIX, locate, series_kind
from viewer.model.orientation import (
    FLIP_HORIZONTAL,
    IDENTITY,
    ROTATE_CLOCKWISE,
    ScreenMatrix,
    compose,
)
from viewer.model.window_level import Voi
from viewer.qt.latest_call import LatestCall
from viewer.qt.viewport_grid import ViewportGrid
from viewer.qt.window_host import WindowHost


@dataclass(frozen=True)
class FoundState:
    """One presentation state: what people call it, when it was made, its graphics as
    annotations, and the images (SOP Instance UIDs) it applies to."""

    uid: str
    label: str
    created: str  # "YYYYMMDDHHMMSS" (sorts), "" when the state does not say
    report: Report
    annotations: tuple[Annotation, ...]
    images: frozenset[str]

    @property
    def title(self) -> str:
        when = self.created
        stamp = f"{when[:4]}-{when[4:6]}-{when[6:8]} {when[8:10]}:{when[10:12]}" if when else ""
        name = self.label or self.report.title or "Presentation state"
        return f"{name} ({stamp})" if stamp else name


def screen_matrix(report: Report) -> ScreenMatrix:
    """The view's turn and mirror a presentation state asks for (PS3.3 C.10.6): its rotation
    clockwise, then the horizontal flip of the rotated image."""
    matrix = IDENTITY
    for _ in range(report.rotation // 90):
        matrix = compose(ROTATE_CLOCKWISE, matrix)
    return compose(FLIP_HORIZONTAL, matrix) if report.flip else matrix


def read_states(paths: list[str], image_of: Mapping[str, ImageRef]) -> list[FoundState]:
    """The presentation states at ``paths`` (worker thread); an unreadable one is left out."""
    from pydicom import dcmread

    from viewer.model.annotations.dicom_objects import annotations_from_report, read_report

    found: list[FoundState] = []
    for path in paths:
        try:
            ds = bounded.bounded(dcmread, path, stop_before_pixels=True)
            report = read_report(ds)
        except Exception:  # an unreadable state is left out; the others still show
            continue
        created = str(ds.get("PresentationCreationDate", "") or "") + str(
            ds.get("PresentationCreationTime", "") or ""
        )
        images = {uid for uid, _ in report.references}
        images.update(g.sop_instance_uid for g in report.graphics)
        annotations = tuple(annotations_from_report(report, image_of))
        found.append(
            FoundState(
                report.sop_instance_uid or path,
                report.label,
                created.split(".")[0],
                report,
                annotations,
                frozenset(images),
            )
        )
    return found


class PresentationStates(QObject):
    """The states of the opened studies, the choice per image, and the View menu entry."""

    def __init__(self, window: WindowHost, grid: ViewportGrid) -> None:
        super().__init__(window)
        self.window = window
        self.grid = grid
        self.states: dict[str, FoundState] = {}
        #: SOP Instance UID of an image -> the UID of the state it shows ("" for none).
        self.choice: dict[str, str] = {}
        self._loaded: dict[tuple[str, str], list[str]] = {}  # (state, image) -> ids
        self._read: set[str] = set()
        self._sop_of: dict[tuple[str, int], str] = {}
        self._reader = LatestCall(self)
        self._reader.result.connect(self._on_read)
        self.menu = QMenu("Presentation &state", window)
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(self._fill_menu)
        self._add_to_view_menu()
        finished = getattr(window, "indexing_finished", None)
        if finished is not None:
            finished.connect(self.load)

    def _add_to_view_menu(self) -> None:
        for action in self.window.menuBar().actions():
            menu = action.menu()
            if action.text() == "&View" and isinstance(menu, QMenu):
                menu.addMenu(self.menu)
                return
        self.window.menuBar().addMenu(self.menu)

    def shutdown(self) -> None:
        self._reader.shutdown()

    # --- reading ----------------------------------------------------------------------------
    def load(self) -> None:
        """Read the presentation states among the opened files not read yet (a worker)."""
        image_of: dict[str, ImageRef] = {}
        paths: list[str] = []
        for series in self.window.catalog.all_series():
            frame_of_reference = series.info.frame_of_reference_uid
            for record in series.instances:
                if record.has_pixels:
                    image_of[record.sop_instance_uid] = ImageRef.of_record(
                        record, frame_of_reference
                    )
                    for frame in range(record.frames):
                        self._sop_of[(record.path, frame)] = record.sop_instance_uid
                elif record.sop_class_uid.startswith(PR_PREFIX) and (
                    record.sop_instance_uid not in self._read
                ):
                    paths.append(record.path)
                    self._read.add(record.sop_instance_uid)
        if paths:
            self._reader.submit(read_states, paths, image_of)

    def _on_read(self, result: object) -> None:
        if not isinstance(result, list) or not result:
            return
        for state in result:
            if isinstance(state, FoundState):
                self.states[state.uid] = state
        for state in result:
            for image in state.images:
                if image not in self.choice:
                    newest = self.states_for(image)
                    self.choice[image] = newest[0].uid if newest else ""
        self._apply()
        count = sum(len(s.annotations) for s in result)
        self.window.show_message(
            f"{len(result)} presentation state(s), {count} annotation(s); "
            "View > Presentation state chooses among them"
        )

    # --- choosing ---------------------------------------------------------------------------
    def open_series(self, series_uid: str) -> bool:
        """A presentation state's row chosen in the tree: show its first image that is open
        with it applied (its newest state when the series holds several). False for a
        series of another kind."""
        series = self.window.catalog.series(series_uid)
        if series is None or series_kind(series) != "PR":
            return False
        found = [s for s in (self.states.get(r.sop_instance_uid) for r in series.instances) if s]
        if not found:
            self.window.show_message("That presentation state is not read yet, or unreadable")
            return True
        state = max(found, key=lambda s: s.created)
        references = [uid for uid, _ in state.report.references] + sorted(state.images)
        place = next(
            (p for p in (locate(self.window.catalog, uid) for uid in references) if p), None
        )
        if place is None:
            self.window.show_message("None of the images it applies to is open")
            return True
        self.window.show_series(place.series_uid, place.stack, place.index)
        self.choose(state.uid)
        return True

    def states_for(self, sop_instance_uid: str) -> list[FoundState]:
        """The states that apply to an image, newest first."""
        found = [s for s in self.states.values() if sop_instance_uid in s.images]
        return sorted(found, key=lambda s: s.created, reverse=True)

    def shown_image(self) -> str:
        """The SOP Instance UID of the image the active viewport shows ("" for none)."""
        state = self.grid.active.state
        if state.stack is None or not 0 <= state.index < state.stack.frames:
            return ""
        path, frame = state.stack.sources[state.index]
        return self._sop_of.get((path, frame), "")

    def choose(self, state_uid: str) -> None:
        """Show the state ``state_uid`` on every image it references (and its window on the
        image shown); "" shows none on the images of the series shown."""
        state = self.states.get(state_uid)
        viewport_state = self.grid.active.state
        if state is None:
            stack = viewport_state.stack
            for path, frame in stack.sources if stack is not None else ():
                uid = self._sop_of.get((path, frame), "")
                if uid in self.choice:
                    self.choice[uid] = ""
            self._apply()
            viewport_state.set_screen_matrix(IDENTITY)
            self.window.show_message("No presentation state on this series")
            return
        for image in state.images:
            self.choice[image] = state.uid
        self._apply()
        window = state.report.window
        if self.shown_image() in state.images:
            if window is not None:
                viewport_state.set_voi(Voi.from_center_width(*window))
            viewport_state.set_screen_matrix(screen_matrix(state.report))
        self.window.show_message(f"Presentation state: {state.title}")

    def _apply(self) -> None:
        wanted = {(s, image) for image, s in self.choice.items() if s}
        store = self.grid.annotations
        for key in [k for k in self._loaded if k not in wanted]:
            store.unload(self._loaded.pop(key))
        for state_uid, image in sorted(wanted - set(self._loaded)):
            state = self.states.get(state_uid)
            if state is None:
                continue
            mine = [a for a in state.annotations if a.image.sop_instance_uid == image]
            self._loaded[(state_uid, image)] = [a.id for a in mine]
            store.load(mine)
        for viewport in self.grid.visible_viewports():
            viewport.refresh_annotations()

    def _fill_menu(self) -> None:
        menu = self.menu
        menu.clear()
        image = self.shown_image()
        states = self.states_for(image) if image else []
        if not states:
            empty = menu.addAction("(no presentation state for this image)")
            empty.setEnabled(False)
            return
        group = QActionGroup(menu)
        group.setExclusive(True)
        chosen = self.choice.get(image, "")
        for uid, text in [("", "None"), *((s.uid, s.title) for s in states)]:
            action = QAction(text, menu)
            action.setCheckable(True)
            action.setChecked(uid == chosen)
            action.triggered.connect(lambda _checked=False, u=uid: self.choose(u))
            group.addAction(action)
            menu.addAction(action)
