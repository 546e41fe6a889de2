"""What the verifikator's screens and dialogs share: the header, the service port, calls
off the UI thread whose refusals show in Bahasa, and the small dialogs (passphrase, a
note, pertek/SK, a folder)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Static
from textual.worker import Worker

from client.errors import BerkasError
from store.pegawai import parse_date
from tui.messages import report_if_failed
from tui.widgets.app_header import AppHeader

if TYPE_CHECKING:
    from client.verifikasi_port import VerifikasiPort
    from tui.verifikasi_app import VerifikasiApp

T = TypeVar("T")
R = TypeVar("R")


class VerifikasiCalls:
    """The App, the service port, and blocking calls run in a thread: a BerkasError
    becomes a notification and None; anything else fails the worker (shown by the App)."""

    app: Any

    @property
    def vapp(self) -> VerifikasiApp:
        return self.app  # type: ignore[no-any-return]

    @property
    def service(self) -> VerifikasiPort:
        return self.vapp.service

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except BerkasError as exc:
            self.vapp.notify(exc.message, title="Tidak berhasil", severity="error", timeout=8)
            return None

    async def attempt(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """True when the call succeeded; False when it was refused (and shown)."""
        try:
            await asyncio.to_thread(fn, *args, **kwargs)
        except BerkasError as exc:
            self.vapp.notify(exc.message, title="Tidak berhasil", severity="error", timeout=8)
            return False
        return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_if_failed(self.vapp, event)


class VerifikasiScreen(VerifikasiCalls, Screen[None]):
    SCREEN_TITLE: ClassVar[str] = ""
    # The OPD side's sync indicator follows its background engine; the verifikator syncs
    # on unlock, on S and with every decision, and says so in notifications.
    DEFAULT_CSS = """
    VerifikasiScreen SyncIndicator { display: none; }
    """
    # F1 first in every screen's footer (the screens' keys follow), so at 80 columns,
    # where the footer cuts its tail, Bantuan stays in view (as on the OPD side).
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f1", "app.bantuan", "Bantuan")]

    def compose(self) -> ComposeResult:
        yield AppHeader(self.vapp.header_title, self.SCREEN_TITLE)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_title(self, title: str) -> None:
        self.query_one(AppHeader).set_screen_title(title)


class VerifikasiDialog(VerifikasiCalls, ModalScreen[R]):
    CSS_PATH = "dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "batal", "Batal")]
    DEFAULT_CSS = """
    VerifikasiDialog { align: center middle; background: $background 60%; }
    VerifikasiDialog > #dialog {
        width: 80%; max-width: 90; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    VerifikasiDialog #judul { text-style: bold; margin-bottom: 1; }
    VerifikasiDialog .petunjuk { color: $text-muted; margin-top: 1; }
    VerifikasiDialog #tombol { height: auto; align-horizontal: right; margin-top: 1; }
    VerifikasiDialog #tombol Button { margin-left: 2; }
    VerifikasiDialog #galat { color: $error; height: auto; }
    """

    def action_batal(self) -> None:
        self.dismiss(None)


class KunciDialog(VerifikasiDialog[bool]):
    """The verifier key's passphrase: masked, kept only in the service's memory."""

    AUTO_FOCUS = "#frasa"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "keluar", "Keluar")]

    def __init__(self, *, terkunci: bool = False) -> None:
        super().__init__()
        self._terkunci = terkunci

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Buka kunci verifikator BKD", id="judul")
            if self._terkunci:
                yield Static(
                    "Kunci ditutup karena Berkas lama tidak dipakai. Masukkan lagi frasa sandi.",
                    markup=False,
                )
            yield Static(
                "Frasa sandi kunci verifikator membuka dokumen semua OPD. Frasa sandi tidak "
                "disimpan dan dilupakan setelah Berkas lama tidak dipakai.",
                classes="petunjuk",
                markup=False,
            )
            yield Input(password=True, placeholder="Frasa sandi", id="frasa")
            yield Static("", id="galat", markup=False)
            with Horizontal(id="tombol"):
                yield Button("Keluar", id="keluar", compact=True)
                yield Button("Buka", id="buka", variant="primary", compact=True)

    @on(Input.Submitted, "#frasa")
    @on(Button.Pressed, "#buka")
    async def _buka(self) -> None:
        field = self.query_one("#frasa", Input)
        phrase = field.value
        field.value = ""  # never left in the widget
        if not phrase:
            self.query_one("#galat", Static).update("Frasa sandi belum diisi.")
            return
        try:
            await asyncio.to_thread(self.service.unlock, phrase)
        except BerkasError as exc:
            self.query_one("#galat", Static).update(exc.message)
            field.focus()
            return
        finally:
            del phrase
        self.dismiss(True)

    @on(Button.Pressed, "#keluar")
    def action_keluar(self) -> None:
        self.vapp.exit()


class CatatanDialog(VerifikasiDialog[str]):
    """One note (a dokumen's "perlu perbaikan", a TMS reason, a BTS message)."""

    AUTO_FOCUS = "#catatan"

    def __init__(self, judul: str, pesan: str, *, wajib: bool = True, nilai: str = "") -> None:
        super().__init__()
        self._judul, self._pesan, self._wajib, self._nilai = judul, pesan, wajib, nilai

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self._judul, id="judul", markup=False)
            yield Static(self._pesan, markup=False)
            yield Input(value=self._nilai, id="catatan")
            yield Static("", id="galat", markup=False)
            with Horizontal(id="tombol"):
                yield Button("Batal", id="batal", compact=True)
                yield Button("Simpan", id="ok", variant="primary", compact=True)

    @on(Input.Submitted, "#catatan")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        text = self.query_one("#catatan", Input).value.strip()
        if self._wajib and not text:
            self.query_one("#galat", Static).update("Catatan wajib diisi.")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#batal")
    def _batal(self) -> None:
        self.dismiss(None)


class SelesaiDialog(VerifikasiDialog[tuple[str, date]]):
    """Nomor and tanggal of the pertek/SK."""

    AUTO_FOCUS = "#nomor"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Selesai: nomor dan tanggal pertek/SK", id="judul")
            yield Input(placeholder="Nomor pertek/SK", id="nomor")
            yield Input(placeholder="Tanggal (HH-BB-TTTT atau TTTT-BB-HH)", id="tanggal")
            yield Static("", id="galat", markup=False)
            with Horizontal(id="tombol"):
                yield Button("Batal", id="batal", compact=True)
                yield Button("Selesai", id="ok", variant="primary", compact=True)

    @on(Input.Submitted, "#tanggal")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        nomor = self.query_one("#nomor", Input).value.strip()
        text = self.query_one("#tanggal", Input).value.strip()
        galat = self.query_one("#galat", Static)
        if not nomor:
            galat.update("Nomor pertek/SK wajib diisi.")
            return
        try:  # as the screens show dates (HH-BB-TTTT), or ISO
            when = parse_date(text)
        except ValueError:
            galat.update(
                f"Tanggal tidak valid: {text or '(kosong)'} (gunakan HH-BB-TTTT, misalnya "
                "05-12-2026)."
            )
            return
        self.dismiss((nomor, when))

    @on(Input.Submitted, "#nomor")
    def _next(self) -> None:
        self.query_one("#tanggal", Input).focus()

    @on(Button.Pressed, "#batal")
    def _batal(self) -> None:
        self.dismiss(None)


class FolderDialog(VerifikasiDialog[str]):
    """Where to write (the paket BKN, a rekap CSV), with the personal-data notice."""

    AUTO_FOCUS = "#folder"

    def __init__(self, judul: str, pesan: str, nilai: str) -> None:
        super().__init__()
        self._judul, self._pesan, self._nilai = judul, pesan, nilai

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self._judul, id="judul", markup=False)
            yield Static(self._pesan, markup=False)
            yield Input(value=self._nilai, id="folder")
            with Horizontal(id="tombol"):
                yield Button("Batal", id="batal", compact=True)
                yield Button("Tulis", id="ok", variant="primary", compact=True)

    @on(Input.Submitted, "#folder")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        value = self.query_one("#folder", Input).value.strip()
        if value:
            self.dismiss(value)

    @on(Button.Pressed, "#batal")
    def _batal(self) -> None:
        self.dismiss(None)
