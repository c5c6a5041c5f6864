"""Orientation letters follow rotation and flips (PS3.3 C.7.6.1.1.1, LPS patient axes)."""

from __future__ import annotations

import pytest

from viewer.model.orientation import (
    FLIP_HORIZONTAL,
    FLIP_VERTICAL,
    IDENTITY,
    ROTATE_CLOCKWISE,
    ROTATE_COUNTERCLOCKWISE,
    compose,
    direction_letters,
    edge_letters,
    is_mirrored,
    letters_vector,
)

AXIAL_ROW, AXIAL_COLUMN = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)
SAGITTAL_ROW, SAGITTAL_COLUMN = (0.0, 1.0, 0.0), (0.0, 0.0, -1.0)


def edges(row: tuple[float, ...], column: tuple[float, ...], matrix: tuple[int, ...]) -> str:
    letters = edge_letters(row, column, matrix)  # type: ignore[arg-type]
    return " ".join(letters[e] for e in ("left", "right", "top", "bottom"))


def test_axial_as_radiologists_read_it() -> None:
    assert edges(AXIAL_ROW, AXIAL_COLUMN, IDENTITY) == "R L A P"


def test_sagittal_head_up_anterior_left() -> None:
    assert edges(SAGITTAL_ROW, SAGITTAL_COLUMN, IDENTITY) == "A P H F"


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([ROTATE_CLOCKWISE], "P A R L"),  # the top (anterior) turns to the right
        ([ROTATE_COUNTERCLOCKWISE], "A P L R"),
        ([ROTATE_CLOCKWISE, ROTATE_CLOCKWISE], "L R P A"),
        ([FLIP_HORIZONTAL], "L R A P"),
        ([FLIP_VERTICAL], "R L P A"),
        ([ROTATE_CLOCKWISE, FLIP_HORIZONTAL], "A P R L"),  # flips act on what is on screen
        ([FLIP_HORIZONTAL, ROTATE_CLOCKWISE], "P A L R"),
        ([ROTATE_CLOCKWISE] * 4, "R L A P"),
    ],
)
def test_rotations_and_flips_move_letters(
    actions: list[tuple[int, int, int, int]], expected: str
) -> None:
    matrix = IDENTITY
    for action in actions:
        matrix = compose(action, matrix)
    assert edges(AXIAL_ROW, AXIAL_COLUMN, matrix) == expected


def test_mirroring_is_tracked() -> None:
    assert not is_mirrored(compose(ROTATE_CLOCKWISE, IDENTITY))
    assert is_mirrored(compose(FLIP_VERTICAL, compose(ROTATE_CLOCKWISE, IDENTITY)))
    assert not is_mirrored(compose(FLIP_VERTICAL, FLIP_HORIZONTAL))


def test_oblique_gets_combined_letters() -> None:
    assert direction_letters((0.94, 0.34, 0.0)) == "LP"
    assert direction_letters((0.0, -0.7071, 0.7071)) in ("AH", "HA")


def test_patient_orientation_letters_give_directions() -> None:
    # A chest PA radiograph: rows run to the patient's left, columns to the feet.
    row, column = letters_vector("L"), letters_vector("F")
    assert row is not None and column is not None
    assert edges(row, column, IDENTITY) == "R L H F"
    assert direction_letters(letters_vector("LF") or (0, 0, 0)) == "LF"
    assert letters_vector("") is None and letters_vector("X") is None
