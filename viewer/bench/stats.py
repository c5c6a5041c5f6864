"""Figures: the median of several runs with their min and max, and how runs are taken."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One reported number: ``median`` of ``runs`` samples, with ``low``/``high`` (min/max)."""

    median: float
    low: float
    high: float
    runs: int
    unit: str

    @classmethod
    def of(cls, samples: Sequence[float], unit: str) -> Figure:
        if not samples:
            raise ValueError("a figure needs at least one sample")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples), unit)


def seconds(action: Callable[[], object]) -> float:
    """Wall time of one call (monotonic clock)."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def timed_runs(action: Callable[[], object], runs: int, warmups: int) -> list[float]:
    """Seconds per call over ``runs`` calls after ``warmups`` untimed ones."""
    for _ in range(warmups):
        action()
    return [seconds(action) for _ in range(runs)]


def interleaved_runs(
    actions: Sequence[Callable[[], object]], runs: int, warmups: int
) -> list[list[float]]:
    """Seconds per call of each action, alternating them so a noisy machine hits all alike."""
    for _ in range(warmups):
        for action in actions:
            action()
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for index, action in enumerate(actions):
            samples[index].append(seconds(action))
    return samples


def interleaved_rates(
    counters: Mapping[str, Callable[[], int]], expected: int, unit: str, runs: int, warmups: int
) -> dict[str, Figure]:
    """Items per second of each action of ``counters`` (figure key -> an action returning how
    many items it handled), run interleaved (:func:`interleaved_runs`). Raises RuntimeError
    when an action handled other than ``expected`` items: a rate over a partial job is false."""
    handled: dict[str, int] = {}

    def counted(key: str, count: Callable[[], int]) -> Callable[[], None]:
        def run() -> None:
            handled[key] = count()

        return run

    actions = [counted(key, count) for key, count in counters.items()]
    samples = interleaved_runs(actions, runs, warmups)
    wrong = {key: number for key, number in handled.items() if number != expected}
    if wrong:
        raise RuntimeError(f"handled {wrong} items, expected {expected}")
    return {
        key: rate(expected, durations, unit)
        for key, durations in zip(counters, samples, strict=True)
    }


def rate(count: int, samples: Sequence[float], unit: str) -> Figure:
    """Items per second from durations (the median of rates, so min/max stay rates)."""
    return Figure.of([count / max(sample, 1e-9) for sample in samples], unit)


def milliseconds(samples: Sequence[float]) -> Figure:
    return Figure.of([sample * 1000.0 for sample in samples], "ms")
