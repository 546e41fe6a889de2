"""One pegawai: data, golongan/pangkat history, BUP and TMT pensiun, KP, their usulan."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from client.views import PegawaiDetail
from tui.format import nip, tanggal, tanggal_pendek
from tui.labels import usulan_label
from tui.messages import NewUsulan, OpenUsulan
from tui.screens.base import BerkasScreen
from tui.widgets.tabel import Column, Row, Tabel, fill_table

RIWAYAT_COLUMNS: list[Column] = [("Golongan", 8), ("Pangkat", 24), ("TMT", 18)]
USULAN_COLUMNS: list[Column] = [
    ("Usulan", None),
    ("Periode", 11),
    ("Status", 20),
    ("Dokumen", 10),
]
JABATAN_KIND = {
    "pelaksana": "pelaksana",
    "pengawas": "pengawas",
    "administrator": "administrator",
    "jpt": "JPT",
    "fungsional_keterampilan": "fungsional keterampilan",
    "fungsional_ahli_pertama": "fungsional ahli pertama",
    "fungsional_ahli_muda": "fungsional ahli muda",
    "fungsional_ahli_madya": "fungsional ahli madya",
    "fungsional_ahli_utama": "fungsional ahli utama",
}


class PegawaiDetailScreen(BerkasScreen):
    SCREEN_TITLE = "Pegawai"
    NAV = "pegawai"
    CSS_PATH = "pegawai_detail.tcss"
    AUTO_FOCUS = "#usulan-pegawai"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "kembali", "Kembali"),
        Binding("n", "buat_usulan", "Buat usulan"),
        Binding("enter", "buka_usulan", "Buka usulan", show=False),
    ]

    def __init__(self, pegawai_id: str, layanan: str | None = None) -> None:
        super().__init__()
        self.pegawai_id = pegawai_id
        self._layanan = layanan
        self.detail: PegawaiDetail | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="isi"):
            with Horizontal(id="atas"):
                yield Static(id="data")
                yield Static(id="pensiun-kp")
            yield Static("Riwayat golongan/pangkat", classes="judul")
            yield DataTable(id="riwayat", cursor_type="none", show_cursor=False)
            yield Static("Usulan", classes="judul")
            yield Tabel(id="usulan-pegawai", cursor_type="row")

    def on_mount(self) -> None:
        fill_table(self.query_one("#riwayat", DataTable), RIWAYAT_COLUMNS, [])
        fill_table(self.query_one("#usulan-pegawai", DataTable), USULAN_COLUMNS, [])
        self.query_one("#data").border_title = "Data pegawai"
        self.query_one("#pensiun-kp").border_title = "Pensiun dan kenaikan pangkat"

    def reload(self) -> None:
        self._load()

    @work(exclusive=True, group="pegawai-detail", exit_on_error=False)
    async def _load(self) -> None:
        detail = await self.call(self.client.pegawai_detail, self.pegawai_id, self.berkas.today)
        if detail is not None:
            self.detail = detail
            self._show(detail)

    def _show(self, d: PegawaiDetail) -> None:
        p = d.pegawai
        self.set_title(f"Pegawai · {p.nama}")
        data = Table.grid(padding=(0, 2))
        data.add_column(style="dim")
        data.add_column()
        data.add_row("NIP", nip(p.nip))
        data.add_row("Nama", Text(p.nama, style="bold"))
        data.add_row("Golongan", f"{p.golongan} — {p.pangkat}")
        data.add_row("TMT pangkat", tanggal(p.tmt_pangkat))
        data.add_row(
            "Jabatan", Text(f"{p.jabatan} ({JABATAN_KIND.get(p.jabatan_kind, p.jabatan_kind)})")
        )
        data.add_row("Unit kerja", Text(p.unit_kerja))
        data.add_row("Pendidikan", p.pendidikan.upper())
        data.add_row("Tanggal lahir", tanggal(p.tanggal_lahir))
        self.query_one("#data", Static).update(data)
        side = Table.grid(padding=(0, 2))
        side.add_column(style="dim")
        side.add_column()
        side.add_row("Batas usia pensiun", f"{p.bup} tahun")
        side.add_row("TMT pensiun (BUP)", Text(tanggal(p.tmt_pensiun), style="bold"))
        if d.kp_eligible:
            side.add_row("KP reguler", Text("layak pada periode berikut", style="green"))
        else:
            side.add_row("KP reguler", Text("belum layak", style="yellow"))
            for reason in d.kp_reasons:
                side.add_row("", Text(reason, style="dim"))
        self.query_one("#pensiun-kp", Static).update(side)
        riwayat: list[Row] = [
            (None, [gol, pangkat, tanggal(tmt)])
            for gol, pangkat, tmt in reversed(d.riwayat_pangkat)
        ]
        fill_table(self.query_one("#riwayat", DataTable), RIWAYAT_COLUMNS, riwayat)
        usulan: list[Row] = []
        for u in d.usulan:
            kurang = (
                Text(f"kurang {u.kurang}", style="red")
                if u.kurang
                else Text("lengkap", style="green")
            )
            cells = [usulan_label(u.layanan, u.jenis), tanggal_pendek(u.periode), u.status_label]
            usulan.append((u.id, [*cells, kurang]))
        if not d.usulan:
            none_yet = Text("Belum ada usulan. Tekan n untuk membuat.", style="dim")
            usulan = [(None, [none_yet, "", "", ""])]
        fill_table(self.query_one("#usulan-pegawai", DataTable), USULAN_COLUMNS, usulan)

    @on(DataTable.RowSelected, "#usulan-pegawai")
    def _open(self, event: DataTable.RowSelected) -> None:
        if self.detail and event.row_key.value in {u.id for u in self.detail.usulan}:
            self.post_message(OpenUsulan(str(event.row_key.value)))

    def action_buka_usulan(self) -> None:
        table = self.query_one("#usulan-pegawai", DataTable)
        if self.detail and self.detail.usulan and table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key:
                self.post_message(OpenUsulan(key))

    def action_buat_usulan(self) -> None:
        if self.detail is not None:
            self.post_message(NewUsulan(self.detail.pegawai, self._layanan))

    def action_kembali(self) -> None:
        self.dismiss()
