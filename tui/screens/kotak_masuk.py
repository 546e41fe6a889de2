"""Kotak masuk: scans intake could not file; accept what intake recognised (one key),
assign them by hand, or set them aside."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from client.views import InboxItemView, InboxPreview
from tui.format import nip, ukuran, waktu_iso
from tui.screens.base import BerkasScreen
from tui.screens.isian import IsianDialog
from tui.screens.tetapkan import TetapkanDialog
from tui.widgets.tabel import Column, Row, fill_table

COLUMNS: list[Column] = [("Berkas asli", 30), ("Dikenali", None), ("Ukuran", 7)]


class KotakMasukScreen(BerkasScreen):
    SCREEN_TITLE = "Kotak masuk"
    NAV = "kotak_masuk"
    CSS_PATH = "kotak_masuk.tcss"
    AUTO_FOCUS = "#pindaian-masuk"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "terima_saran", "Terima saran"),
        Binding("t", "tetapkan", "Tetapkan ke pegawai"),
        Binding("b", "buang", "Buang ke karantina"),
        Binding("r", "muat_ulang", "Muat ulang"),
        Binding("l", "lihat", "Lihat pindaian", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._items: dict[str, InboxItemView] = {}
        self.preview: InboxPreview | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="jumlah-masuk")
        with Horizontal(id="bagian"):
            yield DataTable(id="pindaian-masuk", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="pratinjau"):
                yield Static("Pilih pindaian untuk melihat isinya.", id="isi-pratinjau")

    def on_mount(self) -> None:
        fill_table(self.query_one(DataTable), COLUMNS, [])
        self.query_one("#pratinjau").border_title = "Pratinjau"

    def reload(self) -> None:
        self._load()

    def action_muat_ulang(self) -> None:
        self.reload()

    @work(exclusive=True, group="inbox-load", exit_on_error=False)
    async def _load(self) -> None:
        items = await self.call(self.client.list_inbox)
        if items is None:
            return
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        self._items = {i.id: i for i in items}
        rows: list[Row] = []
        for item in items:
            recognised = Text()
            if item.pegawai_nama:
                recognised.append(item.pegawai_nama)
            elif item.nip:
                recognised.append(nip(item.nip), style="yellow")
            else:
                recognised.append("NIP ?", style="red")
            recognised.append(" · ")
            recognised.append(
                item.kode_nama or item.kode or "jenis ?", style="" if item.kode else "red"
            )
            size = Text(ukuran(item.size), style="yellow" if item.terlalu_besar else "")
            rows.append((item.id, [Text(item.original_name), recognised, size]))
        fill_table(table, COLUMNS, rows)
        if items:
            table.move_cursor(row=min(cursor, len(items) - 1))
            self.query_one("#jumlah-masuk", Static).update(
                f"{len(items)} pindaian menunggu · s: terima saran · t: tetapkan · "
                "l: lihat · b: buang"
            )
        else:
            self.query_one("#jumlah-masuk", Static).update(
                "Kotak masuk kosong: semua pindaian sudah diberkaskan."
            )
            self.query_one("#isi-pratinjau", Static).update("")

    @property
    def current(self) -> InboxItemView | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._items.get(key or "")

    @on(DataTable.RowHighlighted, "#pindaian-masuk")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        item = self._items.get(event.row_key.value or "")
        if item is not None:
            self.query_one("#isi-pratinjau", Static).update(_describe(item, None))
            self._preview(item.id)

    @work(exclusive=True, group="inbox-preview", exit_on_error=False)
    async def _preview(self, item_id: str) -> None:
        preview = await self.call(self.client.inbox_preview, item_id)
        current = self.current
        if preview is not None and current is not None and current.id == item_id:
            self.preview = preview
            self.query_one("#isi-pratinjau", Static).update(_describe(current, preview))

    def action_lihat(self) -> None:
        """The scan itself, drawn in the terminal (the document viewer)."""
        from tui.screens.penampil import PenampilDialog

        item = self.current
        if item is not None:
            client = self.client
            self.app.push_screen(
                PenampilDialog(
                    item.original_name, lambda: client.inbox_pdf(item.id), "pindaian.pdf"
                )
            )

    @on(DataTable.RowSelected, "#pindaian-masuk")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_tetapkan()

    @work(group="dialog-inbox", exit_on_error=False)
    async def action_tetapkan(self) -> None:
        item = self.current
        if item is None:
            return
        choice = await self.app.push_screen_wait(TetapkanDialog(item))
        if choice is None:
            return
        usulan = await self.call(self.client.assign_inbox_item, item.id, choice.nip, choice.kode)
        if usulan is not None:
            self.notify(
                f"{item.original_name} diberkaskan ke usulan {usulan.nama} sebagai {choice.nama}.",
                title="Tersimpan",
            )
            self.changed()
            self.reload()

    @work(group="dialog-inbox", exit_on_error=False)
    async def action_terima_saran(self) -> None:
        """File the scan where intake's suggestion (NIP and jenis) says, with one key."""
        item = self.current
        if item is None:
            return
        if not (item.nip and item.kode):
            self.notify(
                "Pindaian ini tidak membawa saran pegawai dan jenis dokumen; "
                "tekan t untuk memilih sendiri.",
                severity="warning",
            )
            return
        usulan = await self.call(self.client.accept_inbox_suggestion, item.id)
        if usulan is not None:
            self.notify(
                f"{item.original_name} diberkaskan ke usulan {usulan.nama} sebagai "
                f"{item.kode_nama or item.kode}.",
                title="Saran diterima",
            )
            self.changed()
            self.reload()

    @work(group="dialog-inbox", exit_on_error=False)
    async def action_buang(self) -> None:
        item = self.current
        if item is None:
            return
        reason = await self.app.push_screen_wait(
            IsianDialog(
                "Buang pindaian ke karantina?",
                f"{item.original_name} keluar dari kotak masuk dan disimpan di folder "
                "karantina. Tulis alasannya:",
                nilai="Bukan dokumen kepegawaian",
                ok="Buang",
            )
        )
        if reason is None:
            return
        if await self.attempt(self.client.discard_inbox_item, item.id, reason):
            self.notify(f"{item.original_name} dipindahkan ke karantina.")
            self.changed()
            self.reload()


def _describe(item: InboxItemView, preview: InboxPreview | None) -> Group:
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("Berkas", Text(item.original_name, style="bold"))
    if item.pegawai_nama:
        facts.add_row("Pegawai", Text(f"{item.pegawai_nama} ({nip(item.nip)})"))
    elif item.nip:
        facts.add_row("NIP", Text(f"{nip(item.nip)} (tidak ada di data pegawai)", style="yellow"))
    else:
        facts.add_row("NIP", Text("tidak dikenali dari nama berkas", style="red"))
    facts.add_row(
        "Jenis",
        Text(item.kode_nama or item.kode)
        if item.kode
        else Text("tidak dikenali dari nama berkas", style="red"),
    )
    # Right under what it suggests, so it stays in view above a long reason.
    if item.nip and item.kode:
        who = item.pegawai_nama or f"NIP {nip(item.nip)}"
        suggestion = Text(f"{who} · {item.kode_nama or item.kode}", style="green")
        suggestion.append(" — tekan s untuk menerima", style="bold")
        facts.add_row("Saran", suggestion)
    pages = preview.pages if preview is not None else item.pages
    size = Text(f"{pages} halaman · {ukuran(item.size)}")
    if item.terlalu_besar:
        limit = f" (batas {ukuran(item.size_limit)})" if item.size_limit else ""
        size.append(f" · terlalu besar{limit}", style="yellow")
    facts.add_row("Isi", size)
    facts.add_row("Diterima", waktu_iso(item.created_at))
    if item.reason:
        facts.add_row("Alasan", Text(item.reason))
    parts: list[Text | Table] = [facts, Text("")]
    if preview is None:
        parts.append(Text("Membaca halaman pertama…", style="dim"))
    elif preview.text_lines:
        parts.append(Text("Teks halaman pertama:", style="bold"))
        parts.extend(Text(line) for line in preview.text_lines)
    else:
        parts.append(Text(preview.note, style="dim"))
    return Group(*parts)
