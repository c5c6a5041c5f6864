"""Orientation letters for the edges of a view (PS3.3 C.7.6.1.1.1 Patient Orientation).

Patient coordinates are LPS: +x is the patient's Left, +y Posterior, +z Head. A direction gets
up to three letters, most significant first, for axes whose share of it exceeds
OBLIQUE_THRESHOLD (so a 20° oblique axial row reads "LP" rather than "L").
"""

from __future__ import annotations

from collections.abc import Sequence

#: An axis contributes a letter when its direction cosine exceeds this.
OBLIQUE_THRESHOLD = 0.25

_POSITIVE = ("L", "P", "H")
_NEGATIVE = ("R", "A", "F")


def direction_letters(vector: Sequence[float]) -> str:
    """Letters naming where ``vector`` points, e.g. (1, 0, 0) -> "L", (0, -0.7, 0.7) -> "AH"."""
    ranked = sorted(range(3), key=lambda axis: -abs(vector[axis]))
    letters = [
        (_POSITIVE if vector[axis] > 0 else _NEGATIVE)[axis]
        for axis in ranked
        if abs(vector[axis]) > OBLIQUE_THRESHOLD
    ]
    return "".join(letters)


def opposite(letters: str) -> str:
    swap = dict(zip(_POSITIVE + _NEGATIVE, _NEGATIVE + _POSITIVE, strict=True))
    return "".join(swap[letter] for letter in letters)


def edge_letters(row: Sequence[float], column: Sequence[float]) -> dict[str, str]:
    """Letters for the left, right, top and bottom edges of an unrotated, unflipped image.

    ``row`` points along a row (to the right on screen), ``column`` down a column.
    """
    right = direction_letters(row)
    bottom = direction_letters(column)
    return {"left": opposite(right), "right": right, "top": opposite(bottom), "bottom": bottom}
