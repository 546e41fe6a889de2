"""Golongan/ruang and their pangkat names: the ladder KP climbs, I/a to IV/e."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from store.rules._inputs import as_text
from store.rules.errors import RuleError

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_FROM_ROMAN = {roman: ruang for ruang, roman in _ROMAN.items()}

# The table in DOMAIN.md; the only place pangkat names are written down.
_PANGKAT: MappingProxyType[tuple[int, str], str] = MappingProxyType(
    {
        (1, "a"): "Juru Muda",
        (1, "b"): "Juru Muda Tingkat I",
        (1, "c"): "Juru",
        (1, "d"): "Juru Tingkat I",
        (2, "a"): "Pengatur Muda",
        (2, "b"): "Pengatur Muda Tingkat I",
        (2, "c"): "Pengatur",
        (2, "d"): "Pengatur Tingkat I",
        (3, "a"): "Penata Muda",
        (3, "b"): "Penata Muda Tingkat I",
        (3, "c"): "Penata",
        (3, "d"): "Penata Tingkat I",
        (4, "a"): "Pembina",
        (4, "b"): "Pembina Tingkat I",
        (4, "c"): "Pembina Utama Muda",
        (4, "d"): "Pembina Utama Madya",
        (4, "e"): "Pembina Utama",
    }
)

_PATTERN = re.compile(r"^\s*(IV|III|II|I|[1-4])\s*[/\-.]?\s*([A-E])\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Golongan:
    """One golongan/ruang; compares in rank order (I/a lowest, IV/e highest)."""

    ruang: int
    huruf: str

    def __post_init__(self) -> None:
        if (self.ruang, self.huruf) not in _PANGKAT:
            raise RuleError(
                f"Golongan tidak dikenal: ruang {self.ruang}, huruf {self.huruf!r}",
                field="golongan",
            )

    @property
    def kode(self) -> str:
        """The usual written form, e.g. ``"III/a"``."""
        return f"{_ROMAN[self.ruang]}/{self.huruf}"

    @property
    def pangkat(self) -> str:
        """The pangkat name, e.g. ``"Penata Muda"`` for III/a."""
        return _PANGKAT[(self.ruang, self.huruf)]

    def __str__(self) -> str:
        return self.kode


ALL_GOLONGAN: tuple[Golongan, ...] = tuple(
    sorted(Golongan(ruang, huruf) for ruang, huruf in _PANGKAT)
)


def parse_golongan(text: Golongan | str) -> Golongan:
    """Read a golongan as people type it: "III/a", "iii/a", "III a", "3a", "3/a".

    A Golongan is returned as it is; anything that is not text is a RuleError.
    """
    if isinstance(text, Golongan):
        return text
    text = as_text(text, "golongan", "Golongan")
    match = _PATTERN.match(text)
    if match is None:
        raise RuleError(
            f"Golongan tidak dikenali: {text.strip()!r} (contoh penulisan: III/a)",
            field="golongan",
        )
    ruang_text, huruf = match.group(1).upper(), match.group(2).lower()
    ruang = int(ruang_text) if ruang_text.isdigit() else _FROM_ROMAN[ruang_text]
    if (ruang, huruf) not in _PANGKAT:
        raise RuleError(
            f"Golongan {_ROMAN[ruang]}/{huruf} tidak ada: huruf e hanya ada pada golongan IV",
            field="golongan",
        )
    return Golongan(ruang, huruf)


def next_golongan(golongan: Golongan | str) -> Golongan | None:
    """The golongan one step up, or None at IV/e."""
    index = ALL_GOLONGAN.index(parse_golongan(golongan))
    return ALL_GOLONGAN[index + 1] if index + 1 < len(ALL_GOLONGAN) else None
