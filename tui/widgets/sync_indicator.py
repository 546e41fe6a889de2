"""The header's live sync indicator: online/offline, pending changes, conflicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tui.format import angka

if TYPE_CHECKING:  # the client loads after the first frame
    from client.views import SyncStatus


class SyncIndicator(Static):
    """Shows what its screen hands it (the App posts SyncStatusChanged to screens)."""

    DEFAULT_CSS = """
    SyncIndicator {
        width: auto;
        height: 1;
        padding: 0 1;
    }
    """

    NARROW = 100  # below this terminal width the indicator speaks in short words

    def __init__(self) -> None:
        super().__init__(describe(None))
        self._status: SyncStatus | None = None

    def show_status(self, status: SyncStatus | None) -> None:
        self._status = status
        self.update(describe(status, short=self.app.size.width < self.NARROW))

    def on_resize(self) -> None:
        self.update(describe(self._status, short=self.app.size.width < self.NARROW))


def describe(status: SyncStatus | None, *, short: bool = False) -> Text:
    """`● Luring · 12 belum terkirim · ⚠ 2 konflik` (`● Luring · 12 antre · ⚠ 2`)."""
    if status is None:
        return Text("○ Memeriksa…", style="dim")
    text = Text()
    if status.online is None:
        text.append("○ Belum terdaftar" if not short else "○ Lokal", style="bold")
    elif status.online:
        text.append("● Daring", style="bold green")
    else:
        text.append("● Luring", style="bold yellow")
    pending = status.pending_ops
    if pending:
        text.append(" · ")
        text.append(f"{angka(pending)} {'antre' if short else 'belum terkirim'}")
    elif status.online is not None:  # not enrolled: nothing was ever sent anywhere
        text.append(" · ")
        text.append("terkirim" if short else "semua terkirim", style="green")
    if status.conflicts:
        text.append(" · ")
        text.append(f"⚠ {status.conflicts}{'' if short else ' konflik'}", style="bold red")
    return text
