"""A minimal synchronous signal, so the model can emit without knowing Qt or its views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Slot = Callable[..., Any]


class Signal:
    """Callbacks connected to one event; ``emit`` calls them in connection order."""

    def __init__(self) -> None:
        self._slots: list[Slot] = []

    def connect(self, slot: Slot) -> None:
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Slot) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)
