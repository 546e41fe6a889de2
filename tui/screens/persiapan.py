"""Persiapan awal: the first run of a new OPD home, step by step.

1. Daftar ke BKD: server address, one-time code, the operator's and the device's names.
2. Impor pegawai: a CSV, a progress bar while it is stored, the rows refused and why.
3. Folder pindai: where scans arrive (created if missing).

Every step can be skipped for now ("Lewati dulu"); Esc leaves the flow and the next
start resumes it where it stopped. The client keeps where each step stands
(client/persiapan.py); this screen only shows it and asks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    ContentSwitcher,
    DataTable,
    Footer,
    Input,
    Label,
    ProgressBar,
    Static,
)

from client.errors import BerkasError
from tui.format import angka
from tui.screens.base import BerkasScreen
from tui.widgets.app_header import AppHeader

if TYPE_CHECKING:
    from client.views import ImportReport, SetupState

CSV_HINT = (
    "Kolom wajib: nip, nama, golongan, tmt_pangkat, pendidikan, jenis_jabatan "
    "(pemisah koma atau titik koma). Baris yang salah dilaporkan; baris yang benar tetap "
    "diimpor."
)


class PersiapanScreen(BerkasScreen):
    """The three steps of a new home, one at a time, then the Beranda."""

    SCREEN_TITLE = "Persiapan awal"
    CSS_PATH = "persiapan.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "tutup", "Nanti saja"),
    ]

    def __init__(self, state: SetupState) -> None:
        super().__init__()
        self._state = state

    def compose(self) -> ComposeResult:
        # No row of main screens: the flow is one thing at a time (F-keys still leave it).
        yield AppHeader(self.berkas.header_title, self.SCREEN_TITLE)
        yield Static(id="langkah")
        with ContentSwitcher(initial=self._state.current or "pendaftaran", id="isi"):
            yield from self._pendaftaran()
            yield from self._impor()
            yield from self._pindai()
        yield Footer()

    def _pendaftaran(self) -> ComposeResult:
        state = self._state
        with VerticalScroll(id="pendaftaran", classes="langkah"):
            yield Static(
                "Daftarkan komputer ini ke server BKD. Alamat server dan kode pendaftaran "
                "sekali pakai diberikan oleh admin BKD.",
                classes="petunjuk",
            )
            yield from _field("Alamat server BKD", "server", state.server_url,
                              "https://berkas.bkd.example.go.id")  # fmt: skip
            yield from _field("Kode pendaftaran", "kode", "", "ABCD-EFGH-JKLM-NPQR")
            yield from _field("Nama Anda (operator)", "operator", state.operator, "mis. Ani")
            yield from _field("Nama komputer ini", "perangkat", "", state.device_name)
            yield Static("", id="pesan-pendaftaran", classes="pesan")
            with Horizontal(classes="tombol"):
                yield Button("Daftarkan", id="daftar", variant="primary", compact=True)
                yield Button("Lewati dulu", id="lewati-pendaftaran", compact=True)

    def _impor(self) -> ComposeResult:
        with Vertical(id="impor", classes="langkah"):
            yield Static("Impor data pegawai dari berkas CSV.", classes="petunjuk")
            yield Static(CSV_HINT, classes="petunjuk rinci")
            yield Static("", id="jumlah-pegawai", classes="petunjuk")
            yield from _field("Berkas CSV", "csv", "", "mis. /home/ani/pegawai.csv")
            yield ProgressBar(id="kemajuan", show_eta=False)
            yield Static("", id="hasil-impor", classes="pesan")
            yield DataTable(id="baris-salah", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="tombol"):
                yield Button("Impor", id="impor-csv", variant="primary", compact=True)
                yield Button("Lanjut", id="lanjut-impor", variant="success", compact=True)
                yield Button("Lewati dulu", id="lewati-impor", compact=True)

    def _pindai(self) -> ComposeResult:
        with VerticalScroll(id="pindai", classes="langkah"):
            yield Static(
                "Di mana hasil pindaian disimpan? Berkas memantau folder ini dan memasukkan "
                "pindaian baru ke usulan pegawainya. Folder dibuat bila belum ada.",
                classes="petunjuk",
            )
            yield from _field("Folder pindai", "folder", str(self._state.scan_folder), "")
            yield Static("", id="pesan-pindai", classes="pesan")
            with Horizontal(classes="tombol"):
                yield Button("Simpan", id="simpan-folder", variant="primary", compact=True)
                yield Button("Lewati dulu", id="lewati-pindai", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#kemajuan").display = False
        self.query_one("#baris-salah").display = False
        self.query_one("#lanjut-impor").display = False
        table = self.query_one("#baris-salah", DataTable)
        table.add_column("Baris", width=6, key="baris")
        table.add_column("Alasan", key="alasan")
        table.border_title = "Baris yang ditolak"
        self._show(self._state)

    # -- where the flow stands ------------------------------------------------------------

    def _show(self, state: SetupState) -> None:
        self._state = state
        if state.current is None:
            self.berkas.setup_finished(state)
            return
        self.query_one("#langkah", Static).update(_stepper(state))
        self.query_one("#isi", ContentSwitcher).current = state.current
        for number, step in enumerate(state.steps, start=1):
            pane = self.query_one(f"#{step.key}")
            pane.border_title = f"Langkah {number} dari {len(state.steps)}: {step.title}"
        count = Text.assemble(
            "Saat ini ada ", (angka(state.pegawai), "bold"), " pegawai di komputer ini."
        )
        self.query_one("#jumlah-pegawai", Static).update(count)
        self.call_after_refresh(self._focus_step)

    def _focus_step(self) -> None:
        first = {"pendaftaran": "#server", "impor": "#csv", "pindai": "#folder"}
        if self._state.current == "pendaftaran" and self._state.server_url:
            self.query_one("#kode", Input).focus()
        elif self._state.current in first:
            self.query_one(first[self._state.current], Input).focus()

    def action_tutup(self) -> None:
        """Nanti saja: back to the Beranda; the next start resumes here."""
        self.dismiss()

    async def _skip(self, key: str) -> None:
        state = await self.call(self.client.set_setup_step, key, "dilewati")
        if state is not None:
            self._show(state)

    @on(Button.Pressed, "#lewati-pendaftaran")
    async def _lewati_pendaftaran(self) -> None:
        await self._skip("pendaftaran")

    @on(Button.Pressed, "#lewati-impor")
    async def _lewati_impor(self) -> None:
        await self._skip("impor")

    @on(Button.Pressed, "#lewati-pindai")
    async def _lewati_pindai(self) -> None:
        await self._skip("pindai")

    # -- 1. daftar ke BKD -----------------------------------------------------------------

    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        """Enter in a field: the next field, or the step's action after the last one."""
        event.stop()
        name = event.input.id
        if name in ("server", "kode", "operator"):
            self.focus_next(Input)
        elif name == "perangkat":
            self._daftar()
        elif name == "csv":
            self._impor_csv()
        elif name == "folder":
            await self._simpan_folder()

    @on(Input.Changed, "#operator")
    def _operator_typed(self, event: Input.Changed) -> None:
        """The device name by default follows the operator's, as enrolment will make it."""
        host = self._state.device_name.split(" (", 1)[0]
        name = " ".join(event.value.split())
        self.query_one("#perangkat", Input).placeholder = f"{host} ({name})" if name else host

    @on(Button.Pressed, "#daftar")
    def _daftar_pressed(self) -> None:
        self._daftar()

    @work(exclusive=True, group="persiapan-daftar", exit_on_error=False)
    async def _daftar(self) -> None:
        values = [self.query_one(f"#{name}", Input).value for name in
                  ("server", "kode", "operator", "perangkat")]  # fmt: skip
        message = self.query_one("#pesan-pendaftaran", Static)
        button = self.query_one("#daftar", Button)
        button.disabled = True
        message.set_classes("pesan")
        message.update("Menghubungi server BKD…")
        try:
            enrolled = await asyncio.to_thread(self.client.enrol_device, *values)
        except BerkasError as exc:
            message.set_classes("pesan gagal")
            message.update(exc.message)
            return
        finally:
            button.disabled = False
        message.update("")
        self.notify(
            f"Komputer ini terdaftar untuk OPD {enrolled.opd_kode} sebagai {enrolled.device_name}.",
            title="Terdaftar",
            timeout=8,
        )
        self.berkas.enrolled()
        state = await self.call(self.client.setup_state)
        if state is not None:
            self._show(state)

    # -- 2. impor pegawai -----------------------------------------------------------------

    @on(Button.Pressed, "#impor-csv")
    def _impor_pressed(self) -> None:
        self._impor_csv()

    @work(exclusive=True, group="persiapan-impor", exit_on_error=False)
    async def _impor_csv(self) -> None:
        text = self.query_one("#csv", Input).value.strip()
        result = self.query_one("#hasil-impor", Static)
        table = self.query_one("#baris-salah", DataTable)
        if not text:
            result.set_classes("pesan gagal")
            result.update("Isi letak berkas CSV pegawai.")
            return
        bar = self.query_one("#kemajuan", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        table.display = False
        result.set_classes("pesan")
        result.update("Mengimpor…")
        button = self.query_one("#impor-csv", Button)
        button.disabled = True

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=total, progress=done)

        try:
            report = await asyncio.to_thread(
                self.client.import_pegawai_csv, Path(text).expanduser(), progress
            )
        except BerkasError as exc:
            bar.display = False
            result.set_classes("pesan gagal")
            result.update(f"Tidak ada yang diimpor: {exc.message}")
            return
        finally:
            button.disabled = False
        self.changed()
        self._show_report(report)
        if report.created or report.updated:
            state = await self.call(self.client.set_setup_step, "impor", "selesai")
            if state is not None:
                self._state = state
                self.query_one("#jumlah-pegawai", Static).update(
                    Text.assemble(
                        "Saat ini ada ", (angka(state.pegawai), "bold"), " pegawai di komputer ini."
                    )
                )
            self.query_one("#lewati-impor").display = False
            lanjut = self.query_one("#lanjut-impor", Button)
            lanjut.display = True
            lanjut.focus()

    def _show_report(self, report: ImportReport) -> None:
        result = self.query_one("#hasil-impor", Static)
        table = self.query_one("#baris-salah", DataTable)
        imported = report.created + report.updated
        text = Text.assemble(
            ("Diimpor: ", "bold"),
            f"{angka(report.created)} baru, {angka(report.updated)} diperbarui",
        )
        if report.errors:
            text.append(f". {angka(len(report.errors))} baris ditolak", style="bold red")
            text.append(" (perbaiki di berkasnya, lalu impor lagi):" if imported else ":")
        result.set_classes("pesan" if imported else "pesan gagal")
        result.update(text)
        table.clear()
        for error in report.errors:
            # The row is the first column already; the store names the whole row "baris".
            table.add_row(str(error.line), error.message.removeprefix("baris: "))
        table.display = bool(report.errors)

    @on(Button.Pressed, "#lanjut-impor")
    async def _lanjut(self) -> None:
        state = await self.call(self.client.setup_state)
        if state is not None:
            self._show(state)

    # -- 3. folder pindai -----------------------------------------------------------------

    @on(Button.Pressed, "#simpan-folder")
    async def _simpan_folder(self) -> None:
        message = self.query_one("#pesan-pindai", Static)
        folder = self.query_one("#folder", Input).value
        try:
            chosen = await asyncio.to_thread(self.client.set_scan_folder, folder)
        except BerkasError as exc:
            message.set_classes("pesan gagal")
            message.update(exc.message)
            return
        self.notify(f"Pindaian dipantau di {chosen}.", title="Folder pindai", timeout=6)
        self.berkas.scan_folder_changed()
        state = await self.call(self.client.setup_state)
        if state is not None:
            self._show(state)


def _field(label: str, name: str, value: str, placeholder: str) -> ComposeResult:
    with Horizontal(classes="isian"):
        yield Label(label, classes="label")
        yield Input(value=value, placeholder=placeholder, id=name, compact=True)


MARKS = {"selesai": ("✓", "green"), "dilewati": ("–", "yellow"), "menunggu": ("○", "")}


def _stepper(state: SetupState) -> Text:
    """`✓ 1 Daftar ke BKD  › ● 2 Impor pegawai  › ○ 3 Folder pindai`."""
    text = Text(" ")
    for number, step in enumerate(state.steps, start=1):
        if number > 1:
            text.append("  ›  ", style="dim")
        if step.key == state.current:
            text.append(f"● {number} {step.title}", style="bold reverse")
            continue
        mark, style = MARKS.get(step.state, ("○", ""))
        text.append(f"{mark} {number} {step.title}", style=style)
        if step.state == "dilewati":
            text.append(" (dilewati)", style="dim")
    return text
