"""The row of main screens under the header, with their keys; click or press."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

# (mode, key, label): the App's MODES and F-key bindings follow this order.
NAV_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("beranda", "f2", "Beranda"),
    ("pegawai", "f3", "Pegawai"),
    ("usulan", "f4", "Usulan"),
    ("kotak_masuk", "f5", "Kotak masuk"),
    ("sinkronisasi", "f6", "Sinkronisasi"),
    ("konflik", "f7", "Konflik"),
)


class NavBar(Static):
    DEFAULT_CSS = """
    NavBar {
        height: 1;
        width: 1fr;
        background: $boost;
        color: $text-muted;
    }
    """

    def __init__(self, active: str | None) -> None:
        super().__init__(self._render_items(active))

    @staticmethod
    def _render_items(active: str | None) -> Content:
        parts: list[Content] = []
        for mode, key, label in NAV_ITEMS:
            item = Content.from_markup(
                f"[@click=app.buka('{mode}')] [b]{key.upper()}[/b] $label [/]", label=label
            )
            if mode == active:
                item = item.stylize("reverse")
            parts.append(item)
        return Content("").join(parts)
