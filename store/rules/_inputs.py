"""Reading the arguments of a public rule function.

Rules are called with what a form, a spreadsheet import or the database gives:
plain strings for enums, integers for numbers typed as text, datetimes for
dates. Each helper here accepts what can be read and refuses anything else
with a RuleError naming the field, in Bahasa; no rule function lets a
TypeError, an English ValueError or an OverflowError out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from store.rules.errors import RuleError

# The calendar the rules compute in. Wide enough for every pegawai and period;
# narrow enough that adding a BUP or a lead time never leaves `date`'s range.
MIN_DATE = date(1800, 1, 1)
MAX_DATE = date(2999, 12, 31)

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")

E = TypeVar("E", bound=StrEnum)


def nfkc(text: str) -> str:
    """`text` in NFKC: full-width digits and letters become the ASCII ones."""
    return unicodedata.normalize("NFKC", text)


def name_key(text: str) -> str:
    """How a typed name is compared: NFKC, lower case, words joined by single spaces."""
    return " ".join(_NOT_ALNUM.split(nfkc(text).lower())).strip()


def as_text(value: object, field: str, label: str) -> str:
    """A string for `field` (an int is read as its digits); None and the rest refused."""
    if value is None:
        raise RuleError(f"{label} belum diisi", field=field)
    if isinstance(value, str):
        return nfkc(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RuleError(f"{label} harus berupa teks", field=field, detail=type(value).__name__)


def as_date(value: object, field: str, label: str) -> date:
    """A date for `field`: a date, a datetime (its date) or text "YYYY-MM-DD"/"DD-MM-YYYY"."""
    if value is None:
        raise RuleError(f"{label} belum diisi", field=field)
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        value = _date_from_text(value, field, label)
    elif not isinstance(value, date):
        raise RuleError(f"{label} harus berupa tanggal", field=field, detail=type(value).__name__)
    if not MIN_DATE <= value <= MAX_DATE:
        raise RuleError(
            f"{label} di luar rentang yang dapat dihitung "
            f"(tahun {MIN_DATE.year} sampai {MAX_DATE.year})",
            field=field,
        )
    return value


def _date_from_text(text: str, field: str, label: str) -> date:
    cleaned = nfkc(text).strip()
    iso, dmy = _ISO_DATE.match(cleaned), _DMY_DATE.match(cleaned)
    if iso is not None:
        year, month, day = (int(part) for part in iso.groups())
    elif dmy is not None:
        day, month, year = (int(part) for part in dmy.groups())
    else:
        raise RuleError(
            f"{label} tidak terbaca sebagai tanggal (contoh: 2025-04-01 atau 01-04-2025)",
            field=field,
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise RuleError(f"{label} bukan tanggal yang ada: {cleaned}", field=field) from None


def as_int(value: object, field: str, label: str, low: int, high: int) -> int:
    """A whole number from `low` to `high` for `field` (digits as text are read too)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and nfkc(value).strip().isdecimal():
        number = int(nfkc(value).strip())
    if number is None:
        if value is None:
            raise RuleError(f"{label} belum diisi", field=field)
        raise RuleError(f"{label} harus berupa bilangan bulat", field=field)
    if not low <= number <= high:
        raise RuleError(f"{label} harus {low} sampai {high}, bukan {number}", field=field)
    return number


def as_enum(
    value: object,
    kind: type[E],
    field: str,
    label: str,
    spellings: Mapping[str, E] | None = None,
) -> E:
    """A member of `kind`: the member, its value, its label, or one of `spellings`.

    Text is compared by `name_key` (case, spaces, dashes and underscores do
    not matter); `spellings` keys must already be name keys.
    """
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        key = name_key(value)
        for member in kind:
            if key in (name_key(member.value), name_key(_label(member))):
                return member
        if spellings is not None and key in spellings:
            return spellings[key]
    choices = ", ".join(member.value for member in kind)
    if value is None:
        raise RuleError(f"{label} belum diisi (pilihan: {choices})", field=field)
    shown = f": {nfkc(value).strip()!r}" if isinstance(value, str) else ""
    raise RuleError(f"{label} tidak dikenal{shown} (pilihan: {choices})", field=field)


def _label(member: StrEnum) -> str:
    label = getattr(member, "label", member.value)
    return label if isinstance(label, str) else member.value
