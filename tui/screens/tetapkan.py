"""Assign a waiting scan: to which pegawai, as which dokumen."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Select, Static

from client.views import InboxItemView, PegawaiView
from tui.format import nip
from tui.screens.base import BerkasDialog
from tui.widgets.pegawai_search import PegawaiSearch

STATE_NOTE = {
    "kurang": "kurang",
    "dikembalikan": "dikembalikan, perlu diganti",
    "terlalu_besar": "terlalu besar, perlu diganti",
    "ada": "sudah ada, akan diganti",
}


@dataclass(frozen=True)
class Penetapan:
    nip: str
    kode: str
    nama: str  # the dokumen's name as the person reads it ("SKP terakhir")


class TetapkanDialog(BerkasDialog[Penetapan]):
    CSS_PATH = "dialog.tcss"

    def __init__(self, item: InboxItemView) -> None:
        super().__init__()
        self._item = item
        self._nip: str | None = item.nip if item.pegawai_id else None
        self._names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Tetapkan pindaian: {self._item.original_name}"), id="judul")
            yield PegawaiSearch(
                self.client.search_pegawai, value=self._item.nip, compact=True, id="pilih-pegawai"
            )
            yield Static("", id="pegawai-terpilih")
            yield Select[str]([], prompt="Pilih jenis dokumen", id="kode", compact=True)
            with Horizontal(id="tombol"):
                yield Button("Batal", id="batal", compact=True)
                yield Button("Tetapkan", id="tetapkan", variant="primary", compact=True)

    def on_mount(self) -> None:
        if self._nip is not None:
            self.query_one("#pegawai-terpilih", Static).update(
                Text.assemble(
                    "Pegawai: ", (self._item.pegawai_nama, "bold"), f" · NIP {nip(self._nip)}"
                )
            )
            self._load_choices(self._nip)
        else:
            self.query_one("#pegawai-terpilih", Static).update(
                Text("Cari pegawai, lalu tekan Enter untuk memilih.", style="dim")
            )
            self.query_one(PegawaiSearch).focus_input()

    @on(PegawaiSearch.Chosen)
    def _chosen(self, event: PegawaiSearch.Chosen) -> None:
        event.stop()
        self._pick(event.pegawai)

    def _pick(self, pegawai: PegawaiView) -> None:
        self._nip = pegawai.nip
        self.query_one("#pegawai-terpilih", Static).update(
            Text.assemble("Pegawai: ", (pegawai.nama, "bold"), f" · NIP {nip(pegawai.nip)}")
        )
        self._load_choices(pegawai.nip)

    @work(exclusive=True, group="tetapkan-kode", exit_on_error=False)
    async def _load_choices(self, pegawai_nip: str) -> None:
        choices = await self.call(self.client.dokumen_choices, pegawai_nip) or []
        select = self.query_one("#kode", Select)
        seen: set[str] = set()
        options: list[tuple[str, str]] = []
        for c in choices:
            if c.kode in seen:
                continue
            seen.add(c.kode)
            self._names[c.kode] = c.nama
            options.append((f"{c.nama} ({STATE_NOTE.get(c.state, c.state)})", c.kode))
        select.set_options(options)
        if not options:
            self.notify(
                "Pegawai ini belum punya usulan terbuka. Buat usulannya dahulu (F4 Usulan).",
                severity="warning",
                timeout=8,
            )
            return
        if self._item.kode in seen:
            select.value = self._item.kode
            self.query_one("#tetapkan", Button).focus()
        else:
            select.focus()

    @on(Button.Pressed, "#tetapkan")
    def _tetapkan(self) -> None:
        kode = self.query_one("#kode", Select).value
        if self._nip is None:
            self.notify("Pilih pegawai dahulu (cari, lalu Enter).", severity="warning")
        elif not isinstance(kode, str):
            self.notify("Pilih jenis dokumennya.", severity="warning")
        else:
            self.dismiss(Penetapan(self._nip, kode, self._names.get(kode, kode)))

    @on(Button.Pressed, "#batal")
    def _batal(self) -> None:
        self.dismiss(None)
