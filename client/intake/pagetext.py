"""The words of a page that matter to intake, from OCR text: valid NIPs and
the titles that name a dokumen kind. Pure and small, so the worker process
that reads pages can use it without loading the store."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from client.intake.naming import nip_candidates
from store.rules import RuleError, parse_nip

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
