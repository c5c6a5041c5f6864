"""One date and time format across the tree and the corner text, the locale's with a full year
(issue 14 item 10)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QLocale

from viewer.qt.dates import date_format, format_date, format_date_time, format_time


@pytest.mark.parametrize(
    "name, date, time",
    [
        ("C", "2024-02-05", "10:30"),
        ("en_US", "2/5/2024", "10:30\u202fAM"),
        ("de_DE", "05.02.2024", "10:30"),
        ("en_GB", "05/02/2024", "10:30"),
        ("ja_JP", "2024/02/05", "10:30"),
    ],
)
def test_study_date_in_each_locale(name: str, date: str, time: str) -> None:
    locale = QLocale(name)
    assert format_date("20240205", locale) == date
    assert format_time("103015.123", locale).replace(" ", "\u202f") == time.replace(" ", "\u202f")
    assert format_date_time("20240205", "103015", locale).startswith(date + " ")
    assert "yyyy" in date_format(locale)


@pytest.mark.parametrize("value", ["", "2024", "2024-02-05", "20241305", "abcdefgh", "20240230"])
def test_what_is_not_a_date_is_shown_as_it_is(value: str) -> None:
    assert format_date(value, QLocale("de_DE")) == value


@pytest.mark.parametrize("value", ["", "1", "25", "2560", "10a0", "1261"])
def test_what_is_not_a_time_is_shown_as_it_is(value: str) -> None:
    assert format_time(value, QLocale("C")) == value
