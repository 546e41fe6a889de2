"""Kinds of jabatan, as far as the rules care (they set the BUP), and the golongan
each kind and each jenjang of a jabatan fungsional keterampilan is held at."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from store.rules._inputs import as_enum
from store.rules.golongan import Golongan, parse_golongan


class JabatanKind(StrEnum):
    """The jenis jabatan of a pegawai."""

    PELAKSANA = "pelaksana"
    ADMINISTRATOR = "administrator"
    PENGAWAS = "pengawas"
    JPT = "jpt"
    FUNGSIONAL_KETERAMPILAN = "fungsional_keterampilan"
    FUNGSIONAL_AHLI_PERTAMA = "fungsional_ahli_pertama"
    FUNGSIONAL_AHLI_MUDA = "fungsional_ahli_muda"
    FUNGSIONAL_AHLI_MADYA = "fungsional_ahli_madya"
    FUNGSIONAL_AHLI_UTAMA = "fungsional_ahli_utama"

    @property
    def label(self) -> str:
        """The name a person reads."""
        return JABATAN_LABELS[self]


JABATAN_LABELS: MappingProxyType[JabatanKind, str] = MappingProxyType(
    {
        JabatanKind.PELAKSANA: "Pelaksana",
        JabatanKind.ADMINISTRATOR: "Administrator",
        JabatanKind.PENGAWAS: "Pengawas",
        JabatanKind.JPT: "Jabatan Pimpinan Tinggi (JPT)",
        JabatanKind.FUNGSIONAL_KETERAMPILAN: "Fungsional keterampilan",
        JabatanKind.FUNGSIONAL_AHLI_PERTAMA: "Fungsional ahli pertama",
        JabatanKind.FUNGSIONAL_AHLI_MUDA: "Fungsional ahli muda",
        JabatanKind.FUNGSIONAL_AHLI_MADYA: "Fungsional ahli madya",
        JabatanKind.FUNGSIONAL_AHLI_UTAMA: "Fungsional ahli utama",
    }
)


def _spellings() -> dict[str, JabatanKind]:
    # Keys are name keys (see `name_key`): lower case, single spaces.
    table: dict[str, JabatanKind] = {
        "jpt": JabatanKind.JPT,
        "jabatan pimpinan tinggi": JabatanKind.JPT,
        "pimpinan tinggi": JabatanKind.JPT,
        "eselon i": JabatanKind.JPT,
        "eselon ii": JabatanKind.JPT,
        "administrator": JabatanKind.ADMINISTRATOR,
        "jabatan administrator": JabatanKind.ADMINISTRATOR,
        "eselon iii": JabatanKind.ADMINISTRATOR,
        "pengawas": JabatanKind.PENGAWAS,
        "jabatan pengawas": JabatanKind.PENGAWAS,
        "eselon iv": JabatanKind.PENGAWAS,
        "pelaksana": JabatanKind.PELAKSANA,
        "jabatan pelaksana": JabatanKind.PELAKSANA,
        "fungsional umum": JabatanKind.PELAKSANA,
        "jfu": JabatanKind.PELAKSANA,
        "staf": JabatanKind.PELAKSANA,
    }
    for tingkat in ("pratama", "madya", "utama"):
        for prefix in ("jpt", "jabatan pimpinan tinggi", "pimpinan tinggi"):
            table[f"{prefix} {tingkat}"] = JabatanKind.JPT
    for eselon in ("i", "ii"):
        for sub in ("a", "b"):
            table[f"eselon {eselon} {sub}"] = JabatanKind.JPT
            table[f"eselon {eselon}{sub}"] = JabatanKind.JPT
    for eselon, kind in (("iii", JabatanKind.ADMINISTRATOR), ("iv", JabatanKind.PENGAWAS)):
        for sub in ("a", "b"):
            table[f"eselon {eselon} {sub}"] = kind
            table[f"eselon {eselon}{sub}"] = kind
    keterampilan = ("keterampilan", "terampil", "pemula", "mahir", "penyelia")
    ahli = {
        "ahli pertama": JabatanKind.FUNGSIONAL_AHLI_PERTAMA,
        "ahli muda": JabatanKind.FUNGSIONAL_AHLI_MUDA,
        "ahli madya": JabatanKind.FUNGSIONAL_AHLI_MADYA,
        "ahli utama": JabatanKind.FUNGSIONAL_AHLI_UTAMA,
    }
    for prefix in ("", "fungsional ", "jf ", "jft ", "jabatan fungsional "):
        for word in keterampilan:
            table[f"{prefix}{word}"] = JabatanKind.FUNGSIONAL_KETERAMPILAN
        for words, kind in ahli.items():
            table[f"{prefix}{words}"] = kind
    return table


_SPELLINGS: MappingProxyType[str, JabatanKind] = MappingProxyType(_spellings())


def parse_jabatan(text: JabatanKind | str) -> JabatanKind:
    """Read a jenis jabatan as people write it.

    "JPT pratama", "eselon II.a" -> JPT; "eselon III" -> administrator;
    "eselon IV" -> pengawas; "fungsional umum"/"JFU" -> pelaksana; "JF ahli
    muda" -> fungsional ahli muda; "terampil", "mahir", "penyelia" ->
    fungsional keterampilan. Anything else is a RuleError naming `jabatan`.
    """
    return as_enum(text, JabatanKind, "jabatan", "Jenis jabatan", _SPELLINGS)


def _range(lowest: str, highest: str) -> tuple[Golongan, Golongan]:
    return parse_golongan(lowest), parse_golongan(highest)


# The golongan a holder of each kind of jabatan has: PermenPANRB 1/2023 for the jenjang
# of jabatan fungsional, the eselon table of PP 100/2000 jo. PP 13/2002 for struktural.
# Pelaksana have no range of their own: their education sets how high they rise
# (`education_ceiling`).
GOLONGAN_RANGE: MappingProxyType[JabatanKind, tuple[Golongan, Golongan]] = MappingProxyType(
    {
        JabatanKind.PENGAWAS: _range("III/a", "III/d"),  # eselon IV.b and IV.a
        JabatanKind.ADMINISTRATOR: _range("III/c", "IV/b"),  # eselon III.b and III.a
        JabatanKind.JPT: _range("IV/b", "IV/e"),
        JabatanKind.FUNGSIONAL_KETERAMPILAN: _range("II/a", "III/d"),
        JabatanKind.FUNGSIONAL_AHLI_PERTAMA: _range("III/a", "III/b"),
        JabatanKind.FUNGSIONAL_AHLI_MUDA: _range("III/c", "III/d"),
        JabatanKind.FUNGSIONAL_AHLI_MADYA: _range("IV/a", "IV/c"),
        JabatanKind.FUNGSIONAL_AHLI_UTAMA: _range("IV/d", "IV/e"),
    }
)

# The jenjang of a jabatan fungsional keterampilan, by the word that ends its name
# ("Perawat Mahir"), and the golongan each is held at.
JENJANG_KETERAMPILAN: MappingProxyType[str, tuple[Golongan, Golongan]] = MappingProxyType(
    {
        "Pemula": _range("II/a", "II/a"),
        "Terampil": _range("II/b", "II/d"),
        "Mahir": _range("III/a", "III/b"),
        "Penyelia": _range("III/c", "III/d"),
    }
)


def golongan_fits_jabatan(kind: JabatanKind | str, golongan: Golongan | str) -> bool:
    """Whether a holder of this kind of jabatan can be at this golongan (always, for a
    pelaksana: their ceiling is their education's)."""
    found = GOLONGAN_RANGE.get(parse_jabatan(kind))
    if found is None:
        return True
    lowest, highest = found
    return lowest <= parse_golongan(golongan) <= highest


def jenjang_keterampilan(golongan: Golongan | str) -> str:
    """The jenjang of a jabatan fungsional keterampilan held at this golongan ("Mahir"
    at III/a), or "" below II/a and above III/d."""
    gol = parse_golongan(golongan)
    for jenjang, (lowest, highest) in JENJANG_KETERAMPILAN.items():
        if lowest <= gol <= highest:
            return jenjang
    return ""
