"""The header every screen shows: who and where, and the live sync indicator."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui.widgets.sync_indicator import SyncIndicator


class AppHeader(Horizontal):
    DEFAULT_CSS = """
    AppHeader {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    AppHeader #app-title {
        width: auto;
        padding: 0 1;
        text-style: bold;
        background: $primary;
        color: $text;
    }
    AppHeader #screen-title {
        width: 1fr;
        padding: 0 1;
        text-style: bold;
    }
    """

    def __init__(self, app_title: str, screen_title: str) -> None:
        super().__init__()
        self._app_title = app_title
        self._screen_title = screen_title

    def compose(self) -> ComposeResult:
        yield Static(self._app_title, id="app-title", markup=False)
        yield Static(self._screen_title, id="screen-title", markup=False)
        yield SyncIndicator()

    def set_app_title(self, title: str) -> None:
        self._app_title = title
        self.query_one("#app-title", Static).update(title)

    def set_screen_title(self, title: str) -> None:
        self._screen_title = title
        self.query_one("#screen-title", Static).update(title)
