"""Pegawai: every pegawai in the store, searched as you type by NIP or name."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from tui.format import angka
from tui.messages import NewUsulan, OpenPegawai, ShowPegawaiList
from tui.screens.base import BerkasScreen
from tui.widgets.pegawai_search import PegawaiSearch


class PegawaiScreen(BerkasScreen):
    SCREEN_TITLE = "Pegawai"
    NAV = "pegawai"
    CSS_PATH = "pegawai.tcss"
    AUTO_FOCUS = "#cari"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "lihat", "Lihat rincian", show=False),
        Binding("n", "buat_usulan", "Buat usulan"),
        Binding("slash", "cari", "Cari"),
        Binding("escape", "kosongkan", "Kosongkan"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._preset_layanan: str | None = None

    def compose_body(self) -> ComposeResult:
        yield PegawaiSearch(self.client.search_pegawai, id="pencarian")

    @property
    def search(self) -> PegawaiSearch:
        return self.query_one(PegawaiSearch)

    def reload(self) -> None:
        self._count()

    @work(exclusive=True, group="pegawai-count", exit_on_error=False)
    async def _count(self) -> None:
        total = await self.call(self.client.count_pegawai)
        if total is not None:
            self.set_title(f"Pegawai · {angka(total)} orang")

    @on(ShowPegawaiList)
    def show_list(self, request: ShowPegawaiList) -> None:
        """A list from the Beranda (due for KP, for pensiun)."""
        request.stop()  # handled here: it must not bubble back to the App
        self._preset_layanan = request.layanan
        self.search.show_list(request.title, request.people)
        # The line under the list says "ketik untuk mencari": what is typed goes to the
        # search box, never to the list's single-letter keys (n would start an usulan).
        # Down or Enter moves to the list.
        self.search.focus_input()

    @on(PegawaiSearch.Chosen)
    def _chosen(self, event: PegawaiSearch.Chosen) -> None:
        self.post_message(OpenPegawai(event.pegawai.id, self._preset_layanan))

    def action_lihat(self) -> None:
        person = self.search.highlighted
        if person is not None:
            self.post_message(OpenPegawai(person.id, self._preset_layanan))

    def action_buat_usulan(self) -> None:
        person = self.search.highlighted
        if person is None:
            self.notify("Pilih pegawai dahulu.", severity="warning")
            return
        self.post_message(NewUsulan(person, self._preset_layanan))

    def action_cari(self) -> None:
        self.search.focus_input()

    def action_kosongkan(self) -> None:
        self._preset_layanan = None
        self.search.clear()
        self.search.focus_input()
