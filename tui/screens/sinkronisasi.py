"""Sinkronisasi: online or not, last and next sync, what waits, uploads, errors."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, ProgressBar, Static

from client.views import RefusedUploadView, SyncStatus, UploadView
from tui.format import KOSONG, angka, ukuran, waktu
from tui.screens.base import BerkasScreen
from tui.widgets.tabel import Column, Row, fill_table

MAX_UPLOAD_ROWS = 20
REFUSED_COLUMNS: list[Column] = [("Usulan", None), ("Dokumen", None), ("Alasan", None)]


class UploadRow(Horizontal):
    DEFAULT_CSS = """
    UploadRow {
        height: 1;
    }
    UploadRow .nama {
        width: 1fr;
    }
    UploadRow ProgressBar {
        width: auto;
    }
    UploadRow Bar {
        width: 24;
    }
    UploadRow .bytes {
        width: 22;
        text-align: right;
    }
    """

    def __init__(self, upload: UploadView) -> None:
        super().__init__()
        self.upload = upload

    def compose(self) -> ComposeResult:
        u = self.upload
        yield Static(Text(u.name, overflow="ellipsis", no_wrap=True), classes="nama")
        yield ProgressBar(total=max(u.total, 1), show_eta=False)
        yield Static(_bytes(u), classes="bytes")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).update(progress=self.upload.sent)

    def show(self, upload: UploadView) -> None:
        self.upload = upload
        self.query_one(ProgressBar).update(total=max(upload.total, 1), progress=upload.sent)
        self.query_one(".bytes", Static).update(_bytes(upload))


def _bytes(u: UploadView) -> str:
    return f"{ukuran(u.sent)} / {ukuran(u.total)}"


class SinkronisasiScreen(BerkasScreen):
    SCREEN_TITLE = "Sinkronisasi"
    NAV = "sinkronisasi"
    CSS_PATH = "sinkronisasi.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sinkronkan", "Sinkronkan sekarang"),
        Binding("r", "muat_ulang", "Muat ulang"),
        Binding("u", "coba_lagi", "Coba unggah lagi"),
        Binding("b", "buang", "Buang dokumen ditolak"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[RefusedUploadView] = []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The refused-file actions show only while a refused file is listed.
        if action in ("coba_lagi", "buang"):
            return bool(self.refused)
        return True

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="isi"):
            yield Static("Memeriksa…", id="keadaan")
            with Vertical(id="unggahan"):
                yield Static("", id="unggahan-judul")
                yield ProgressBar(id="unggahan-total", show_eta=False)
                yield Vertical(id="unggahan-daftar")
            yield DataTable(id="ditolak", cursor_type="row")
            yield Static("", id="kesalahan")

    def on_mount(self) -> None:
        self.query_one("#keadaan").border_title = "Keadaan"
        self.query_one("#unggahan").border_title = "Unggahan dokumen"
        self.query_one("#kesalahan").border_title = "Kesalahan terakhir"
        refused = self.query_one("#ditolak", DataTable)
        refused.border_title = "Dokumen ditolak server (u: coba lagi · b: buang)"
        refused.display = False

    def reload(self) -> None:
        self.berkas.refresh_sync_status()

    def action_muat_ulang(self) -> None:
        self.reload()

    def action_sinkronkan(self) -> None:
        self.berkas.action_sinkronkan()

    def show_sync_status(self, status: SyncStatus | None) -> None:
        super().show_sync_status(status)
        self._show(status)

    def _show(self, status: SyncStatus | None) -> None:
        if status is None:
            return
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="dim")
        facts.add_column()
        if status.online is None:
            state = Text(f"○ {status.state_label}", style="bold")
        elif status.online:
            state = Text(f"● {status.state_label}", style="bold green")
        else:
            state = Text(f"● {status.state_label}", style="bold yellow")
        facts.add_row("Keadaan", state)
        if status.held_by:
            # Another program (usually `berkas agent`) syncs this store; this app waits.
            facts.add_row("Disinkronkan oleh", Text(status.held_by, style="bold yellow"))
        elif status.syncing:
            facts.add_row("Sedang berjalan", Text("sinkronisasi latar belakang…", style="bold"))
        facts.add_row(
            "Terakhir sinkron", waktu(status.last_sync) if status.last_sync else "belum pernah"
        )
        facts.add_row("Berikutnya", waktu(status.next_sync) if status.next_sync else KOSONG)
        pending = (
            Text(f"{angka(status.pending_ops)} perubahan belum terkirim", style="bold")
            if status.pending_ops
            else Text("semua perubahan sudah terkirim", style="green")
        )
        facts.add_row("Menunggu", pending)
        if status.conflicts:
            facts.add_row(
                "Konflik",
                Text(f"{status.conflicts} menunggu keputusan (F7 Konflik)", style="bold red"),
            )
        self.query_one("#keadaan", Static).update(facts)
        self._show_uploads(status)
        self._load_refused()
        errors = self.query_one("#kesalahan", Static)
        if status.recent_errors:
            errors.update(Text("\n".join(f"• {e}" for e in status.recent_errors)))
        else:
            errors.update(Text("Tidak ada kesalahan.", style="dim"))

    @work(exclusive=True, group="ditolak", exit_on_error=False)
    async def _load_refused(self) -> None:
        refused = await self.call(self.client.refused_uploads)
        if refused is None:
            return
        self.refused = refused
        table = self.query_one("#ditolak", DataTable)
        table.display = bool(refused)
        rows: list[Row] = [
            (r.sha256, [Text(r.usulan), Text(r.dokumen), Text(r.reason, style="yellow")])
            for r in refused
        ]
        fill_table(table, REFUSED_COLUMNS, rows)
        self.refresh_bindings()

    def _current_refused(self) -> RefusedUploadView | None:
        table = self.query_one("#ditolak", DataTable)
        if not self.refused or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.refused if r.sha256 == key), None)

    @work(group="ditolak-aksi", exit_on_error=False)
    async def action_coba_lagi(self) -> None:
        r = self._current_refused()
        if r is not None and await self.attempt(self.client.retry_refused_upload, r.sha256):
            self.notify(f"{r.dokumen}: dicoba diunggah lagi pada sinkronisasi berikutnya.")
            self.berkas.action_sinkronkan()
            self._load_refused()

    @work(group="ditolak-aksi", exit_on_error=False)
    async def action_buang(self) -> None:
        r = self._current_refused()
        if r is not None and await self.attempt(self.client.drop_refused_upload, r.sha256):
            self.notify(
                f"{r.dokumen} dilepas dari {r.usulan}; lampirkan ulang dokumen yang lebih "
                "kecil dari layar usulan."
            )
            self.changed()
            self._load_refused()

    def _show_uploads(self, status: SyncStatus) -> None:
        uploads = status.uploads
        total = status.upload_total
        title = self.query_one("#unggahan-judul", Static)
        bar = self.query_one("#unggahan-total", ProgressBar)
        if not uploads:
            title.update(Text("Tidak ada dokumen yang menunggu diunggah.", style="dim"))
            bar.display = False
        else:
            title.update(
                f"{len(uploads)} dokumen · {ukuran(status.upload_sent)} "
                f"dari {ukuran(total)} terkirim"
            )
            bar.display = True
            bar.update(total=max(total, 1), progress=status.upload_sent)
        rows_box = self.query_one("#unggahan-daftar", Vertical)
        shown = uploads[:MAX_UPLOAD_ROWS]
        rows = list(rows_box.query(UploadRow))
        if [r.upload.name for r in rows] == [u.name for u in shown]:
            for row, upload in zip(rows, shown, strict=True):
                row.show(upload)
        else:
            rows_box.remove_children()
            rows_box.mount_all([UploadRow(u) for u in shown])
            if len(uploads) > len(shown):
                rows_box.mount(Static(f"… dan {len(uploads) - len(shown)} dokumen lainnya"))
