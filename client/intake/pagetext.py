"""The words of a page that matter to intake, from OCR text: valid NIPs, the
titles that name a dokumen kind, and for documents that carry no NIP (an
ijazah, a KTP) the dates and names that can point at a pegawai. Pure and
small, so the worker process that reads pages can use it without loading the
store."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from client.intake.naming import nip_candidates
from store.rules import RuleError, parse_nik, parse_nip

# OCR reads these letters in place of digits inside a number.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1"})
_NUMBERISH = re.compile(r"(?<![A-Za-z])[0-9OoDIl|]*[0-9][0-9OoDIl|]*(?![A-Za-z])")
_LETTERS = re.compile(r"[^A-Z]")
# A title line: mostly capitals (body text is in lower case).
_TITLE_SHARE = 0.8


def valid_nips(text: str) -> list[str]:
    """Every valid 18-digit NIP in OCR text, in order of appearance; digit
    groups may be split by spaces or line breaks, and letters OCR mistakes
    for digits inside a number are read as those digits."""
    flat = " ".join(text.split())
    flat = _NUMBERISH.sub(lambda m: m.group().translate(_DIGIT_LOOKALIKES), flat)
    found: list[str] = []
    for digits, _span in nip_candidates(flat):
        if digits in found:
            continue
        try:
            parse_nip(digits)
        except RuleError:
            continue
        found.append(digits)
    return found


def _title_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        letters = [c for c in line if c.isalpha()]
        if len(letters) >= 4 and sum(c.isupper() for c in letters) / len(letters) >= _TITLE_SHARE:
            lines.append(line)
    return lines


def kinds_in_text(text: str, titles: Mapping[str, Sequence[str]]) -> list[str]:
    """The kinds whose title words stand on the page in capitals; spaces are
    ignored (OCR often drops or adds them) and a title inside a longer one of
    another kind ("IJAZAH" in "PENYESUAIAN IJAZAH") does not count."""
    letters = _LETTERS.sub("", " ".join(_title_lines(text)).upper())
    hits: list[tuple[int, int, str]] = []
    for kode, judul in titles.items():
        for words in judul:
            key = _LETTERS.sub("", words.upper())
            if not key:
                continue
            start = letters.find(key)
            while start >= 0:
                hits.append((start, start + len(key), kode))
                start = letters.find(key, start + 1)
    kept = {
        kode
        for start, end, kode in hits
        if not any(
            other != kode and s <= start and end <= e and (e - s) > (end - start)
            for s, e, other in hits
        )
    }
    return sorted(kept)


_MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("JANUARI", "JANUARY", "JAN"),
            ("FEBRUARI", "FEBRUARY", "PEBRUARI", "FEB", "PEB"),
            ("MARET", "MARCH", "MAR"),
            ("APRIL", "APR"),
            ("MEI", "MAY"),
            ("JUNI", "JUNE", "JUN"),
            ("JULI", "JULY", "JUL"),
            ("AGUSTUS", "AUGUST", "AGT", "AGS", "AUG"),
            ("SEPTEMBER", "SEPT", "SEP"),
            ("OKTOBER", "OCTOBER", "OKT", "OCT"),
            ("NOVEMBER", "NOPEMBER", "NOV", "NOP"),
            ("DESEMBER", "DECEMBER", "DES", "DEC"),
        ),
        start=1,
    )
    for name in names
}
_NUMERIC_DATE = re.compile(r"(?<![0-9])([0-9]{1,2})\s*[-/.]\s*([0-9]{1,2})\s*[-/.]\s*([0-9]{4})")
_WORDED_DATE = re.compile(
    r"(?<![0-9])([0-9]{1,2})\s*[-.]?\s*("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")[A-Z]*\.?\s*[-.]?\s*([0-9]{4})",
    re.IGNORECASE,
)
_NIK = re.compile(r"(?<![0-9])[0-9](?:[ ]?[0-9]){15}(?![0-9])")


def _date(day: str, month: int | str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def dates_in_text(text: str) -> list[date]:
    """Every calendar date written on the page (11-04-1968, 11/04/1968,
    11 April 1968, 11 APR 1968), and the birth date in any valid NIK (a KTP
    prints its holder's), in order of appearance, each once."""
    flat = " ".join(text.split())
    flat = _NUMBERISH.sub(lambda m: m.group().translate(_DIGIT_LOOKALIKES), flat)
    found: list[tuple[int, date]] = []
    for match in _NUMERIC_DATE.finditer(flat):
        day = _date(match.group(1), match.group(2), match.group(3))
        if day is not None:
            found.append((match.start(), day))
    for match in _WORDED_DATE.finditer(flat):
        month = _MONTHS[match.group(2).upper()]
        day = _date(match.group(1), month, match.group(3))
        if day is not None:
            found.append((match.start(), day))
    for match in _NIK.finditer(flat):
        try:
            found.append((match.start(), parse_nik(match.group()).tanggal_lahir))
        except RuleError:
            continue
    ordered: list[date] = []
    for _start, day in sorted(found, key=lambda hit: hit[0]):
        if day not in ordered:
            ordered.append(day)
    return ordered


# Titles before a name (Dr., Drs., Ir., H., Hj.) and degrees after a comma (S.Pd., M.Si.)
# are left out of a name's key: an ijazah prints the name its holder had before it.
_LEADING_TITLES = re.compile(r"^(?:(?:DRS?|DRA|IR|HJ?|PROF)\.?\s+)+", re.IGNORECASE)


def name_key(nama: str) -> str:
    """The letters of a person's name in capitals, titles and degrees left out, so a
    name matches however OCR spaced it ("BUDISANTOSO", "Budi  Santoso")."""
    bare = _LEADING_TITLES.sub("", nama.split(",")[0].strip())
    return _LETTERS.sub("", bare.upper())


def line_letters(text: str) -> list[str]:
    """Each line's letters in capitals, nothing else: a name is looked for within one
    line (a name's key found across two lines would be a coincidence)."""
    return [_LETTERS.sub("", line.upper()) for line in text.splitlines()]
