"""Kinds of jabatan, as far as the rules care (they set the BUP)."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


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
