"""Dates and times as people read them, one format everywhere (tree, corner text, MPR).

DICOM stores DA as YYYYMMDD and TM as HHMMSS.FFFFFF (PS3.5 6.2). They are shown in the user's
locale (QLocale, the system's unless the application sets another) with a four-digit year, so
"02/05/24" never leaves the reader guessing the century; without a locale preference (the C
locale) they are ISO 8601, 2024-02-05 and 10:30, which no reader misreads. A value that is not
a valid DA or TM is shown as it is.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, QLocale, QTime

ISO_DATE, ISO_TIME = "yyyy-MM-dd", "HH:mm"


def date_format(locale: QLocale | None = None) -> str:
    """The QDate format for ``locale`` (default: QLocale()): its short format, year in full."""
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C:
        return ISO_DATE
    text = locale.dateFormat(QLocale.FormatType.ShortFormat)
    return text if "yyyy" in text else text.replace("yy", "yyyy")


def time_format(locale: QLocale | None = None) -> str:
    """The QTime format for ``locale``: its short format (hours and minutes)."""
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C:
        return ISO_TIME
    return locale.timeFormat(QLocale.FormatType.ShortFormat)


def format_date(value: str, locale: QLocale | None = None) -> str:
    """DICOM DA (YYYYMMDD) in the one display format; anything else unchanged."""
    text = value.strip()
    day = QDate.fromString(text, "yyyyMMdd") if len(text) == 8 and text.isdigit() else QDate()
    if not day.isValid():
        return value
    locale = locale or QLocale()
    return locale.toString(day, date_format(locale))


def format_time(value: str, locale: QLocale | None = None) -> str:
    """DICOM TM (HH, HHMM, HHMMSS[.F]) as hours and minutes; anything else unchanged."""
    digits = value.strip().split(".")[0]
    if len(digits) < 4 or not digits.isdigit():
        return value
    moment = QTime(int(digits[:2]), int(digits[2:4]))
    if not moment.isValid():
        return value
    locale = locale or QLocale()
    return locale.toString(moment, time_format(locale))


def format_date_time(date: str, time: str, locale: QLocale | None = None) -> str:
    """A study's date and time, as the tree and the corner text both show it."""
    parts = (format_date(date, locale) if date else "", format_time(time, locale) if time else "")
    return " ".join(part for part in parts if part)
