"""Argument types shared by the headless verbs."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def zero_based(noun: str) -> Callable[[str], int]:
    """An argparse type for a 0-based index of ``noun`` (frame, stack): bad input exits 2."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {noun} number: {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{noun}s count from 0, got {value}")
        return value

    return parse
