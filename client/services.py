"""The OPD client: one open installation, as the TUI and the CLIs use it.

`BerkasClient` is assembled from one part per noun of the workflow, each in its own
module: pegawai (client/pegawai.py), usulan (client/usulan.py), kotak masuk
(client/kotak_masuk.py), konflik (client/konflik.py), beranda (client/beranda.py),
sinkronisasi (client/sinkronisasi.py). They return the frozen views of
client/views.py (no ORM objects leave the client), run every write through the store
so its outbox entry is recorded, and leave every rule to store.rules. The TUI sees
the client only through the `ClientPort` protocol (client/port.py).
"""

from __future__ import annotations

from client._core import ClientCore
from client.beranda import PENSIUN_LEAD_MONTHS, BerandaService
from client.config import load_config
from client.konflik import KonflikService
from client.kotak_masuk import KotakMasukService
from client.paths import Paths
from client.pegawai import PegawaiService
from client.penampil import PenampilService
from client.persiapan import PersiapanService
from client.sinkronisasi import SinkronisasiService
from client.usulan import UsulanService
from store.blobs import BlobStore
from store.database import open_store
from store.rules import load_rules_config

__all__ = ["PENSIUN_LEAD_MONTHS", "BerkasClient"]


class BerkasClient(
    PegawaiService,
    UsulanService,
    KotakMasukService,
    KonflikService,
    BerandaService,
    SinkronisasiService,
    PenampilService,
    PersiapanService,
    ClientCore,
):
    """One open OPD installation: its config, store, rules and blob store."""

    @classmethod
    def open(cls, paths: Paths, *, blobs: BlobStore | None = None) -> BerkasClient:
        """Open the installation at `paths`; `blobs` as for ClientCore."""
        config = load_config(paths.config)
        rules = load_rules_config(config.rules_override)
        store = open_store(paths.store, opd_id=config.opd_kode or None, person=config.operator)
        return cls(paths, store, config, rules, blobs)

    def close(self) -> None:
        if self._intake_service is not None:
            self._intake_service.close()
        self.store.close()
