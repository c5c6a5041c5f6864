"""The viewport state: events name what changed; new stacks reset the view."""

from __future__ import annotations

from viewer.dicom.catalog.stack import Stack
from viewer.model.display import ViewState
from viewer.model.orientation import IDENTITY
from viewer.model.window_level import Voi


def stack(frames: int) -> Stack:
    return Stack(sources=tuple(("f", k) for k in range(frames)), rows=4, columns=4)


def test_events_and_reset() -> None:
    state = ViewState()
    events: list[str] = []
    state.changed.connect(events.append)
    state.set_stack(stack(10), frame_of_reference="1.2.3", modality="CT", series_uid="9")
    assert state.index == 5 and state.modality == "CT" and state.frame_of_reference == "1.2.3"
    state.step(10)
    assert state.index == 9  # clamped
    state.set_voi(Voi(0, 100))
    state.toggle_invert()
    state.rotate()
    state.flip()
    assert events == ["stack", "index", "voi", "invert", "transform", "transform"]
    state.reset()
    assert state.voi is None and not state.invert and state.screen_matrix == IDENTITY
    assert events[-1] == "reset"
    state.set_stack(stack(3))
    assert state.series_uid == "" and state.index == 1
