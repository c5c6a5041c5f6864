"""Cine playback maths: a clock reading -> the frame to show (no Qt, no timers).

Playback is anchored in time, not counted in ticks: the frame shown at time ``t`` is
``start_frame + (t - start_time) * rate`` (folded by loop or sweep), so a late tick skips
frames instead of slowing the loop down, and playback stays in real time. The default rate
comes from the Cine module (PS3.3 C.7.6.5): Frame Time (0018,1063), else Cine Rate (0018,0040)
or Recommended Display Frame Rate (0008,2144), which indexing turns into ``Stack.frame_time_ms``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from enum import Enum

#: Frames per second for a stack whose header gives no rate (a CT or MR stack as a movie).
DEFAULT_RATE_FPS = 15.0
MIN_RATE_FPS = 0.5
MAX_RATE_FPS = 120.0
#: The achieved rate is measured over this many seconds of the latest frames shown.
RATE_WINDOW_S = 1.0


class CineMode(Enum):
    """LOOP: 0, 1, ..., n-1, 0, 1, ...  SWEEP: 0, 1, ..., n-1, n-2, ..., 1, 0, 1, ..."""

    LOOP = "loop"
    SWEEP = "sweep"


def default_rate(frame_time_ms: float | None) -> float:
    """Frames per second from the Cine module's Frame Time, else :data:`DEFAULT_RATE_FPS`."""
    if frame_time_ms is None or not math.isfinite(frame_time_ms) or frame_time_ms <= 0:
        return DEFAULT_RATE_FPS
    return clamp_rate(1000.0 / frame_time_ms)


def clamp_rate(rate_fps: float) -> float:
    return min(max(rate_fps, MIN_RATE_FPS), MAX_RATE_FPS)


def fold(position: int, frames: int, mode: CineMode) -> int:
    """The frame index shown at unfolded position ``position`` (frames counted since start)."""
    if frames <= 1:
        return 0
    if mode is CineMode.LOOP:
        return position % frames
    period = 2 * (frames - 1)
    phase = position % period
    return phase if phase < frames else period - phase


@dataclass(frozen=True, slots=True)
class CineClock:
    """Playback anchored at ``start_s`` (a monotonic clock reading) on ``start_frame``."""

    frames: int
    rate_fps: float
    start_s: float
    start_frame: int = 0
    mode: CineMode = CineMode.LOOP

    def position(self, now_s: float) -> int:
        """Unfolded frames since the start (grows without bound; never negative)."""
        elapsed = max(0.0, now_s - self.start_s)
        return self.start_frame + math.floor(elapsed * self.rate_fps + 1e-9)

    def frame_at(self, now_s: float) -> int:
        """The frame index to show at ``now_s``."""
        return fold(self.position(now_s), self.frames, self.mode)

    def retimed(self, now_s: float, rate_fps: float) -> CineClock:
        """The same playback from ``now_s`` on at another rate (no jump in the frame shown)."""
        return replace(
            self, rate_fps=clamp_rate(rate_fps), start_s=now_s, start_frame=self.position(now_s)
        )

    def ahead(self, now_s: float, count: int) -> list[int]:
        """The next ``count`` distinct frame indices after the one shown at ``now_s``."""
        start = self.position(now_s)
        seen: list[int] = []
        for offset in range(1, count * 2 + 2):
            index = fold(start + offset, self.frames, self.mode)
            if index not in seen:
                seen.append(index)
            if len(seen) >= min(count, self.frames):
                break
        return seen


def start_clock(
    frames: int, rate_fps: float, now_s: float, current: int, mode: CineMode = CineMode.LOOP
) -> CineClock:
    """Start playing from frame ``current`` (0-based) at ``now_s``."""
    return CineClock(frames, clamp_rate(rate_fps), now_s, max(0, current), mode)


class RateMeter:
    """Frames actually shown per second, over the last :data:`RATE_WINDOW_S` seconds."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()
        self.shown = 0
        self.skipped = 0

    def record(self, now_s: float, frames_advanced: int = 1) -> None:
        """A new frame was shown at ``now_s``; ``frames_advanced`` > 1 means some were skipped."""
        self._times.append(now_s)
        self.shown += 1
        self.skipped += max(0, frames_advanced - 1)
        while self._times and now_s - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self) -> float:
        """Frames per second over the window (0 until two frames were shown)."""
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def reset(self) -> None:
        self._times.clear()
        self.shown = 0
        self.skipped = 0
