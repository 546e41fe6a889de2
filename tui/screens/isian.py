"""Ask for one line of text (a reason, an edited value)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui.screens.base import BerkasDialog


class IsianDialog(BerkasDialog[str]):
    CSS_PATH = "dialog.tcss"
    AUTO_FOCUS = "#isian"

    def __init__(
        self, judul: str, pesan: str, *, nilai: str = "", placeholder: str = "", ok: str = "Simpan"
    ) -> None:
        super().__init__()
        self._judul = judul
        self._pesan = pesan
        self._nilai = nilai
        self._placeholder = placeholder
        self._ok = ok

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self._judul, id="judul", markup=False)
            yield Static(self._pesan, markup=False)
            yield Input(value=self._nilai, placeholder=self._placeholder, id="isian")
            with Horizontal(id="tombol"):
                yield Button("Batal", id="batal", compact=True)
                yield Button(self._ok, id="ok", variant="primary", compact=True)

    @on(Input.Submitted, "#isian")
    @on(Button.Pressed, "#ok")
    def _ok_pressed(self) -> None:
        self.dismiss(self.query_one("#isian", Input).value)

    @on(Button.Pressed, "#batal")
    def _batal_pressed(self) -> None:
        self.dismiss(None)
