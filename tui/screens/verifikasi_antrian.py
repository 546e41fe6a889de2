"""Antrian: every usulan waiting for the BKD, across all OPDs, oldest submission first;
filters (OPD, layanan, periode, status), search by NIP or name, marks for forwarding
many at once, and the OPD devices asking for their key (permintaan kunci)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from client.verifikasi_views import Antrian, AntrianFilter, AntrianItem, PermintaanKunciView
from store.rules import STATUS_LABELS, UsulanStatus, format_tanggal
from tui.labels import LAYANAN_CHOICES
from tui.screens.verifikasi_base import FolderDialog, VerifikasiScreen
from tui.widgets.tabel import Column, Tabel, fill_table

STATUS_CHOICES = [(STATUS_LABELS[s], s.value) for s in UsulanStatus if s is not UsulanStatus.DRAFT]
PERSONAL_DATA = (
    "Paket berisi data pribadi pegawai (dokumen kepegawaian yang sudah didekripsi). Simpan "
    "hanya di folder yang tidak dibagikan, dan hapus setelah diunggah ke SIASN."
)


COLUMNS: list[Column] = [
    ("", 1),
    ("OPD", None),
    ("NIP", 18),
    ("Nama", None),
    ("Layanan", None),
    ("Periode", 10),
    ("Diajukan", 10),
    ("Hari", 4),
    ("Ulang", 5),
    ("Batas", 10),
    ("Status", None),
]
NARROW = {"", "OPD", "NIP", "Nama", "Layanan", "Hari", "Status"}  # the columns below 100
# Below 130 columns the period makes way too (the filter above the table names it).
MEDIUM_BELOW = 130


def _tanggal(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else "-"


class AntrianScreen(VerifikasiScreen):
    SCREEN_TITLE = "Antrian verifikasi"
    DEFAULT_CSS = """
    AntrianScreen #filter { height: auto; padding: 0 1; }
    AntrianScreen #filter Select { width: 1fr; margin-right: 1; }
    AntrianScreen #filter Input { width: 2fr; }
    AntrianScreen #ringkas { height: 1; padding: 0 1; color: $text-muted; }
    AntrianScreen #kunci { height: auto; padding: 0 1; color: $warning; }
    AntrianScreen Tabel { height: 1fr; }
    AntrianScreen.-narrow #filter { layout: grid; grid-size: 2; grid-rows: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tandai", "Tandai", key_display="spasi"),
        Binding("t", "teruskan", "Teruskan ke BKN"),
        Binding("s", "sinkron", "Sinkronkan"),
        Binding("slash", "cari", "Cari", show=False),
        Binding("r", "rekap", "Rekap"),
        Binding("p", "paket", "Paket BKN"),
        Binding("k", "bagikan_kunci", "Bagikan kunci"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.antrian: Antrian | None = None
        self.permintaan: list[PermintaanKunciView] = []
        self.marked: set[str] = set()
        self._filter = AntrianFilter()

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filter"):
            yield Select([], prompt="Semua OPD", id="f-opd", compact=True)
            yield Select(LAYANAN_CHOICES, prompt="Semua layanan", id="f-layanan", compact=True)
            yield Select([], prompt="Semua periode", id="f-periode", compact=True)
            yield Select(
                STATUS_CHOICES,
                value=UsulanStatus.DIAJUKAN.value,
                prompt="Semua status",
                id="f-status",
                compact=True,
            )
            yield Input(placeholder="Cari NIP atau nama", id="f-cari", compact=True)
        yield Static("Memuat…", id="ringkas", markup=False)
        yield Tabel(id="antrian", cursor_type="row", zebra_stripes=True)
        yield Static("", id="kunci", markup=False)

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#antrian").focus()

    def on_resize(self) -> None:
        narrow = self.size.width < 100
        medium = self.size.width < MEDIUM_BELOW
        if narrow != self.has_class("-narrow") or medium != self.has_class("-medium"):
            self.set_class(narrow, "-narrow")
            self.set_class(medium, "-medium")
            if self.antrian is not None:  # the columns change with the width
                table = self.query_one("#antrian", DataTable)
                row = table.cursor_row
                self._fill(self.antrian)
                table.move_cursor(row=row)

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        self._load(self._filter)
        self._load_requests()

    @work(exclusive=True, group="antrian", exit_on_error=False)
    async def _load(self, filt: AntrianFilter) -> None:
        antrian = await self.call(self.service.antrian, filt, today=self.vapp.today)
        if antrian is None:
            return
        self.antrian = antrian
        self._fill(antrian)

    @work(exclusive=True, group="permintaan", exit_on_error=False)
    async def _load_requests(self) -> None:
        import asyncio

        from client.errors import BerkasError

        try:
            self.permintaan = await asyncio.to_thread(self.service.permintaan_kunci)
        except BerkasError:
            self.permintaan = []  # offline: the line stays empty
        text = ""
        if self.permintaan:
            who = ", ".join(
                f"{p.opd_kode} ({p.perangkat or p.device_id[:8]})" for p in self.permintaan
            )
            text = (
                f"Permintaan kunci OPD: {len(self.permintaan)} perangkat menunggu: {who}. "
                "Tekan K untuk membagikan kunci."
            )
        self.query_one("#kunci", Static).update(text)

    def _fill(self, antrian: Antrian) -> None:
        self._set_options("#f-opd", [(o, o) for o in antrian.opd], self._filter.opd)
        self._set_options(
            "#f-periode",
            [(format_tanggal(p), p.isoformat()) for p in antrian.periode],
            self._filter.periode.isoformat() if self._filter.periode else "",
        )
        table = self.query_one("#antrian", DataTable)
        # Below 100 columns the dates and the resubmission count make way (the filters
        # and the Pemeriksaan show them), so the days waiting and the status stay in view.
        narrow = self.has_class("-narrow")
        medium = self.has_class("-medium")
        keep = [
            n
            for n, (label, _) in enumerate(COLUMNS)
            if (not narrow or label in NARROW) and not (medium and label == "Periode")
        ]
        rows = [
            (item.id, [cells[n] for n in keep])
            for item, cells in ((item, self._cells(item)) for item in antrian.items)
        ]
        fill_table(table, [COLUMNS[n] for n in keep], rows, max_width=20 if narrow else 28)
        shown = len(antrian.items)
        extra = f" dari {antrian.total}" if shown != antrian.total else ""
        late = sum(1 for i in antrian.items if i.terlambat)
        summary = f"{shown}{extra} usulan, terlama di atas."
        if late:
            summary += f" {late} menunggu lebih dari {self.service.batas_hari} hari."
        if self.marked:
            summary += f" {len(self.marked)} ditandai."
        self.query_one("#ringkas", Static).update(summary)

    def _cells(self, item: AntrianItem) -> list[object]:
        hari = Text(str(item.hari_menunggu), style="bold red" if item.terlambat else "")
        return [
            "✓" if item.id in self.marked else "",
            item.opd,
            item.nip,
            item.nama,
            _layanan(item),
            _tanggal(item.periode),
            _tanggal(item.diajukan.date() if item.diajukan else None),
            hari,
            str(item.pengajuan_ulang),
            _tanggal(item.batas),
            item.status_label,
        ]

    def _set_options(self, selector: str, options: list[tuple[str, str]], value: str) -> None:
        select: Select[str] = self.query_one(selector, Select)
        with select.prevent(Select.Changed):
            select.set_options(options)
            if value and any(v == value for _, v in options):
                select.value = value

    # -- filters ------------------------------------------------------------------------------

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        value = "" if event.value is Select.NULL else str(event.value)
        key = (event.select.id or "").removeprefix("f-")
        if key == "periode":
            self._filter = _replace(
                self._filter, periode=date.fromisoformat(value) if value else None
            )
        elif key in ("opd", "layanan", "status"):
            self._filter = _replace(self._filter, **{key: value})
        self._load(self._filter)

    @on(Input.Changed, "#f-cari")
    def _search(self, event: Input.Changed) -> None:
        self._filter = _replace(self._filter, cari=event.value)
        self._load(self._filter)

    @on(Input.Submitted, "#f-cari")
    def _search_done(self) -> None:
        self.query_one("#antrian").focus()

    def action_cari(self) -> None:
        self.query_one("#f-cari").focus()

    # -- actions ------------------------------------------------------------------------------

    def _current(self) -> AntrianItem | None:
        if self.antrian is None or not self.antrian.items:
            return None
        table = self.query_one("#antrian", DataTable)
        row = table.cursor_row
        if 0 <= row < len(self.antrian.items):
            return self.antrian.items[row]
        return None

    @on(DataTable.RowSelected, "#antrian")
    def _open(self, event: DataTable.RowSelected) -> None:
        usulan_id = str(event.row_key.value)
        from tui.screens.verifikasi_periksa import PemeriksaanScreen

        self.app.push_screen(PemeriksaanScreen(usulan_id))

    def action_tandai(self) -> None:
        item = self._current()
        if item is None:
            return
        self.marked.symmetric_difference_update({item.id})
        if self.antrian is not None:
            row = self.antrian.items.index(item)
            self._fill(self.antrian)
            self.query_one("#antrian", DataTable).move_cursor(
                row=min(row + 1, len(self.antrian.items) - 1)
            )

    @work(group="teruskan", exit_on_error=False)
    async def action_teruskan(self) -> None:
        if self.antrian is None:
            return
        chosen = [i for i in self.antrian.items if i.id in self.marked]
        if not chosen and (current := self._current()) is not None:
            chosen = [current]
        ready = [i.id for i in chosen if i.status == UsulanStatus.DIVERIFIKASI.value]
        if not ready:
            self.notify(
                "Hanya usulan berstatus MS (diverifikasi) yang dapat diteruskan ke BKN.",
                severity="warning",
            )
            return
        done = await self.call(self.service.teruskan, ready)
        if done is not None:
            self.notify(f"{done} usulan diteruskan ke BKN.", title="Teruskan ke BKN")
            self.marked.difference_update(ready)
            self.reload()

    def action_sinkron(self) -> None:
        self.notify("Sinkronisasi berjalan…")
        self.vapp.sinkronkan()

    def action_rekap(self) -> None:
        from tui.screens.verifikasi_rekap import RekapScreen

        self.app.push_screen(RekapScreen(self._filter.periode))

    @work(group="dialog-paket", exit_on_error=False)
    async def action_paket(self) -> None:
        default = str(Path.home() / f"paket-bkn-{self.vapp.today:%Y%m%d}")
        folder = await self.app.push_screen_wait(
            FolderDialog("Paket BKN", PERSONAL_DATA + " Folder tujuan:", default)
        )
        if not folder:
            return
        ids = sorted(self.marked) or None  # none marked: every usulan diteruskan
        report = await self.call(self.service.paket, ids, Path(folder).expanduser())
        if report is not None:
            self.notify(
                f"{report.usulan} usulan, {len(report.files)} dokumen, sidik jari cocok. "
                f"{PERSONAL_DATA}",
                title=f"Paket BKN ditulis ke {report.folder}",
                timeout=15,
            )

    @work(group="bagikan", exit_on_error=False)
    async def action_bagikan_kunci(self) -> None:
        if not self.permintaan:
            self.notify("Tidak ada perangkat OPD yang menunggu kunci.")
            return
        count = await self.call(self.service.bagikan_kunci, None)
        if count is not None:
            self.notify(f"Kunci OPD dibagikan kepada {count} perangkat.")
            self._load_requests()


def _layanan(item: AntrianItem) -> str:
    """ "KP reguler", "Pensiun BUP": the jenis label, with the layanan when it lacks it."""
    label = item.jenis_label
    if label.lower().startswith(item.layanan.lower()):
        return label
    return f"{item.layanan.upper() if len(item.layanan) <= 3 else item.layanan.title()} {label}"


def _replace(filt: AntrianFilter, **changes: object) -> AntrianFilter:
    from dataclasses import replace

    return replace(filt, **changes)  # type: ignore[arg-type]
