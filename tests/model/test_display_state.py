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


def _axial(zs: list[float]) -> Stack:
    return Stack(
        sources=tuple((f"z{z}", 0) for z in zs),
        rows=4,
        columns=4,
        orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        positions=tuple((0.0, 0.0, z) for z in zs),
    )


def test_refresh_series_keeps_window_and_slice_position_as_a_stack_grows() -> None:
    """A retrieve filling in a series (issue 16): slices arrive in any order; the slice shown
    stays at its position, the window, inversion and rotation stay."""
    import random

    rng = random.Random(16)
    all_z = [float(z) for z in range(40)]
    order = all_z[:]
    rng.shuffle(order)
    state = ViewState()
    events: list[str] = []
    state.changed.connect(events.append)
    arrived = sorted(order[:3])
    state.set_stack(_axial(arrived))
    state.set_voi(Voi(40, 400))
    state.toggle_invert()
    state.rotate()
    matrix = state.screen_matrix
    for count in range(4, len(order) + 1):
        shown_z = state.stack.positions[state.index][2]  # type: ignore[union-attr]
        arrived = sorted(order[:count])
        state.refresh_series([_axial(arrived)])
        assert state.stack.positions[state.index][2] == shown_z  # type: ignore[union-attr]
        assert state.voi == Voi(40, 400) and state.invert and state.screen_matrix == matrix
    assert state.frame_count == len(all_z)
    assert set(events[4:]) == {"phase"}
