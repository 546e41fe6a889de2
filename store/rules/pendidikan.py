"""Education levels as people write them, and the golongan each lets KP reguler reach."""

from __future__ import annotations

import re
from types import MappingProxyType

from store.rules._inputs import as_text
from store.rules._kinds import Pendidikan
from store.rules.config import RulesConfig, resolve_config
from store.rules.errors import RuleError
from store.rules.golongan import Golongan, parse_golongan

__all__ = [
    "ENTRY_GOLONGAN",
    "Pendidikan",
    "education_ceiling",
    "entry_golongan",
    "parse_pendidikan",
]

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

# The golongan a CPNS starts at with this education (PP 99/2000, Pasal 17 jo. PP 12/2002).
ENTRY_GOLONGAN: MappingProxyType[Pendidikan, str] = MappingProxyType(
    {
        Pendidikan.SD: "I/a",
        Pendidikan.SLTP: "I/c",
        Pendidikan.SLTP_KEJURUAN: "I/c",
        Pendidikan.SLTA: "II/a",
        Pendidikan.D1: "II/a",
        Pendidikan.D2: "II/b",
        Pendidikan.D3: "II/c",
        Pendidikan.D4: "III/a",
        Pendidikan.S1: "III/a",
        Pendidikan.S2: "III/b",
        Pendidikan.S3: "III/c",
    }
)


def _spellings() -> dict[str, Pendidikan]:
    # Keys are upper case with everything but letters and digits removed.
    table: dict[str, Pendidikan] = {
        level.value.upper().replace("_", ""): level for level in Pendidikan
    }
    table.update(
        {
            "SR": Pendidikan.SD,
            "MI": Pendidikan.SD,
            "MADRASAHIBTIDAIYAH": Pendidikan.SD,
            "SEKOLAHDASAR": Pendidikan.SD,
            "SMP": Pendidikan.SLTP,
            "MTS": Pendidikan.SLTP,
            "SLTPUMUM": Pendidikan.SLTP,
            "SMPKEJURUAN": Pendidikan.SLTP_KEJURUAN,
            "SMEP": Pendidikan.SLTP_KEJURUAN,
            "SKKP": Pendidikan.SLTP_KEJURUAN,
            "SMA": Pendidikan.SLTA,
            "SMU": Pendidikan.SLTA,
            "SMK": Pendidikan.SLTA,
            # Not "MA": it is also how "M.A." (a master's degree) normalises.
            "MADRASAHALIYAH": Pendidikan.SLTA,
            "STM": Pendidikan.SLTA,
            "SMEA": Pendidikan.SLTA,
            "SPK": Pendidikan.SLTA,
            "SLTAKEJURUAN": Pendidikan.SLTA,
            "SLTAUMUM": Pendidikan.SLTA,
            "PAKETC": Pendidikan.SLTA,
            "SARJANATERAPAN": Pendidikan.D4,
            "SARJANA": Pendidikan.S1,
            "MAGISTER": Pendidikan.S2,
            "PASCASARJANA": Pendidikan.S2,
            "DOKTOR": Pendidikan.S3,
            "DOKTORAL": Pendidikan.S3,
        }
    )
    diploma = (Pendidikan.D1, Pendidikan.D2, Pendidikan.D3, Pendidikan.D4)
    strata = (Pendidikan.S1, Pendidikan.S2, Pendidikan.S3)
    for number, level in enumerate(diploma, start=1):
        for prefix in ("D", "DIPLOMA"):
            table[f"{prefix}{number}"] = level
            table[f"{prefix}{_ROMAN[number]}"] = level
    for number, level in enumerate(strata, start=1):
        for prefix in ("S", "STRATA"):
            table[f"{prefix}{number}"] = level
            table[f"{prefix}{_ROMAN[number]}"] = level
    return table


_SPELLINGS: MappingProxyType[str, Pendidikan] = MappingProxyType(_spellings())
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def parse_pendidikan(text: Pendidikan | str) -> Pendidikan:
    """Read an education level: "SMA"/"SMK"/"SLTA" -> SLTA, "D-III" -> D3, "S-1" -> S1..."""
    if isinstance(text, Pendidikan):
        return text
    text = as_text(text, "pendidikan", "Pendidikan")
    key = _NOT_ALNUM.sub("", text.upper())
    level = _SPELLINGS.get(key)
    if level is None:
        raise RuleError(
            f"Pendidikan tidak dikenali: {text.strip()!r} "
            "(contoh: SD, SMP, SMA, D-III, D-IV, S-1, S-2, S-3)",
            field="pendidikan",
        )
    return level


def education_ceiling(pendidikan: Pendidikan | str, config: RulesConfig | None = None) -> Golongan:
    """The highest golongan KP reguler can reach with this education."""
    return resolve_config(config).pendidikan.ceilings[parse_pendidikan(pendidikan)]


def entry_golongan(pendidikan: Pendidikan | str) -> Golongan:
    """The golongan a CPNS with this education starts at (SLTA II/a, D-III II/c, S-1
    III/a, S-2 III/b)."""
    return parse_golongan(ENTRY_GOLONGAN[parse_pendidikan(pendidikan)])
