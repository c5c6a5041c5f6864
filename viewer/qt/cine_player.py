"""Cine playback in a viewport: a precise QTimer asks the model's CineClock which frame is due."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from viewer.model.cine import CineClock, CineMode, RateMeter, clamp_rate, default_rate, start_clock
from viewer.model.display import ViewState

#: Cine prefetches this many seconds of frames ahead of the one shown.
CINE_PREFETCH_S = 0.5


class CinePlayer(QObject):
    """Plays a ViewState's stack: a precise QTimer asks the CineClock which frame is due.

    Late ticks skip frames (the clock is anchored in time), so playback stays in real time;
    frames come from the shared FrameLoader cache, prefetched ahead. :attr:`meter` counts the
    frames actually shown (the viewport reports them).
    """

    changed = Signal()  # playing, rate or mode changed

    def __init__(
        self,
        state: ViewState,
        prefetch: Callable[[list[int]], None],
        parent: QObject,
        prefetch_phases: Callable[[list[int]], None] | None = None,
    ):
        super().__init__(parent)
        self.state = state
        self._prefetch_slices = prefetch
        self._prefetch_phases = prefetch_phases or (lambda _phases: None)
        #: Playing the phases (time points) at the slice shown, not the slices of the stack.
        self.over_phases = False
        self.rate_fps = default_rate(None)
        self.mode = CineMode.LOOP
        self.meter = RateMeter()
        self.clock: CineClock | None = None
        self._last_position = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        return self.clock is not None

    def use_stack_rate(self) -> None:
        """Stop, and take the default rate of the stack now shown (Frame Time, C.7.6.5)."""
        self.stop()
        stack = self.state.stack
        self.rate_fps = default_rate(stack.frame_time_ms if stack is not None else None)
        self.changed.emit()

    def _count(self) -> int:
        return self.state.phase_count if self.over_phases else self.state.frame_count

    def play(self, over_phases: bool = False) -> None:
        """Play the slices, or (``over_phases``) the phases at the slice shown."""
        if self.playing:
            return
        self.over_phases = over_phases
        if self._count() < 2:
            self.over_phases = False
            return
        now = time.monotonic()
        current = self.state.phase if over_phases else self.state.index
        self.clock = start_clock(self._count(), self.rate_fps, now, current, self.mode)
        self._last_position = self.clock.position(now)
        self.meter.reset()
        self._timer.start(self._interval_ms())
        self.changed.emit()

    def stop(self) -> None:
        if self.clock is None:
            return
        self._timer.stop()
        self.clock = None
        self.changed.emit()

    def toggle(self, over_phases: bool = False) -> None:
        """Stop, or play (the slices, or the phases); a cine over the other axis stops and
        this one starts."""
        if self.playing:
            other = self.over_phases != over_phases
            self.stop()
            if other:
                self.play(over_phases)
        else:
            self.play(over_phases)

    def set_rate(self, rate_fps: float) -> None:
        self.rate_fps = clamp_rate(rate_fps)
        if self.clock is not None:
            self.clock = self.clock.retimed(time.monotonic(), self.rate_fps)
            self._timer.setInterval(self._interval_ms())
        self.changed.emit()

    def set_mode(self, mode: CineMode) -> None:
        self.mode = mode
        if self.clock is not None:
            self.stop()
            self.play(self.over_phases)
        self.changed.emit()

    def frame_shown(self) -> None:
        """The viewport put a new frame on screen while playing."""
        if self.clock is None:
            return
        position = self.clock.position(time.monotonic())
        self.meter.record(time.monotonic(), max(1, position - self._last_position))
        self._last_position = position

    def _interval_ms(self) -> int:
        return max(4, int(500.0 / self.rate_fps))  # two ticks per frame

    def _tick(self) -> None:
        clock = self.clock
        if clock is None or self._count() != clock.frames:
            self.stop()
            return
        now = time.monotonic()
        ahead = max(4, math.ceil(self.rate_fps * CINE_PREFETCH_S))
        if self.over_phases:
            self._prefetch_phases(clock.ahead(now, ahead))
            self.state.set_phase(clock.frame_at(now))
        else:
            self._prefetch_slices(clock.ahead(now, ahead))
            self.state.set_index(clock.frame_at(now))
