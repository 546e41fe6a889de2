"""Search over every pegawai in the store, results as you type.

The store does the searching (NIP index, FTS5 on names); this widget only keeps
queries from piling up: the first keystroke after a pause queries at once, and
keystrokes that arrive while a query runs are merged into one follow-up query
for the latest text (a leading-edge debounce, so an isolated keystroke waits for
nothing but its own query).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import perf_counter
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker

from client.errors import BerkasError
from client.views import PegawaiView
from tui.format import nip as format_nip
from tui.format import tanggal_pendek
from tui.labels import NO_PEGAWAI
from tui.messages import report_if_failed
from tui.widgets.tabel import Column, Row, Tabel, TabelPilih, fill_table

SearchFn = Callable[[str, int], list[PegawaiView]]


class PegawaiSearch(Vertical):
    """An Input over a DataTable of pegawai."""

    DEFAULT_CSS = """
    PegawaiSearch {
        height: 1fr;
    }
    PegawaiSearch #cari {
        margin: 0 0;
    }
    PegawaiSearch #keterangan {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    PegawaiSearch #hasil {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "ke_hasil", "Ke hasil", show=False),
    ]

    LIMIT = 50  # a screenful and more; typing narrows it (the store searches all)

    class Chosen(Message):
        """Enter on a pegawai."""

        def __init__(self, search: PegawaiSearch, pegawai: PegawaiView) -> None:
            super().__init__()
            self.search = search
            self.pegawai = pegawai

        @property
        def control(self) -> PegawaiSearch:
            return self.search

    class Searched(Message):
        """Results for `query` are on screen (benches and tests wait for this)."""

        def __init__(self, query: str, count: int, seconds: float) -> None:
            super().__init__()
            self.query = query
            self.count = count
            self.seconds = seconds

    def __init__(
        self,
        search: SearchFn,
        *,
        value: str = "",
        compact: bool = False,
        placeholder: str = "Ketik NIP atau nama, mis. 19680411 atau budi san",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._search_fn = search
        self._initial = value
        self._compact = compact
        self._placeholder = placeholder
        self._wanted = value
        self._busy = False
        self._preset: str | None = None
        self._rows: dict[str, PegawaiView] = {}
        self.last_query: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(value=self._initial, placeholder=self._placeholder, id="cari")
        yield Static("Mencari…", id="keterangan")
        table_class = TabelPilih if self._compact else Tabel
        yield table_class(cursor_type="row", zebra_stripes=True, id="hasil")

    def on_mount(self) -> None:
        self._fill([])
        self._request(self._initial)

    @property
    def _columns(self) -> list[Column]:
        # Fixed widths: columns do not jump about while the results change as you type.
        columns: list[Column] = [("NIP", 21), ("Nama", 28), ("Gol.", 5), ("Jabatan", 30)]
        if not self._compact:
            columns += [("Unit kerja", 32), ("TMT pensiun", 11)]
        return columns

    # -- what the screens use -------------------------------------------------------------

    @property
    def highlighted(self) -> PegawaiView | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._rows.get(key or "")

    def focus_input(self) -> None:
        self.query_one(Input).focus()

    def clear(self) -> None:
        """Back to browsing everyone (leaves a preset list too)."""
        field = self.query_one(Input)
        if field.value:
            field.value = ""  # Input.Changed runs the search
        else:
            self._preset = None
            self._request("")

    def show_list(self, title: str, people: list[PegawaiView]) -> None:
        """Show a given list (from the Beranda) instead of search results."""
        self._preset = title  # a search still running will not draw over the list
        with self.prevent(Input.Changed):
            self.query_one(Input).value = ""
        self._wanted = ""
        self._fill(people)
        self.query_one("#keterangan", Static).update(
            f"{title}: {len(people)} pegawai · ketik untuk mencari semua pegawai"
        )

    # -- searching -------------------------------------------------------------------------

    @on(Input.Changed, "#cari")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._preset = None
        self._request(event.value)

    @on(Input.Submitted, "#cari")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        table = self.query_one(DataTable)
        if table.row_count == 1 and self.highlighted is not None:
            self.post_message(self.Chosen(self, self.highlighted))
        elif table.row_count:
            table.focus()

    @on(DataTable.RowSelected, "#hasil")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        person = self._rows.get(event.row_key.value or "")
        if person is not None:
            self.post_message(self.Chosen(self, person))

    def action_ke_hasil(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.focus()

    def _request(self, query: str) -> None:
        self._wanted = query
        if not self._busy:
            self._busy = True
            self._run_searches()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_if_failed(self.app, event)

    @work(group="pegawai-search", exit_on_error=False)
    async def _run_searches(self) -> None:
        try:
            while True:
                query = self._wanted
                started = perf_counter()
                try:
                    rows = await asyncio.to_thread(self._search_fn, query, self.LIMIT)
                except BerkasError as exc:
                    self.notify(exc.message, title="Pencarian gagal", severity="error")
                    return
                if query != self._wanted:
                    continue  # typed on meanwhile: these results are stale, skip drawing them
                if self._preset is None:
                    self._show(query, rows)
                    self.post_message(self.Searched(query, len(rows), perf_counter() - started))
                return
        finally:
            self._busy = False

    def _show(self, query: str, rows: list[PegawaiView]) -> None:
        self.last_query = query
        self._fill(rows)
        shown = query.strip()
        if not shown and not rows:
            note = NO_PEGAWAI
        elif not shown:
            note = f"{len(rows)} pegawai pertama menurut nama · ketik NIP atau nama untuk mencari"
        elif not rows:
            note = f"Tidak ada pegawai yang cocok dengan “{shown}”"
        elif len(rows) >= self.LIMIT:
            note = f"{len(rows)} hasil pertama untuk “{shown}” · ketik lebih lengkap"
        else:
            note = f"{len(rows)} pegawai cocok dengan “{shown}”"
        # A one-line label of fixed size: no layout pass (a full repaint) per keystroke.
        self.query_one("#keterangan", Static).update(Text(note), layout=False)

    def _fill(self, rows: list[PegawaiView]) -> None:
        self._rows = {p.id: p for p in rows}
        lines: list[Row] = []
        for p in rows:
            cells: list[object] = [format_nip(p.nip), Text(p.nama), p.golongan, Text(p.jabatan)]
            if not self._compact:
                cells += [Text(p.unit_kerja), tanggal_pendek(p.tmt_pensiun)]
            lines.append((p.id, cells))
        fill_table(self.query_one(DataTable), self._columns, lines)
