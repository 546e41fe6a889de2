"""Konflik: fields changed both here and elsewhere, side by side, decided per field.

For each field: the value before (base), then both sides, each labelled with who made it
(device name) and when; this device's side is on the left, marked "Perangkat ini" (the
client works that out on the device: the server's "mine" is not the reader's). m / t take
the left / right side, e types a value, M / T take one side for every field, and s
resolves the record: one op that names the conflicts, synced like any change.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from client.views import ConflictDetail, ConflictFieldView, ConflictRecordView, ConflictSide
from tui.format import nilai, waktu, waktu_iso
from tui.labels import field_label
from tui.screens.base import BerkasScreen
from tui.screens.isian import IsianDialog
from tui.widgets.tabel import Column, Row, fill_table

Decision = tuple[str, Any]  # ("mine" | "theirs" | "edit", edited value)
RECORD_COLUMNS: list[Column] = [("Data", None), ("Bidang", None), ("Sejak", 17)]
FIELD_COLUMNS: list[Column] = [
    ("Bidang (nilai semula)", None),
    ("Perangkat ini", None),
    ("Perangkat lain", None),
]
# A conflict between two other devices (seen on a third): left is what reached the server
# first.
OTHERS_COLUMNS: list[Column] = [
    ("Bidang (nilai semula)", None),
    ("Lebih dulu di server", None),
    ("Kemudian", None),
]


class KonflikScreen(BerkasScreen):
    SCREEN_TITLE = "Konflik"
    NAV = "konflik"
    CSS_PATH = "konflik.tcss"
    AUTO_FOCUS = "#bidang-konflik"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "pilih(0)", "Versi perangkat ini"),
        Binding("t", "pilih(1)", "Versi lain"),
        Binding("e", "sunting", "Sunting"),
        Binding("M", "pilih_semua(0)", "Semua versi perangkat ini", show=False),
        Binding("T", "pilih_semua(1)", "Semua versi lain", show=False),
        Binding("s", "selesaikan", "Selesaikan"),
        Binding("r", "muat_ulang", "Muat ulang", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._records: dict[str, ConflictRecordView] = {}
        self.detail: ConflictDetail | None = None
        self.decisions: dict[str, Decision] = {}

    def compose_body(self) -> ComposeResult:
        with Vertical(id="isi"):
            yield DataTable(id="data-konflik", cursor_type="row")
            yield DataTable(id="bidang-konflik", cursor_type="row")
            yield Static("", id="petunjuk-konflik")

    def on_mount(self) -> None:
        records = self.query_one("#data-konflik", DataTable)
        records.border_title = "Data yang berkonflik"
        fill_table(records, RECORD_COLUMNS, [])
        fields = self.query_one("#bidang-konflik", DataTable)
        fields.border_title = "Bandingkan per bidang"
        fill_table(fields, FIELD_COLUMNS, [], height=3)

    # -- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    def action_muat_ulang(self) -> None:
        self.reload()

    @work(exclusive=True, group="konflik-load", exit_on_error=False)
    async def _load(self) -> None:
        records = await self.call(self.client.list_conflicts)
        if records is None:
            return
        table = self.query_one("#data-konflik", DataTable)
        cursor = table.cursor_row
        self._records = {r.record_id: r for r in records}
        rows: list[Row] = [
            (
                r.record_id,
                [Text(r.title), ", ".join(field_label(f) for f in r.fields), waktu_iso(r.since)],
            )
            for r in records
        ]
        # The title column gets what the other two leave, so all three stay in view.
        fill_table(table, RECORD_COLUMNS, rows, max_width=max(24, self.size.width - 44))
        self.set_title(f"Konflik · {len(records)} data" if records else "Konflik")
        if records:
            table.move_cursor(row=min(cursor, len(records) - 1))
            await self._open(records[min(cursor, len(records) - 1)].record_id)
        else:
            self.detail = None
            fill_table(self.query_one("#bidang-konflik", DataTable), FIELD_COLUMNS, [], height=3)
            self.query_one("#petunjuk-konflik", Static).update(
                Text("Tidak ada konflik. Semua perubahan sudah sepakat.", style="green")
            )

    @on(DataTable.RowHighlighted, "#data-konflik")
    async def _record_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key and key in self._records and (self.detail is None or self.detail.record_id != key):
            await self._open(key)

    async def _open(self, record_id: str) -> None:
        detail = await self.call(self.client.conflict_detail, record_id)
        if detail is None:
            return
        if self.detail is None or self.detail.record_id != record_id:
            self.decisions = {}
        self.detail = detail
        self.query_one("#bidang-konflik", DataTable).border_title = f"Bandingkan: {detail.title}"
        self._show_fields()

    def _columns(self) -> list[Column]:
        own = self.detail is not None and any(f.own_side for f in self.detail.fields)
        return FIELD_COLUMNS if own or self.detail is None else OTHERS_COLUMNS

    def _show_fields(self) -> None:
        table = self.query_one("#bidang-konflik", DataTable)
        cursor = table.cursor_row
        if self.detail is None:
            fill_table(table, FIELD_COLUMNS, [], height=3)
            return
        rows: list[Row] = []
        for f in self.detail.fields:
            field = Text(field_label(f.field), style="bold")
            field.append(f"\nsemula: {nilai(f.base)}\n", style="dim")
            field.append_text(self._choice_text(f))
            cells = [_side(s, chosen=self._chosen(f, s.choice)) for s in f.sides]
            rows.append((f.conflict_id, [field, *cells]))
        # Three columns share the width, so both sides stay in view at 80 columns.
        third = max(16, (self.size.width - 10) // 3)
        fill_table(table, self._columns(), rows, height=4, max_width=third)
        table.move_cursor(row=min(cursor, len(self.detail.fields) - 1))
        self._hint()

    def _chosen(self, f: ConflictFieldView, choice: str) -> bool:
        return self.decisions.get(f.conflict_id, ("", None))[0] == choice

    def _choice_text(self, f: ConflictFieldView) -> Text:
        decision = self.decisions.get(f.conflict_id)
        if decision is None:
            return Text("belum dipilih", style="yellow")
        choice, value = decision
        if choice == "edit":
            return Text(f"✎ jadi: {nilai(value)}", style="bold cyan")
        return Text(f"✓ versi {_short(f.side(choice).who)}", style="green")

    def _hint(self) -> None:
        if self.detail is None:
            return
        left = sum(f.conflict_id not in self.decisions for f in self.detail.fields)
        side = "perangkat ini" if self.detail.fields[0].own_side else "yang lebih dulu"
        hint = Text(f"m: versi kiri ({side}) · t: versi kanan · e: sunting · M/T: semua · ")
        if left:
            hint.append(f"{left} bidang belum dipilih", style="yellow")
        else:
            hint.append("semua sudah dipilih, tekan s untuk menyelesaikan", style="bold green")
        self.query_one("#petunjuk-konflik", Static).update(hint)

    # -- deciding ------------------------------------------------------------------------------

    @property
    def current_field(self) -> ConflictFieldView | None:
        table = self.query_one("#bidang-konflik", DataTable)
        if self.detail is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((f for f in self.detail.fields if f.conflict_id == key), None)

    def _decide(self, f: ConflictFieldView, decision: Decision) -> None:
        self.decisions[f.conflict_id] = decision
        table = self.query_one("#bidang-konflik", DataTable)
        row = table.cursor_row
        self._show_fields()
        table.move_cursor(row=min(row + 1, table.row_count - 1))  # on to the next field

    def action_pilih(self, index: int) -> None:
        """Take the side in column `index` (0: this device's, or the server's first)."""
        f = self.current_field
        if f is not None:
            self._decide(f, (f.sides[index].choice, None))

    def action_pilih_semua(self, index: int) -> None:
        if self.detail is not None:
            for f in self.detail.fields:
                self.decisions[f.conflict_id] = (f.sides[index].choice, None)
            self._show_fields()

    @work(group="dialog-konflik", exit_on_error=False)
    async def action_sunting(self) -> None:
        f = self.current_field
        if f is None:
            return
        start = self.decisions.get(f.conflict_id, ("", None))
        value = await self.app.push_screen_wait(
            IsianDialog(
                f"Sunting {field_label(f.field)}",
                f"{f.sides[0].who}: {nilai(f.sides[0].value)} · "
                f"{f.sides[1].who}: {nilai(f.sides[1].value)}. Tulis nilai yang benar:",
                nilai=str(start[1] if start[0] == "edit" else _editable(f.sides[0].value)),
            )
        )
        if value is None:
            return
        if any(isinstance(side.value, list) for side in f.sides):
            self._decide(f, ("edit", [v.strip() for v in value.split(",") if v.strip()]))
        else:
            self._decide(f, ("edit", value))

    @work(group="dialog-konflik", exit_on_error=False)
    async def action_selesaikan(self) -> None:
        detail = self.detail
        if detail is None:
            return
        left = [f for f in detail.fields if f.conflict_id not in self.decisions]
        if left:
            names = ", ".join(field_label(f.field) for f in left)
            self.notify(f"Pilih dahulu nilai untuk: {names}.", severity="warning")
            return
        decisions = {f.conflict_id: self.decisions[f.conflict_id] for f in detail.fields}
        if await self.attempt(self.client.resolve_conflicts, decisions):
            self.notify(
                f"{detail.title}: konflik diselesaikan. Keputusan ini ikut terkirim saat "
                "sinkronisasi berikutnya.",
                title="Selesai",
            )
            self.decisions = {}
            self.detail = None
            self.changed()
            self.berkas.refresh_sync_status()
            self.reload()


def _short(who: str) -> str:
    return who if len(who) <= 32 else who[:31] + "…"


def _side(side: ConflictSide, *, chosen: bool) -> Text:
    """The value, then who made it and when, each on its own line."""
    text = Text()
    if chosen:
        text.append("✓ ", style="bold green")
    text.append(nilai(side.value), style="bold green" if chosen else "bold")
    when = waktu(side.at) if side.at is not None else ""
    # Under the "Perangkat ini" column its own name is enough.
    who = side.device_name or side.who if side.this_device else side.who
    text.append(f"\n{_short(who)}\n{when}", style="dim")
    return text


def _editable(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
