"""The closed vocabularies the configuration is keyed by.

They live here, not in pendidikan.py, kp.py, pensiun.py and dokumen.py, only
because config.py needs them and those modules need config.py; import them
from those modules (or from `store.rules`).
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class Pendidikan(StrEnum):
    """Highest education level, as the KP ceiling table names them."""

    SD = "sd"
    SLTP = "sltp"
    SLTP_KEJURUAN = "sltp_kejuruan"
    SLTA = "slta"
    D1 = "d1"
    D2 = "d2"
    D3 = "d3"
    D4 = "d4"
    S1 = "s1"
    S2 = "s2"
    S3 = "s3"

    @property
    def label(self) -> str:
        """The name a person reads, e.g. ``"D-III"``."""
        return _PENDIDIKAN_LABELS[self]


_PENDIDIKAN_LABELS: MappingProxyType[Pendidikan, str] = MappingProxyType(
    {
        Pendidikan.SD: "SD",
        Pendidikan.SLTP: "SLTP",
        Pendidikan.SLTP_KEJURUAN: "SLTP Kejuruan",
        Pendidikan.SLTA: "SLTA",
        Pendidikan.D1: "D-I",
        Pendidikan.D2: "D-II",
        Pendidikan.D3: "D-III",
        Pendidikan.D4: "D-IV",
        Pendidikan.S1: "S-1",
        Pendidikan.S2: "S-2",
        Pendidikan.S3: "S-3",
    }
)


class KpJenis(StrEnum):
    """Kinds of kenaikan pangkat."""

    REGULER = "reguler"
    PILIHAN_STRUKTURAL = "pilihan_struktural"
    PILIHAN_FUNGSIONAL = "pilihan_fungsional"
    PENYESUAIAN_IJAZAH = "penyesuaian_ijazah"

    @property
    def label(self) -> str:
        """The name a person reads."""
        return _KP_JENIS_LABELS[self]


_KP_JENIS_LABELS: MappingProxyType[KpJenis, str] = MappingProxyType(
    {
        KpJenis.REGULER: "KP reguler",
        KpJenis.PILIHAN_STRUKTURAL: "KP pilihan (jabatan struktural)",
        KpJenis.PILIHAN_FUNGSIONAL: "KP pilihan (jabatan fungsional)",
        KpJenis.PENYESUAIAN_IJAZAH: "KP penyesuaian ijazah",
    }
)


class PensiunJenis(StrEnum):
    """Kinds of pensiun."""

    BUP = "bup"
    APS = "aps"
    JANDA_DUDA_ANAK = "janda_duda_anak"
    UZUR = "uzur"

    @property
    def label(self) -> str:
        """The name a person reads."""
        return _PENSIUN_JENIS_LABELS[self]


_PENSIUN_JENIS_LABELS: MappingProxyType[PensiunJenis, str] = MappingProxyType(
    {
        PensiunJenis.BUP: "Pensiun batas usia (BUP)",
        PensiunJenis.APS: "Pensiun atas permintaan sendiri (APS)",
        PensiunJenis.JANDA_DUDA_ANAK: "Pensiun janda/duda/anak",
        PensiunJenis.UZUR: "Pensiun uzur/sakit",
    }
)


class Layanan(StrEnum):
    """The personnel services an usulan can ask for."""

    KP = "kp"
    PINDAH = "pindah"
    PENSIUN = "pensiun"

    @property
    def label(self) -> str:
        """The name a person reads."""
        return _LAYANAN_LABELS[self]


_LAYANAN_LABELS: MappingProxyType[Layanan, str] = MappingProxyType(
    {
        Layanan.KP: "Kenaikan pangkat",
        Layanan.PINDAH: "Pindah instansi",
        Layanan.PENSIUN: "Pensiun",
    }
)
