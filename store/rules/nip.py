"""NIP: the 18-digit civil-servant number, and what a PNS's NIP says about them.

`YYYYMMDD YYYYMM G NNN`: birth date, TMT CPNS (year, month; always the 1st),
gender, sequence. PPPK numbers share the 18 digits but not the meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from store.rules._dates import add_years, format_bulan, format_tanggal
from store.rules._inputs import nfkc
from store.rules.errors import RuleError

NIP_LENGTH = 18
MIN_AGE_AT_CPNS = 18
# A PPPK number (NI PPPK) is `YYYYMMDD YYYY 21 G NNN`: birth date, year of
# appointment, then 21 where a PNS NIP has the month of TMT CPNS.
PPPK_MARKER = "21"

# What people put between the digit groups, plus the apostrophe spreadsheets
# prefix to keep a long number as text.
_SEPARATORS = re.compile(r"[\s.\-_']+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Nip:
    """A PNS NIP, checked, with its parts."""

    digits: str
    tanggal_lahir: date
    tmt_cpns: date
    jenis_kelamin: int
    urutan: int

    @property
    def formatted(self) -> str:
        """The NIP grouped as printed on SKs: ``"19680411 199303 1 009"``."""
        d = self.digits
        return f"{d[:8]} {d[8:14]} {d[14]} {d[15:]}"


def _nip_text(value: object) -> str:
    # A spreadsheet import gives the NIP as an int; a float has lost digits.
    if value is None:
        raise RuleError("NIP belum diisi", field="nip")
    if isinstance(value, str):
        return nfkc(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise RuleError("NIP hanya boleh berisi angka, tanpa tanda minus", field="nip")
        return str(value)
    if isinstance(value, float):
        raise RuleError(
            "NIP terbaca sebagai bilangan pecahan (biasanya dari spreadsheet) dan digitnya "
            "mungkin sudah berubah; tulis NIP sebagai teks 18 digit",
            field="nip",
        )
    raise RuleError("NIP harus berupa teks 18 digit", field="nip", detail=type(value).__name__)


def normalise_nip(text: str | int) -> str:
    """The 18 digits of a NIP (PNS or PPPK) typed with spaces, dots or dashes.

    Full-width digits count as digits (NFKC); an int (a spreadsheet cell) is read too.
    """
    typed = _nip_text(text)
    digits = _SEPARATORS.sub("", typed)
    if not _DIGITS.fullmatch(digits):
        shown = typed.strip()
        raise RuleError(
            f"NIP hanya boleh berisi angka: {shown!r}" if shown else "NIP belum diisi",
            field="nip",
        )
    if len(digits) != NIP_LENGTH:
        raise RuleError(
            f"NIP harus {NIP_LENGTH} digit, yang diketik {len(digits)} digit", field="nip"
        )
    return digits


def is_valid_pppk_number(text: str | int) -> bool:
    """True if `text` is 18 digits (separators allowed); PPPK numbers get no PNS checks."""
    try:
        normalise_nip(text)
    except RuleError:
        return False
    return True


def _birth_date(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _too_young(tanggal_lahir: date, tmt_cpns: date) -> bool:
    # A birth year past 9999 - 18 has no 18th birthday `date` can hold.
    if tanggal_lahir.year > date.max.year - MIN_AGE_AT_CPNS:
        return True
    return tmt_cpns < add_years(tanggal_lahir, MIN_AGE_AT_CPNS)


def looks_like_pppk(text: str | int) -> bool:
    """True if the 18 digits follow the PPPK pattern (see PPPK_MARKER), not a PNS NIP's."""
    try:
        digits = normalise_nip(text)
    except RuleError:
        return False
    return (
        digits[12:14] == PPPK_MARKER
        and _birth_date(digits) is not None
        and int(digits[8:12]) >= 1
        and digits[14] in "12"
        and int(digits[15:]) >= 1
    )


def parse_nip(text: str | int) -> Nip:
    """Check a PNS NIP as DOMAIN.md says and return its parts.

    Raises RuleError listing every part that is wrong (`problems`; `field` is
    the first part's name). A number that fits the PPPK pattern is asked about.
    """
    digits = normalise_nip(text)
    problems: list[tuple[str, str]] = []
    lahir_text, tmt_text = digits[:8], digits[8:14]
    tanggal_lahir = _birth_date(digits)
    if tanggal_lahir is None:
        problems.append(
            (
                "tanggal_lahir",
                f"Tanggal lahir pada NIP tidak valid: {lahir_text} (bukan tanggal yang ada)",
            )
        )
    tmt_year, tmt_month = int(tmt_text[:4]), int(tmt_text[4:])
    tmt_cpns: date | None = None
    if not 1 <= tmt_month <= 12:
        message = f"Bulan TMT CPNS pada NIP tidak valid: {tmt_text[4:]} (harus 01-12)"
        if looks_like_pppk(digits):
            message += (
                f"; apakah ini nomor PPPK? Nomor PPPK berisi {PPPK_MARKER} pada digit ke-13 "
                "dan ke-14: catat pegawai ini sebagai PPPK"
            )
        problems.append(("tmt_cpns", message))
    elif tmt_year < 1:
        problems.append(("tmt_cpns", f"Tahun TMT CPNS pada NIP tidak valid: {tmt_text[:4]}"))
    else:
        tmt_cpns = date(tmt_year, tmt_month, 1)
    jenis_kelamin = int(digits[14])
    if jenis_kelamin not in (1, 2):
        problems.append(
            (
                "jenis_kelamin",
                f"Kode jenis kelamin pada NIP tidak valid: {jenis_kelamin} "
                "(harus 1 untuk laki-laki atau 2 untuk perempuan)",
            )
        )
    urutan = int(digits[15:])
    if urutan < 1:
        problems.append(
            ("urutan", f"Nomor urut pada NIP tidak valid: {digits[15:]} (paling kecil 001)")
        )
    if tanggal_lahir is not None and tmt_cpns is not None and _too_young(tanggal_lahir, tmt_cpns):
        problems.append(
            (
                "tmt_cpns",
                f"TMT CPNS pada NIP ({format_bulan(tmt_cpns)}) kurang dari {MIN_AGE_AT_CPNS} "
                f"tahun setelah tanggal lahir ({format_tanggal(tanggal_lahir)})",
            )
        )
    if problems or tanggal_lahir is None or tmt_cpns is None:
        raise RuleError.of_problems(problems)
    return Nip(
        digits=digits,
        tanggal_lahir=tanggal_lahir,
        tmt_cpns=tmt_cpns,
        jenis_kelamin=jenis_kelamin,
        urutan=urutan,
    )
