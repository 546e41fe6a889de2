"""Usulan: every usulan, filtered by layanan, status, periode and completeness."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Select, Static

from client.views import UsulanView
from tui.format import nip, tanggal_pendek
from tui.labels import LAYANAN_CHOICES, STATUS_CHOICES, usulan_label
from tui.messages import NewUsulan, OpenUsulan, ShowUsulan
from tui.screens.base import BerkasScreen
from tui.widgets.tabel import Column, Row, Tabel, fill_table

COLUMNS: list[Column] = [
    ("Nama", None),
    ("Usulan", None),
    ("Status", 20),
    ("Dokumen", 10),
    ("Periode", 11),
    ("NIP", 21),
    ("Sinkron", 8),
]
KELENGKAPAN = [("Dokumen belum lengkap", "belum"), ("Dokumen lengkap", "lengkap")]


class UsulanScreen(BerkasScreen):
    SCREEN_TITLE = "Usulan"
    NAV = "usulan"
    CSS_PATH = "usulan.tcss"
    AUTO_FOCUS = "#daftar-usulan"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "buka", "Buka", show=False),
        Binding("n", "buat", "Buat usulan"),
        Binding("f", "saring", "Saring"),
        Binding("c", "hapus_saringan", "Semua"),
        Binding("r", "muat_ulang", "Muat ulang"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, UsulanView] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="saringan"):
            yield Select(LAYANAN_CHOICES, prompt="Layanan: semua", id="layanan", compact=True)
            yield Select(STATUS_CHOICES, prompt="Status: semua", id="status", compact=True)
            yield Select[date]([], prompt="Periode: semua", id="periode", compact=True)
            yield Select(KELENGKAPAN, prompt="Dokumen: semua", id="kelengkapan", compact=True)
        yield Static("", id="jumlah")
        yield Tabel(id="daftar-usulan", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        fill_table(self.query_one(DataTable), COLUMNS, [])

    # -- filters ---------------------------------------------------------------------------

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    def _periode(self) -> date | None:
        value = self.query_one("#periode", Select).value
        return value if isinstance(value, date) else None

    @on(ShowUsulan)
    async def apply_filter(self, request: ShowUsulan) -> None:
        """Show the list as the Beranda line asked (every other filter cleared)."""
        request.stop()  # handled here: it must not bubble back to the App
        await self._load_periods(extra=request.periode)
        with self.prevent(Select.Changed):
            self._set("#layanan", request.layanan)
            self._set("#status", request.status)
            self._set("#periode", request.periode)
            belum = request.belum_lengkap
            kelengkapan = None if belum is None else ("belum" if belum else "lengkap")
            self._set("#kelengkapan", kelengkapan)
        self.reload()

    def _set(self, selector: str, value: object | None) -> None:
        select: Select[object] = self.query_one(selector, Select)
        if value is None:
            select.clear()
        else:
            select.value = value

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.reload()

    def action_saring(self) -> None:
        self.query_one("#layanan", Select).focus()

    def action_hapus_saringan(self) -> None:
        self.run_worker(self.apply_filter(ShowUsulan()), group="usulan-filter")

    def action_muat_ulang(self) -> None:
        self.reload()

    # -- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    async def _load_periods(self, extra: date | None = None) -> None:
        periods = await self.call(self.client.usulan_periods) or []
        keep = extra or self._periode()
        if keep is not None and keep not in periods:
            periods = sorted([*periods, keep], reverse=True)
        select = self.query_one("#periode", Select)
        with self.prevent(Select.Changed):
            select.set_options([(tanggal_pendek(p), p) for p in periods])
            if keep is not None:
                select.value = keep

    @work(exclusive=True, group="usulan-load", exit_on_error=False)
    async def _load(self) -> None:
        await self._load_periods()
        rows = await self.call(
            self.client.list_usulan,
            layanan=self._value("#layanan"),
            status=self._value("#status"),
            periode=self._periode(),
        )
        if rows is None:
            return
        kelengkapan = self._value("#kelengkapan")
        if kelengkapan == "belum":
            rows = [u for u in rows if u.kurang]
        elif kelengkapan == "lengkap":
            rows = [u for u in rows if not u.kurang]
        self._show(rows)

    def _show(self, rows: list[UsulanView]) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        self._rows = {u.id: u for u in rows}
        lines: list[Row] = []
        for u in rows:
            dokumen = (
                Text(f"kurang {u.kurang}", style="red")
                if u.kurang
                else Text("lengkap", style="green")
            )
            cells = [
                Text(u.nama),
                usulan_label(u.layanan, u.jenis),
                Text(u.status_label, style=_STATUS_STYLE.get(u.status, "")),
                dokumen,
                tanggal_pendek(u.periode),
                nip(u.nip),
                _SYNC_TEXT[u.pending_sync],
            ]
            lines.append((u.id, cells))
        fill_table(table, COLUMNS, lines)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        filtered = any(
            self.query_one(s, Select).value is not Select.NULL
            for s in ("#layanan", "#status", "#periode", "#kelengkapan")
        )
        note = f"{len(rows)} usulan" + (" sesuai saringan · c: tampilkan semua" if filtered else "")
        if not rows:
            note = "Tidak ada usulan yang sesuai saringan · c: tampilkan semua"
            if not filtered:
                note = "Belum ada usulan · tekan n untuk membuat"
        self.query_one("#jumlah", Static).update(note)

    # -- actions ---------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#daftar-usulan")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value in self._rows:
            self.post_message(OpenUsulan(str(event.row_key.value)))

    def action_buka(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key in self._rows:
                self.post_message(OpenUsulan(str(key)))

    def action_buat(self) -> None:
        self.post_message(NewUsulan(None, self._value("#layanan")))


_SYNC_TEXT = {True: Text("menunggu", style="yellow"), False: Text("terkirim", style="dim")}
_STATUS_STYLE = {
    "draft": "",
    "diajukan": "cyan",
    "diverifikasi": "green",
    "dikembalikan": "bold magenta",
    "ditolak": "red",
    "diteruskan": "green",
    "selesai": "bold green",
}
