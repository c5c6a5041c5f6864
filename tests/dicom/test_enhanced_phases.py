"""Enhanced MR phases from the per-frame functional groups (echo, trigger delay, b-value, DIV).

A multi-echo (or cardiac, or diffusion) enhanced file repeats every position once per phase;
without a Temporal Position Index the stack builder must still find the phases, one stack
each in true slice order, instead of one stack full of duplicate positions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread

from tests import factories
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.indexer import index_paths


def stacks_in(folder: Path) -> list[Stack]:
    return index_paths([folder]).all_stacks()


def order_of(truth: factories.EnhancedTruth, keep: object) -> list[int]:
    """Stored frame numbers for which ``keep(frame)``, ascending along z (axial)."""
    chosen = [(i, f) for i, f in enumerate(truth.frames) if keep(f)]  # type: ignore[operator]
    return [i for i, f in sorted(chosen, key=lambda pair: pair[1].position[2])]


def assert_clean_phases(stacks: list[Stack], labels: list[str]) -> None:
    assert [s.label for s in stacks] == labels
    for stack in stacks:
        assert not any("duplicate" in warning for warning in stack.warnings)
        assert stack.spacing == pytest.approx((0.7, 0.9, 3.0))


def test_multi_echo_without_temporal_index_splits_into_echoes(tmp_path: Path) -> None:
    frames = factories.enhanced_echo_frames(slices=4, echo_times=(90.0, 10.0, 40.0))
    truth = factories.write_enhanced(tmp_path / "echoes.dcm", frames)
    stacks = stacks_in(tmp_path)
    labels = [f"stack 1, echo time {echo}" for echo in (10.0, 40.0, 90.0)]
    assert_clean_phases(stacks, labels)
    for stack, echo in zip(stacks, (10.0, 40.0, 90.0), strict=True):
        expected = order_of(truth, lambda f, echo=echo: f.echo_time == echo)
        assert [frame for _, frame in stack.sources] == expected


def test_cardiac_trigger_delays_split_into_phases(tmp_path: Path) -> None:
    frames = factories.enhanced_frames(slices=3, phases=1)
    delays = (0.0, 350.0)
    frames = [
        factories.EnhancedFrame(f.position, "1", f.in_stack_position, None, trigger_delay=delay)
        for delay in delays
        for f in frames
    ]
    truth = factories.write_enhanced(tmp_path / "cine.dcm", frames)
    stacks = stacks_in(tmp_path)
    assert_clean_phases(stacks, ["stack 1, trigger delay 0.0", "stack 1, trigger delay 350.0"])
    for stack, delay in zip(stacks, delays, strict=True):
        expected = order_of(truth, lambda f, delay=delay: f.trigger_delay == delay)
        assert [frame for _, frame in stack.sources] == expected


def test_diffusion_b_values_split_into_phases(tmp_path: Path) -> None:
    frames = factories.enhanced_frames(slices=3, phases=1)
    frames = [
        factories.EnhancedFrame(f.position, "1", f.in_stack_position, None, b_value=b)
        for b in (1000.0, 0.0)
        for f in frames
    ]
    factories.write_enhanced(tmp_path / "dwi.dcm", frames)
    assert_clean_phases(stacks_in(tmp_path), ["stack 1, b-value 0.0", "stack 1, b-value 1000.0"])


def test_dimension_index_values_alone_split_phases(tmp_path: Path) -> None:
    frames = factories.enhanced_echo_frames(slices=4, echo_times=(10.0, 40.0))
    truth = factories.write_enhanced(tmp_path / "div.dcm", frames)
    ds = dcmread(truth.path)
    for item in ds.PerFrameFunctionalGroupsSequence:
        del item.MREchoSequence  # only the Dimension Index Values tell the echoes apart now
    ds.save_as(truth.path)
    stacks = stacks_in(tmp_path)
    assert_clean_phases(stacks, ["stack 1, dimension index 1/1", "stack 1, dimension index 1/2"])
    for stack, echo in zip(stacks, (10.0, 40.0), strict=True):
        expected = order_of(truth, lambda f, echo=echo: f.echo_time == echo)
        assert [frame for _, frame in stack.sources] == expected
