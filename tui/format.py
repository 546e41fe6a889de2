"""How values read in Bahasa Indonesia on screen: dates, sizes, counts, NIPs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

KOSONG = "—"


def _bulan(month: int) -> str:
    # store.rules (pydantic) is imported with the first date shown, not before the
    # first frame, which shows none.
    from store.rules import BULAN

    return BULAN[month - 1]


def tanggal(day: date | None) -> str:
    """`1 Februari 2027`."""
    if day is None:
        return KOSONG
    return f"{day.day} {_bulan(day.month)} {day.year}"


def tanggal_pendek(day: date | None) -> str:
    """`1 Feb 2027`, for tables."""
    if day is None:
        return KOSONG
    return f"{day.day} {_bulan(day.month)[:3]} {day.year}"


def waktu(moment: datetime | None) -> str:
    """`23 Nov 2026 08.15` in the machine's time zone."""
    if moment is None:
        return KOSONG
    local = moment.astimezone() if moment.tzinfo else moment
    return f"{tanggal_pendek(local.date())} {local:%H.%M}"


def waktu_iso(text: str) -> str:
    """An ISO 8601 timestamp as `waktu`; the text itself if it is not one."""
    if not text:
        return KOSONG
    try:
        return waktu(datetime.fromisoformat(text))
    except ValueError:
        return text


def angka(n: int) -> str:
    """`50.000`: dots between thousands."""
    return f"{n:,}".replace(",", ".")


def ukuran(n: int) -> str:
    """`340 KB`, `1,2 MB`: decimal comma, 1 KB = 1024 bytes."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{round(n / 1024)} KB"
    if n < 1024**3:
        return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")
    return f"{n / 1024**3:.1f} GB".replace(".", ",")


def nip(digits: str) -> str:
    """`19680411 199303 1 009`, the way NIPs are printed on SKs."""
    if len(digits) == 18 and digits.isdigit():
        return f"{digits[:8]} {digits[8:14]} {digits[14]} {digits[15:]}"
    return digits


def nilai(value: Any) -> str:
    """A record field's value (wire form) as a person reads it."""
    if value is None or value == "":
        return KOSONG
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, str):
        try:
            return tanggal(date.fromisoformat(value)) if len(value) == 10 else value
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(nilai(v) for v in value) or KOSONG
    if isinstance(value, dict):
        return ", ".join(f"{k}: {nilai(v)}" for k, v in value.items())
    return str(value)


def hari(n: int) -> str:
    return f"{n} hari"
