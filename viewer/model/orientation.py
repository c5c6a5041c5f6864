"""Orientation letters for the edges of a view, following rotation and flips (no Qt).

Letters follow PS3.3 C.7.6.1.1.1 (Patient Orientation). Patient coordinates are LPS: +x is the
patient's Left, +y Posterior, +z Head. A direction gets up to three letters, most significant
first, for axes whose share of it exceeds OBLIQUE_THRESHOLD (so a 20° oblique axial row reads
"LP" rather than "L").

Rotation and flips are a :data:`ScreenMatrix`: the 2x2 integer matrix taking a step along the
image (one column right, one row down) to a step on the screen (x right, y down). Every user
action multiplies it on the left, so "flip horizontal" always mirrors what is on screen now.
"""

from __future__ import annotations

from collections.abc import Sequence

#: An axis contributes a letter when its direction cosine exceeds this.
OBLIQUE_THRESHOLD = 0.25

#: (m00, m01, m10, m11): screen (x, y) = [[m00, m01], [m10, m11]] @ image (column, row).
ScreenMatrix = tuple[int, int, int, int]

IDENTITY: ScreenMatrix = (1, 0, 0, 1)
#: Quarter turn clockwise on a y-down screen: right -> down, down -> left.
ROTATE_CLOCKWISE: ScreenMatrix = (0, -1, 1, 0)
ROTATE_COUNTERCLOCKWISE: ScreenMatrix = (0, 1, -1, 0)
FLIP_HORIZONTAL: ScreenMatrix = (-1, 0, 0, 1)
FLIP_VERTICAL: ScreenMatrix = (1, 0, 0, -1)

_POSITIVE = ("L", "P", "H")
_NEGATIVE = ("R", "A", "F")
_LETTER_VECTORS = {
    "L": (1.0, 0.0, 0.0),
    "R": (-1.0, 0.0, 0.0),
    "P": (0.0, 1.0, 0.0),
    "A": (0.0, -1.0, 0.0),
    "H": (0.0, 0.0, 1.0),
    "F": (0.0, 0.0, -1.0),
}


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


def letters_vector(letters: str) -> tuple[float, float, float] | None:
    """A direction from Patient Orientation letters (PS3.3 C.7.6.1.1.1), e.g. "LF".

    The first letter dominates (weights 1, 1/2, 1/4) so the result names the same letters
    back; None for an empty or unknown value.
    """
    vector = [0.0, 0.0, 0.0]
    weight = 1.0
    for letter in letters.strip().upper():
        if letter not in _LETTER_VECTORS:
            return None
        for axis, value in enumerate(_LETTER_VECTORS[letter]):
            vector[axis] += weight * value
        weight /= 2.0
    return (vector[0], vector[1], vector[2]) if any(vector) else None


def compose(action: ScreenMatrix, current: ScreenMatrix) -> ScreenMatrix:
    """The matrix after applying ``action`` on screen to a view showing ``current``."""
    a00, a01, a10, a11 = action
    c00, c01, c10, c11 = current
    return (
        a00 * c00 + a01 * c10,
        a00 * c01 + a01 * c11,
        a10 * c00 + a11 * c10,
        a10 * c01 + a11 * c11,
    )


def screen_axes_in_image(matrix: ScreenMatrix) -> tuple[tuple[int, int], tuple[int, int]]:
    """(screen right, screen down) as (column, row) steps in the image.

    The matrix is orthogonal with entries in {-1, 0, 1}, so its inverse is its transpose.
    """
    m00, m01, m10, m11 = matrix
    return (m00, m01), (m10, m11)


def edge_letters(
    row: Sequence[float], column: Sequence[float], matrix: ScreenMatrix = IDENTITY
) -> dict[str, str]:
    """Letters for the left, right, top and bottom edges of the view.

    ``row`` points along a row (the direction of increasing column index), ``column`` down a
    column (increasing row index), as in Image Orientation (Patient) (PS3.3 C.7.6.2.1.1).
    """
    (rx, ry), (dx, dy) = screen_axes_in_image(matrix)
    right = direction_letters([rx * r + ry * c for r, c in zip(row, column, strict=True)])
    down = direction_letters([dx * r + dy * c for r, c in zip(row, column, strict=True)])
    return {"left": opposite(right), "right": right, "top": opposite(down), "bottom": down}


def is_mirrored(matrix: ScreenMatrix) -> bool:
    """True when the view shows the image mirrored (an odd number of flips)."""
    m00, m01, m10, m11 = matrix
    return m00 * m11 - m01 * m10 < 0


def quarter_turns(matrix: ScreenMatrix) -> int:
    """Clockwise quarter turns (0-3) of the view, after undoing a horizontal mirror."""
    if is_mirrored(matrix):
        matrix = compose(FLIP_HORIZONTAL, matrix)
    turns = {IDENTITY: 0, ROTATE_CLOCKWISE: 1, (-1, 0, 0, -1): 2, ROTATE_COUNTERCLOCKWISE: 3}
    return turns[matrix]
