"""What the verifikator's service hands the TUI and the CLI: frozen views, never ORM
objects (the OPD side's views are in client/views.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from client.views import HistoryView, PegawaiView


@dataclass(frozen=True)
class AntrianFilter:
    """What the queue shows: every field empty means "any"; `status` never a draft."""

    opd: str = ""
    layanan: str = ""
    periode: date | None = None
    status: str = "diajukan"
    cari: str = ""  # part of a NIP or a name


@dataclass(frozen=True)
class AntrianItem:
    """One usulan waiting for (or handled by) the BKD, as a row of the queue."""

    id: str
    opd: str
    nip: str
    nama: str
    layanan: str
    jenis: str
    jenis_label: str
    periode: date | None
    status: str
    status_label: str
    diajukan: datetime | None  # the latest submission
    hari_menunggu: int  # whole days since `diajukan`
    pengajuan_ulang: int  # submissions after the first (after a BTS)
    batas: date | None  # the period's last day to submit (KP); None otherwise
    terlambat: bool  # waiting longer than the service level (rules)


@dataclass(frozen=True)
class Antrian:
    items: list[AntrianItem]
    total: int  # before the search and the limit
    opd: list[str]  # every OPD with an usulan past draft, for the filter
    periode: list[date]


@dataclass(frozen=True)
class AturanView:
    """What the rules compute from the pegawai's master data, for the verifier's eye."""

    kp_eligible: bool
    kp_alasan: tuple[str, ...]
    batas_pendidikan: str  # the education ceiling: the highest golongan KP reguler reaches
    bup: int
    tmt_pensiun: date


@dataclass(frozen=True)
class DokumenPeriksa:
    """One checklist line of the usulan under review."""

    kode: str
    nama: str
    required: bool
    state: str  # ada | kurang | terlalu_besar | dikembalikan | tidak_berlaku
    dokumen_id: str | None
    sha256: str
    size: int
    pages: int
    nama_file: str
    catatan_verifikator: str
    alasan_tidak_berlaku: str  # "" when the line applies
    # A NIP intake read on the scan that is not the usulan's pegawai's ("" otherwise).
    nip_lain: str = ""


@dataclass(frozen=True)
class Pemeriksaan:
    """One usulan under review: the pegawai, the rules' verdicts, the checklist, warnings."""

    item: AntrianItem
    pegawai: PegawaiView
    aturan: AturanView
    dokumen: list[DokumenPeriksa]
    history: list[HistoryView]
    peringatan: list[str]
    catatan_verifikator: str
    nomor_pertek: str
    tanggal_pertek: date | None
    keputusan: tuple[str, ...]  # what may be decided now: ms, bts, tms, teruskan, selesai


@dataclass(frozen=True)
class PermintaanKunciView:
    """An OPD device asking for its copy of the OPD key (restore after a total loss)."""

    device_id: str
    opd_kode: str
    opd_nama: str
    perangkat: str
    diminta: datetime


@dataclass(frozen=True)
class PaketBerkas:
    """One file of a paket BKN, as its manifest lists it."""

    nip: str
    nama: str
    layanan: str
    kode: str
    path: str  # relative to the paket folder
    pages: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PaketTidakBerlaku:
    """A checklist line the OPD marked "tidak berlaku": no file in the paket, its reason in
    the manifest."""

    nip: str
    layanan: str
    kode: str
    alasan: str


@dataclass(frozen=True)
class PaketReport:
    folder: str
    usulan: int
    files: list[PaketBerkas] = field(default_factory=list)
    total_bytes: int = 0
    tidak_berlaku: list[PaketTidakBerlaku] = field(default_factory=list)


@dataclass(frozen=True)
class RekapBaris:
    """One OPD and layanan over a period."""

    opd: str
    layanan: str
    counts: dict[str, int]  # by status
    total: int
    median_hari: float | None  # from diajukan to the decision, for the decided ones
    bts_rate: float | None  # BTS decisions over all decisions
    terlambat: list[str]  # NIP of usulan waiting past the service level


@dataclass(frozen=True)
class Rekap:
    periode: date | None
    baris: list[RekapBaris]
    batas_hari: int = 14  # waiting longer than this after diajukan is overdue
    periode_tersedia: list[date] = field(default_factory=list)  # periods with usulan
