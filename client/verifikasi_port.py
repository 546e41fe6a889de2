"""The verifikator TUI's whole view of the client: a typed protocol, as client/port.py is
for the OPD screens. `VerifikasiService` (client/verifikasi_service.py) implements it.
Every call may block (SQLite, files, the network): the TUI runs them in workers.
Refusals raise `BerkasError` with a message in Bahasa Indonesia."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol

from client.config import ClientConfig
from client.paths import Paths
from client.verifikasi_views import (
    Antrian,
    AntrianFilter,
    PaketReport,
    Pemeriksaan,
    PermintaanKunciView,
    Rekap,
)
from sync.engine import SyncReport

__all__ = ["VerifikasiPort"]


class VerifikasiPort(Protocol):
    @property
    def paths(self) -> Paths: ...

    @property
    def config(self) -> ClientConfig: ...

    @property
    def unlocked(self) -> bool: ...

    def close(self) -> None: ...
    def unlock(self, passphrase: str) -> None: ...
    def lock(self) -> None: ...
    def sync(self) -> SyncReport: ...
    def antrian(
        self, filt: AntrianFilter | None = None, *, today: date | None = None, limit: int = 1000
    ) -> Antrian: ...
    def pemeriksaan(self, usulan_id: str, *, today: date | None = None) -> Pemeriksaan: ...
    def dokumen_pdf(self, dokumen_id: str) -> bytes: ...
    def putuskan(
        self,
        usulan_id: str,
        keputusan: str,
        catatan: str,
        catatan_dokumen: dict[str, str] | None = None,
        *,
        sync: bool = True,
    ) -> None: ...
    def teruskan(self, usulan_ids: Sequence[str], *, sync: bool = True) -> int: ...
    def selesai(self, usulan_id: str, pertek: str, tanggal: date, *, sync: bool = True) -> None: ...
    def permintaan_kunci(self) -> list[PermintaanKunciView]: ...
    def bagikan_kunci(self, device_id: str | None = None) -> int: ...
    def paket(self, usulan_ids: Iterable[str] | None, folder: Path) -> PaketReport: ...
    @property
    def batas_hari(self) -> int: ...
    def rekap(
        self,
        periode: date | None = None,
        *,
        today: date | None = None,
        batas_hari: int | None = ...,
    ) -> Rekap: ...
    def set_batas_hari(self, hari: int) -> None: ...
