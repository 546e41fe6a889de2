"""A fixed verifikator port for the screens' snapshots: the same views every run (no
clock, no ids from the store), a real PDF for the viewer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from client.config import ClientConfig
from client.errors import ClientError
from client.paths import Paths, resolve_paths
from client.verifikasi_views import (
    Antrian,
    AntrianFilter,
    AntrianItem,
    AturanView,
    DokumenPeriksa,
    PaketReport,
    Pemeriksaan,
    PermintaanKunciView,
    Rekap,
    RekapBaris,
)
from client.views import HistoryView, PegawaiView
from tests.tui.support import make_pdf

PASSPHRASE = "frasa-sandi-uji"
PERIODE = date(2027, 4, 1)
OTHER_NIP = "198703152010012004"  # another pegawai's, read on a scan


def _item(n: int, opd: str, nama: str, status: str = "diajukan") -> AntrianItem:
    return AntrianItem(
        id=f"u{n}",
        opd=opd,
        nip=f"19800{n}1220050110{n:02d}"[:18],
        nama=nama,
        layanan="kp",
        jenis="reguler",
        jenis_label="Reguler",
        periode=PERIODE,
        status=status,
        status_label={"diajukan": "Diajukan", "diverifikasi": "Diverifikasi (MS)"}.get(
            status, status
        ),
        diajukan=datetime(2026, 11, 2 + n, 8, 0, tzinfo=UTC),
        hari_menunggu=21 - n,
        pengajuan_ulang=1 if n == 2 else 0,
        batas=date(2027, 1, 31),
        terlambat=n == 1,
    )


ITEMS = [
    _item(1, "DISDIK", "Ahmad Sutrisno"),
    _item(2, "DINKES", "Siti Rahmawati"),
    _item(3, "DISDIK", "Budi Santoso", "diverifikasi"),
]


class FakeVerifikasi:
    def __init__(self, root: Path) -> None:
        self._paths = resolve_paths(root / "home")
        self._config = ClientConfig(operator="Rudi")
        self.unlocked = False
        self.decisions: list[tuple[Any, ...]] = []
        self._pdf = make_pdf(root / "skp.pdf", ("SKP 2025", "Ahmad Sutrisno"), pages=3).read_bytes()

    @property
    def paths(self) -> Paths:
        return self._paths

    @property
    def config(self) -> ClientConfig:
        return self._config

    def close(self) -> None:
        self.unlocked = False

    def unlock(self, passphrase: str) -> None:
        if passphrase != PASSPHRASE:
            raise ClientError("Frasa sandi kunci verifikator salah.")
        self.unlocked = True

    def lock(self) -> None:
        self.unlocked = False

    def sync(self) -> Any:
        raise ClientError("Server BKD tidak dapat dihubungi (uji).")

    def antrian(
        self, filt: AntrianFilter | None = None, *, today: date | None = None, limit: int = 1000
    ) -> Antrian:
        filt = filt or AntrianFilter()
        items = [
            i
            for i in ITEMS
            if (not filt.status or i.status == filt.status)
            and (not filt.opd or i.opd == filt.opd)
            and (not filt.cari or filt.cari.lower() in i.nama.lower() or filt.cari in i.nip)
        ]
        return Antrian(items=items, total=len(items), opd=["DINKES", "DISDIK"], periode=[PERIODE])

    def pemeriksaan(self, usulan_id: str, *, today: date | None = None) -> Pemeriksaan:
        item = next(i for i in ITEMS if i.id == usulan_id)
        pegawai = PegawaiView(
            id="p1",
            nip=item.nip,
            nama=item.nama,
            golongan="III/b",
            pangkat="Penata Muda Tingkat I",
            jabatan="Guru Ahli Pertama",
            jabatan_kind="fungsional_ahli_pertama",
            unit_kerja="SMPN 1",
            pendidikan="S1",
            tanggal_lahir=date(1985, 3, 12),
            tmt_pangkat=date(2022, 4, 1),
            bup=60,
            tmt_pensiun=date(2045, 4, 1),
        )
        dok = [
            DokumenPeriksa(
                "SK_PANGKAT",
                "SK pangkat terakhir",
                True,
                "ada",
                "d1",
                "a" * 64,
                40_000,
                2,
                f"{item.nip}_SK_PANGKAT.pdf",
                "",
                "",
            ),
            DokumenPeriksa(
                "SKP",
                "SKP dua tahun terakhir",
                True,
                "ada",
                "d2",
                "b" * 64,
                60_000,
                3,
                f"{item.nip}_SKP.pdf",
                "",
                "",
                nip_lain=OTHER_NIP,
            ),
            DokumenPeriksa(
                "IJAZAH",
                "Ijazah terakhir",
                True,
                "ada",
                "d3",
                "a" * 64,
                40_000,
                2,
                f"{item.nip}_IJAZAH.pdf",
                "",
                "",
            ),
            DokumenPeriksa(
                "STLUD",
                "STLUD / ujian dinas",
                False,
                "tidak_berlaku",
                None,
                "",
                0,
                0,
                "",
                "",
                "belum pernah ujian dinas; golongan III/b tidak mensyaratkannya",
            ),
        ]
        return Pemeriksaan(
            item=item,
            pegawai=pegawai,
            aturan=AturanView(
                kp_eligible=False,
                kp_alasan=("Masa kerja dalam pangkat baru 3 tahun, kurang dari 4 tahun.",),
                batas_pendidikan="III/d",
                bup=60,
                tmt_pensiun=date(2045, 4, 1),
            ),
            dokumen=dok,
            history=[HistoryView("draft", "diajukan", "Ani", "pc-1", "2026-11-03T08:00:00", "")],
            peringatan=[
                "SKP 2 tahun terakhir: pindaian memuat NIP 19870315 201001 2 004 "
                "(Siti Aminah, DISDIK), "
                "bukan NIP pegawai usulan ini.",
                "Berkas yang sama dilampirkan pada SK pangkat terakhir, Ijazah terakhir.",
                "Menurut aturan, pegawai ini belum memenuhi syarat KP: Masa kerja dalam "
                "pangkat baru 3 tahun, kurang dari 4 tahun.",
            ],
            catatan_verifikator="",
            nomor_pertek="",
            tanggal_pertek=None,
            keputusan=("ms", "bts", "tms") if item.status == "diajukan" else ("teruskan",),
        )

    def dokumen_pdf(self, dokumen_id: str) -> bytes:
        return self._pdf

    def putuskan(
        self,
        usulan_id: str,
        keputusan: str,
        catatan: str,
        catatan_dokumen: dict[str, str] | None = None,
        *,
        sync: bool = True,
    ) -> None:
        self.decisions.append((usulan_id, keputusan, catatan, catatan_dokumen))

    def teruskan(self, usulan_ids: Sequence[str], *, sync: bool = True) -> int:
        self.decisions.append(("teruskan", tuple(usulan_ids)))
        return len(usulan_ids)

    def selesai(self, usulan_id: str, pertek: str, tanggal: date, *, sync: bool = True) -> None:
        self.decisions.append((usulan_id, "selesai", pertek, tanggal))

    def permintaan_kunci(self) -> list[PermintaanKunciView]:
        return [
            PermintaanKunciView(
                "dev-9",
                "DINKES",
                "Dinas Kesehatan",
                "PC-Loket-2",
                datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
            )
        ]

    def bagikan_kunci(self, device_id: str | None = None) -> int:
        return 1

    def paket(self, usulan_ids: Iterable[str] | None, folder: Path) -> PaketReport:
        return PaketReport(folder=str(folder), usulan=0)

    @property
    def batas_hari(self) -> int:
        return self.config.verifikator_batas_hari

    def set_batas_hari(self, hari: int) -> None:
        self.config.verifikator_batas_hari = hari

    def rekap(
        self,
        periode: date | None = None,
        *,
        today: date | None = None,
        batas_hari: int | None = None,
    ) -> Rekap:
        return Rekap(
            periode=periode,
            batas_hari=self.batas_hari if batas_hari is None else batas_hari,
            periode_tersedia=[date(2026, 10, 1), PERIODE],
            baris=[
                RekapBaris("DINKES", "kp", {"diajukan": 4, "dikembalikan": 1}, 5, 3.5, 0.5, []),
                RekapBaris(
                    "DISDIK",
                    "kp",
                    {"diajukan": 7, "diverifikasi": 3, "selesai": 2},
                    12,
                    6.0,
                    0.25,
                    ["198001122005011001"],
                ),
            ],
        )
