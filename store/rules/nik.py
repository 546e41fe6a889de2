"""NIK: the 16-digit population number (region, birth date, sequence).

NIKs are personal data: error messages here never repeat the digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from store.rules._inputs import as_date, nfkc
from store.rules.config import RulesConfig, resolve_config
from store.rules.errors import RuleError

NIK_LENGTH = 16
_FEMALE_DAY_OFFSET = 40
_SEPARATORS = re.compile(r"[\s.\-_']+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Nik:
    """A checked NIK and its parts (repr hides the number and the birth date)."""

    digits: str = field(repr=False)
    provinsi: str
    kabupaten_kota: str
    kecamatan: str
    tanggal_lahir: date = field(repr=False)
    jenis_kelamin: int  # 1 male, 2 female (the day is stored +40)
    urutan: str = field(repr=False)


def _nik_text(value: object) -> str:
    if value is None:
        raise RuleError("NIK belum diisi", field="nik")
    if isinstance(value, str):
        return nfkc(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)  # a spreadsheet cell
    raise RuleError("NIK harus berupa teks 16 digit", field="nik", detail=type(value).__name__)


def parse_nik(text: str | int, today: date | None = None, config: RulesConfig | None = None) -> Nik:
    """Check a NIK and return its parts.

    The province must be one of the configured codes (`[nik.provinsi]`). The
    two-digit birth year goes in the latest century that does not put the
    birth after `today` (default: today's date).
    """
    today = date.today() if today is None else as_date(today, "today", "Tanggal hari ini")
    provinces = resolve_config(config).nik.provinsi
    digits = _SEPARATORS.sub("", _nik_text(text))
    if not _DIGITS.fullmatch(digits):
        raise RuleError(
            "NIK hanya boleh berisi angka" if digits else "NIK belum diisi", field="nik"
        )
    if len(digits) != NIK_LENGTH:
        raise RuleError(
            f"NIK harus {NIK_LENGTH} digit, yang diketik {len(digits)} digit", field="nik"
        )
    provinsi, kabupaten_kota, kecamatan = digits[0:2], digits[2:4], digits[4:6]
    if provinsi not in provinces:
        raise RuleError(
            f"Kode provinsi pada NIK tidak dikenal: {provinsi} (dua digit pertama NIK adalah "
            "kode provinsi Kemendagri, misalnya 32 untuk Jawa Barat)",
            field="nik",
        )
    for code, name in (
        (kabupaten_kota, "kabupaten/kota"),
        (kecamatan, "kecamatan"),
    ):
        if code == "00":
            raise RuleError(f"Kode {name} pada NIK tidak valid: 00", field="nik")
    day, month, year2 = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    jenis_kelamin = 2 if day > _FEMALE_DAY_OFFSET else 1
    if jenis_kelamin == 2:
        day -= _FEMALE_DAY_OFFSET
    tanggal_lahir = _birth_date(day, month, year2, today)
    urutan = digits[12:]
    if urutan == "0000":
        raise RuleError("Nomor urut pada NIK tidak valid: 0000 (paling kecil 0001)", field="nik")
    return Nik(
        digits=digits,
        provinsi=provinsi,
        kabupaten_kota=kabupaten_kota,
        kecamatan=kecamatan,
        tanggal_lahir=tanggal_lahir,
        jenis_kelamin=jenis_kelamin,
        urutan=urutan,
    )


def _birth_date(day: int, month: int, year2: int, today: date) -> date:
    century = today.year // 100 * 100
    for year in (century + year2, century - 100 + year2):
        try:
            born = date(year, month, day)
        except ValueError:
            continue
        if born <= today:
            return born
    raise RuleError(
        "Tanggal lahir pada NIK (digit ke-7 sampai ke-12) bukan tanggal yang ada "
        "(untuk perempuan tanggalnya ditambah 40)",
        field="nik",
    )
