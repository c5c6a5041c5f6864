"""A byte-budgeted, thread-safe LRU of decoded frames, keyed by (path, frame).

The cache's budget is its share of the global memory budget (:func:`limits.memory_budget`):
FRAME_CACHE_SHARE of it, so a volume (MPR) that fits the budget still has room beside the
frames already kept. The GUI sets it again whenever the user changes the memory budget
(Preferences > Memory); a smaller budget evicts at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Protocol, TypeVar

from viewer.dicom import limits

#: The frame cache's share of the memory budget (a quarter: 3 GiB of a 12 GiB budget, enough
#: for 6000 512 x 512 CT slices; volumes and the reformat views need the rest).
FRAME_CACHE_SHARE = 0.25


class Sized(Protocol):
    @property
    def nbytes(self) -> int: ...


T = TypeVar("T", bound=Sized)


def budget_share(memory_budget: int) -> int:
    """The frame cache's bytes out of a memory budget of ``memory_budget`` bytes."""
    return int(memory_budget * FRAME_CACHE_SHARE)


def default_budget() -> int:
    """The frame cache's share of the global memory budget as it is now."""
    return budget_share(limits.memory_budget())


Key = tuple[str, int]


class FrameCache(Generic[T]):
    """Least-recently-used frames up to :attr:`budget_bytes` in total (the newest frame is
    always kept, however large)."""

    def __init__(self, budget_bytes: int | None = None) -> None:
        self._budget = default_budget() if budget_bytes is None else budget_bytes
        self._items: OrderedDict[Key, T] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, budget: int) -> None:
        """A new budget; frames beyond it are evicted now (least recently used first)."""
        with self._lock:
            self._budget = max(0, int(budget))
            self._evict()

    def get(self, key: Key) -> T | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: Key, item: T) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[key] = item
            self._bytes += item.nbytes
            self._evict()

    def _evict(self) -> None:
        while self._bytes > self._budget and len(self._items) > 1:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= evicted.nbytes

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
