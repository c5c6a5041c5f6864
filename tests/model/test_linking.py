"""Linking two viewports: by shared Frame of Reference, or by position with an offset."""

from __future__ import annotations

import random

import pytest

from viewer.dicom.catalog.records import Orientation
from viewer.dicom.catalog.stack import Stack
from viewer.model.display import ViewState
from viewer.model.linking import FRAME, POSITION, ScrollLinks, link_text, voi_followers
from viewer.model.window_level import Voi

AXIAL: Orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL: Orientation = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def shown(
    z0: float,
    slices: int,
    spacing: float,
    reference: str,
    patient: str = "P1",
    orientation: Orientation = AXIAL,
    modality: str = "CT",
) -> ViewState:
    if orientation != SAGITTAL:  # axial, whichever way its normal points
        positions = tuple((0.0, 0.0, z0 + k * spacing) for k in range(slices))
    else:
        positions = tuple((z0 + k * spacing, 0.0, 0.0) for k in range(slices))
    stack = Stack(
        sources=tuple((reference, k) for k in range(slices)),
        rows=4,
        columns=4,
        orientation=orientation,
        positions=positions,
    )
    state = ViewState()
    state.set_stack(stack, 0, reference, modality, reference, patient)
    return state


def z(state: ViewState) -> float:
    assert state.stack is not None and state.stack.positions is not None
    return state.stack.positions[state.index][2]


def test_kinds() -> None:
    links = ScrollLinks()
    current = shown(0.0, 20, 5.0, "for-a")
    assert links.kind(current, shown(-300.0, 20, 5.0, "for-a")) == FRAME
    assert links.kind(current, shown(-300.0, 20, 5.0, "for-b")) == POSITION
    assert links.kind(current, shown(-300.0, 20, 5.0, "for-b", patient="P2")) is None
    assert links.kind(current, shown(0.0, 20, 5.0, "for-b", orientation=SAGITTAL)) is None
    assert links.kind(current, shown(0.0, 20, 5.0, "", patient="P1")) is None
    assert (
        links.kind(shown(0.0, 3, 1.0, "x", patient=""), shown(0.0, 3, 1.0, "y", patient="")) is None
    )


def test_offset_captured_from_what_is_shown_and_kept_both_ways() -> None:
    links = ScrollLinks()
    current, prior = shown(0.0, 20, 5.0, "for-a"), shown(-300.0, 16, 5.0, "for-b")
    current.set_index(10)  # z = 50
    prior.set_index(4)  # z = -280
    link = links.link(current, prior)  # the first link captures the offset
    assert link is not None and link.offset_mm == pytest.approx(-330.0)
    assert link_text(link) == [
        "Linked by position",
        "offset -330.0 mm",
        "(no shared Frame of Ref.)",
    ]
    current.set_index(13)
    index = links.follow(current, prior)
    assert index is not None and prior.stack is not None
    prior.set_index(index)
    assert z(prior) == pytest.approx(z(current) - 330.0)
    # The other way round, the same offset with the opposite sign.
    back = links.link(prior, current)
    assert back is not None and back.offset_mm == pytest.approx(330.0)
    prior.set_index(2)
    assert links.follow(prior, current) == 8  # -290 + 330 = 40 mm: slice 8 (0-based)
    # Aligned by hand, then captured again: the offset is what is shown now.
    prior.set_index(6)  # z = -270 beside z = 65
    links.capture(current, prior)
    again = links.link(prior, current)
    assert again is not None and again.offset_mm == pytest.approx(335.0)
    # Or set in mm.
    links.set_offset(current, prior, -320.0)
    current.set_index(10)  # z = 50: the prior's -270
    assert links.follow(current, prior) == 6
    current.set_index(0)  # z = 0: -320 lies 20 mm before the prior's first slice
    assert links.follow(current, prior) is None


def test_beyond_either_end_leaves_the_other() -> None:
    links = ScrollLinks()
    current, prior = shown(0.0, 20, 5.0, "for-a"), shown(0.0, 4, 5.0, "for-b")
    links.capture(current, prior)  # index 0 with index 0: offset 0
    current.set_index(19)  # z = 95: the prior ends at z = 15
    assert links.follow(current, prior) is None


@pytest.mark.parametrize("seed", range(10))
def test_random_offsets_follow_within_half_a_slice(seed: int) -> None:
    rng = random.Random(seed)
    spacing_a, spacing_b = rng.choice([1.0, 2.5, 5.0]), rng.choice([1.0, 3.0, 5.0])
    current = shown(rng.uniform(-200, 200), 60, spacing_a, "for-a")
    prior = shown(rng.uniform(-500, 500), 60, spacing_b, "for-b")
    current.set_index(rng.randrange(60))
    prior.set_index(rng.randrange(60))
    offset = z(prior) - z(current)
    links = ScrollLinks()
    links.capture(current, prior)
    for _ in range(20):
        current.set_index(rng.randrange(60))
        index = links.follow(current, prior)
        wanted = z(current) + offset
        first = z(prior) - prior.index * spacing_b
        last = first + 59 * spacing_b
        if first <= wanted <= last:
            assert index is not None
            prior.set_index(index)
            assert abs(z(prior) - wanted) <= spacing_b / 2 + 1e-6
        elif wanted < first - 5.0 or wanted > last + 5.0:
            assert index is None


def test_window_goes_to_the_same_modality_only() -> None:
    ct, other_ct, mr = shown(0, 3, 1, "a"), shown(0, 3, 1, "b"), shown(0, 3, 1, "c", modality="MR")
    assert voi_followers(ct, [other_ct, mr]) == []  # no window set yet
    ct.set_voi(Voi(40.0, 400.0))
    assert voi_followers(ct, [ct, other_ct, mr]) == [other_ct]


def test_a_stack_whose_normal_points_the_other_way_follows_the_same_millimetres() -> None:
    flipped: Orientation = (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # normal towards the feet
    links = ScrollLinks()
    current = shown(0.0, 20, 5.0, "for-a")
    prior = shown(-300.0, 20, 5.0, "for-b", orientation=flipped)
    current.set_index(10)  # z = 50
    prior.set_index(6)  # z = -270
    links.capture(current, prior)
    link = links.link(current, prior)
    assert link is not None and link.offset_mm == pytest.approx(320.0)  # along its own normal
    current.set_index(14)  # 20 mm up
    index = links.follow(current, prior)
    assert index is not None
    prior.set_index(index)
    assert z(prior) == pytest.approx(-250.0)
    prior.set_index(2)  # z = -290: 20 mm below where it was
    assert links.follow(prior, current) == 6  # z = 30
