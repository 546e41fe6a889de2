"""A new usulan: which pegawai, which layanan and jenis."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Select, Static

from client.views import PegawaiView
from tui.format import nip
from tui.labels import LAYANAN_CHOICES
from tui.screens.base import BerkasDialog
from tui.widgets.pegawai_search import PegawaiSearch


@dataclass(frozen=True)
class UsulanBaru:
    pegawai: PegawaiView
    layanan: str
    jenis: str


class UsulanBaruDialog(BerkasDialog[UsulanBaru]):
    CSS_PATH = "dialog.tcss"

    def __init__(self, pegawai: PegawaiView | None, layanan: str | None) -> None:
        super().__init__()
        self._pegawai = pegawai
        # A layanan the caller gave (e.g. the Beranda's pensiun list) stays; otherwise the
        # dialog proposes the one that fits the pegawai once it is known.
        self._layanan_given = layanan is not None
        self._layanan = layanan or "kp"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Buat usulan baru", id="judul")
            if self._pegawai is None:
                yield PegawaiSearch(self.client.search_pegawai, compact=True, id="pilih-pegawai")
            yield Static(self._pegawai_text(), id="pegawai-terpilih")
            with Horizontal(id="pilihan"):
                yield Select(
                    LAYANAN_CHOICES,
                    value=self._layanan,
                    allow_blank=False,
                    id="layanan",
                    compact=True,
                )
                yield Select(
                    self._jenis(self._layanan),
                    value=self.client.default_jenis(self._layanan),
                    allow_blank=False,
                    id="jenis",
                    compact=True,
                )
            yield Static("", id="saran", classes="petunjuk")
            yield Static(
                "Periode diisi otomatis: KP ke periode berikut, pensiun ke TMT pensiunnya.",
                classes="petunjuk",
            )
            with Horizontal(id="tombol"):
                yield Button("Batal", id="batal", compact=True)
                yield Button("Buat usulan", id="buat", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#saran", Static).display = False
        if self._pegawai is None:
            self.query_one(PegawaiSearch).focus_input()
        else:
            self.query_one("#buat", Button).focus()
            self._propose()

    @work(exclusive=True, group="saran-layanan", exit_on_error=False)
    async def _propose(self) -> None:
        """Pre-select the layanan the rules say fits the pegawai (pensiun when due within
        the lead months, else KP when eligible) and say why."""
        if self._pegawai is None or self._layanan_given:
            return
        saran = await self.call(
            self.client.layanan_saran, self._pegawai.id, today=self.berkas.today
        )
        if not saran:
            return
        self.query_one("#layanan", Select).value = saran
        hint = self.query_one("#saran", Static)
        hint.update(
            "Disarankan: pensiun (TMT pensiunnya sudah dekat)."
            if saran == "pensiun"
            else "Disarankan: kenaikan pangkat (memenuhi syarat periode berikut)."
        )
        hint.display = True

    def _pegawai_text(self) -> Text:
        if self._pegawai is None:
            return Text("Cari pegawai, lalu tekan Enter untuk memilih.", style="dim")
        p = self._pegawai
        return Text.assemble("Pegawai: ", (p.nama, "bold"), f" · NIP {nip(p.nip)} · {p.golongan}")

    def _jenis(self, layanan: str) -> list[tuple[str, str]]:
        return [(label, value) for value, label in self.client.jenis_choices(layanan)]

    @on(PegawaiSearch.Chosen)
    def _pegawai_dipilih(self, event: PegawaiSearch.Chosen) -> None:
        event.stop()
        self._pegawai = event.pegawai
        self.query_one("#pegawai-terpilih", Static).update(self._pegawai_text())
        self.query_one("#buat", Button).focus()
        self._propose()

    @on(Select.Changed, "#layanan")
    def _layanan_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            jenis = self.query_one("#jenis", Select)
            jenis.set_options(self._jenis(event.value))
            jenis.value = self.client.default_jenis(event.value)

    @on(Button.Pressed, "#buat")
    def _buat(self) -> None:
        if self._pegawai is None:
            self.notify("Pilih pegawai dahulu (cari, lalu Enter).", severity="warning")
            return
        layanan = self.query_one("#layanan", Select).value
        jenis = self.query_one("#jenis", Select).value
        if not isinstance(layanan, str) or not isinstance(jenis, str):
            self.notify("Pilih layanan dan jenisnya.", severity="warning")
            return
        self.dismiss(UsulanBaru(self._pegawai, layanan, jenis))

    @on(Button.Pressed, "#batal")
    def _batal(self) -> None:
        self.dismiss(None)
