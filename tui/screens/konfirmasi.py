"""A yes/no question before something that matters (ajukan, hapus, buang)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from tui.screens.base import BerkasDialog


class KonfirmasiDialog(BerkasDialog[bool]):
    CSS_PATH = "dialog.tcss"
    AUTO_FOCUS = "#ya"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "batal", "Batal"),
        Binding("y", "ya", "Ya", show=False),
        Binding("t", "batal", "Tidak", show=False),
    ]

    def __init__(self, judul: str, pesan: str, *, ya: str = "Ya", tidak: str = "Batal") -> None:
        super().__init__()
        self._judul = judul
        self._pesan = pesan
        self._ya = ya
        self._tidak = tidak

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self._judul, id="judul", markup=False)
            yield Static(self._pesan, id="pesan", markup=False)
            with Horizontal(id="tombol"):
                yield Button(self._tidak, id="tidak", compact=True)
                yield Button(self._ya, id="ya", variant="primary", compact=True)

    @on(Button.Pressed, "#ya")
    def action_ya(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#tidak")
    def _tidak_pressed(self) -> None:
        self.dismiss(False)

    def action_batal(self) -> None:
        self.dismiss(False)
