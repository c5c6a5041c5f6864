"""Cine maths: the frame due at a clock reading, loop and sweep, skipping, achieved rate."""

from __future__ import annotations

import pytest

from viewer.model.cine import (
    DEFAULT_RATE_FPS,
    CineMode,
    RateMeter,
    default_rate,
    fold,
    start_clock,
)


def test_default_rate_from_frame_time() -> None:
    assert default_rate(33.3) == pytest.approx(30.03, abs=0.01)  # Frame Time 33.3 ms
    assert default_rate(None) == DEFAULT_RATE_FPS
    assert default_rate(0.0) == DEFAULT_RATE_FPS
    assert default_rate(float("nan")) == DEFAULT_RATE_FPS


def test_loop_and_sweep_orders() -> None:
    assert [fold(p, 4, CineMode.LOOP) for p in range(9)] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    assert [fold(p, 4, CineMode.SWEEP) for p in range(9)] == [0, 1, 2, 3, 2, 1, 0, 1, 2]
    assert fold(5, 1, CineMode.SWEEP) == 0


def test_late_ticks_skip_frames_instead_of_slowing_down() -> None:
    clock = start_clock(frames=48, rate_fps=30.0, now_s=100.0, current=10)
    assert clock.frame_at(100.0) == 10
    assert clock.frame_at(100.0 + 1 / 30) == 11
    # A tick 0.5 s late shows the frame due then: 15 frames on, not the next one.
    assert clock.frame_at(100.5) == 25
    assert clock.frame_at(102.0) == (10 + 60) % 48  # wraps around the loop
    assert clock.frame_at(99.0) == 10  # a clock reading before the start shows the start


def test_changing_rate_keeps_the_frame_shown() -> None:
    clock = start_clock(frames=20, rate_fps=10.0, now_s=0.0, current=0)
    faster = clock.retimed(1.05, 40.0)
    assert faster.frame_at(1.05) == clock.frame_at(1.05) == 10
    assert faster.frame_at(1.3) == 0  # 10 more frames at 40/s in 0.25 s: 20 -> wraps to 0


def test_frames_ahead_in_playback_order() -> None:
    loop = start_clock(frames=5, rate_fps=10.0, now_s=0.0, current=3)
    assert loop.ahead(0.0, 3) == [4, 0, 1]
    sweep = start_clock(frames=5, rate_fps=10.0, now_s=0.0, current=3, mode=CineMode.SWEEP)
    assert sweep.ahead(0.0, 3) == [4, 3, 2]  # turns at the last frame


def test_rate_meter_counts_frames_shown_and_skipped() -> None:
    meter = RateMeter(window_s=1.0)
    for k in range(31):
        meter.record(10.0 + k / 30)
    assert meter.rate() == pytest.approx(30.0)
    meter.record(12.0, frames_advanced=3)
    assert meter.skipped == 2 and meter.shown == 32
    meter.reset()
    assert meter.rate() == 0.0
