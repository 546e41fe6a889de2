"""NIP: the 18-digit civil-servant number, and what a PNS's NIP says about them.

`YYYYMMDD YYYYMM G NNN`: birth date, TMT CPNS (year, month; always the 1st),
gender, sequence. PPPK numbers share the 18 digits but not the meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from store.rules._dates import add_years, format_bulan, format_tanggal
from store.rules.errors import RuleError

NIP_LENGTH = 18
MIN_AGE_AT_CPNS = 18

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


def normalise_nip(text: str) -> str:
    """The 18 digits of a NIP (PNS or PPPK) typed with spaces, dots or dashes."""
    digits = _SEPARATORS.sub("", text)
    if not _DIGITS.fullmatch(digits):
        shown = text.strip()
        raise RuleError(
            f"NIP hanya boleh berisi angka: {shown!r}" if shown else "NIP belum diisi",
            field="nip",
        )
    if len(digits) != NIP_LENGTH:
        raise RuleError(
            f"NIP harus {NIP_LENGTH} digit, yang diketik {len(digits)} digit", field="nip"
        )
    return digits


def is_valid_pppk_number(text: str) -> bool:
    """True if `text` is 18 digits (separators allowed); PPPK numbers get no PNS checks."""
    try:
        normalise_nip(text)
    except RuleError:
        return False
    return True


def parse_nip(text: str) -> Nip:
    """Check a PNS NIP as DOMAIN.md says and return its parts.

    Raises RuleError naming the part that is wrong (`field` is the part's name).
    """
    digits = normalise_nip(text)
    lahir_text, tmt_text = digits[:8], digits[8:14]
    try:
        tanggal_lahir = date(int(lahir_text[:4]), int(lahir_text[4:6]), int(lahir_text[6:]))
    except ValueError:
        raise RuleError(
            f"Tanggal lahir pada NIP tidak valid: {lahir_text} (bukan tanggal yang ada)",
            field="tanggal_lahir",
        ) from None
    tmt_year, tmt_month = int(tmt_text[:4]), int(tmt_text[4:])
    if not 1 <= tmt_month <= 12:
        raise RuleError(f"Bulan TMT CPNS pada NIP tidak valid: {tmt_text[4:]}", field="tmt_cpns")
    if tmt_year < 1:
        raise RuleError(f"Tahun TMT CPNS pada NIP tidak valid: {tmt_text[:4]}", field="tmt_cpns")
    tmt_cpns = date(tmt_year, tmt_month, 1)
    jenis_kelamin = int(digits[14])
    if jenis_kelamin not in (1, 2):
        raise RuleError(
            f"Kode jenis kelamin pada NIP tidak valid: {jenis_kelamin} "
            "(harus 1 untuk laki-laki atau 2 untuk perempuan)",
            field="jenis_kelamin",
        )
    urutan = int(digits[15:])
    if urutan < 1:
        raise RuleError(
            f"Nomor urut pada NIP tidak valid: {digits[15:]} (paling kecil 001)", field="urutan"
        )
    if tmt_cpns < add_years(tanggal_lahir, MIN_AGE_AT_CPNS):
        raise RuleError(
            f"TMT CPNS pada NIP ({format_bulan(tmt_cpns)}) kurang dari {MIN_AGE_AT_CPNS} "
            f"tahun setelah tanggal lahir ({format_tanggal(tanggal_lahir)})",
            field="tmt_cpns",
        )
    return Nip(
        digits=digits,
        tanggal_lahir=tanggal_lahir,
        tmt_cpns=tmt_cpns,
        jenis_kelamin=jenis_kelamin,
        urutan=urutan,
    )
