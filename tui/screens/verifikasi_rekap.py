"""Rekap: per OPD and layanan for a period chosen here, counts by status, median days from
diajukan to the decision, the BTS rate and the overdue list (past the home's threshold,
changed with H and kept in berkas.toml); exported as CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Select, Static

from client.labels import layanan_short, status_short
from client.verifikasi_views import Rekap
from store.rules import UsulanStatus, format_tanggal
from tui.screens.verifikasi_base import CatatanDialog, FolderDialog, VerifikasiScreen
from tui.widgets.tabel import fill_table

SHOWN = [s for s in UsulanStatus if s is not UsulanStatus.DRAFT]
# Column headers short enough to be read whole at 80 columns (the labels cut to 14 read
# "Memenuhi Syara", "Dikembalikan (").
HEADERS = {
    UsulanStatus.DIAJUKAN: "Diajukan",
    UsulanStatus.DIVERIFIKASI: "MS",
    UsulanStatus.DIKEMBALIKAN: "BTS",
    UsulanStatus.DITOLAK: "TMS",
    UsulanStatus.DITERUSKAN: "Ke BKN",
    UsulanStatus.SELESAI: "Selesai",
}


class RekapScreen(VerifikasiScreen):
    SCREEN_TITLE = "Rekap verifikasi"
    DEFAULT_CSS = """
    RekapScreen #pilih-rekap { height: auto; padding: 0 1; }
    RekapScreen #pilih-rekap Select { width: 30; margin-right: 2; }
    RekapScreen #batas { width: 1fr; height: auto; color: $text-muted; }
    RekapScreen #judul-rekap { height: auto; padding: 0 1; }
    RekapScreen DataTable { height: 1fr; }
    RekapScreen #terlambat { height: auto; max-height: 6; padding: 0 1; color: $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "kembali", "Kembali"),
        Binding("c", "ekspor", "Ekspor CSV"),
        Binding("h", "batas", "Batas hari"),
    ]

    def __init__(self, periode: date | None = None) -> None:
        super().__init__()
        self.periode = periode
        self.rekap: Rekap | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="pilih-rekap"):
            yield Select([], prompt="Semua periode", id="periode-rekap", compact=True)
            yield Static("", id="batas", markup=False)
        yield Static("Memuat…", id="judul-rekap", markup=False)
        yield DataTable(id="rekap", cursor_type="row", zebra_stripes=True)
        yield Static("", id="terlambat", markup=False)

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load()

    @work(exclusive=True, group="rekap", exit_on_error=False)
    async def _load(self) -> None:
        rekap = await self.call(self.service.rekap, self.periode, today=self.vapp.today)
        if rekap is None:
            return
        self.rekap = rekap
        select: Select[str] = self.query_one("#periode-rekap", Select)
        options = [(format_tanggal(p), p.isoformat()) for p in rekap.periode_tersedia]
        with select.prevent(Select.Changed):
            select.set_options(options)
            if self.periode is not None and self.periode in rekap.periode_tersedia:
                select.value = self.periode.isoformat()
        self.query_one("#batas", Static).update(
            f"Terlambat: menunggu lebih dari {rekap.batas_hari} hari sejak diajukan (H: ubah batas)"
        )
        period = f"periode {format_tanggal(self.periode)}" if self.periode else "semua periode"
        self.query_one("#judul-rekap", Static).update(
            f"Rekap per OPD dan layanan, {period}. MS, BTS, TMS: keputusan; Median: hari dari "
            "diajukan sampai keputusan; BTS %: bagian BTS dari semua keputusan."
        )
        columns = [
            ("OPD", None),
            ("Layanan", None),
            *((status_short(s.value), None) for s in SHOWN),
            ("Jumlah", 6),
            ("Median", 6),
            ("BTS %", 5),
        ]
        rows = [
            (
                f"{b.opd}/{b.layanan}",
                [
                    b.opd,
                    layanan_short(b.layanan),
                    *(str(b.counts.get(s.value, 0)) for s in SHOWN),
                    str(b.total),
                    "-" if b.median_hari is None else f"{b.median_hari:g}",
                    "-" if b.bts_rate is None else f"{b.bts_rate:.0%}",
                ],
            )
            for b in rekap.baris
        ]
        fill_table(self.query_one("#rekap", DataTable), columns, rows, max_width=14)
        late = [
            f"{b.opd} {layanan_short(b.layanan)}: {', '.join(b.terlambat)}"
            for b in rekap.baris
            if b.terlambat
        ]
        self.query_one("#terlambat", Static).update(
            (f"Menunggu lebih dari {rekap.batas_hari} hari:\n" + "\n".join(late)) if late else ""
        )

    @on(Select.Changed, "#periode-rekap")
    def _periode_changed(self, event: Select.Changed) -> None:
        value = "" if event.value is Select.NULL else str(event.value)
        self.periode = date.fromisoformat(value) if value else None
        self.reload()

    @work(group="dialog-batas", exit_on_error=False)
    async def action_batas(self) -> None:
        current = self.rekap.batas_hari if self.rekap is not None else self.service.batas_hari
        answer = await self.app.push_screen_wait(
            CatatanDialog(
                "Batas hari menunggu",
                "Usulan yang menunggu lebih dari sekian hari sejak diajukan dianggap "
                "terlambat (antrian dan rekap). Disimpan di berkas.toml rumah ini.",
                nilai=str(current),
            )
        )
        if not answer:
            return
        try:
            hari = int(answer.strip())
        except ValueError:
            self.notify(f"'{answer}' bukan bilangan hari.", severity="error")
            return
        if await self.attempt(self.service.set_batas_hari, hari):
            self.notify(f"Batas terlambat: {hari} hari.", title="Rekap")
            self.reload()

    @work(group="dialog-ekspor", exit_on_error=False)
    async def action_ekspor(self) -> None:
        if self.rekap is None:
            return
        suffix = self.periode.isoformat() if self.periode else "semua"
        default = str(Path.home() / f"rekap-verifikasi-{suffix}.csv")
        target = await self.app.push_screen_wait(
            FolderDialog("Ekspor rekap", "Berkas CSV tujuan:", default)
        )
        if not target:
            return
        from client.verifikasi_service import rekap_csv

        path = Path(target).expanduser()
        try:
            path.write_text(rekap_csv(self.rekap), encoding="utf-8")
        except OSError as exc:
            self.notify(f"Tidak dapat menulis {path}: {exc.strerror}", severity="error")
            return
        self.notify(f"Rekap ditulis ke {path}.", title="Ekspor rekap")

    def action_kembali(self) -> None:
        self.app.pop_screen()
