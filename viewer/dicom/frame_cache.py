"""A byte-budgeted, thread-safe LRU of decoded frames, keyed by (path, frame)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Protocol, TypeVar

from viewer.dicom import limits

#: Default budget: enough for a 600-slice 512x512 int16 stack.
DEFAULT_BUDGET_BYTES = 512 * 1024**2


class Sized(Protocol):
    @property
    def nbytes(self) -> int: ...


T = TypeVar("T", bound=Sized)


def default_budget() -> int:
    """DEFAULT_BUDGET_BYTES, or less when the global memory budget is tight (a quarter of it:
    volumes and the reformat views need the rest)."""
    return min(DEFAULT_BUDGET_BYTES, limits.memory_budget() // 4)


Key = tuple[str, int]


class FrameCache(Generic[T]):
    """Least-recently-used frames up to ``budget_bytes`` in total."""

    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = default_budget() if budget_bytes is None else budget_bytes
        self._items: OrderedDict[Key, T] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

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
            while self._bytes > self.budget_bytes and len(self._items) > 1:
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
