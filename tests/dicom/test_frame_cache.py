"""The decoded-frame cache: LRU within a byte budget that follows the global memory budget."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from viewer.dicom import limits
from viewer.dicom.pixels.frame_cache import FRAME_CACHE_SHARE, FrameCache


@pytest.fixture
def small_budget() -> Iterator[None]:
    limits.set_memory_budget(4 * 1024 * 1024)
    yield
    limits.set_memory_budget(None)


def test_least_recently_used_frames_go_first() -> None:
    cache: FrameCache[np.ndarray] = FrameCache(budget_bytes=3 * 512 * 512 * 2)
    for index in range(3):
        cache.put(("ct", index), np.zeros((512, 512), np.int16))
    assert cache.get(("ct", 0)) is not None  # now the most recently used
    cache.put(("ct", 3), np.zeros((512, 512), np.int16))
    assert cache.get(("ct", 1)) is None
    assert cache.get(("ct", 0)) is not None and len(cache) == 3
    assert cache.nbytes <= cache.budget_bytes


def test_default_budget_respects_a_tight_memory_budget(small_budget: None) -> None:
    assert FrameCache().budget_bytes == 1024 * 1024


def test_default_budget_is_a_share_of_the_memory_budget() -> None:
    assert FrameCache().budget_bytes == int(limits.memory_budget() * FRAME_CACHE_SHARE)


def test_a_smaller_budget_evicts_at_once() -> None:
    cache: FrameCache[np.ndarray] = FrameCache(budget_bytes=4 * 512 * 512 * 2)
    for index in range(4):
        cache.put(("ct", index), np.zeros((512, 512), np.int16))
    cache.budget_bytes = 2 * 512 * 512 * 2
    assert len(cache) == 2 and cache.get(("ct", 0)) is None and cache.get(("ct", 3)) is not None
