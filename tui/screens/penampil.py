"""The document viewer over an OPD screen: a Kotak masuk scan or an usulan's dokumen,
drawn in the terminal (tui/widgets/viewer.py). Esc closes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Static

from tui.screens.base import BerkasDialog
from tui.widgets.viewer import DokumenViewer, PrivateCopies

# One set of private copies for the OPD app's viewers, removed when the process exits.
_COPIES = PrivateCopies()


def copies() -> PrivateCopies:
    return _COPIES


class PenampilDialog(BerkasDialog[None]):
    DEFAULT_CSS = """
    PenampilDialog { align: center middle; background: $background 60%; }
    PenampilDialog > #dialog {
        width: 95%; height: 95%; border: thick $primary; background: $surface; padding: 0 1;
    }
    PenampilDialog #judul { text-style: bold; height: 1; }
    PenampilDialog DokumenViewer { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "batal", "Tutup")]

    def __init__(self, judul: str, loader: Callable[[], bytes], name: str) -> None:
        super().__init__()
        self._judul, self._loader, self._file_name = judul, loader, name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self._judul, id="judul", markup=False)
            yield DokumenViewer(mode="halfcell", copies=_COPIES, id="viewer")
        yield Footer()

    def on_mount(self) -> None:
        viewer = self.query_one(DokumenViewer)
        viewer.focus()
        viewer.show(self._judul, self._loader, self._file_name)
