"""Calendar arithmetic the rules share: anniversaries, month steps, Bahasa dates.

An anniversary of 29 February falls on 28 February in common years: the
person reaches the age within February (see `tmt_pensiun`).
"""

from __future__ import annotations

import calendar
from datetime import date

from store.rules.errors import RuleError

BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def clamped_date(year: int, month: int, day: int) -> date:
    """The date, with the day pulled back to the month's last day if needed."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_years(start: date, years: int) -> date:
    """The anniversary `years` after `start` (29 Feb -> 28 Feb in common years)."""
    return clamped_date(start.year + years, start.month, start.day)


def add_months(start: date, months: int) -> date:
    """`months` calendar months after `start`, the day clamped to the month's end."""
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    return clamped_date(year, month0 + 1, start.day)


def first_of_next_month(day: date) -> date:
    """The first day of the month after the month of `day`."""
    return add_months(day.replace(day=1), 1)


def whole_months_between(start: date, end: date) -> int:
    """Complete calendar months from `start` to `end` (negative if `end` is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and add_months(start, months) > end:
        months -= 1
    elif months < 0 and add_months(start, months) < end:
        months += 1
    return months


def whole_years_between(start: date, end: date) -> int:
    """Complete years from `start` to `end`: an age, or a length of service."""
    if end < start:
        return -whole_years_between(end, start)
    return whole_months_between(start, end) // 12


def format_tanggal(day: date) -> str:
    """`date(2025, 2, 1)` -> ``"1 Februari 2025"``."""
    if not isinstance(day, date):
        raise RuleError("Tanggal harus berupa tanggal", field="tanggal")
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def format_bulan(day: date) -> str:
    """`date(2025, 2, 1)` -> ``"Februari 2025"``."""
    return f"{BULAN[day.month - 1]} {day.year}"


def format_masa(months: int) -> str:
    """A span of whole months in Bahasa: 46 -> ``"3 tahun 10 bulan"``."""
    years, rest = divmod(max(months, 0), 12)
    if years and rest:
        return f"{years} tahun {rest} bulan"
    if years:
        return f"{years} tahun"
    return f"{rest} bulan"
