"""Where a dokumen comes from: a scan waiting in the inbox, or a PDF on this computer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Static

from client.views import InboxItemView
from tui.format import nip as format_nip
from tui.format import ukuran, waktu_iso
from tui.screens.base import BerkasDialog
from tui.widgets.tabel import Column, Row, TabelPilih, fill_table


@dataclass(frozen=True)
class SumberDokumen:
    """Exactly one of the two is set."""

    inbox_item_id: str | None = None
    path: Path | None = None


class LampirkanDialog(BerkasDialog[SumberDokumen]):
    CSS_PATH = "dialog.tcss"
    AUTO_FOCUS = None  # the inbox when it has scans, else the path (on_mount)

    def __init__(self, judul: str, items: list[InboxItemView], *, nip: str, kode: str) -> None:
        super().__init__()
        self._judul = judul
        # Scans recognised for this pegawai and this kind first.
        self._items = sorted(items, key=lambda i: (i.nip != nip, i.kode != kode, i.created_at))
        self._nip = nip
        self._kode = kode

    def compose(self) -> ComposeResult:
        # One view, no tabs: the inbox above, a file path below; Tab moves between them.
        with Vertical(id="dialog"):
            yield Static(self._judul, id="judul", markup=False)
            yield Static("Dari kotak masuk (pilih, lalu Enter):", classes="sub")
            yield TabelPilih(id="pindaian", cursor_type="row")
            yield Static(
                "Atau dari berkas PDF di komputer ini (tulis alamatnya, lalu Enter):", classes="sub"
            )
            yield Input(placeholder="mis. /home/ani/Pindaian/sk pangkat.pdf", id="alamat")
            with Horizontal(id="tombol"):
                yield Button("Batal", id="batal", compact=True)
                yield Button("Lampirkan berkas", id="lampirkan", variant="primary", compact=True)

    def on_mount(self) -> None:
        rows: list[Row] = []
        for item in self._items:
            match = item.nip == self._nip and item.kode == self._kode
            recognised = " ".join(
                part for part in (format_nip(item.nip), item.kode_nama or item.kode) if part
            )
            cells = [
                Text(item.original_name, style="bold" if match else ""),
                Text(recognised or "—"),
                str(item.pages),
                ukuran(item.size),
                waktu_iso(item.created_at),
            ]
            rows.append((item.id, cells))
        if not rows:
            rows = [(None, [Text("Kotak masuk kosong.", style="dim"), "", "", "", ""])]
        columns: list[Column] = [
            ("Berkas asli", None),
            ("Dikenali", None),
            ("Hlm", 3),
            ("Ukuran", 7),
            ("Diterima", 17),
        ]
        fill_table(self.query_one("#pindaian", DataTable), columns, rows)
        if self._items:
            self.query_one("#pindaian", DataTable).focus()
        else:
            self.query_one("#alamat", Input).focus()

    @on(DataTable.RowSelected, "#pindaian")
    def _pilih(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key and any(item.id == key for item in self._items):
            self.dismiss(SumberDokumen(inbox_item_id=key))

    @on(Input.Submitted, "#alamat")
    @on(Button.Pressed, "#lampirkan")
    def _berkas(self) -> None:
        text = self.query_one("#alamat", Input).value.strip().strip("'\"")
        if not text:
            self.notify("Tulis alamat berkas PDF dahulu.", severity="warning")
            return
        self.dismiss(SumberDokumen(path=Path(text).expanduser()))

    @on(Button.Pressed, "#batal")
    def _batal(self) -> None:
        self.dismiss(None)
