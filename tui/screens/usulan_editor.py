"""One usulan: its dokumen checklist (attach, replace, remove), submit, history."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from client.errors import BerkasError
from client.views import ChecklistLineView, UsulanDetail
from store.rules import UsulanStatus
from tui.format import nip, tanggal, ukuran, waktu_iso
from tui.labels import DOKUMEN_STATE, layanan_label, status_label, usulan_label
from tui.screens.base import BerkasScreen
from tui.screens.isian import IsianDialog
from tui.screens.konfirmasi import KonfirmasiDialog
from tui.screens.lampirkan import LampirkanDialog, SumberDokumen
from tui.widgets.tabel import Column, Row, fill_table

_DONE = ("ada", "tidak_berlaku")
CHECKLIST_COLUMNS: list[Column] = [
    ("Keadaan", 15),
    ("Dokumen", None),
    ("Berkas", None),
    ("Catatan verifikator", None),
]
HISTORY_COLUMNS: list[Column] = [
    ("Waktu", 17),
    ("Perubahan", None),
    ("Oleh", None),
    ("Alasan", None),
]
EDIT_ACTIONS = ("lampirkan", "ganti", "hapus", "berlaku", "tidak_berlaku", "ajukan")


class UsulanEditorScreen(BerkasScreen):
    SCREEN_TITLE = "Usulan"
    NAV = "usulan"
    CSS_PATH = "usulan_editor.tcss"
    AUTO_FOCUS = "#daftar-periksa"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "lampirkan", "Lampirkan"),
        Binding("j", "ajukan", "Ajukan"),
        Binding("g", "ganti", "Ganti"),
        Binding("x", "hapus", "Hapus"),
        Binding("space", "berlaku", "Berlaku?", key_display="spasi"),
        Binding("t", "tidak_berlaku", "Tidak berlaku"),
        Binding("B", "batalkan", "Batalkan draf"),
        Binding("escape", "kembali", "Kembali"),
        Binding("r", "muat_ulang", "Muat ulang", show=False),
        Binding("l", "lihat", "Lihat dokumen", show=False),
    ]

    def __init__(self, usulan_id: str) -> None:
        super().__init__()
        self.usulan_id = usulan_id
        self.detail: UsulanDetail | None = None
        self._optional: set[str] = set()
        self._first_show = True

    def compose_body(self) -> ComposeResult:
        with Vertical(id="isi"):
            yield Static("Memuat usulan…", id="keterangan-usulan")
            yield Static("", id="catatan-bts")
            yield DataTable(id="daftar-periksa", cursor_type="row")
            yield Static("", id="rincian-dokumen")
            yield DataTable(id="riwayat-status", cursor_type="none", show_cursor=False)

    def on_mount(self) -> None:
        checklist = self.query_one("#daftar-periksa", DataTable)
        checklist.border_title = "Daftar periksa dokumen"
        fill_table(checklist, CHECKLIST_COLUMNS, [])
        history = self.query_one("#riwayat-status", DataTable)
        history.border_title = "Riwayat status"
        fill_table(history, HISTORY_COLUMNS, [])

    # -- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    def action_muat_ulang(self) -> None:
        self.reload()

    @work(exclusive=True, group="usulan-editor", exit_on_error=False)
    async def _load(self) -> None:
        detail = await self.call(self.client.usulan_detail, self.usulan_id)
        if detail is None:
            return
        u = detail.usulan
        self._optional = await self.call(self.client.optional_kodes, u.layanan, u.jenis) or set()
        self.detail = detail
        self._show(detail)

    def _show(self, d: UsulanDetail) -> None:
        u = d.usulan
        self.set_title(f"Usulan · {u.nama}")
        info = Text.assemble(
            (u.nama, "bold"),
            f" · NIP {nip(u.nip)}\n",
            (usulan_label(u.layanan, u.jenis), "bold"),
            f" · periode {tanggal(u.periode)} · status ",
            (u.status_label, "bold"),
            " · ",
            (f"kurang {len(d.missing)} dokumen", "bold red")
            if d.missing
            else ("dokumen lengkap, siap diajukan", "bold green")
            if u.editable
            else ("dokumen lengkap", "green"),
        )
        self.query_one("#keterangan-usulan", Static).update(info)
        bts = self.query_one("#catatan-bts", Static)
        # The BKD's note explains a return or a refusal; once resubmitted it is history.
        bts.display = bool(u.catatan_verifikator) and u.status in {
            UsulanStatus.DIKEMBALIKAN.value,
            UsulanStatus.DITOLAK.value,
        }
        bts.update(Text.assemble(("Catatan verifikator: ", "bold"), u.catatan_verifikator))
        table = self.query_one("#daftar-periksa", DataTable)
        cursor = table.cursor_row
        lines: list[Row] = []
        for line in d.checklist:
            label, style = DOKUMEN_STATE.get(line.state, (line.state, ""))
            nama = line.nama + (" *" if line.kode in self._optional else "")
            cells = [
                Text(label, style=style),
                Text(nama, style="dim" if line.state == "tidak_berlaku" else ""),
                _berkas(line),
                Text(line.catatan_verifikator, style="magenta"),
            ]
            lines.append((line.kode, cells))
        fill_table(table, CHECKLIST_COLUMNS, lines)
        if d.checklist:
            if self._first_show:
                # Start where the work is: the first dokumen still needed.
                todo = [i for i, x in enumerate(d.checklist) if x.state not in _DONE]
                cursor = todo[0] if todo else 0
                self._first_show = False
            table.move_cursor(row=min(cursor, len(d.checklist) - 1))
        history: list[Row] = []
        for h in reversed(d.history):
            change = status_label(h.ke)
            if h.dari == h.ke:  # a note (tidak berlaku, a replaced scan): no status moved
                change = "Catatan"
            elif h.dari:
                change = f"{status_label(h.dari)} → {change}"
            history.append((None, [waktu_iso(h.waktu), change, Text(h.oleh), Text(h.alasan)]))
        # A long reason wraps onto a second line instead of being cut ("... tidak berlak").
        fill_table(
            self.query_one("#riwayat-status", DataTable), HISTORY_COLUMNS, history, height=None
        )
        self._explain_current()
        self.refresh_bindings()

    # -- which actions apply -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "batalkan":  # only a draft can be cancelled
            return self.detail is not None and self.detail.usulan.status == "draft"
        # Hidden once the usulan is with the BKD: these keys would do nothing.
        return not (
            action in EDIT_ACTIONS and (self.detail is None or not self.detail.usulan.editable)
        )

    @property
    def current_line(self) -> ChecklistLineView | None:
        if self.detail is None:
            return None
        table = self.query_one("#daftar-periksa", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((line for line in self.detail.checklist if line.kode == key), None)

    # -- actions -----------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#daftar-periksa")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._explain_current()

    def _explain_current(self) -> None:
        line = self.current_line
        self.query_one("#rincian-dokumen", Static).update(
            _explain(line, optional=line.kode in self._optional) if line else ""
        )

    @on(DataTable.RowSelected, "#daftar-periksa")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if self.check_action("lampirkan", ()):
            self.action_lampirkan()

    def action_lihat(self) -> None:
        """The attached dokumen, drawn in the terminal (the document viewer)."""
        from tui.screens.penampil import PenampilDialog

        line = self.current_line
        if line is None or line.dokumen_id is None:
            self.notify("Dokumen ini belum dilampirkan.", severity="warning")
            return
        client, dokumen_id = self.client, line.dokumen_id
        self.app.push_screen(
            PenampilDialog(
                line.nama,
                lambda: client.dokumen_pdf(dokumen_id),
                line.nama_file or f"{line.kode}.pdf",
            )
        )

    def action_kembali(self) -> None:
        self.dismiss()

    def action_lampirkan(self) -> None:
        line = self.current_line
        if line is not None:
            self._attach_dokumen(line, replacing=line.dokumen_id is not None)

    def action_ganti(self) -> None:
        line = self.current_line
        if line is None:
            return
        if line.dokumen_id is None:
            self.notify("Dokumen ini belum ada; tekan a untuk melampirkan.", severity="warning")
            return
        self._attach_dokumen(line, replacing=True)

    @work(group="dialog-usulan", exit_on_error=False)
    async def _attach_dokumen(self, line: ChecklistLineView, *, replacing: bool) -> None:
        assert self.detail is not None
        items = await self.call(self.client.list_inbox) or []
        title = f"{'Ganti' if replacing else 'Lampirkan'}: {line.nama}"
        source = await self.app.push_screen_wait(
            LampirkanDialog(title, items, nip=self.detail.usulan.nip, kode=line.kode)
        )
        if source is None:
            return
        await self._attach_from(source, line)

    async def _attach_from(self, source: SumberDokumen, line: ChecklistLineView) -> None:
        if source.inbox_item_id is not None:
            from client.kotak_masuk import NeedsConfirmation

            try:
                await asyncio.to_thread(
                    self.client.attach_inbox_item, source.inbox_item_id, self.usulan_id, line.kode
                )
                done = True
            except NeedsConfirmation as doubt:
                sure = await self.app.push_screen_wait(
                    KonfirmasiDialog("Pindaian ini meragukan", doubt.message, ya="Tetap lampirkan")
                )
                done = bool(sure) and await self.attempt(
                    self.client.attach_inbox_item,
                    source.inbox_item_id,
                    self.usulan_id,
                    line.kode,
                    confirmed=True,
                )
            except BerkasError as exc:
                self.notify(exc.message, title="Gagal", severity="error", timeout=10)
                done = False
        elif source.path is not None:
            self.notify(f"Menyimpan {Path(source.path).name}…", timeout=3)
            done = await self.attempt(
                self.client.attach_file, self.usulan_id, line.kode, source.path
            )
        else:
            return
        if done:
            self.notify(f"{line.nama}: dokumen dilampirkan.", title="Tersimpan")
            self.changed()
            self.reload()

    @work(group="dialog-usulan", exit_on_error=False)
    async def action_hapus(self) -> None:
        line = self.current_line
        if line is None or line.dokumen_id is None:
            self.notify("Tidak ada dokumen untuk dihapus pada baris ini.", severity="warning")
            return
        sure = await self.app.push_screen_wait(
            KonfirmasiDialog(
                "Hapus dokumen?",
                f"{line.nama} ({line.nama_file}) akan dilepas dari usulan ini. "
                "Berkasnya tetap tersimpan dan bisa dilampirkan lagi.",
                ya="Hapus",
            )
        )
        if sure and await self.attempt(self.client.remove_dokumen, line.dokumen_id):
            self.notify(f"{line.nama}: dokumen dihapus dari usulan.")
            self.changed()
            self.reload()

    @work(group="dialog-usulan", exit_on_error=False)
    async def action_berlaku(self) -> None:
        line = self.current_line
        if line is None or self.detail is None:
            return
        if line.kode not in self._optional:
            self.notify(f"{line.nama} wajib untuk usulan ini.", severity="warning")
            return
        applied = {x.kode for x in self.detail.checklist if x.kode in self._optional and x.required}
        applied ^= {line.kode}
        if await self.attempt(self.client.set_berlaku, self.usulan_id, sorted(applied)):
            self.changed()
            self.reload()

    @work(group="dialog-usulan", exit_on_error=False)
    async def action_tidak_berlaku(self) -> None:
        """Mark the line "tidak berlaku" with a reason, or take the mark back."""
        line = self.current_line
        if line is None or self.detail is None:
            return
        if line.alasan_tidak_berlaku:
            sure = await self.app.push_screen_wait(
                KonfirmasiDialog(
                    "Cabut tanda tidak berlaku?",
                    f"{line.nama} ditandai tidak berlaku ({line.alasan_tidak_berlaku}). "
                    "Setelah dicabut, dokumennya diperlukan lagi sebelum usulan diajukan.",
                    ya="Cabut tanda",
                )
            )
            if sure and await self.attempt(
                self.client.cabut_tidak_berlaku, self.usulan_id, line.kode
            ):
                self.notify(f"{line.nama}: tanda tidak berlaku dicabut.")
                self.changed()
                self.reload()
            return
        if not line.boleh_tidak_berlaku:
            self.notify(
                f"{line.nama} wajib untuk usulan ini; tidak dapat ditandai tidak berlaku.",
                severity="warning",
            )
            return
        if line.dokumen_id is not None:
            self.notify(
                f"{line.nama} sudah dilampirkan. Hapus dokumennya dahulu (x) bila memang "
                "tidak berlaku.",
                severity="warning",
            )
            return
        alasan = await self.app.push_screen_wait(
            IsianDialog(
                f"{line.nama} tidak berlaku?",
                'Tuliskan alasannya, mis. "belum menikah" atau "tidak punya anak di bawah '
                '25 tahun". Alasan dibaca verifikator BKD dan tercatat di riwayat:',
                placeholder="alasan (wajib)",
                ok="Tandai tidak berlaku",
            )
        )
        if alasan is None:
            return
        if await self.attempt(self.client.tandai_tidak_berlaku, self.usulan_id, line.kode, alasan):
            self.notify(f"{line.nama}: ditandai tidak berlaku.", title="Tersimpan")
            self.changed()
            self.reload()

    @work(group="dialog-usulan", exit_on_error=False)
    async def action_batalkan(self) -> None:
        if self.detail is None:
            return
        u = self.detail.usulan
        alasan = await self.app.push_screen_wait(
            IsianDialog(
                "Batalkan draf usulan?",
                f"Usulan {layanan_label(u.layanan)} untuk {u.nama} akan dihapus dari daftar "
                "di semua perangkat. Tuliskan alasannya (tercatat di riwayat):",
                nilai="",
            )
        )
        if not alasan or not alasan.strip():
            return
        if await self.attempt(self.client.batalkan_usulan, self.usulan_id, alasan):
            self.notify(f"Draf usulan untuk {u.nama} dibatalkan.", title="Dibatalkan")
            self.changed()
            self.dismiss()

    @work(group="dialog-usulan", exit_on_error=False)
    async def action_ajukan(self) -> None:
        detail = await self.call(self.client.usulan_detail, self.usulan_id)
        if detail is None:
            return
        if detail.missing:
            names = {line.kode: line.nama for line in detail.checklist}
            missing = ", ".join(names.get(k, k) for k in detail.missing)
            self.notify(
                f"Belum bisa diajukan. Dokumen yang masih kurang: {missing}.",
                title="Usulan belum lengkap",
                severity="error",
                timeout=10,
            )
            return
        u = detail.usulan
        sure = await self.app.push_screen_wait(
            KonfirmasiDialog(
                "Ajukan usulan ke BKD?",
                f"Usulan {layanan_label(u.layanan)} untuk {u.nama} akan diajukan. "
                "Setelah diajukan, dokumennya tidak bisa diubah kecuali dikembalikan (BTS).",
                ya="Ajukan",
            )
        )
        if not sure:
            return
        from client.errors import BelumLayak

        try:
            await asyncio.to_thread(self.client.ajukan, self.usulan_id, tetap=False)
            done = True
        except BelumLayak as doubt:
            confirmed = await self.app.push_screen_wait(
                KonfirmasiDialog(
                    "Pegawai belum layak menurut aturan",
                    doubt.message + " Tetap ajukan? Alasannya tercatat di riwayat usulan.",
                    ya="Tetap ajukan",
                )
            )
            done = bool(confirmed) and await self.attempt(
                self.client.ajukan, self.usulan_id, tetap=True
            )
        except BerkasError as exc:
            self.notify(exc.message, title="Tidak berhasil", severity="error", timeout=8)
            done = False
        if done:
            self.notify(
                "Usulan diajukan. Akan terkirim ke BKD saat sinkronisasi.", title="Diajukan"
            )
            self.changed()
        self.reload()


def _explain(line: ChecklistLineView, *, optional: bool) -> Text:
    """What the highlighted line means and what to do about it, in a sentence or two."""
    text = Text.assemble((line.nama, "bold"), " · ")
    if line.alasan_tidak_berlaku:
        text.append_text(_berkas(line))
        text.append(" · Tekan t untuk mencabut tanda ini bila ternyata berlaku.", style="dim")
    elif line.state == "kurang":
        text.append("Belum ada. Tekan a untuk melampirkan dari kotak masuk atau dari berkas PDF.")
        if line.boleh_tidak_berlaku:
            text.append(" Bila tidak berlaku untuk pegawai ini, tekan t dan tulis alasannya.")
    elif line.state == "tidak_berlaku":
        text.append(
            "Hanya untuk pegawai tertentu (*). Tekan spasi bila berlaku untuk pegawai ini, "
            "atau t untuk mencatat alasan tidak berlaku."
        )
    else:
        text.append_text(_berkas(line))
        if line.state == "terlalu_besar":
            text.append(" · Pindai ulang lebih kecil, lalu tekan g untuk mengganti.")
        elif line.state == "dikembalikan":
            text.append(" · Perbaiki sesuai catatan, lalu tekan g untuk mengganti.")
        elif optional:
            text.append(" · Tekan spasi bila ternyata tidak berlaku.", style="dim")
    if line.catatan_verifikator:
        text.append("\nCatatan verifikator: ", style="bold magenta")
        text.append(line.catatan_verifikator, style="magenta")
    return text


def _berkas(line: ChecklistLineView) -> Text:
    if line.alasan_tidak_berlaku:
        return Text(f"Tidak berlaku: {line.alasan_tidak_berlaku}", style="cyan")
    if line.dokumen_id is None:
        return Text("")
    text = Text(f"{line.pages} hlm · ")
    if line.terlalu_besar:
        text.append(f"{ukuran(line.size)} > batas {ukuran(line.size_limit)}", style="yellow")
    else:
        text.append(ukuran(line.size))
    return text
